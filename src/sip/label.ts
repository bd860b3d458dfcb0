import type { SipMessage } from './message.js';

/** A SIP message in a few words for traces and flows: `SIP MESSAGE`, `SIP 202 Accepted (SUBSCRIBE)`. */
export function sipLabel(m: SipMessage): string {
  return m.kind === 'request' ? `SIP ${m.method}` : `SIP ${m.status} ${m.reason} (${(m.headers.get('CSeq') ?? '').split(' ')[1] ?? ''})`;
}
