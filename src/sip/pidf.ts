import { createHash } from 'node:crypto';
import { Element, parse } from 'ltx';
import { SipParseError } from './message.js';

/**
 * PIDF (RFC 3863) with the XMPP `<show/>` carried inside, as docs/sfb-xmpp-federation.md section 7 describes.
 *
 * Placement written: `<show xmlns='jabber:client'>` is an extension child of the `<tuple>`, right
 * after `<status>` (RFC 3863 4.1.1 allows extension elements there). A presentity with one device
 * gets one tuple and a presence-level `<note xml:lang>`; one with several devices (XMPP resources,
 * RFC 8048 section 6.2 note 2) gets a tuple each, with its own `<contact priority>` and `<note>`.
 * Parsing accepts `<show>` anywhere in the document and a note in the presence or in a tuple,
 * since other gateways place them differently.
 */
const PIDF_NS = 'urn:ietf:params:xml:ns:pidf';
const JABBER_CLIENT_NS = 'jabber:client';

export type XmppShow = 'chat' | 'away' | 'xa' | 'dnd';
const SHOWS: readonly string[] = ['chat', 'away', 'xa', 'dnd'];

/** One device of a presentity (RFC 3863 4.1). */
export interface PidfTuple {
  id: string;
  basic: 'open' | 'closed';
  show?: XmppShow;
  note?: string;
  lang?: string;
  /** The device's address, and its priority from 0 to 1 (RFC 3863 4.1.5). */
  contact?: { uri: string; priority?: number };
}

export interface PidfPresence {
  entity: string;
  /** Open when any device is; `show`, `note` and `lang` are those of the most available device. */
  basic: 'open' | 'closed';
  show?: XmppShow;
  note?: string;
  lang?: string;
  /** Every device, when there are several (or when the presence was built per device). */
  tuples?: PidfTuple[];
}

/** The presence of a presentity from its devices: open if any is, described by the open one of highest priority. */
export function pidfOfTuples(entity: string, tuples: PidfTuple[]): PidfPresence {
  const open = tuples.filter((t) => t.basic === 'open').sort((a, b) => (b.contact?.priority ?? 0) - (a.contact?.priority ?? 0));
  const best = open[0] ?? tuples[0];
  const out: PidfPresence = { entity, basic: open.length > 0 ? 'open' : 'closed', tuples };
  if (best?.show && out.basic === 'open') out.show = best.show;
  if (best?.note !== undefined) out.note = best.note;
  if (best?.lang !== undefined) out.lang = best.lang;
  return out;
}

export function buildPidf(p: PidfPresence): string {
  const presence = new Element('presence', { xmlns: PIDF_NS, entity: p.entity });
  if (p.tuples && p.tuples.length > 0) {
    for (const t of p.tuples) {
      const tuple = presence.c('tuple', { id: t.id });
      tuple.c('status').c('basic').t(t.basic);
      if (t.show) tuple.c('show', { xmlns: JABBER_CLIENT_NS }).t(t.show);
      if (t.contact) tuple.c('contact', t.contact.priority !== undefined ? { priority: String(t.contact.priority) } : {}).t(t.contact.uri);
      if (t.note !== undefined) tuple.c('note', t.lang ? { 'xml:lang': t.lang } : {}).t(t.note);
    }
  } else {
    // A stable tuple id: the same entity always describes the same tuple.
    const tuple = presence.c('tuple', { id: `t${createHash('sha1').update(p.entity).digest('hex').slice(0, 8)}` });
    tuple.c('status').c('basic').t(p.basic);
    if (p.show) tuple.c('show', { xmlns: JABBER_CLIENT_NS }).t(p.show);
    if (p.note !== undefined) presence.c('note', p.lang ? { 'xml:lang': p.lang } : {}).t(p.note);
  }
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

function showOf(el: Element): XmppShow | undefined {
  const show = descendants(el, 'show')[0]?.getText().trim();
  if (show === undefined) return undefined;
  if (!SHOWS.includes(show)) throw new SipParseError(`PIDF <show> must be one of ${SHOWS.join(', ')}, got "${show}"`);
  return show as XmppShow;
}

function basicOf(el: Element): 'open' | 'closed' {
  const basics = descendants(el, 'basic').map((b) => b.getText().trim());
  const bad = basics.find((b) => b !== 'open' && b !== 'closed');
  if (bad !== undefined) throw new SipParseError(`PIDF <basic> must be open or closed, got "${bad}"`);
  return basics.includes('open') ? 'open' : 'closed';
}

function tupleOf(el: Element, index: number): PidfTuple {
  const t: PidfTuple = { id: (el.attrs.id as string | undefined) ?? `t${index}`, basic: basicOf(el) };
  const show = showOf(el);
  if (show) t.show = show;
  const contact = el.getChild('contact');
  if (contact) {
    const priority = Number(contact.attrs.priority);
    t.contact = { uri: contact.getText().trim(), ...(contact.attrs.priority !== undefined && Number.isFinite(priority) ? { priority } : {}) };
  }
  const note = el.getChild('note');
  if (note) {
    t.note = note.getText();
    const lang = note.attrs['xml:lang'] as string | undefined;
    if (lang) t.lang = lang;
  }
  return t;
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
  const tuples = root.getChildren('tuple').map(tupleOf);
  const basic = basicOf(root);
  // Several devices: the one that describes the presentity is the open one of highest priority.
  const best = tuples.length > 1 ? pidfOfTuples(entity, tuples) : undefined;
  const out: PidfPresence = { entity, basic };
  const show = best ? best.show : showOf(root);
  if (show !== undefined && (best === undefined || basic === 'open')) out.show = show;
  const note = root.getChildren('note')[0];
  if (note) {
    out.note = note.getText();
    const lang = note.attrs['xml:lang'] as string | undefined;
    if (lang) out.lang = lang;
  } else if (best) {
    if (best.note !== undefined) out.note = best.note;
    if (best.lang !== undefined) out.lang = best.lang;
  } else {
    const inner = descendants(root, 'note')[0];
    if (inner) {
      out.note = inner.getText();
      const lang = inner.attrs['xml:lang'] as string | undefined;
      if (lang) out.lang = lang;
    }
  }
  if (tuples.length > 1) out.tuples = tuples;
  return out;
}
