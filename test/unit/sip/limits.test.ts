import { describe, expect, it } from '@jest/globals';
import { SIP_LIMITS, SipTooLarge, parseSipMessage, takeSipFrame } from '../../../src/sip/message.js';

const CRLF = '\r\n';
const head = (extra: string[] = [], length = 0) =>
  [
    'MESSAGE sip:alice@contoso.test SIP/2.0',
    'Via: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bK776asdhds',
    'From: <sip:bob@partner.test>;tag=1',
    'To: <sip:alice@contoso.test>',
    'Call-ID: a84b@127.0.0.1',
    'CSeq: 1 MESSAGE',
    ...extra,
    `Content-Length: ${length}`,
    '',
    '',
  ].join(CRLF);

describe('what a SIP peer may send: the bounds of SIP_LIMITS', () => {
  it('refuses a Content-Length over the bound at once, before waiting for a body that may never come', () => {
    expect(() => takeSipFrame(Buffer.from(head([], 10 ** 12)))).toThrow(SipTooLarge);
    expect(() => takeSipFrame(Buffer.from(head([], 10 ** 12)))).toThrow(/Content-Length 1000000000000 \(limit 65536\)/);
    // Within the bound, a message waits for its body.
    expect(takeSipFrame(Buffer.from(head([], SIP_LIMITS.bodyBytes)))).toBeUndefined();
  });

  it('refuses a header flood: more lines than the bound, or a header block over its size', () => {
    const flood = Array.from({ length: SIP_LIMITS.headerLines + 1 }, (_, i) => `X-Flood-${i}: 1`);
    expect(() => parseSipMessage(head(flood))).toThrow(/header lines \(limit 256\)/);
    const long = [`X-Long: ${'a'.repeat(SIP_LIMITS.headerBytes)}`];
    expect(() => takeSipFrame(Buffer.from(head(long)))).toThrow(/a header block of \d+ bytes \(limit 65536\)/);
  });

  it('reads a message at the bounds', () => {
    const lines = Array.from({ length: SIP_LIMITS.headerLines - 8 }, (_, i) => `X-H-${i}: 1`);
    const body = 'b'.repeat(SIP_LIMITS.bodyBytes);
    expect(parseSipMessage(head(lines, body.length) + body).body).toHaveLength(body.length);
  });
});
