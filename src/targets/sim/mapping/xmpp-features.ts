import type { Element } from 'ltx';

/**
 * What SfB's XMPP gateway refuses: only 1:1 IM and presence cross it (docs/sfb-xmpp-federation.md section 1), so
 * group chat, invitations, file transfer and Jingle sessions come back as stanza errors.
 */
export type Unsupported = {
  feature: 'groupchat' | 'muc-invitation' | 'file-transfer' | 'jingle' | 'xhtml-only';
  condition: 'feature-not-implemented' | 'service-unavailable';
  text: string;
};

const GATEWAY = 'Skype for Business XMPP gateway';
const ONLY = '(only 1:1 IM and presence)';

const TEXT: Record<Unsupported['feature'], string> = {
  groupchat: `${GATEWAY}: group chat is not supported ${ONLY}`,
  'muc-invitation': `${GATEWAY}: group chat invitations are not supported ${ONLY}`,
  'file-transfer': `${GATEWAY}: file transfer is not supported ${ONLY}`,
  jingle: `${GATEWAY}: audio, video and other Jingle sessions are not supported ${ONLY}`,
  'xhtml-only': `${GATEWAY}: a message with XHTML-IM but no plain-text <body/> cannot be delivered; add a <body/> ${ONLY}`,
};

const refuse = (feature: Unsupported['feature'], condition: Unsupported['condition']): Unsupported => ({ feature, condition, text: TEXT[feature] });

export function unsupportedInMessage(message: Element): Unsupported | undefined {
  // RFC 6121 section 8.5.2.1.1: a groupchat message to a user's JID gets <service-unavailable/>.
  if (message.attrs.type === 'groupchat') return refuse('groupchat', 'service-unavailable');
  // XEP-0045 section 7.8.2 (mediated) and XEP-0249 (direct) invitations to a room.
  if (message.getChild('x', 'http://jabber.org/protocol/muc#user')?.getChild('invite')) return refuse('muc-invitation', 'feature-not-implemented');
  if (message.getChild('x', 'jabber:x:conference')) return refuse('muc-invitation', 'feature-not-implemented');
  // XEP-0066: a file offered by URL.
  if (message.getChild('x', 'jabber:x:oob')) return refuse('file-transfer', 'feature-not-implemented');
  // XEP-0071 (business rules): XHTML-IM must come with a plain <body/>; that body alone crosses to SIP
  // (text/plain, RFC 7572), so only a message without one is lost.
  if (message.getChild('html', 'http://jabber.org/protocol/xhtml-im') && !message.getChild('body')) return refuse('xhtml-only', 'feature-not-implemented');
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
    return refuse(isFile ? 'file-transfer' : 'jingle', 'service-unavailable');
  }
  const hit = IQ_PAYLOADS.find(([name, ns]) => iq.getChild(name, ns));
  return hit ? refuse(hit[2], 'service-unavailable') : undefined;
}
