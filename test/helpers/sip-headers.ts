import type { SipMessage } from '../../src/sip/message.js';

/**
 * A message's headers as one object, for an exact comparison: without Via and Content-Length,
 * which the transport writes; a repeated header's values joined with ", ".
 */
export function headersOf(m: SipMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of m.headers.entries()) {
    if (name === 'Via' || name === 'Content-Length') continue;
    out[name] = out[name] === undefined ? value : `${out[name]}, ${value}`;
  }
  return out;
}
