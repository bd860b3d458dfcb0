import { describe, expect, it } from '@jest/globals';
import {
  SipHeaders,
  SipParseError,
  formatNameAddr,
  formatSipUri,
  formatVia,
  newBranch,
  newCallId,
  newTag,
  parseNameAddr,
  parseSipMessage,
  parseSipUri,
  parseVia,
  reasonPhrase,
  serializeSipMessage,
  takeSipFrame,
  type SipRequest,
} from '../../../src/sip/message.js';
import { buildResponse } from '../../../src/sip/endpoint.js';

const CRLF = '\r\n';
const lines = (...l: string[]) => l.join(CRLF);

const MESSAGE = lines(
  'MESSAGE sip:alice@contoso.test SIP/2.0',
  'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK776asdhds;rport',
  'Max-Forwards: 70',
  'From: "Bob" <sip:bob@partner.test>;tag=1928301774',
  'To: <sip:alice@contoso.test>',
  'Call-ID: a84b4c76e66710@127.0.0.1',
  'CSeq: 1 MESSAGE',
  'Content-Type: text/plain',
  'Content-Length: 5',
  '',
  'hello',
);

describe('parseSipMessage', () => {
  it('parses a request with its start line, headers and body', () => {
    const msg = parseSipMessage(MESSAGE);
    expect(msg.kind).toBe('request');
    const req = msg as SipRequest;
    expect(req.method).toBe('MESSAGE');
    expect(req.uri).toBe('sip:alice@contoso.test');
    expect(req.headers.get('call-id')).toBe('a84b4c76e66710@127.0.0.1');
    expect(req.headers.get('CSEQ')).toBe('1 MESSAGE');
    expect(req.body).toBe('hello');
  });

  it('parses a response, keeping an unusual reason phrase', () => {
    const msg = parseSipMessage(lines('SIP/2.0 480 Gone Fishing', 'Via: SIP/2.0/TCP h;branch=z9hG4bKx', 'Content-Length: 0', '', ''));
    expect(msg).toMatchObject({ kind: 'response', status: 480, reason: 'Gone Fishing', body: '' });
  });

  it('expands every compact header form', () => {
    const raw = lines(
      'OPTIONS sip:a@b SIP/2.0',
      'v: SIP/2.0/UDP h;branch=z9hG4bK1',
      'i: cid',
      'f: <sip:x@y>;tag=1',
      't: <sip:a@b>',
      'm: <sip:x@h>',
      'c: text/plain',
      's: hi',
      'k: timer',
      'o: presence',
      'e: gzip',
      'u: presence',
      'CSeq: 1 OPTIONS',
      'l: 2',
      '',
      'ok',
    );
    const h = parseSipMessage(raw).headers;
    expect(h.entries().map(([n]) => n)).toEqual([
      'Via',
      'Call-ID',
      'From',
      'To',
      'Contact',
      'Content-Type',
      'Subject',
      'Supported',
      'Event',
      'Content-Encoding',
      'Allow-Events',
      'CSeq',
      'Content-Length',
    ]);
    expect(h.get('Event')).toBe('presence');
    expect(h.get('o')).toBe('presence'); // lookups accept the compact name too
  });

  it('joins folded header lines with one space', () => {
    const raw = lines(
      'MESSAGE sip:a@b SIP/2.0',
      'Subject: I know you are there,',
      '   pick up the phone',
      '\tand talk to me!',
      'Via: SIP/2.0/UDP h;branch=z9hG4bK1',
      '',
      '',
    );
    expect(parseSipMessage(raw).headers.get('Subject')).toBe('I know you are there, pick up the phone and talk to me!');
  });

  it('splits comma-separated Via values and keeps their order among repeated headers', () => {
    const raw = lines(
      'SIP/2.0 200 OK',
      'Via: SIP/2.0/UDP first;branch=z9hG4bK1, SIP/2.0/TCP second;branch=z9hG4bK2',
      'Via: SIP/2.0/UDP third;branch=z9hG4bK3;received=127.0.0.1',
      'Contact: "Doe, John" <sip:j@h>, <sip:k@h>',
      '',
      '',
    );
    const h = parseSipMessage(raw).headers;
    expect(h.getAll('Via').map((v) => parseVia(v).host)).toEqual(['first', 'second', 'third']);
    expect(h.getAll('Contact')).toEqual(['"Doe, John" <sip:j@h>', '<sip:k@h>']);
  });

  it('counts Content-Length in UTF-8 bytes', () => {
    const body = 'grüß 👋';
    const raw = Buffer.concat([Buffer.from(lines('MESSAGE sip:a@b SIP/2.0', `Content-Length: ${Buffer.byteLength(body)}`, '', '')), Buffer.from(body)]);
    expect(parseSipMessage(raw).body).toBe(body);
    expect(Buffer.byteLength(body)).toBeGreaterThan(body.length);
  });

  it('ignores bytes past Content-Length and takes the rest when it is absent (UDP)', () => {
    expect(parseSipMessage(lines('MESSAGE sip:a@b SIP/2.0', 'Content-Length: 2', '', 'hiXYZ')).body).toBe('hi');
    expect(parseSipMessage(lines('MESSAGE sip:a@b SIP/2.0', '', 'all of it')).body).toBe('all of it');
  });

  it.each([
    ['empty input', ''],
    ['no start line', lines('Via: x', '', '')],
    ['a bad start line', lines('HELLO', '', '')],
    ['a wrong version', lines('MESSAGE sip:a@b SIP/3.0', '', '')],
    ['a header without colon', lines('MESSAGE sip:a@b SIP/2.0', 'Broken header', '', '')],
    ['a continuation with no header', lines('MESSAGE sip:a@b SIP/2.0', ' folded', '', '')],
    ['a body shorter than Content-Length', lines('MESSAGE sip:a@b SIP/2.0', 'Content-Length: 10', '', 'short')],
    ['a non-numeric Content-Length', lines('MESSAGE sip:a@b SIP/2.0', 'Content-Length: ten', '', '')],
    ['no blank line after the headers', 'MESSAGE sip:a@b SIP/2.0\r\nVia: x'],
    ['binary garbage', Buffer.from([0xff, 0x00, 0x13, 0x37])],
  ])('rejects %s with SipParseError', (_, raw) => {
    expect(() => parseSipMessage(raw)).toThrow(SipParseError);
  });
});

describe('serializeSipMessage', () => {
  it('round-trips a parsed message byte for byte in meaning', () => {
    const msg = parseSipMessage(MESSAGE);
    const again = parseSipMessage(serializeSipMessage(msg));
    expect(again).toEqual(msg);
  });

  it('always writes Content-Length in bytes, replacing a stale one', () => {
    const msg = parseSipMessage(MESSAGE) as SipRequest;
    msg.body = 'ünïcödé';
    const out = serializeSipMessage(msg).toString('utf8');
    expect(out).toContain(`Content-Length: ${Buffer.byteLength('ünïcödé')}\r\n\r\nünïcödé`);
    expect(out.match(/Content-Length/g)).toHaveLength(1);
  });

  it('writes Content-Length: 0 for an empty body', () => {
    const out = serializeSipMessage({ kind: 'response', status: 200, reason: 'OK', headers: new SipHeaders(), body: '' }).toString();
    expect(out).toBe('SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n');
  });
});

describe('takeSipFrame', () => {
  it('cuts two messages out of one chunk and waits for the rest of a split one', () => {
    const one = serializeSipMessage(parseSipMessage(MESSAGE));
    const both = Buffer.concat([Buffer.from('\r\n\r\n'), one, one.subarray(0, 40)]);
    const first = takeSipFrame(both)!;
    expect(first.frame.equals(one)).toBe(true);
    expect(takeSipFrame(first.rest)).toBeUndefined();
    const whole = takeSipFrame(Buffer.concat([first.rest, one.subarray(40)]))!;
    expect(whole.frame.equals(one)).toBe(true);
    expect(whole.rest.length).toBe(0);
  });
});

describe('SipHeaders', () => {
  it('is case-insensitive, keeps order and repeated values', () => {
    const h = new SipHeaders().append('via', 'a').append('X-Custom', '1').append('VIA', 'b');
    expect(h.getAll('Via')).toEqual(['a', 'b']);
    h.prepend('Via', 'top');
    expect(h.getAll('via')).toEqual(['top', 'a', 'b']);
    expect(h.shift('Via')).toBe('top');
    h.set('via', 'only');
    expect(h.entries()).toEqual([
      ['Via', 'only'],
      ['X-Custom', '1'],
    ]);
    const copy = h.clone().delete('x-custom');
    expect(copy.has('X-Custom')).toBe(false);
    expect(h.has('X-Custom')).toBe(true);
  });
});

describe('URIs, name-addrs and Via', () => {
  it('parses and formats SIP URIs', () => {
    const u = parseSipUri('sip:alice@Contoso.Test:5061;transport=tcp;lr?Subject=x');
    expect(u).toEqual({ scheme: 'sip', user: 'alice', host: 'contoso.test', port: 5061, params: { transport: 'tcp', lr: '' }, headers: 'Subject=x' });
    expect(formatSipUri(u)).toBe('sip:alice@contoso.test:5061;transport=tcp;lr?Subject=x');
    expect(parseSipUri('sips:[::1]:5061')).toMatchObject({ scheme: 'sips', host: '[::1]', port: 5061 });
    expect(parseSipUri('sip:o%27brien@contoso.test').user).toBe('o%27brien');
    expect(() => parseSipUri('mailto:a@b')).toThrow(SipParseError);
    expect(() => parseSipUri('sip:@b')).toThrow(SipParseError);
    expect(() => parseSipUri('sip:a@b c')).toThrow(SipParseError);
  });

  it('parses name-addr forms and puts header parameters outside the URI', () => {
    expect(parseNameAddr('"Bob \\"B\\"" <sip:bob@p.test;transport=tcp>;tag=88')).toEqual({
      display: 'Bob "B"',
      uri: 'sip:bob@p.test;transport=tcp',
      params: { tag: '88' },
    });
    expect(parseNameAddr('Alice <sip:alice@c.test>')).toEqual({ display: 'Alice', uri: 'sip:alice@c.test', params: {} });
    expect(parseNameAddr('sip:alice@c.test;tag=7')).toEqual({ uri: 'sip:alice@c.test', params: { tag: '7' } });
    expect(formatNameAddr({ display: 'Bob "B"', uri: 'sip:b@p', params: { tag: '1' } })).toBe('"Bob \\"B\\"" <sip:b@p>;tag=1');
    expect(() => parseNameAddr('<sip:a@b')).toThrow(SipParseError);
  });

  it('parses and formats Via', () => {
    const v = parseVia('SIP/2.0/udp 127.0.0.1:5060;branch=z9hG4bK1;rport');
    expect(v).toEqual({ transport: 'UDP', host: '127.0.0.1', port: 5060, params: { branch: 'z9hG4bK1', rport: '' } });
    expect(formatVia(v)).toBe('SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1;rport');
    expect(() => parseVia('HTTP/1.1 x')).toThrow(SipParseError);
  });

  it('makes fresh identifiers, branches with the magic cookie', () => {
    expect(newBranch()).toMatch(/^z9hG4bK[0-9a-f]+$/);
    expect(newBranch()).not.toBe(newBranch());
    expect(newTag()).not.toBe(newTag());
    expect(newCallId('127.0.0.1')).toMatch(/^[0-9a-f]+@127\.0\.0\.1$/);
  });

  it('knows the standard reason phrases', () => {
    expect(reasonPhrase(200)).toBe('OK');
    expect(reasonPhrase(481)).toBe('Call/Transaction Does Not Exist');
    expect(reasonPhrase(603)).toBe('Decline');
    expect(reasonPhrase(499)).toBe('Failure');
  });
});

describe('buildResponse (RFC 3261 8.2.6)', () => {
  it('copies Via, From, To, Call-ID and CSeq and tags To on a final response', () => {
    const req = parseSipMessage(MESSAGE) as SipRequest;
    const res = buildResponse(req, { status: 200, toTag: 'abc' });
    expect(res.headers.getAll('Via')).toEqual(req.headers.getAll('Via'));
    expect(res.headers.get('From')).toBe(req.headers.get('From'));
    expect(res.headers.get('To')).toBe('<sip:alice@contoso.test>;tag=abc');
    expect(res.headers.get('Call-ID')).toBe(req.headers.get('Call-ID'));
    expect(res.headers.get('CSeq')).toBe('1 MESSAGE');
    expect(buildResponse(req, { status: 100 }).headers.get('To')).toBe('<sip:alice@contoso.test>');
  });
});
