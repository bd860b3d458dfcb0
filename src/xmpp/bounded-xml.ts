import { EventEmitter } from 'node:events';
import { Element, unescapeXML } from '@xmpp/xml';

/**
 * What one XMPP stream may send xfed before xfed stops reading it (docs/architecture.md, "Limits
 * on what peers send"). A peer xfed does not control (a lab's Edge, whatever answers on its port)
 * cannot make xfed hold more than about `maxStanzaBytes` plus the elements built from it.
 */
export interface XmlLimits {
  /** UTF-8 bytes of one top-level element (a stanza, or features), tags and text included. */
  maxStanzaBytes: number;
  /** Elements nested inside one stanza (the stanza itself is depth 1). */
  maxDepth: number;
  /** Attributes (namespace declarations included) on one element. */
  maxAttributes: number;
  /** Bytes before the stream header is complete (the XML declaration and `<stream:stream ...>`). */
  maxHeaderBytes: number;
  /** Bytes before the first top-level element (the stream features) is complete. */
  maxBytesBeforeFeatures: number;
}

const DEFAULT_XML_LIMITS: XmlLimits = {
  // Prosody's own c2s_stanza_size_limit (256 KiB); its s2s limit is 512 KiB.
  maxStanzaBytes: 256 * 1024,
  maxDepth: 32,
  maxAttributes: 64,
  maxHeaderBytes: 16 * 1024,
  maxBytesBeforeFeatures: 64 * 1024,
};

/** What a peer did wrong on an XMPP stream, said in one line (`message`). */
export class XmlFault extends Error {
  override name = 'XmlFault';
}

const enum S {
  Text,
  Lt,
  Bang,
  Cdata,
  Pi,
  StartName,
  TagSpace,
  AttrName,
  AttrAfterName,
  AttrBeforeValue,
  AttrValue,
  AttrAfterValue,
  Slash,
  EndName,
  EndSpace,
  Done,
  Failed,
}

// XML 1.0 Name, without the rarely used ranges above U+FFFF (allowed, but nothing in XMPP uses them).
const NAME =
  /^[A-Za-z_:\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C-\u200D\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD][-.0-9A-Za-z_:\u00B7\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u037D\u037F-\u1FFF\u200C-\u200D\u203F-\u2040\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD]*$/;
// RFC 6120 11.1: only the five predefined entities and character references.
const BAD_REFERENCE = /&(?!(?:lt|gt|amp|quot|apos|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});)[^;\s<]{0,16};?/;
// Characters XML 1.0 does not allow anywhere (section 2.2); text runs stop at them and at '<'.
// eslint-disable-next-line no-control-regex -- these control characters are what it finds
const ILLEGAL_CHAR = /[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]/;
// eslint-disable-next-line no-control-regex -- as above
const TEXT_STOP = /[<\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]/g;
const NON_SPACE = /[^ \t\r\n]/;
const isSpace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
const utf8Length = (c: number) => (c < 0x80 ? 1 : c < 0x800 || (c >= 0xd800 && c <= 0xdfff) ? 2 : 3);
const KiB = (n: number) => (n >= 1024 * 1024 ? `${+(n / 1024 / 1024).toFixed(1)} MiB` : n >= 1024 ? `${+(n / 1024).toFixed(1)} KiB` : `${n} bytes`);

/**
 * An XMPP stream parser with bounds, a drop-in for @xmpp/xml's `Parser` (same events: `start`
 * with the stream header, `element` for each top-level element, `end`, `error`), built on ltx's
 * `Element` and entity decoding. ltx's own tokenizer cannot be bounded: it keeps an unfinished
 * token and copies it again on every write (a drip of an endless element costs quadratic time),
 * accepts malformed tags silently, and throws from inside a socket's `data` handler on an unknown
 * entity. This tokenizer counts as it reads and stops at the first fault with an `XmlFault` that
 * says what the peer did: bytes are decoded as UTF-8 across chunks (invalid UTF-8 is a fault),
 * and comments, DTDs, entity declarations and processing instructions other than the XML
 * declaration are refused (RFC 6120 section 11.1), so no entity can expand.
 */
export class BoundedXmlParser extends EventEmitter {
  private readonly limits: XmlLimits;
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  private state = S.Text;
  private root: Element | undefined;
  private cursor: Element | undefined;
  /** Depth of the cursor inside the current stanza (0 between stanzas). */
  private depth = 0;
  private total = 0;
  private stanzaBytes = 0;
  private inStanza = false;
  private firstElementDone = false;
  private first = Buffer.alloc(0);
  /** The pieces of the token being read: a name, an attribute value, text, CDATA or a declaration. */
  private parts: string[] = [];
  private name = '';
  private attrName = '';
  private attrs: Record<string, string> = {};
  private attrCount = 0;
  private quote = 0;
  private seenDeclaration = false;

  constructor(limits: Partial<XmlLimits> = {}) {
    super();
    this.limits = { ...DEFAULT_XML_LIMITS, ...limits };
  }

  write(data: Buffer | string): void {
    if (this.state === S.Done || this.state === S.Failed) return;
    let text: string;
    if (this.first.length < 48) {
      const bytes = typeof data === 'string' ? Buffer.from(data.slice(0, 48)) : data;
      this.first = Buffer.concat([this.first, bytes.subarray(0, 48 - this.first.length)]);
    }
    if (typeof data === 'string') text = data;
    else {
      try {
        text = this.decoder.decode(data, { stream: true });
      } catch {
        this.fail(`invalid UTF-8: ${describeBadUtf8(data, this.total)}`);
        return;
      }
    }
    try {
      this.scan(text);
    } catch (err) {
      // Only a bug could land here; the stream is then unreadable all the same.
      this.fail(`unreadable XML (${(err as Error).message})`);
    }
  }

  private fail(why: string): void {
    if (this.state === S.Failed) return;
    this.state = S.Failed;
    this.parts = [];
    const message = this.root ? why : `${why}; the first bytes were ${sniff(this.first)}`;
    this.emit('error', new XmlFault(message));
  }

  private where(): string {
    return this.cursor && this.cursor !== this.root ? ` inside <${this.cursor.name}>` : '';
  }

  /** Adds `n` bytes to the counters and stops at the first bound exceeded. */
  private count(n: number): boolean {
    this.total += n;
    const l = this.limits;
    if (!this.root && this.total > l.maxHeaderBytes) {
      this.fail(`${KiB(this.total)} without a complete stream header (limit ${KiB(l.maxHeaderBytes)})`);
      return false;
    }
    if (this.inStanza) {
      this.stanzaBytes += n;
      if (this.stanzaBytes > l.maxStanzaBytes) {
        this.fail(`a stanza of over ${KiB(l.maxStanzaBytes)} (the limit): the peer was still sending ${this.tokenKind()}${this.where()}`);
        return false;
      }
    }
    if (!this.firstElementDone && this.total > l.maxBytesBeforeFeatures) {
      this.fail(`the peer sent ${KiB(this.total)} without completing its stream features (limit ${KiB(l.maxBytesBeforeFeatures)})`);
      return false;
    }
    return true;
  }

  private tokenKind(): string {
    switch (this.state) {
      case S.Text:
      case S.Cdata:
        return 'text';
      case S.AttrValue:
        return 'an attribute value';
      case S.StartName:
      case S.EndName:
      case S.AttrName:
        return 'a name';
      case S.TagSpace:
      case S.AttrAfterName:
      case S.AttrBeforeValue:
      case S.AttrAfterValue:
      case S.Slash:
        return 'a tag';
      default:
        return 'markup';
    }
  }

  private scan(data: string): void {
    let i = 0;
    const n = data.length;
    while (i < n) {
      if (this.state === S.Text) {
        i = this.scanText(data, i);
        continue;
      }
      if (this.state === S.Done || this.state === S.Failed) return;
      const c = data.charCodeAt(i);
      if (!this.count(utf8Length(c))) return;
      this.step(c, data[i]!);
      i++;
    }
  }

  /** Runs of text in one go; returns where the run stopped. */
  private scanText(data: string, from: number): number {
    TEXT_STOP.lastIndex = from;
    const hit = TEXT_STOP.exec(data);
    const end = hit ? hit.index : data.length;
    if (end > from) {
      const run = data.slice(from, end);
      if (this.depth === 0) {
        // Between stanzas (or before the root) only whitespace may come (RFC 6120 11.7, keepalives).
        const bad = NON_SPACE.exec(run);
        if (bad) {
          this.fail(this.root ? `text outside any stanza: ${quoteSnippet(run.slice(bad.index))}` : 'not XML');
          return data.length;
        }
        if (!this.count(Buffer.byteLength(run))) return data.length;
      } else {
        if (!this.count(Buffer.byteLength(run))) return data.length;
        this.parts.push(run);
      }
    }
    if (!hit) return data.length;
    const c = data.charCodeAt(end);
    if (c !== 0x3c) {
      this.fail(`the control character 0x${c.toString(16).padStart(2, '0')}${this.where()}, which XML does not allow`);
      return data.length;
    }
    if (!this.count(1)) return data.length;
    this.flushText();
    if (this.state === S.Failed) return data.length;
    if (this.root && this.depth === 0) {
      // A top-level element starts: it is bounded as one stanza from its '<'.
      this.inStanza = true;
      this.stanzaBytes = 1;
    }
    this.state = S.Lt;
    return end + 1;
  }

  private flushText(): void {
    if (this.parts.length === 0) return;
    const raw = this.parts.join('');
    this.parts = [];
    const text = this.decode(raw, 'text');
    if (text !== undefined) this.cursor!.t(text);
  }

  private decode(raw: string, what: string): string | undefined {
    const bad = BAD_REFERENCE.exec(raw);
    if (bad) {
      this.fail(
        `the entity reference ${quoteSnippet(bad[0])} in ${what}${this.where()}: XMPP allows only &lt; &gt; &amp; &quot; &apos; and character references (RFC 6120 11.1)`,
      );
      return undefined;
    }
    try {
      return unescapeXML(raw);
    } catch (err) {
      this.fail(`${(err as Error).message} in ${what}${this.where()}`);
      return undefined;
    }
  }

  private step(c: number, ch: string): void {
    switch (this.state) {
      case S.Lt:
        if (c === 0x2f /* / */) {
          this.state = S.EndName;
          this.name = '';
        } else if (c === 0x21 /* ! */) {
          this.state = S.Bang;
          this.parts = [];
        } else if (c === 0x3f /* ? */) {
          if (this.root || this.seenDeclaration) return this.fail(`a processing instruction${this.where()} (RFC 6120 11.1 forbids them)`);
          this.state = S.Pi;
          this.parts = [];
        } else if (isSpace(c) || c === 0x3c || c === 0x3e || c === 0x3d) {
          return this.fail(`'<' followed by ${quoteSnippet(ch)}${this.where()}`);
        } else {
          this.state = S.StartName;
          this.name = ch;
        }
        return;
      case S.Bang: {
        this.parts.push(ch);
        const seen = this.parts.join('');
        if ('[CDATA['.startsWith(seen)) {
          if (seen.length < 7) return;
          if (this.depth === 0) return this.fail('CDATA outside any stanza');
          this.state = S.Cdata;
          this.parts = [];
          return;
        }
        if (seen.startsWith('-')) return this.fail(`a comment${this.where()} (RFC 6120 11.1 forbids them)`);
        if (/^(D|DO|DOC|DOCT|DOCTY|DOCTYP|DOCTYPE)$/.test(seen) && seen.length < 7) return;
        if (seen === 'DOCTYPE') return this.fail('a DTD (<!DOCTYPE>): RFC 6120 11.1 forbids them, and their entities could expand without bound');
        if (/^(E|EN|ENT|ENTI|ENTIT)$/.test(seen)) return;
        if (seen === 'ENTITY') return this.fail('an entity declaration (<!ENTITY>): RFC 6120 11.1 forbids them');
        return this.fail(`the markup declaration <!${seen}${this.where()} (RFC 6120 11.1 forbids them)`);
      }
      case S.Cdata: {
        this.parts.push(ch);
        if (ch === '>' && this.parts.length >= 3 && this.parts[this.parts.length - 2] === ']' && this.parts[this.parts.length - 3] === ']') {
          const content = this.parts.slice(0, -3).join('');
          this.parts = [];
          if (ILLEGAL_CHAR.test(content)) return this.fail(`a control character in CDATA${this.where()}`);
          this.cursor!.t(content);
          this.state = S.Text;
        }
        return;
      }
      case S.Pi: {
        this.parts.push(ch);
        if (ch === '>' && this.parts[this.parts.length - 2] === '?') {
          const body = this.parts.join('');
          this.parts = [];
          if (!/^xml[ \t\r\n]/.test(body))
            return this.fail(`the processing instruction <?${body.slice(0, 32)}${body.length > 32 ? '...' : ''} (RFC 6120 11.1 forbids them)`);
          if (ILLEGAL_CHAR.test(body)) return this.fail('a control character in the XML declaration');
          const encoding = /encoding=["']([^"']*)["']/.exec(body)?.[1];
          if (encoding && encoding.toUpperCase() !== 'UTF-8') return this.fail(`the encoding ${encoding} (XMPP streams are UTF-8, RFC 6120 11.6)`);
          this.seenDeclaration = true;
          this.state = S.Text;
        }
        return;
      }
      case S.StartName:
        if (isSpace(c) || c === 0x2f || c === 0x3e) {
          if (!this.checkName(this.name, 'element')) return;
          this.attrs = {};
          this.attrCount = 0;
          this.state = S.TagSpace;
          this.step(c, ch);
        } else if (c === 0x3c || c === 0x3d || c === 0x22 || c === 0x27 || c === 0x26) {
          this.fail(`${quoteSnippet(ch)} in the element name <${this.name}`);
        } else this.name += ch;
        return;
      case S.TagSpace:
        if (isSpace(c)) return;
        if (c === 0x3e) return this.openElement(false);
        if (c === 0x2f) {
          this.state = S.Slash;
          return;
        }
        if (c === 0x3c || c === 0x3d || c === 0x22 || c === 0x27) return this.fail(`${quoteSnippet(ch)} where an attribute name belongs in <${this.name}>`);
        this.attrName = ch;
        this.state = S.AttrName;
        return;
      case S.AttrName:
        if (isSpace(c) || c === 0x3d) {
          if (!this.checkName(this.attrName, 'attribute')) return;
          this.state = S.AttrAfterName;
          this.step(c, ch);
        } else if (c === 0x3c || c === 0x3e || c === 0x2f || c === 0x22 || c === 0x27) {
          this.fail(`the attribute ${this.attrName} of <${this.name}> has no value`);
        } else this.attrName += ch;
        return;
      case S.AttrAfterName:
        if (isSpace(c)) return;
        if (c === 0x3d) {
          this.state = S.AttrBeforeValue;
          return;
        }
        return this.fail(`the attribute ${this.attrName} of <${this.name}> has no value`);
      case S.AttrBeforeValue:
        if (isSpace(c)) return;
        if (c === 0x22 || c === 0x27) {
          this.quote = c;
          this.parts = [];
          this.state = S.AttrValue;
          return;
        }
        return this.fail(`the value of ${this.attrName} in <${this.name}> is not quoted`);
      case S.AttrValue:
        if (c === this.quote) return this.closeAttribute();
        if (c === 0x3c) return this.fail(`'<' in the value of ${this.attrName} in <${this.name}>`);
        if (ILLEGAL_CHAR.test(ch))
          return this.fail(`the control character 0x${c.toString(16).padStart(2, '0')} in the value of ${this.attrName} in <${this.name}>`);
        this.parts.push(ch);
        return;
      case S.AttrAfterValue:
        if (isSpace(c)) {
          this.state = S.TagSpace;
          return;
        }
        if (c === 0x3e) return this.openElement(false);
        if (c === 0x2f) {
          this.state = S.Slash;
          return;
        }
        return this.fail(`no space between the attributes of <${this.name}>`);
      case S.Slash:
        if (c === 0x3e) return this.openElement(true);
        return this.fail(`'/' not followed by '>' in <${this.name}>`);
      case S.EndName:
        if (isSpace(c) || c === 0x3e) {
          this.state = S.EndSpace;
          this.step(c, ch);
        } else if (c === 0x3c || c === 0x2f || c === 0x3d || c === 0x22 || c === 0x27) {
          this.fail(`${quoteSnippet(ch)} in the end tag </${this.name}`);
        } else this.name += ch;
        return;
      case S.EndSpace:
        if (isSpace(c)) return;
        if (c === 0x3e) return this.closeElement(this.name);
        return this.fail(`${quoteSnippet(ch)} in the end tag </${this.name}>`);
      default:
        return;
    }
  }

  private checkName(name: string, what: string): boolean {
    if (NAME.test(name)) return true;
    this.fail(`${quoteSnippet(name)} is not an XML ${what} name${this.where()}`);
    return false;
  }

  private closeAttribute(): void {
    const value = this.decode(this.parts.join(''), `the value of ${this.attrName}`);
    this.parts = [];
    if (value === undefined) return;
    if (Object.prototype.hasOwnProperty.call(this.attrs, this.attrName)) return this.fail(`the attribute ${this.attrName} twice in <${this.name}>`);
    if (++this.attrCount > this.limits.maxAttributes)
      return this.fail(`more than ${this.limits.maxAttributes} attributes in one <${this.name}> tag${this.where()}`);
    this.attrs[this.attrName] = value;
    this.state = S.AttrAfterValue;
  }

  private openElement(selfClosing: boolean): void {
    const element = new Element(this.name, this.attrs);
    this.attrs = {};
    this.state = S.Text;
    if (!this.root) {
      if (this.name !== 'stream:stream') return this.fail(`the document starts with <${this.name}>, not an XMPP stream header`);
      this.root = element;
      this.cursor = element;
      this.emit('start', element);
      if (selfClosing) this.closeElement(this.name);
      return;
    }
    if (this.depth >= this.limits.maxDepth) return this.fail(`elements nested more than ${this.limits.maxDepth} deep${this.where()}`);
    if (this.depth > 0) this.cursor!.cnode(element);
    this.cursor = element;
    this.depth++;
    if (selfClosing) this.closeElement(this.name);
  }

  private closeElement(name: string): void {
    const cursor = this.cursor;
    this.state = S.Text;
    if (!cursor) return this.fail(`the end tag </${name}> before any element`);
    if (cursor.name !== name) return this.fail(`the end tag </${name}> where </${cursor.name}> was due`);
    this.flushText();
    if (cursor === this.root) {
      this.state = S.Done;
      this.emit('end', cursor);
      return;
    }
    this.depth--;
    if (this.depth > 0) {
      this.cursor = cursor.parent as Element;
      return;
    }
    // A top-level element: @xmpp/xml links it to the stream header without making it a child.
    cursor.parent = this.root!;
    this.cursor = this.root;
    this.inStanza = false;
    this.firstElementDone = true;
    this.emit('element', cursor);
  }
}

/** Printable, cut to 40 characters, quoted. */
function quoteSnippet(s: string): string {
  const cut = s.length > 40 ? `${s.slice(0, 40)}...` : s;
  // eslint-disable-next-line no-control-regex -- control characters are what it makes visible
  return `'${cut.replace(/[\x00-\x1f\x7f-\x9f']/g, (c) => (c === '\r' ? '\\r' : c === '\n' ? '\\n' : c === "'" ? "\\'" : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`))}'`;
}

/** The first bytes a peer sent, readable, and what protocol they look like. */
export function sniff(first: Buffer): string {
  if (first.length === 0) return 'none';
  const shown = quoteSnippet(first.toString('latin1'));
  const ascii = first.toString('latin1');
  const guess =
    first[0] === 0x16 && first[1] === 0x03
      ? ' (a TLS handshake: the port speaks TLS at once, not XMPP with STARTTLS)'
      : first[0] === 0x15 && first[1] === 0x03
        ? ' (a TLS alert)'
        : /^HTTP\/\d/.test(ascii)
          ? ' (an HTTP server)'
          : /^SSH-\d/.test(ascii)
            ? ' (an SSH server)'
            : /^SIP\/2\.0/.test(ascii)
              ? ' (a SIP endpoint)'
              : '';
  return `${shown}${guess}`;
}

/** Where the first byte that is not UTF-8 is (or the chunk's start, when an earlier chunk left a sequence unfinished). */
function describeBadUtf8(chunk: Buffer, before: number): string {
  let i = 0;
  while (i < chunk.length) {
    const b = chunk[i]!;
    const need = b < 0x80 ? 0 : b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : -1;
    if (need < 0) break;
    let ok = true;
    for (let k = 1; k <= need; k++) {
      const next = chunk[i + k];
      if (next === undefined) break;
      if ((next & 0xc0) !== 0x80) ok = false;
    }
    if (!ok) break;
    i += need + 1;
  }
  const at = Math.min(i, chunk.length - 1);
  const hex = [...chunk.subarray(at, at + 4)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  return `bytes that are not UTF-8 near byte ${before + at} (${hex})`;
}
