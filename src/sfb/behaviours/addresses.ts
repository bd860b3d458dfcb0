import { behaviours } from './behaviour.js';
import { ms, rfc, xep, xfedChoice } from './source.js';

const ADDR = 'test/unit/targets/sim/mapping/address.test.ts';
const UNIT = 'test/unit/targets/sim/gateway/im.test.ts';

export const addressesBehaviours = behaviours({
  'addresses.jid-to-sip': {
    does: "A partner's JID becomes a SIP URI: its localpart XEP-0106-unescaped, then %-escaped wherever RFC 3261 allows the character in no user part (non-ASCII as UTF-8 bytes); the domain kept.",
    sources: [rfc(7247, '6.5'), xep(106)],
    provedBy: `${ADDR} › round-trips every printable ASCII character and mixed non-ASCII text, both ways`,
  },
  'addresses.sip-to-jid': {
    does: "An SfB user's SIP URI becomes a JID: the user part %-decoded, then XEP-0106-escaped (space, \", &, ', /, :, <, >, @, and a backslash that would read as an escape); password, port, parameters and headers dropped. An address that cannot be mapped (no SIP URI, no user part, a bad %-escape) gets 400 Bad Address with a Warning naming why.",
    sources: [
      rfc(7247, '6.4'),
      xep(106),
      xfedChoice('the answer to an address that cannot be mapped: 400 with a Warning that names the reason, which a tester reads on the SfB side'),
    ],
    provedBy: `${ADDR} › reads a full SIP URI: password, port, other params and headers are dropped`,
  },
  'addresses.resource-gruu': {
    does: "A JID's resource and a SIP URI's GRUU (`;gr=`) map to each other, so what is sent to or from one client stays with that client.",
    sources: [rfc(7247, '6.3'), rfc(5627, '3')],
    provedBy: `${ADDR} › maps a resource to the GRUU gr parameter and back`,
  },
  'addresses.temporary-gruu-ignored': {
    does: 'A temporary GRUU (a `;gr` without a value) names no client: the JID is the bare one.',
    sources: [rfc(7247, '6.3'), rfc(5627, '3.1')],
    provedBy: `${ADDR} › maps a valueless ;gr (temporary GRUU) to the bare JID`,
  },
  'addresses.sips-refused': {
    does: 'An IM whose Request-URI or To is sips: is refused with 416 Unsupported URI Scheme, nothing sent to XMPP; a sips: From is translated as a sip: one.',
    sources: [rfc(7247, '8'), rfc(3261, '8.2.2.1')],
    provedBy: `${UNIT} › refuses a sips: Request-URI or To with 416, and translates a sips: From (RFC 7247 section 8)`,
  },
  'addresses.user-addresses-only': {
    does: 'Only user addresses cross the gateway: a JID without a localpart (a server) or a SIP URI without a user part has no counterpart, and a message to the SfB domain itself gets service-unavailable.',
    sources: [
      xfedChoice('the gateway stands in for SfB users; a domain JID names a server, which has no SIP user to map to (RFC 7247 maps user addresses)'),
      ms('Configure XMPP gateway access policies and certificates', 'IM and Presence - person to person only'),
    ],
    provedBy: `${UNIT} › refuses unsupported features and messages to the gateway domain itself, without SIP`,
  },
});
