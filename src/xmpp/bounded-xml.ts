import { EventEmitter } from 'node:events';
import { Element } from '@xmpp/xml';
import { SaxesParser, type SaxesTagNS } from 'saxes';

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

/** Thrown from inside saxes' callbacks to stop it in the middle of a chunk; `write` catches it. */
class Stop extends Error {}

/** The most characters saxes is handed at once, so that every bound is checked at least this often. */
const SLICE = 16 * 1024;
/** Characters kept from before the slice saxes is reading, to quote what a fault was about. */
const HISTORY = 256;
/** What `<!` can start, and the fault each is (none: CDATA, allowed inside a stanza). */
const DECLARATIONS: Array<[string, ((where: string) => string) | undefined]> = [
  ['<!--', (where) => `a comment${where} (RFC 6120 11.1 forbids them)`],
  ['<!DOCTYPE', (where) => `a DTD (<!DOCTYPE>)${where}: RFC 6120 11.1 forbids them, and their entities could expand without bound`],
  ['<!ENTITY', (where) => `an entity declaration (<!ENTITY>)${where}: RFC 6120 11.1 forbids them`],
  ['<![CDATA[', undefined],
];
const NON_SPACE = /[^ \t\r\n]/;
/** The longest reference XMPP allows, `&#x10FFFF;`, and what ends one (only `;` ends it well). */
const REFERENCE_MAX = 10;
const REFERENCE_END = /[;<>&'"\s]/;
/** saxes' messages for an end tag that is not the one due, and about the XML declaration. */
const END_TAG_MISMATCH = /^(?:unexpected close tag|unmatched closing tag)/;
const XML_DECLARATION_FAULT =
  /declaration|version|encoding value|standalone|name\/value|expected (?:the name|one of)|value required|value must be quoted|whitespace required/;
const QUOTE = /['"]/;
const NAME_END = /[ \t\r\n/>='"<]/;
/** The most characters of a tag's name kept for messages. */
const NAME_SHOWN = 64;

/** What saxes is in the middle of, from the first `<` after the last complete construct. */
type Markup = 'none' | 'unknown' | 'tag' | 'end tag' | 'cdata' | 'declaration';

const KiB = (n: number) => (n >= 1024 * 1024 ? `${+(n / 1024 / 1024).toFixed(1)} MiB` : n >= 1024 ? `${+(n / 1024).toFixed(1)} KiB` : `${n} bytes`);

/**
 * An XMPP stream parser with bounds, a drop-in for @xmpp/xml's `Parser` (same events: `start`
 * with the stream header, `element` for each top-level element, `end`, `error`), building ltx
 * `Element`s as @xmpp/xml does. The XML itself is read by saxes, a strict streaming parser
 * (well-formedness, namespaces, the five predefined entities only, no DTD processing); ltx's
 * own tokenizer copies an unfinished token again on every write (a drip costs quadratic time),
 * accepts malformed tags and throws from a socket's `data` handler on an unknown entity.
 *
 * Around saxes, this wrapper does what saxes leaves to its caller: it decodes UTF-8 across
 * chunks (invalid UTF-8 is a fault, never replacement characters); it hands saxes at most what
 * the nearest bound allows and counts bytes per top-level element, before the header and before
 * the features; it checks depth and attribute counts as each tag opens; and it refuses comments,
 * DTDs, entity declarations and processing instructions other than the XML declaration (RFC 6120
 * section 11.1) as soon as their first characters arrive, and text between stanzas, since saxes
 * reports those only once they end, if ever. The first fault stops it (saxes is fed nothing
 * more) with one `XmlFault` that says what the peer did.
 */
export class BoundedXmlParser extends EventEmitter {
  private readonly limits: XmlLimits;
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  private readonly sax = new SaxesParser({ xmlns: true, position: false, forceXMLVersion: true, defaultXMLVersion: '1.0' });
  private state: 'reading' | 'done' | 'failed' = 'reading';
  private first = Buffer.alloc(0);
  private root: Element | undefined;
  private cursor: Element | undefined;
  /** Depth of the cursor inside the current stanza (0 between stanzas). */
  private depth = 0;
  /** The slice of text saxes is reading, where it starts in the stream (UTF-16 index) and how many bytes came before it. */
  private slice = '';
  private sliceAt = 0;
  private sliceBytes = 0;
  private total = 0;
  /** A point in the slice whose byte offset is known, so offsets are counted once. */
  private markAt = 0;
  private markBytes = 0;
  /** The text before the slice, at most a few `HISTORY`s of it. */
  private before = '';
  /** How far (stream index) `scanTo` has looked. */
  private scanned = 0;
  private markup: Markup = 'none';
  /** The first characters of the markup in progress, from its `<`. */
  private opening = '';
  /** The name of the tag or end tag being read (cut for messages), whether it is still being read, and whether an attribute value is open. */
  private name = '';
  private naming = false;
  private valueOpen = false;
  private attributes = 0;
  /** Stream index of an `&` whose `;` has not come yet; -1 when none. */
  private ampersand = -1;
  /** Byte offset of the `<` of the top-level element being read; -1 between stanzas. */
  private stanzaStart = -1;
  private featuresDone = false;
  /** The element whose end tag saxes read last, and what to emit once saxes has not refused that end tag. */
  private closing = '';
  private pending: (() => void) | undefined;

  constructor(limits: Partial<XmlLimits> = {}) {
    super();
    this.limits = { ...DEFAULT_XML_LIMITS, ...limits };
    // saxes stores each handler under a computed name, and V8 turns an object into a slow
    // dictionary from the seventh such property on: saxes then reads 6 times slower. So six
    // handlers (and one of them only inside stanzas); comments, DTDs, processing instructions,
    // the XML declaration's end and tag names are found by `scanTo`.
    const sax = this.sax;
    sax.on('attribute', () => this.onAttribute());
    sax.on('opentag', (tag: SaxesTagNS) => this.onOpen(tag));
    sax.on('closetag', () => this.onClose());
    sax.on('cdata', (text: string) => {
      this.enter();
      this.markup = 'none';
      this.cursor!.t(text);
    });
    sax.on('error', (err: Error) => this.onSaxError(err.message));
  }

  write(data: Buffer | string): void {
    if (this.state !== 'reading') return;
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
        this.fault(`invalid UTF-8: ${describeBadUtf8(data, this.total)}`);
        return;
      }
    }
    try {
      for (let i = 0; i < text.length && this.state === 'reading';) {
        const slice = text.slice(i, i + Math.min(SLICE, this.budget() + 1));
        i += slice.length;
        this.feed(slice);
      }
    } catch (err) {
      // Stop ends a fault or the stream's end; anything else is a bug (here or in a listener).
      if (!(err instanceof Stop) && this.state === 'reading') this.fault(`unreadable XML (${(err as Error).message})`);
    }
  }

  /** Bytes saxes may read before the nearest bound is reached. */
  private budget(): number {
    const l = this.limits;
    let room = this.stanzaStart >= 0 ? l.maxStanzaBytes - (this.total - this.stanzaStart) : l.maxStanzaBytes;
    if (!this.root) room = Math.min(room, l.maxHeaderBytes - this.total);
    if (!this.featuresDone) room = Math.min(room, l.maxBytesBeforeFeatures - this.total);
    return Math.max(room, 0);
  }

  private feed(slice: string): void {
    const kept = this.slice.length > HISTORY ? this.slice.slice(-HISTORY) : this.slice;
    this.before = this.before.length > 4 * HISTORY ? this.before.slice(-HISTORY) + kept : this.before + kept;
    this.sliceAt += this.slice.length;
    this.sliceBytes = this.total;
    this.total += Buffer.byteLength(slice);
    this.slice = slice;
    this.markAt = 0;
    this.markBytes = 0;
    this.sax.write(slice);
    this.flush();
    this.scanTo(this.sliceAt + slice.length);
    this.checkBytes(this.total, undefined);
  }

  /** Byte offset of a stream index in the slice. */
  private bytesAt(at: number): number {
    const i = Math.min(Math.max(at - this.sliceAt, 0), this.slice.length);
    if (i < this.markAt) {
      this.markAt = 0;
      this.markBytes = 0;
    }
    this.markBytes += Buffer.byteLength(this.slice.slice(this.markAt, i));
    this.markAt = i;
    return this.sliceBytes + this.markBytes;
  }

  /** Stops at the first bound exceeded after `now` bytes; `closed` is the top-level element that just ended there. */
  private checkBytes(now: number, closed: Element | undefined): void {
    const l = this.limits;
    if (!this.root && now > l.maxHeaderBytes) this.refuse(`${KiB(now)} without a complete stream header (limit ${KiB(l.maxHeaderBytes)})`);
    if (this.stanzaStart >= 0 && now - this.stanzaStart > l.maxStanzaBytes) {
      const size = now - this.stanzaStart;
      this.refuse(
        `a stanza of over ${KiB(l.maxStanzaBytes)} (the limit): ${closed ? `<${closed.name}> of ${size} bytes` : `the peer was still sending ${this.kind()}${this.where()}`}`,
      );
    }
    if (!this.featuresDone && now > l.maxBytesBeforeFeatures)
      this.refuse(`the peer sent ${KiB(now)} without completing its stream features (limit ${KiB(l.maxBytesBeforeFeatures)})`);
  }

  private kind(): string {
    switch (this.markup) {
      case 'none':
      case 'cdata':
        return 'text';
      case 'tag':
        return this.valueOpen ? 'an attribute value' : 'a tag';
      case 'end tag':
        return 'an end tag';
      default:
        return 'markup';
    }
  }

  private where(): string {
    return this.cursor && this.cursor !== this.root ? ` inside <${this.cursor.name}>` : '';
  }

  /**
   * Looks at what saxes has read up to stream index `to` for what saxes says late or not at all:
   * text outside any stanza, and the start of each construct (a `<!--` is refused at once, not
   * at its `-->`); notes where each top-level element starts, the name of each tag and whether
   * an attribute value is open. Each call starts where the last one stopped, so the cost is linear.
   */
  private scanTo(to: number): void {
    const s = this.slice;
    const end = Math.min(to - this.sliceAt, s.length);
    let i = Math.max(this.scanned - this.sliceAt, 0);
    if (i >= end) return;
    this.scanned = this.sliceAt + end;
    for (;;) {
      switch (this.markup) {
        case 'none': {
          // Every search is cut at `end`: past it lies what saxes has not read yet.
          const found = s.slice(i, end).indexOf('<');
          const lt = found < 0 ? -1 : i + found;
          const stop = found < 0 ? end : lt;
          if (this.depth === 0) {
            // Between stanzas (or before the header) only whitespace may come (RFC 6120 11.7, keepalives).
            const run = s.slice(i, stop);
            const bad = NON_SPACE.exec(run);
            if (bad) this.refuse(this.root ? `text outside any stanza: ${quoteSnippet(run.slice(bad.index))}` : 'not XML');
          } else this.checkReferences(i, stop < end ? stop + 1 : end);
          if (stop === end) return;
          this.markup = 'unknown';
          this.opening = '';
          this.attributes = 0;
          this.valueOpen = false;
          // A top-level element is bounded as one stanza from its '<'.
          if (this.root && this.depth === 0) this.stanzaStart = this.bytesAt(this.sliceAt + lt);
          i = lt;
          break;
        }
        case 'unknown': {
          // Two characters tell a tag from the rest; '<!' and '<?' need up to nine.
          const taken = s.slice(i, Math.min(end, i + (this.opening.length < 2 ? 2 : 9) - this.opening.length));
          this.opening += taken;
          i += taken.length;
          this.classify();
          if (this.markup === 'unknown' && i === end) return;
          break;
        }
        case 'declaration': {
          const found = s.slice(i, end).indexOf('>');
          if (found < 0) return;
          i += found + 1;
          // It ends at '?>' (saxes refuses a '>' inside it).
          if ((i >= 2 ? s[i - 2] : this.before.slice(-1)) !== '?') break;
          this.markup = 'none';
          const encoding = this.sax.xmlDecl.encoding;
          if (encoding && encoding.toUpperCase() !== 'UTF-8') this.refuse(`the encoding ${encoding} (XMPP streams are UTF-8, RFC 6120 11.6)`);
          break;
        }
        case 'tag':
        case 'end tag': {
          if (this.naming) {
            const found = s.slice(i, end).search(NAME_END);
            const stop = found < 0 ? end : i + found;
            this.name += s.slice(i, Math.min(stop, i + NAME_SHOWN - this.name.length));
            if (stop === end) return;
            this.naming = false;
            i = stop;
          }
          if (this.markup === 'tag') {
            // Names hold no quotes, and an attribute event follows each closing quote: a quote since then opens a value.
            if (!this.valueOpen && QUOTE.test(s.slice(i, end))) this.valueOpen = true;
            this.checkReferences(i, end);
          }
          return;
        }
        default:
          return;
      }
    }
  }

  /**
   * Refuses an `&` that does not start a reference closed by `;` within the longest one XMPP
   * allows: saxes would read on to the next `;`, wherever it comes, swallowing stanzas meanwhile.
   * What is between `&` and `;` saxes checks itself.
   */
  private checkReferences(from: number, to: number): void {
    const s = this.slice;
    let k = from;
    while (k < to) {
      if (this.ampersand < 0) {
        const found = s.slice(k, to).indexOf('&');
        if (found < 0) return;
        this.ampersand = this.sliceAt + k + found;
        k += found + 1;
      }
      const limit = Math.min(to, this.ampersand + REFERENCE_MAX - this.sliceAt);
      const found = k < limit ? s.slice(k, limit).search(REFERENCE_END) : -1;
      if (found >= 0 && s[k + found] === ';') {
        this.ampersand = -1;
        k += found + 1;
        continue;
      }
      if (found < 0 && limit === to && to < this.ampersand + REFERENCE_MAX - this.sliceAt) return;
      const upTo = found >= 0 ? k + found : limit;
      this.refuse(this.badReference(this.recent(this.sliceAt + upTo).slice(this.ampersand - this.sliceAt - upTo), this.ampersand));
    }
  }

  private badReference(reference: string, at: number): string {
    return `the entity reference ${quoteSnippet(reference)} in ${this.valueOpen ? `the value of ${this.openAttribute(at)}` : 'text'}${this.where()}: XMPP allows only &lt; &gt; &amp; &quot; &apos; and character references (RFC 6120 11.1)`;
  }

  /** Text before stream index `at`, as much as is kept. */
  private recent(at: number): string {
    return (this.before + this.slice.slice(0, Math.max(at - this.sliceAt, 0))).slice(-HISTORY);
  }

  /** The attribute whose value was being read at stream index `at`, as far as the text kept shows. */
  private openAttribute(at: number): string {
    const recent = this.recent(at);
    return /([^\s='"<>/]+)\s*=\s*['"][^'"]*$/.exec(recent)?.[1] ?? 'an attribute';
  }

  private classify(): void {
    const o = this.opening;
    if (o.length < 2) return;
    if (o[1] === '/' || (o[1] !== '!' && o[1] !== '?')) {
      this.markup = o[1] === '/' ? 'end tag' : 'tag';
      this.name = o[1] === '/' ? '' : o[1]!;
      this.naming = true;
    } else if (o[1] === '?') {
      if (!this.root && /^<\?(?:x(?:ml?)?)?$/.test(o)) return;
      if (!this.root && /^<\?xml[ \t\r\n]/.test(o)) this.markup = 'declaration';
      else this.refuse(`a processing instruction${this.where()} (RFC 6120 11.1 forbids them)`);
    } else {
      let undecided = false;
      for (const [start, refusal] of DECLARATIONS) {
        if (o.startsWith(start)) {
          if (refusal) this.refuse(refusal(this.where()));
          if (this.depth === 0) this.refuse('CDATA outside any stanza');
          this.markup = 'cdata';
          return;
        }
        if (start.startsWith(o)) undecided = true;
      }
      if (!undecided) this.refuse(`the markup declaration ${quoteSnippet(o)}${this.where()} (RFC 6120 11.1 forbids them)`);
    }
  }

  /** Before each saxes event: what saxes accepted up to here is emitted, and read by `scanTo`. */
  private enter(): void {
    this.flush();
    this.scanTo(this.sax.position);
  }

  private flush(): void {
    const pending = this.pending;
    this.pending = undefined;
    pending?.();
  }

  private onAttribute(): void {
    this.enter();
    this.valueOpen = false;
    if (++this.attributes > this.limits.maxAttributes)
      this.refuse(`more than ${this.limits.maxAttributes} attributes in one <${this.name}> tag${this.where()}`);
  }

  private readonly onText = (text: string) => {
    this.enter();
    this.cursor!.t(text);
  };

  private onOpen(tag: SaxesTagNS): void {
    this.enter();
    this.markup = 'none';
    if (!this.root && tag.name !== 'stream:stream') this.refuse(`the document starts with <${tag.name}>, not an XMPP stream header`);
    if (this.root && this.depth >= this.limits.maxDepth) this.refuse(`elements nested more than ${this.limits.maxDepth} deep${this.where()}`);
    const element = new Element(tag.name);
    for (const name in tag.attributes) element.attrs[name] = tag.attributes[name]!.value;
    if (!this.root) {
      this.checkBytes(this.bytesAt(this.sax.position), undefined);
      this.root = element;
      this.cursor = element;
      this.emit('start', element);
      return;
    }
    if (this.depth > 0) this.cursor!.cnode(element);
    // Text matters only inside stanzas; between them saxes then keeps none (keepalives cost nothing).
    else this.sax.on('text', this.onText);
    this.cursor = element;
    this.depth++;
  }

  private onClose(): void {
    this.enter();
    this.markup = 'none';
    const element = this.cursor!;
    this.closing = element.name;
    // saxes calls this for the element it closes and only then checks the end tag's name: emit later.
    if (element === this.root) {
      this.pending = () => {
        this.state = 'done';
        this.emit('end', element);
        throw new Stop();
      };
      return;
    }
    this.depth--;
    if (this.depth > 0) {
      this.cursor = element.parent as Element;
      return;
    }
    this.checkBytes(this.bytesAt(this.sax.position), element);
    this.sax.off('text');
    // A top-level element: @xmpp/xml links it to the stream header without making it a child.
    element.parent = this.root!;
    this.cursor = this.root;
    this.stanzaStart = -1;
    this.featuresDone = true;
    this.pending = () => this.emit('element', element);
  }

  private onSaxError(message: string): void {
    if (this.pending && END_TAG_MISMATCH.test(message)) this.pending = undefined;
    else this.flush();
    this.scanTo(this.sax.position);
    this.refuse(this.explain(message));
  }

  /** saxes' message, said as what the peer did. */
  private explain(message: string): string {
    const what = message.replace(/\.$/, '');
    const at = this.sax.position;
    const recent = this.recent(at);
    const last = [...recent.slice(-2)].pop() ?? '';
    const tag = `<${this.name}>`;
    const attribute = (pattern: RegExp) => pattern.exec(recent)?.[1] ?? 'an attribute';
    const inside = this.markup === 'tag' ? (this.valueOpen ? ` in the value of ${this.openAttribute(at)} in ${tag}` : ` in the tag ${tag}`) : this.where();
    if (this.markup === 'declaration' || (!this.root && XML_DECLARATION_FAULT.test(what))) return `a malformed XML declaration (${what})`;
    if (what === 'disallowed character') {
      if (last === '<' && this.valueOpen) return `'<'${inside}`;
      return `${describeChar(last)}${inside}, which XML does not allow`;
    }
    const reference = recent.slice(recent.lastIndexOf('&'));
    if (/entity name|undefined entity/.test(what)) return this.badReference(reference, at);
    if (what === 'malformed character entity')
      return `the character reference ${quoteSnippet(reference)} in ${this.valueOpen ? `the value of ${this.openAttribute(at)}` : 'text'}${this.where()} names no character XML allows`;
    if (what.startsWith('malformed name: '))
      return `the name ${quoteSnippet(what.slice(16))}${this.markup === 'tag' ? ` in ${tag}` : this.where()}, which XML namespaces do not allow (one colon, between a prefix and a name)`;
    if (what.startsWith('duplicate attribute: ')) return `the attribute ${what.slice(21).replace(/^\{\}/, '')} twice in ${tag}`;
    if (what === 'attribute without value') return `the attribute ${attribute(/([^\s='"<>/]+)\s*\S$/)} of ${tag} has no value`;
    if (what === 'unquoted attribute value') return `the value of ${attribute(/([^\s='"<>/]+)\s*=\s*\S$/)} in ${tag} is not quoted`;
    if (what === 'weird empty close tag') return `an empty end tag '</>'${this.where()}`;
    if (what.startsWith('invalid attempt to undefine prefix')) return `an empty namespace declaration in ${tag} (XML 1.0 cannot undeclare a prefix)`;
    if (what === 'no whitespace between attributes') return `no space between the attributes of ${tag}`;
    if (what.startsWith('forward-slash')) return `'/' not followed by '>' in ${tag}`;
    if (what === 'disallowed character in attribute name') return `${quoteSnippet(last)} where an attribute name belongs in ${tag}`;
    if (what === 'disallowed character in tag name')
      // saxes ends this message with a period only after a name.
      return message.endsWith('.') ? `${quoteSnippet(last)} after the element name ${tag}` : `'<' followed by ${quoteSnippet(last)}${this.where()}`;
    if (what === 'disallowed character in closing tag') return `${quoteSnippet(last)} in the end tag </${this.name}${this.where()}`;
    if (END_TAG_MISMATCH.test(what)) return `the end tag </${this.name}> where </${this.closing}> was due`;
    if (what.startsWith('the string "]]>"')) return `']]>' in text${this.where()}, which XML does not allow`;
    if (what.startsWith('unbound namespace prefix: ')) return `the namespace prefix ${what.slice(26)} is not declared, in ${tag}`;
    // Text outside the root, DTDs and other '<!' are refused by scanTo before saxes says so.
    return `malformed XML${inside}: ${what}`;
  }

  /** Reports the fault and stops saxes where it is. */
  private refuse(why: string): never {
    this.fault(why);
    throw new Stop();
  }

  private fault(why: string): void {
    if (this.state !== 'reading') return;
    this.state = 'failed';
    this.pending = undefined;
    const message = this.root ? why : `${why}; the first bytes were ${sniff(this.first)}`;
    this.emit('error', new XmlFault(message));
  }
}

/** A character XML does not allow, named. */
function describeChar(c: string): string {
  const code = c.codePointAt(0) ?? 0;
  return code < 0x20 ? `the control character 0x${code.toString(16).padStart(2, '0')}` : `the character U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
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
