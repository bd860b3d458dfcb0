import { XfedError } from '../errors.js';
import type { GatewayTargetSpec, SimTargetSpec, Suite } from './schema.js';

/**
 * The one target of a suite: `sim` (the simulated legacy side) or `gateway` (a real legacy Edge).
 * The schema lets both keys appear so that each gets its own precise messages; validation then
 * insists on exactly one, and everything after it reads the target through these helpers.
 */
export type TargetSpec = { kind: 'sim'; sim: SimTargetSpec } | { kind: 'gateway'; gateway: GatewayTargetSpec };

export function targetOf(suite: Suite): TargetSpec {
  const { sim, gateway } = suite.target;
  if (sim && !gateway) return { kind: 'sim', sim };
  if (gateway && !sim) return { kind: 'gateway', gateway };
  throw new XfedError(`suite ${suite.suite}: the target needs exactly one of sim or gateway`);
}

/** The SfB SIP domain the suite federates with. */
export function sfbDomainOf(suite: Suite): string {
  const t = targetOf(suite);
  return t.kind === 'sim' ? t.sim.domain : t.gateway.domain;
}

/** The SfB users the suite names (simulated users, or a real gateway's test users). */
export function sfbUserNamesOf(suite: Suite): string[] {
  const t = targetOf(suite);
  return t.kind === 'sim' ? t.sim.users.map((u) => u.name) : t.gateway.users.map((u) => u.name);
}

/** The New-CsXmppAllowedPartner parameters the suite gives for the partner, if any. */
export function partnerProfileOf(suite: Suite): (SimTargetSpec['partner'] & GatewayTargetSpec['partner']) | undefined {
  const t = targetOf(suite);
  return t.kind === 'sim' ? t.sim.partner : t.gateway.partner;
}

/** An SfB user who echoes IMs from partners, if the suite has one (barriers and the matrix use it). */
export function echoUserOf(suite: Suite): string | undefined {
  const t = targetOf(suite);
  if (t.kind === 'gateway') return t.gateway.users.find((u) => u.role === 'echo')?.name;
  return t.sim.users.find((u) => (u.behaviour ?? 'echo') === 'echo' && u.pool === 'legacy' && u.xmppAccess !== false)?.name;
}
