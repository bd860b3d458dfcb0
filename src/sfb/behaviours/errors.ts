import { behaviours } from './behaviour.js';
import { rfc, xfedChoice } from './source.js';

const UNIT = 'test/unit/targets/sim/gateway/im.test.ts';
const TABLES = 'test/unit/targets/sim/mapping/errors.test.ts';
const IM = 'test/integration/sim-im.test.ts';

export const errorsBehaviours = behaviours({
  'errors.sip-to-xmpp': {
    does: 'A SIP failure (an IM or an OPTIONS the pool refused) reaches the partner as the stanza error of RFC 7247 Table 3: each of its 45 codes as listed (301 gone, 380 not-acceptable, 405 feature-not-implemented, 407 registration-required, 423 resource-constraint, 484 item-not-found, 487 recipient-unavailable, 491 unexpected-request, 505 not-acceptable, 606 not-acceptable, and the rest), any other code by its class (3xx redirect, 4xx bad-request, 5xx internal-server-error, 6xx recipient-unavailable), with the type RFC 6120 gives the condition and a `<text/>` naming the SIP status, reason and Warning.',
    sources: [
      rfc(7247, '7.2 (Table 3)'),
      rfc(6120, '8.3.3'),
      xfedChoice(
        'the `<text/>`: the RFC leaves it open; it names the SIP status, reason and Warning, so a tester on the partner side reads what the SfB side said',
      ),
    ],
    provedBy: `${IM} › every SIP status of RFC 7247 Table 3 becomes its stanza error`,
  },
  'errors.sip-timeout-408': {
    does: "A SIP request the pool does not answer within the gateway's bound counts as a 408 (and a gateway-error for the report): the partner gets remote-server-timeout.",
    sources: [rfc(3261, '8.1.3.1'), rfc(7247, '7.2 (Table 3)')],
    provedBy: `${UNIT} › a pool that does not answer: remote-server-timeout, and a gateway-error`,
  },
  'errors.xmpp-to-sip': {
    does: "A stanza error for an SfB user's IM (from the partner's server or client) reaches him as the SIP status of RFC 7247 Table 2, every row: bad-request, conflict, jid-malformed, subscription-required and undefined-condition 400, not-authorized 401, forbidden, not-allowed and policy-violation 403, item-not-found 404, feature-not-implemented 405, not-acceptable 406, registration-required 407, remote-server-timeout 408, gone 410, recipient-unavailable 480, unexpected-request 491, internal-server-error and resource-constraint 500, redirect 302; a Warning (399) names the condition and its text. The notes' variants are the rows below.",
    sources: [rfc(7247, '7.1 (Table 2)'), rfc(3261, '20.43')],
    provedBy: `${IM} › every stanza error of RFC 7247 Table 2 from a partner's client becomes its SIP status`,
  },
  'errors.bare-jid-6xx': {
    does: 'An error for an IM addressed to a bare JID (no GRUU on the SIP side: the user wherever he is) takes the global-failure codes: item-not-found 604, forbidden and not-allowed 603, recipient-unavailable 600, not-acceptable 606, feature-not-implemented 501. Addressed to a full JID (one client), the same errors are 404, 403, 480, 406 and 405.',
    sources: [rfc(7247, '7.1 (Table 2, notes 1 and 2)'), rfc(3261, '21.6')],
    provedBy: `${UNIT} › an error for a bare JID becomes the 6xx of RFC 7247 notes 1 and 2; for a full JID the 4xx`,
  },
  'errors.new-address-contact': {
    does: '`<gone/>` that names the new address (an xmpp: URI) becomes 301 Moved Permanently, and `<redirect/>` that names one stays 302, the address mapped to a SIP URI in Contact; `<gone/>` without one is 410.',
    sources: [rfc(7247, '7.1 (Table 2, note 3)'), rfc(6120, '8.3.3.5 and 8.3.3.14'), rfc(3261, '21.3')],
    provedBy: `${UNIT} › gone with a new address becomes 301 with the address in Contact (RFC 7247 note 3); redirect keeps 302 with it`,
  },
  'errors.remote-server-not-found': {
    does: 'remote-server-not-found becomes 404 when the partner domain does not exist and 408 when it exists but cannot be resolved to a server that answers. The gateway asks the DNS the Edge resolves with: NXDOMAIN for both `_xmpp-server._tcp.<domain>` and `<domain>` is "does not exist"; anything else (records whose server does not answer, a DNS failure) is "cannot be resolved". Without a DNS to ask, 404.',
    sources: [
      rfc(7247, '7.1 (Table 2, note 4)'),
      rfc(6120, '8.3.3.15'),
      xfedChoice(
        'how "does not exist" is told from "cannot be resolved": the bounce from the Edge carries only the condition, and its text is the Edge software\'s own wording (Prosody\'s in the simulation); DNS gives the very answer the distinction is about',
      ),
    ],
    provedBy: `${UNIT} › remote-server-not-found: 404 when DNS says the domain does not exist, 408 when it exists but cannot be resolved (RFC 7247 note 4)`,
  },
  'errors.service-unavailable-405': {
    does: 'service-unavailable (what a partner server answers for an IM to a user it does not have) becomes 405, never 503.',
    sources: [
      rfc(7247, '7.1 (Table 2, note 5)'),
      rfc(3261, '21.5.4'),
      xfedChoice(
        'of the 403 or 405 the note allows, 405: 403 already stands for forbidden and policy-violation, and a 403 to a SUBSCRIBE refresh ends a subscription for good (RFC 8048 section 5.2.2); 405 says the address does not offer that service (RFC 6120 section 8.3.3.19). 503 would send a SIP client to another server instead of reporting',
      ),
    ],
    provedBy: `${IM} › to an unknown partner user: the partner server refuses and the SfB user gets 405 (service-unavailable)`,
    partnerDependent:
      'the condition for a user the partner server does not have: Prosody answers service-unavailable, another server may answer item-not-found (404, or 604 for a bare JID)',
  },
  'errors.payment-required-402': {
    does: 'payment-required becomes 402.',
    sources: [
      xfedChoice(
        'RFC 6120 dropped payment-required and RFC 7247 has no row for it, but a pre-RFC 6120 server (RFC 3920) may still send it; SIP 402 Payment Required names the same thing and is harmless (SIP reserves it, no client acts on it)',
      ),
    ],
    provedBy: `${TABLES} › keeps payment-required harmless: 402`,
  },
  'errors.unknown-condition': {
    does: 'A condition RFC 6120 does not define is read as undefined-condition: 400.',
    sources: [
      xfedChoice(
        "Table 2 has no row for it; undefined-condition is RFC 6120's condition for errors no defined one describes (section 8.3.3.21), so it takes that row",
      ),
    ],
    provedBy: `${TABLES} › reads a condition RFC 6120 does not define as undefined-condition: 400`,
  },
});
