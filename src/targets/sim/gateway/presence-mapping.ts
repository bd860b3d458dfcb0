import { xml } from '@xmpp/component-core';
import type { Element } from 'ltx';
import { parsePidf, type PidfPresence } from '../../../sip/pidf.js';
import type { OutgoingPresence } from './xmpp-side.js';

/** RFC 8048: XMPP presence -> PIDF (no type = open, unavailable = closed, status = note). */
export function presenceToPidf(s: Element, entity: string): PidfPresence {
  const show = s.getChildText('show') as PidfPresence['show'] | null;
  const status = s.getChildText('status');
  const lang = s.attrs['xml:lang'] as string | undefined;
  return {
    entity,
    basic: s.attrs.type === 'unavailable' ? 'closed' : 'open',
    ...(show && ['chat', 'away', 'xa', 'dnd'].includes(show) ? { show } : {}),
    ...(status ? { note: status } : {}),
    ...(lang ? { lang } : {}),
  };
}

/** RFC 8048: PIDF -> XMPP presence; `stripNotes` for partners who may not see notes. */
export function pidfToPresence(p: PidfPresence, from: string, to: string, stripNotes: boolean): OutgoingPresence & { children: Element[] } {
  const children: Element[] = [];
  if (p.basic === 'open' && p.show) children.push(xml('show', {}, p.show));
  if (p.note && !stripNotes) children.push(xml('status', p.lang ? { 'xml:lang': p.lang } : {}, p.note));
  return { ...(p.basic === 'closed' ? { type: 'unavailable' } : {}), from, to, children };
}

/** A NOTIFY body as presence, or undefined when it is not PIDF the gateway can read. */
export function readPidf(body: string): PidfPresence | undefined {
  try {
    return parsePidf(body);
  } catch {
    return undefined;
  }
}
