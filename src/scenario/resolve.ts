import { xmppAccessOf } from '../sfb/deployment.js';
import { resolvePartnerProfile } from '../sfb/partner-profile.js';
import type { TargetSpec } from '../targets/index.js';
import type { TargetSetup } from '../targets/target.js';
import type { Locate } from './positions.js';
import type { Phase, Suite } from './schema.js';

/**
 * A suite read once, after validation, into what every later layer reads: its one target, the SfB
 * domain, the partner profile with SfB's defaults applied, and the echo user barriers go through.
 * A target starts from it (it is a `TargetSetup`); the runner walks its phases.
 */
export interface ResolvedSuite extends TargetSetup {
  readonly name: string;
  /** The file it was read from, as the user named it. */
  readonly file: string;
  readonly description: string | undefined;
  readonly target: TargetSpec;
  readonly phases: readonly Phase[];
  /** Where a part of the suite is written (`['phases', 0, 'checks', 2]`), for reports; absent for a suite built in code (drop it when replacing `phases`). */
  readonly locate?: Locate;
}

/** Reads a validated suite; `baseDir` is where its relative file names start (the suite file's directory). */
export function resolveSuite(suite: Suite, from: { file: string; baseDir: string; locate?: Locate }): ResolvedSuite {
  const target = targetOf(suite);
  const section = target.kind === 'sim' ? target.sim : target.gateway;
  const [primary, ...additional] = [...new Set(suite.partner.domains)];
  return {
    name: suite.suite,
    description: suite.description,
    file: from.file,
    baseDir: from.baseDir,
    partner: suite.partner,
    target,
    sfbDomain: section.domain,
    partnerProfile: resolvePartnerProfile({ domain: primary!, additionalDomains: additional, ...section.partner }),
    echoUser: echoUserOf(target),
    phases: suite.phases,
    ...(from.locate ? { locate: from.locate } : {}),
  };
}

/** The suite's one target; validation has made sure there is exactly one. */
function targetOf(suite: Suite): TargetSpec {
  const { sim, gateway } = suite.target;
  if (gateway) return { kind: 'gateway', gateway };
  return { kind: 'sim', sim: sim! };
}

/** An SfB user who echoes partners' IMs from the start, if the suite has one. */
function echoUserOf(target: TargetSpec): string | undefined {
  if (target.kind === 'gateway') return target.gateway.users.find((u) => u.role === 'echo')?.name;
  const { users, externalAccessPolicy, domain } = target.sim;
  // Barriers address him in the SfB domain: a user of another SIP domain does not serve.
  return users.find(
    (u) =>
      (u.behaviour ?? 'echo') === 'echo' &&
      u.pool === 'legacy' &&
      xmppAccessOf(u, externalAccessPolicy) &&
      (u.domain ?? domain).toLowerCase() === domain.toLowerCase(),
  )?.name;
}
