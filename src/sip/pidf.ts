import { createHash } from 'node:crypto';
import { Element, parse } from 'ltx';
import { SipParseError } from './message.js';

/**
 * PIDF (RFC 3863) with the XMPP `<show/>` carried inside, as docs/sfb-xmpp-federation.md section 7 describes.
 *
 * Placement written: `<show xmlns='jabber:client'>` is an extension child of the `<tuple>`, right
 * after `<status>` (RFC 3863 4.1.1 allows extension elements there), and the note is a
 * presence-level `<note xml:lang>`. Parsing accepts `<show>` anywhere in the document and a note
 * in the presence or in a tuple, since other gateways place them differently.
 */
const PIDF_NS = 'urn:ietf:params:xml:ns:pidf';
const JABBER_CLIENT_NS = 'jabber:client';

export type XmppShow = 'chat' | 'away' | 'xa' | 'dnd';
const SHOWS: readonly string[] = ['chat', 'away', 'xa', 'dnd'];

export interface PidfPresence {
  entity: string;
  basic: 'open' | 'closed';
  show?: XmppShow;
  note?: string;
  lang?: string;
}

export function buildPidf(p: PidfPresence): string {
  const presence = new Element('presence', { xmlns: PIDF_NS, entity: p.entity });
  // A stable tuple id: the same entity always describes the same tuple.
  const tuple = presence.c('tuple', { id: `t${createHash('sha1').update(p.entity).digest('hex').slice(0, 8)}` });
  tuple.c('status').c('basic').t(p.basic);
  if (p.show) tuple.c('show', { xmlns: JABBER_CLIENT_NS }).t(p.show);
  if (p.note !== undefined) presence.c('note', p.lang ? { 'xml:lang': p.lang } : {}).t(p.note);
  return `<?xml version="1.0" encoding="UTF-8"?>\n${presence.toString()}`;
}

function descendants(el: Element, name: string): Element[] {
  const out: Element[] = [];
  for (const child of el.getChildElements()) {
    if (child.getName() === name) out.push(child);
    out.push(...descendants(child, name));
  }
  return out;
}

export function parsePidf(xml: string): PidfPresence {
  let root: Element;
  try {
    root = parse(xml);
  } catch (err) {
    throw new SipParseError(`PIDF is not well-formed XML: ${(err as Error).message}`, { cause: err });
  }
  if (!root || !root.is('presence', PIDF_NS)) throw new SipParseError(`PIDF root must be <presence xmlns='${PIDF_NS}'>, got <${root?.name}>`);
  const entity = root.attrs.entity as string | undefined;
  if (!entity) throw new SipParseError('PIDF <presence> has no entity');
  // Several tuples: the presentity is open when any of them is.
  const basics = descendants(root, 'basic').map((b) => b.getText().trim());
  const bad = basics.find((b) => b !== 'open' && b !== 'closed');
  if (bad !== undefined) throw new SipParseError(`PIDF <basic> must be open or closed, got "${bad}"`);
  const out: PidfPresence = { entity, basic: basics.includes('open') ? 'open' : 'closed' };
  const show = descendants(root, 'show')[0]?.getText().trim();
  if (show !== undefined) {
    if (!SHOWS.includes(show)) throw new SipParseError(`PIDF <show> must be one of ${SHOWS.join(', ')}, got "${show}"`);
    out.show = show as XmppShow;
  }
  const note = root.getChildren('note')[0] ?? descendants(root, 'note')[0];
  if (note) {
    out.note = note.getText();
    const lang = note.attrs['xml:lang'] as string | undefined;
    if (lang) out.lang = lang;
  }
  return out;
}
