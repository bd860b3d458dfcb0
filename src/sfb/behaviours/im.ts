import { behaviours } from './behaviour.js';
import { ms, rfc, xep, xfedChoice } from './source.js';

const UNIT = 'test/unit/targets/sim/gateway/im.test.ts';
const IM = 'test/integration/sim-im.test.ts';

export const imBehaviours = behaviours({
  'im.xmpp-to-sip': {
    does: "A partner's `<message/>` with a `<body/>` becomes a SIP MESSAGE to the SfB user's pool: the body as text/plain;charset=UTF-8, `<subject/>` as Subject, `<thread/>` as Call-ID (a new one without it), xml:lang as Content-Language, the sender's resource as the GRUU of From, Max-Forwards 70.",
    sources: [rfc(7572, '4 (Table 1)'), ms('Configure XMPP gateway access policies and certificates', 'IM and Presence - person to person only')],
    provedBy: `${UNIT} › sends body, subject, thread (as Call-ID) and xml:lang as a SIP MESSAGE to the pool`,
  },
  'im.size-limit': {
    does: 'A MESSAGE that would be larger than 1300 bytes is not sent: the partner gets policy-violation with the size and the limit.',
    sources: [
      rfc(7572, '6'),
      rfc(3428, '8'),
      xfedChoice(
        "the limit is the RFCs' (RFC 7572 section 6, after RFC 3428 section 8); Skype for Business's own limit is undocumented (its clients carry IM in INVITE sessions, which 1300 bytes does not bound)",
      ),
    ],
    provedBy: `${IM} › refuses a MESSAGE over 1300 bytes with policy-violation, and sends one just under`,
  },
  'im.bodiless-not-sent': {
    does: 'A message without a `<body/>` (a chat state or a receipt alone) sends nothing to SIP and gets no answer; an error stanza is never answered either.',
    sources: [
      rfc(7572, '4'),
      rfc(6120, '8.3.1'),
      xfedChoice(
        'RFC 7572 carries the body; a message without one has nothing to carry, and an error for it would answer every chat state a partner client sends',
      ),
    ],
    provedBy: `${UNIT} › sends nothing for a message without a body (a chat state), nor for an error`,
  },
  'im.sip-to-xmpp': {
    does: "An SfB user's SIP MESSAGE becomes a page-mode `<message/>` of type normal (never chat): the body, Subject as `<subject/>`, Call-ID as `<thread/>`, Content-Language as xml:lang.",
    sources: [rfc(7572, '5'), ms('Test-CsXmppIM', 'Verifies whether or not an instant message can be sent across an XMPP gateway.')],
    provedBy: `${IM} › an SfB user writes first: 200, a page-mode message (type normal) with subject, language and Call-ID as thread`,
  },
  'im.from-gruu-full-jid': {
    does: "An SfB sender's GRUU (`;gr=` in From) names his client: the message comes from his full JID, the GRUU as resource.",
    sources: [rfc(7572, '5'), rfc(7247, '6.3')],
    provedBy: `${UNIT} › a From with a GRUU becomes a full JID; a temporary GRUU (a valueless gr) is ignored (RFC 7572 section 5)`,
  },
  'im.html-to-text': {
    does: 'A text/html IM reaches the partner as the plain text a reader sees (tags dropped, `<br>` and block boundaries as line breaks, entities decoded) in `<body/>`; no XHTML-IM is added.',
    sources: [
      rfc(7572, '7'),
      xep(71),
      xfedChoice(
        'RFC 7572 has text/html map to XHTML-IM (a SHOULD); xfed sends the plain `<body/>` only: XEP-0071 is deprecated by the XSF, and its own rules require the plain `<body/>` that every client shows',
      ),
    ],
    provedBy: `${IM} › an SfB user writes HTML: the partner gets the text a reader sees`,
  },
  'im.unsupported-type-415': {
    does: 'An IM body that is neither text/plain nor text/html gets 415 Unsupported Media Type with Accept: text/plain, text/html.',
    sources: [rfc(7572, '7'), rfc(3261, '21.4.13')],
    provedBy: `${UNIT} › refuses what cannot become a message: 415 for a body neither text/plain nor text/html, 400 for a From that is no SIP URI, 503 while detached`,
  },
  'im.detached-503': {
    does: "While the gateway has no link to the Edge, an SfB user's IM gets 503.",
    sources: [rfc(3261, '21.5.4'), xfedChoice('what SfB users get while the gateway is cut off is undocumented; 503 is SIP\'s "temporarily unable"')],
    provedBy: `${UNIT} › refuses what cannot become a message: 415 for a body neither text/plain nor text/html, 400 for a From that is no SIP URI, 503 while detached`,
  },
  'im.delivery-barrier': {
    does: "The gateway answers an SfB user's IM only once an XMPP ping sent right behind it (to the partner's server, or to the client for a full JID) is answered: 200 for any answer but a server's no-route error, the SIP status of the message's error if it bounced first, 408 if nothing comes within the bound. For a bare JID the barrier is the partner's server, so a refusal by the partner's client itself comes after the 200.",
    sources: [
      xfedChoice(
        "XMPP has no delivery report; a ping behind the message on the same S2S path is answered only after any bounce of the message, so the SfB sender's status says whether the partner side refused it, instead of the refusal being lost. RFC 7572 section 5 has the gateway answer 200 once it has translated the message; what a real SfB gateway answers, and when, is undocumented",
      ),
      rfc(7572, '5'),
      xep(199),
    ],
    provedBy: `${UNIT} › an error for the message before the barrier becomes its SIP status, with the condition and text in Warning`,
  },
});
