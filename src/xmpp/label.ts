import type { Element } from 'ltx';
import { errorCondition } from './client.js';

/** A stanza in a few words for traces and flows: `message chat`, `iq get ping`, `presence error forbidden`. */
export function xmppLabel(s: Element): string {
  const type = s.attrs.type as string | undefined;
  const child = s.is('iq') ? s.getChildElements()[0] : undefined;
  const payload = child ? ` ${child.getName()}` : '';
  const cond = type === 'error' ? ` ${errorCondition(s) ?? ''}` : '';
  return `${s.getName()}${type ? ` ${type}` : ''}${payload}${cond}`.trim();
}
