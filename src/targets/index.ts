import type { LabSpec } from './lab/spec.js';
import type { SimSpec } from './sim/spec.js';
import type { SuiteTarget, TargetOptions, TargetSetup } from './target.js';

/** A suite's one target: the simulated legacy side, or a lab's real legacy Edge (`gateway` in suites). */
export type TargetSpec = { kind: 'sim'; sim: SimSpec } | { kind: 'gateway'; gateway: LabSpec };

/** Starts the target a suite names; each implementation is loaded only when a suite needs it. */
export async function startTarget(setup: TargetSetup & { target: TargetSpec }, opts: TargetOptions): Promise<SuiteTarget> {
  const { target } = setup;
  if (target.kind === 'gateway') {
    const { LabTarget } = await import('./lab/lab-target.js');
    return LabTarget.start(setup, target.gateway, opts);
  }
  const { SimTopology } = await import('./sim/sim-topology.js');
  return SimTopology.forSuite(setup, target.sim, opts);
}

export type { EdgeLocation, PartnerIdentity, SfbImAnswer, SfbUser, SuiteTarget, TargetOptions, TargetSetup, WaitOptions } from './target.js';
