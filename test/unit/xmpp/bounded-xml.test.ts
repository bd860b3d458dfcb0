import { describe, expect, it } from '@jest/globals';
import type { Element } from '@xmpp/xml';
import { BoundedXmlParser, type XmlLimits } from '../../../src/xmpp/bounded-xml.js';

const HEADER = `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' from='contoso.test' id='s1' version='1.0'>`;
const FEATURES = `<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>`;

interface Parsed {
  header?: Record<string, string>;
  elements: Element[];
  ended: boolean;
  error?: string;
}

/** Feeds `chunks` and collects what the parser says; a second error would be a defect. */
function parse(chunks: Array<Buffer | string>, limits: Partial<XmlLimits> = {}): Parsed {
  const parser = new BoundedXmlParser(limits);
  const out: Parsed = { elements: [], ended: false };
  let errors = 0;
  parser.on('start', (el: Element) => (out.header = el.attrs as Record<string, string>));
  parser.on('element', (el: Element) => out.elements.push(el));
  parser.on('end', () => (out.ended = true));
  parser.on('error', (err: Error) => {
    errors++;
    out.error = err.message;
  });
  for (const c of chunks) parser.write(c);
  expect(errors).toBeLessThanOrEqual(1);
  return out;
}

const bytes = (s: string) => Buffer.from(s, 'utf8');
/** Every byte in its own chunk. */
const drip = (s: string | Buffer) => [...(typeof s === 'string' ? bytes(s) : s)].map((b) => Buffer.from([b]));

describe('BoundedXmlParser reads what a well-behaved server sends', () => {
  const stream = `${HEADER}${FEATURES}\n <message from='a@x' to='b@y' type='chat'><body>h&#233;llo &lt;&amp;&gt; &quot;you&quot; <![CDATA[<raw & text>]]></body><x xmlns='urn:x'><y a="1" b='2'/></x></message> </stream:stream>`;

  it('gives the header, each top-level element and the end, whatever the chunking', () => {
    for (const chunks of [[stream], drip(stream), [bytes(stream)]]) {
      const r = parse(chunks);
      expect(r.error).toBeUndefined();
      expect(r.header).toMatchObject({ from: 'contoso.test', id: 's1', 'xmlns:stream': 'http://etherx.jabber.org/streams' });
      expect(r.elements.map((e) => e.name)).toEqual(['stream:features', 'message']);
      const message = r.elements[1]!;
      expect(message.getChildText('body')).toBe('héllo <&> "you" <raw & text>');
      expect(message.getChild('x')?.getChild('y')?.attrs).toEqual({ a: '1', b: '2' });
      expect(message.toString()).toContain('<y a="1" b="2"/>');
      expect(r.ended).toBe(true);
    }
  });

  it('decodes UTF-8 split across chunks, and keeps whitespace keepalives out of the tree', () => {
    const text = `${HEADER}${FEATURES}<message><body>é€😀</body></message>`;
    const r = parse(drip(text));
    expect(r.error).toBeUndefined();
    expect(r.elements[1]!.getChildText('body')).toBe('é€😀');
    const parser = new BoundedXmlParser();
    let root: Element | undefined;
    parser.on('start', (el: Element) => (root = el));
    parser.write(HEADER + FEATURES);
    for (let i = 0; i < 1000; i++) parser.write(' \n');
    expect(root!.children).toEqual([]);
  });
});

describe('BoundedXmlParser stops at the first fault and says what the peer did', () => {
  const faults: Array<[string, Array<Buffer | string>, RegExp, Partial<XmlLimits>?]> = [
    [
      'an HTTP answer',
      ['HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n'],
      /^not XML; the first bytes were 'HTTP\/1\.1 400 Bad Request\\r\\nContent-Length\.\.\.' \(an HTTP server\)$/,
    ],
    ['an SSH banner', ['SSH-2.0-OpenSSH_9.2p1 Debian\r\n'], /^not XML; the first bytes were 'SSH-2\.0-OpenSSH_9\.2p1 Debian\\r\\n' \(an SSH server\)$/],
    ['a TLS ClientHello', [Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03])], /^invalid UTF-8: .*\(a TLS handshake/],
    ['random bytes', [Buffer.from([0x8f, 0x00, 0xff, 0x13, 0x37])], /^invalid UTF-8: bytes that are not UTF-8 near byte 0 \(8f 00 ff 13\)/],
    [
      'invalid UTF-8 in a stanza',
      [HEADER, FEATURES, Buffer.from([0x3c, 0x61, 0x3e, 0xc3, 0x28])],
      /^invalid UTF-8: bytes that are not UTF-8 near byte \d+ \(c3 28\)$/,
    ],
    ['invalid UTF-8 split across chunks', [HEADER, FEATURES, '<a>', Buffer.from([0xe2, 0x82]), Buffer.from([0x41])], /^invalid UTF-8/],
    ['a DTD', [`<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol "lol">]>`], /^a DTD \(<!DOCTYPE>\)/],
    ['billion laughs inside a stream', [HEADER, '<!ENTITY lol2 "&lol;&lol;">'], /^an entity declaration/],
    ['an undeclared entity', [HEADER, FEATURES, '<a>&lol9;</a>'], /^the entity reference '&lol9;' in text inside <a>/],
    ['an external entity in an attribute', [HEADER, FEATURES, "<a b='&xxe;'/>"], /^the entity reference '&xxe;' in the value of b/],
    ['a comment', [HEADER, '<!-- hi -->'], /^a comment \(RFC 6120 11\.1/],
    ['a processing instruction', [HEADER, FEATURES, '<a><?php echo 1; ?></a>'], /^a processing instruction inside <a>/],
    ['a non-UTF-8 declaration', [`<?xml version='1.0' encoding='ISO-8859-1'?>`], /^the encoding ISO-8859-1/],
    ['a root that is not a stream', ['<html><body>'], /^the document starts with <html>/],
    ['text between stanzas', [HEADER, FEATURES, 'hello'], /^text outside any stanza: 'hello'$/],
    ['a stray end tag', [HEADER, FEATURES, '<a></b>'], /^the end tag <\/b> where <\/a> was due$/],
    ['a control character', [HEADER, FEATURES, '<a>\u0001</a>'], /^the control character 0x01 inside <a>/],
    ['a malformed tag', [HEADER, FEATURES, '<a b c>'], /^the attribute b of <a> has no value$/],
    ['a duplicate attribute', [HEADER, FEATURES, "<a b='1' b='2'/>"], /^the attribute b twice in <a>$/],
    [
      'endless text',
      [HEADER, FEATURES, '<message><body>', 'x'.repeat(300 * 1024)],
      /^a stanza of over 256 KiB \(the limit\): the peer was still sending text inside <body>$/,
    ],
    ['endless text in small chunks', [HEADER, FEATURES, '<message><body>', ...Array<string>(2000).fill('y'.repeat(200))], /^a stanza of over 256 KiB/],
    ['an endless attribute value', [HEADER, FEATURES, "<message a='", 'z'.repeat(300 * 1024)], /still sending an attribute value$/],
    ['endless nesting', [HEADER, FEATURES, '<a>'.repeat(100)], /^elements nested more than 32 deep inside <a>$/],
    [
      'an attribute flood',
      [HEADER, FEATURES, `<a ${Array.from({ length: 100 }, (_, i) => `a${i}='x'`).join(' ')}/>`],
      /^more than 64 attributes in one <a> tag$/,
    ],
    ['an endless stream header', [`<stream:stream ${'x'.repeat(20 * 1024)}`], /^16 KiB without a complete stream header \(limit 16 KiB\)/],
    ['no features in the first bytes', [HEADER, ' '.repeat(70 * 1024)], /without completing its stream features \(limit 64 KiB\)$/],
    ['a tighter stanza limit', [HEADER, FEATURES, `<a>${'x'.repeat(2000)}</a>`], /^a stanza of over 1 KiB/, { maxStanzaBytes: 1024 }],
    // saxes alone would read on to the next ';', wherever it came, swallowing the stanzas between.
    ['an & with no ;', [HEADER, FEATURES, "<a b='x&y'/>", '<c>;</c>'], /^the entity reference '&y' in the value of b:/],
    ['an & with no ; in text', [HEADER, FEATURES, '<a>fish & chips</a>'], /^the entity reference '&' in text inside <a>:/],
    ['a comment that never ends', [HEADER, FEATURES, '<a><!--', 'x'.repeat(1000)], /^a comment inside <a> \(RFC 6120 11\.1/],
    ['a DTD that never ends', ['<!DOCTYPE x [', '<!ENTITY a "b">'.repeat(100)], /^a DTD \(<!DOCTYPE>\)/],
    ["']]>' in text", [HEADER, FEATURES, '<a>]]></a>'], /^']]>' in text inside <a>, which XML does not allow$/],
    ['an undeclared namespace prefix', [HEADER, FEATURES, "<a x:b='1'/>"], /^the namespace prefix "x" is not declared, in <a>$/],
    ['a stream header without its prefix declared', ["<stream:stream xmlns='jabber:client'>"], /^the namespace prefix "stream" is not declared/],
    ['a malformed XML declaration', ["<?xml version='2'?>"], /^a malformed XML declaration/],
    ['an unquoted attribute value', [HEADER, FEATURES, '<a b=c/>'], /^the value of b in <a> is not quoted$/],
    ['CDATA between stanzas', [HEADER, FEATURES, '<![CDATA[x]]>'], /^CDATA outside any stanza$/],
  ];

  // A loop, not it.each: each's title would print the megabytes of every chunk.
  for (const [name, chunks, message, limits] of faults) {
    it(name, () => expect(parse(chunks, limits).error).toMatch(message));
  }

  it('emits what came before a fault in the same chunk, and not an element closed by the wrong end tag', () => {
    const r = parse([`${HEADER}${FEATURES}<a/><b>\u0001</b>`]);
    expect(r.elements.map((e) => e.name)).toEqual(['stream:features', 'a']);
    expect(r.error).toMatch(/^the control character 0x01 inside <b>/);
    const wrong = parse([`${HEADER}${FEATURES}<a></b>`]);
    expect(wrong.elements.map((e) => e.name)).toEqual(['stream:features']);
  });

  it('stops reading at the end of the stream', () => {
    const r = parse([`${HEADER}${FEATURES}</stream:stream>`, 'HTTP/1.1 200 OK']);
    expect(r.ended).toBe(true);
    expect(r.error).toBeUndefined();
  });

  it('reads nothing more after a fault (one error, no elements)', () => {
    const r = parse([HEADER, '<!-- x -->', FEATURES, '<message/>']);
    expect(r.error).toMatch(/comment/);
    expect(r.elements).toEqual([]);
  });

  it('keeps its cost linear: a 256 KiB stanza dripped one byte at a time is read, the next byte over is refused', () => {
    const body = 'x'.repeat(256 * 1024 - 40);
    const ok = parse([HEADER, FEATURES, ...drip(`<message><body>${body}</body></message>`)]);
    expect(ok.error).toBeUndefined();
    expect(ok.elements[1]!.getChildText('body')).toHaveLength(body.length);
    const over = parse([HEADER, FEATURES, ...drip(`<message><body>${body}${'x'.repeat(100)}`)]);
    expect(over.error).toMatch(/^a stanza of over 256 KiB/);
  });
});
