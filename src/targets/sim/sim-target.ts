import { XfedError } from '../../errors.js';
import { targetOf } from '../../scenario/target-spec.js';
import { durationMs, type Step, type Suite } from '../../scenario/schema.js';
import type { XmppUser } from '../../xmpp/client.js';
import type { SfbSide, SuiteTarget, TargetOptions } from '../target.js';
import type { MigrationStep } from './migration.js';
import { locateXmppServer } from '../locate.js';
import { partnerIdentityOf } from '../partner-users.js';
import { SimTopology, type SimTopologyOptions } from './sim-topology.js';
import type { SipUserEvent } from './pool/user-event.js';

/** The simulated legacy side a suite describes. */
export function topologyOptions(suite: Suite, opts: TargetOptions): SimTopologyOptions {
  const target = targetOf(suite);
  if (target.kind !== 'sim') throw new XfedError(`suite ${suite.suite} targets a ${target.kind}, not the simulated side`);
  const { sim } = target;
  return {
    runtime: opts.runtime,
    ...(opts.baseImage ? { baseImage: opts.baseImage } : {}),
    partner: { domains: suite.partner.domains, users: suite.partner.users, ...(suite.partner.s2s ? { s2s: suite.partner.s2s } : {}) },
    sfb: {
      domain: sim.domain,
      users: sim.users,
      ...(sim.partner ? { partnerProfile: sim.partner } : {}),
      ...(sim.edgeCertificate ? { edgeCertificate: sim.edgeCertificate } : {}),
      ...(sim.subscriptionExpires ? { subscriptionExpires: sim.subscriptionExpires } : {}),
      ...(sim.transport ? { sipTransport: sim.transport } : {}),
      ...(sim.showMapping ? { showMapping: sim.showMapping as SimTopologyOptions['sfb']['showMapping'] } : {}),
    },
  };
}

/** A suite's view of a SimTopology (see `SuiteTarget`). */
export class SimTarget implements SuiteTarget {
  readonly kind = 'sim' as const;
  readonly sfb: SfbSide;
  readonly remote = undefined;

  private constructor(readonly topology: SimTopology) {
    const pools = Object.values(topology.pools);
    this.sfb = {
      user: (name) => topology.sfbUser(name),
      state: (name) => topology.directory.get(name),
      get showMapping() {
        return topology.showMapping;
      },
      waitForEvent: (match, timeoutMs, what) => topology.waitForSfbEvent(match, timeoutMs, what),
      onEvent: (listener: (e: SipUserEvent) => void) => {
        pools.forEach((p) => p.on('user-event', listener));
        return () => pools.forEach((p) => p.off('user-event', listener));
      },
    };
  }

  static async start(suite: Suite, opts: TargetOptions): Promise<SimTarget> {
    return new SimTarget(await SimTopology.start(topologyOptions(suite, opts)));
  }

  get runtime() {
    return this.topology.kind;
  }
  get sfbDomain() {
    return this.topology.sfbDomain;
  }
  get flow() {
    return this.topology.flow;
  }
  get resolver() {
    return { host: this.topology.runtime.dns.host, port: this.topology.runtime.dns.port };
  }
  partnerUser(name: string) {
    return this.topology.partnerUser(name);
  }
  barrier(via: XmppUser, timeoutMs?: number) {
    return this.topology.barrier(via, timeoutMs);
  }
  renewS2s() {
    return this.topology.renewS2s();
  }
  logs() {
    return this.topology.logs();
  }
  locateEdge(timeoutMs: number) {
    return locateXmppServer(this.sfbDomain, this.resolver, timeoutMs);
  }
  stop() {
    return this.topology.stop();
  }

  partnerIdentity() {
    return partnerIdentityOf(this.topology.partner, this.topology.ca.certPem);
  }

  allowedProfile() {
    const domain = this.topology.partner.domains[0]!;
    return this.topology.partnerProfiles.find((p) => p.domain === domain || p.additionalDomains.includes(domain));
  }

  async apply(step: Step): Promise<string> {
    // Operator steps (manual, run) are the runner's; they never reach a target.
    if (step.action === 'manual' || step.action === 'run') throw new Error(`a ${step.action} step is applied by the runner, not by the target`);
    if (step.action === 'set-availability') {
      await this.topology.sfbUser(step.user).setAvailability(step.availability, step.note);
      return `${step.user} sets ${step.availability}${step.note ? ` ("${step.note}")` : ''}`;
    }
    const migration: MigrationStep =
      step.action === 'network' ? { action: 'network', state: step.state, ...(step.delay !== undefined ? { delayMs: durationMs(step.delay) } : {}) } : step;
    return this.topology.apply(migration);
  }
}
