import xml from '@xmpp/xml';
import type { Element } from 'ltx';
import { parsePidf, type PidfPresence, type PidfTuple } from '../../../sip/pidf.js';
import { jidToSipUri } from '../mapping/address.js';
import type { OutgoingPresence } from './xmpp-side.js';

/** The resource of a full JID ('' for a bare one). */
export const resourceOf = (jid: string): string => (jid.includes('/') ? jid.slice(jid.indexOf('/') + 1) : '');

/**
 * RFC 8048 section 6.2 note 2: a tuple id is an xs:ID, stricter than a resourcepart, so the
 * resource is prefixed with `ID-` (and what an xs:ID cannot hold is hex-escaped).
 */
export const tupleIdOf = (resource: string): string => `ID-${resource.replace(/[^A-Za-z0-9._-]/g, (c) => `_${c.codePointAt(0)!.toString(16)}_`)}`;

/**
 * RFC 8048 section 6.2 Table 1: XMPP `<priority/>` (-128 to 127) -> PIDF contact priority (0 to 1,
 * three decimals): 0 is 0 and 127 is 1, each value unique; a negative priority is not mapped.
 */
export function pidfPriorityOf(priority: number): number | undefined {
  if (!Number.isInteger(priority) || priority < 0) return undefined;
  return Math.floor((Math.min(priority, 127) * 1000) / 127) / 1000;
}

/**
 * RFC 8048 section 6.2: one resource's presence as its PIDF tuple (no type = open, unavailable =
 * closed, status = note with its xml:lang, priority = the contact's priority, the full JID as the
 * contact address).
 */
export function presenceToTuple(s: Element): PidfTuple {
  const from = s.attrs.from as string;
  const show = s.getChildText('show') as PidfTuple['show'] | null;
  const status = s.getChildText('status');
  const lang = (s.getChild('status')?.attrs['xml:lang'] as string | undefined) ?? (s.attrs['xml:lang'] as string | undefined);
  const priorityText = s.getChildText('priority');
  const priority = priorityText === null ? undefined : pidfPriorityOf(Number(priorityText.trim()));
  const tuple: PidfTuple = { id: tupleIdOf(resourceOf(from)), basic: s.attrs.type === 'unavailable' ? 'closed' : 'open' };
  if (show && ['chat', 'away', 'xa', 'dnd'].includes(show)) tuple.show = show;
  if (from.includes('/')) tuple.contact = { uri: jidToSipUri(from), ...(priority !== undefined ? { priority } : {}) };
  if (status) tuple.note = status;
  if (status && lang) tuple.lang = lang;
  return tuple;
}

/**
 * RFC 8048 section 6.3: PIDF -> XMPP presence; `stripNotes` for partners who may not see notes,
 * `lang` the NOTIFY's Content-Language (the stanza's xml:lang).
 */
export function pidfToPresence(p: PidfPresence, from: string, to: string, stripNotes: boolean, lang?: string): OutgoingPresence & { children: Element[] } {
  const children: Element[] = [];
  if (p.basic === 'open' && p.show) children.push(xml('show', {}, p.show));
  if (p.note && !stripNotes) children.push(xml('status', p.lang && p.lang !== lang ? { 'xml:lang': p.lang } : {}, p.note));
  return { ...(p.basic === 'closed' ? { type: 'unavailable' } : {}), from, to, children, ...(lang ? { lang } : {}) };
}

/** A NOTIFY body as presence, or undefined when it is not PIDF the gateway can read. */
export function readPidf(body: string): PidfPresence | undefined {
  try {
    return parsePidf(body);
  } catch {
    return undefined;
  }
}
