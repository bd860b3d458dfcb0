import type { Element } from 'ltx';
import type { BehaviourId } from '../../../sfb/behaviours/index.js';

/**
 * What SfB's XMPP gateway refuses: only 1:1 IM and presence cross it (Microsoft: "IM and Presence -
 * person to person only"), so group chat, invitations, file transfer and calls come back as stanza
 * errors, never silence. Microsoft says only that the rest is not supported: the wire answer is the
 * simulation's (docs/sfb-behaviours.md, "Modalities").
 */
export type Unsupported = {
  feature: 'groupchat' | 'muc-invitation' | 'muc-join' | 'file-transfer' | 'jingle' | 'xhtml-only';
  condition: 'feature-not-implemented' | 'service-unavailable';
  text: string;
  /** The catalogue row of the refusal. */
  behaviour: BehaviourId;
};

const GATEWAY = 'Skype for Business XMPP gateway';
const ONLY = '(only 1:1 IM and presence)';

const TEXT: Record<Unsupported['feature'], string> = {
  groupchat: `${GATEWAY}: group chat is not supported ${ONLY}`,
  'muc-invitation': `${GATEWAY}: group chat invitations are not supported ${ONLY}`,
  'muc-join': `${GATEWAY}: there are no group chat rooms to join ${ONLY}`,
  'file-transfer': `${GATEWAY}: file transfer is not supported ${ONLY}`,
  jingle: `${GATEWAY}: audio, video and other Jingle sessions are not supported ${ONLY}`,
  'xhtml-only': `${GATEWAY}: a message with XHTML-IM but no plain-text <body/> cannot be delivered; add a <body/> ${ONLY}`,
};

const refuse = (feature: Unsupported['feature'], condition: Unsupported['condition'], behaviour: BehaviourId): Unsupported => ({
  feature,
  condition,
  text: TEXT[feature],
  behaviour,
});

export function unsupportedInMessage(message: Element): Unsupported | undefined {
  // RFC 6121 section 8.5.2.1.1: a groupchat message to a user's JID gets <service-unavailable/>.
  if (message.attrs.type === 'groupchat') return refuse('groupchat', 'service-unavailable', 'modalities.groupchat-message');
  // XEP-0045 section 7.8.2 (mediated) and XEP-0249 (direct) invitations to a room.
  if (message.getChild('x', 'http://jabber.org/protocol/muc#user')?.getChild('invite'))
    return refuse('muc-invitation', 'feature-not-implemented', 'modalities.muc-invitation');
  if (message.getChild('x', 'jabber:x:conference')) return refuse('muc-invitation', 'feature-not-implemented', 'modalities.muc-invitation');
  // XEP-0066: a file offered by URL.
  if (message.getChild('x', 'jabber:x:oob')) return refuse('file-transfer', 'feature-not-implemented', 'modalities.file-transfer');
  // XEP-0353: a call proposed by message; its caller's client rings until an answer comes.
  if (message.getChild('propose', 'urn:xmpp:jingle-message:0')) return refuse('jingle', 'feature-not-implemented', 'modalities.jingle-message');
  // XEP-0071 (business rules): XHTML-IM must come with a plain <body/>; that body alone crosses to SIP
  // (text/plain, RFC 7572), so only a message without one is lost.
  if (message.getChild('html', 'http://jabber.org/protocol/xhtml-im') && !message.getChild('body'))
    return refuse('xhtml-only', 'feature-not-implemented', 'modalities.xhtml-only');
  return undefined;
}

/** A presence that joins a room (XEP-0045 section 7.2): an SfB address is no room. Leaving one, or an error, is not answered. */
export function unsupportedInPresence(presence: Element): Unsupported | undefined {
  if (presence.attrs.type !== undefined) return undefined;
  if (presence.getChild('x', 'http://jabber.org/protocol/muc')) return refuse('muc-join', 'service-unavailable', 'modalities.muc-join');
  return undefined;
}

// IQ payload namespaces the gateway has no SIP counterpart for.
const IQ_PAYLOADS: ReadonlyArray<readonly [string, string, Unsupported['feature']]> = [
  ['si', 'http://jabber.org/protocol/si', 'file-transfer'], // XEP-0096
  ['query', 'http://jabber.org/protocol/bytestreams', 'file-transfer'], // XEP-0065
  ['open', 'http://jabber.org/protocol/ibb', 'file-transfer'], // XEP-0047
  ['data', 'http://jabber.org/protocol/ibb', 'file-transfer'],
  ['close', 'http://jabber.org/protocol/ibb', 'file-transfer'],
  ['query', 'jabber:iq:oob', 'file-transfer'], // XEP-0066
  ['query', 'http://jabber.org/protocol/muc#owner', 'groupchat'], // XEP-0045
  ['query', 'http://jabber.org/protocol/muc#admin', 'groupchat'],
];

export function unsupportedInIq(iq: Element): Unsupported | undefined {
  // Only requests are answered with an error (RFC 6120 section 8.2.3); results and errors are not.
  if (iq.attrs.type !== 'get' && iq.attrs.type !== 'set') return undefined;
  // RFC 6120 section 8.4: a request whose payload namespace is not understood gets <service-unavailable/>.
  const jingle = iq.getChild('jingle', 'urn:xmpp:jingle:1');
  if (jingle) {
    // XEP-0234: a Jingle session whose content is a file is a file transfer, not a call.
    const isFile = jingle
      .getChildren('content')
      .some((c) => c.getChildren('description').some((d) => d.getNS()?.startsWith('urn:xmpp:jingle:apps:file-transfer:')));
    return isFile ? refuse('file-transfer', 'service-unavailable', 'modalities.file-transfer') : refuse('jingle', 'service-unavailable', 'modalities.jingle');
  }
  const hit = IQ_PAYLOADS.find(([name, ns]) => iq.getChild(name, ns));
  if (!hit) return undefined;
  return refuse(hit[2], 'service-unavailable', hit[2] === 'groupchat' ? 'modalities.groupchat-iq' : 'modalities.file-transfer');
}
