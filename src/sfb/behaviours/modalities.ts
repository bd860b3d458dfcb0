import { behaviours } from './behaviour.js';
import { ms, rfc, xep, xfedChoice, type Source } from './source.js';

const IM = 'test/integration/sim-im.test.ts';
const FEATURES = 'test/unit/targets/sim/mapping/xmpp-features.test.ts';
const GATEWAY = 'test/unit/targets/sim/gateway/xmpp-sip-gateway.test.ts';
const NEVER_SILENCE = `${IM} › answers unsupported features with a clear stanza error, never silence`;

const PERSON_TO_PERSON = ms('Configure XMPP gateway access policies and certificates', 'IM and Presence - person to person only');
/** Microsoft says what is not supported, never how the gateway answers it on the wire. */
const wire = (how: string): Source =>
  xfedChoice(`Microsoft says only that SfB's XMPP federation is person-to-person IM and presence; the wire answer is xfed's: ${how}`);

export const modalitiesBehaviours = behaviours({
  'modalities.groupchat-message': {
    does: 'A groupchat message to an SfB user gets service-unavailable.',
    sources: [rfc(6121, '8.5.2.1.1'), PERSON_TO_PERSON],
    provedBy: NEVER_SILENCE,
  },
  'modalities.groupchat-iq': {
    does: 'A room owner or admin request (XEP-0045 muc#owner, muc#admin) to an SfB address gets service-unavailable.',
    sources: [rfc(6120, '8.4'), xep(45), PERSON_TO_PERSON],
    provedBy: `${FEATURES} › refuses MUC administration requests with service-unavailable`,
  },
  'modalities.muc-join': {
    does: 'A presence that joins a room at the SfB domain (with the XEP-0045 `<x/>`) gets a presence error, service-unavailable; leaving a room is not answered.',
    sources: [
      wire('a join left unanswered leaves the partner client waiting for a room that never comes, so it gets the service-unavailable a groupchat message gets'),
      xep(45, '7.2'),
      PERSON_TO_PERSON,
    ],
    provedBy: NEVER_SILENCE,
  },
  'modalities.muc-invitation': {
    does: 'An invitation to a room, mediated (XEP-0045) or direct (XEP-0249), gets feature-not-implemented.',
    sources: [
      wire('the invitation is understood and the feature not offered, which is what feature-not-implemented says'),
      xep(45, '7.8'),
      xep(249),
      PERSON_TO_PERSON,
    ],
    provedBy: NEVER_SILENCE,
  },
  'modalities.file-transfer': {
    does: 'File transfer is refused: a file URL in a message (XEP-0066) with feature-not-implemented; stream initiation (XEP-0096), SOCKS5 and in-band bytestreams (XEP-0065, XEP-0047), iq:oob and Jingle file transfer (XEP-0234) requests with service-unavailable.',
    sources: [
      wire(
        'a message is understood and its feature not offered (feature-not-implemented); a request in a namespace the gateway does not handle gets the RFC 6120 section 8.4 service-unavailable',
      ),
      xep(66),
      xep(96),
      xep(234),
      PERSON_TO_PERSON,
    ],
    provedBy: NEVER_SILENCE,
  },
  'modalities.jingle': {
    does: 'A Jingle session request (audio, video or any other content but a file) gets service-unavailable.',
    sources: [wire('a request in a namespace the gateway does not handle gets the RFC 6120 section 8.4 service-unavailable'), xep(166), PERSON_TO_PERSON],
    provedBy: NEVER_SILENCE,
  },
  'modalities.jingle-message': {
    does: 'A call proposed by message (XEP-0353 `<propose/>`) gets feature-not-implemented.',
    sources: [
      wire(
        'a proposal nobody answers rings the caller until his client gives up; the error ends the attempt at once, as the other refused messages are answered',
      ),
      xep(353),
      PERSON_TO_PERSON,
    ],
    provedBy: NEVER_SILENCE,
  },
  'modalities.xhtml-only': {
    does: 'A message with XHTML-IM but no plain `<body/>` gets feature-not-implemented; with a `<body/>`, the body crosses as text/plain and the XHTML is dropped.',
    sources: [xep(71), rfc(7572, '4'), wire('feature-not-implemented, as for the other refused messages')],
    provedBy: NEVER_SILENCE,
  },
  'modalities.iq-refused': {
    does: 'Any other IQ request (a namespace the gateway does not handle, or no payload) gets service-unavailable.',
    sources: [rfc(6120, '8.4')],
    provedBy: `${GATEWAY} › other requests get service-unavailable: a set of a known namespace, an unknown namespace, no payload`,
  },
  'modalities.ping-disco': {
    does: 'The SfB domain answers XEP-0199 pings and XEP-0030 disco (identity gateway/sip, features disco#info and ping) at once; an SfB user answers them once the pool answers a SIP OPTIONS for him, and gets the stanza error of its refusal otherwise.',
    sources: [
      xfedChoice(
        'Microsoft documents no ping or disco support; an IQ request must be answered (RFC 6120 section 8.2.3) and servers ping S2S streams to keep them, so the gateway answers; a user answers as his client would, only if the pool has him',
      ),
      xep(199),
      xep(30),
    ],
    provedBy: `${GATEWAY} › a user answers after the pool says he is there (OPTIONS 200)`,
  },
});
