import { z } from 'zod';
import type { CheckKind } from './check.js';
import { discoCheck } from './disco.js';
import { dnsCheck } from './dns.js';
import { imCheck } from './im.js';
import { imFromSfbCheck } from './im-from-sfb.js';
import { noDeliveryCheck } from './no-delivery.js';
import { pingCheck } from './ping.js';
import { noPresenceLeakCheck, presenceCheck } from './presence.js';
import { s2sCheck } from './s2s.js';
import { s2sProbeCheck } from './s2s-probe.js';
import { subscribeCheck } from './subscribe.js';
import { unsupportedCheck } from './unsupported.js';

/**
 * Every check kind, in the order the format lists them: the suite schema, the validator and the
 * runner know checks only through this list. A new kind is one module and one line here.
 */
export const CHECK_KINDS = [
  s2sCheck,
  s2sProbeCheck,
  dnsCheck,
  pingCheck,
  discoCheck,
  imCheck,
  imFromSfbCheck,
  subscribeCheck,
  presenceCheck,
  noPresenceLeakCheck,
  noDeliveryCheck,
  unsupportedCheck,
] as const;

type Kind = (typeof CHECK_KINDS)[number];
const [first, ...rest] = CHECK_KINDS.map((k): Kind['schema'] => k.schema);

export const Check = z.discriminatedUnion('kind', [first!, ...rest]);
export type Check = z.infer<typeof Check>;

const byKind = new Map<string, CheckKind<Check>>(CHECK_KINDS.map((k) => [k.kind, k]));

/** The definition of a check's kind. */
export function checkKindOf(check: Check): CheckKind<Check> {
  return byKind.get(check.kind)!;
}

export { describeExpectation, describeOutcome, expectationMet } from './expectation.js';
export { NoAnswer } from './check.js';
export type { CheckContext, CheckKind, CheckRun } from './check.js';
