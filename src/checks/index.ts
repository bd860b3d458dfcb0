import type { Check, CheckKind } from '../scenario/schema.js';
import type { CheckKindHandler } from './check.js';
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

/** Every check kind, by the name suites use; the runner knows checks only through this table. */
export const CHECKS: { [K in CheckKind]: CheckKindHandler<K> } = {
  s2s: s2sCheck,
  's2s-probe': s2sProbeCheck,
  dns: dnsCheck,
  ping: pingCheck,
  disco: discoCheck,
  im: imCheck,
  'im-from-sfb': imFromSfbCheck,
  subscribe: subscribeCheck,
  presence: presenceCheck,
  'no-presence-leak': noPresenceLeakCheck,
  'no-delivery': noDeliveryCheck,
  unsupported: unsupportedCheck,
};

export function handlerOf<C extends Check>(check: C): CheckKindHandler<C['kind']> {
  return CHECKS[check.kind] as unknown as CheckKindHandler<C['kind']>;
}
