import type net from 'node:net';
import type tls from 'node:tls';
import type { Element } from '@xmpp/xml';
import { TimeoutError } from '../errors.js';
import { withDeadline } from '../infra/deadline.js';
import { BoundedXmlParser, sniff, type XmlLimits } from './bounded-xml.js';

const STREAMS = 'http://etherx.jabber.org/streams';

/**
 * Reads one XMPP stream from a socket through the bounded parser: the stream header, then one
 * top-level element per `next()`, each within its deadline. Whatever the peer does (garbage, a
 * reset, silence, a drip, a stream error) ends in a rejected `next()` whose message says what
 * happened; nothing is thrown from a socket's event handler.
 */
export class XmlStreamReader {
  private readonly parser: BoundedXmlParser;
  private readonly queue: Element[] = [];
  private waiter: ((el: Element | Error) => void) | undefined;
  private failure: Error | undefined;
  private received = 0;
  private last = Buffer.alloc(0);
  private headerAttrs: Record<string, string> | undefined;

  constructor(
    private readonly socket: net.Socket | tls.TLSSocket,
    limits: Partial<XmlLimits> = {},
  ) {
    this.parser = new BoundedXmlParser(limits);
    this.parser.on('start', (el: Element) => (this.headerAttrs = el.attrs as Record<string, string>));
    this.parser.on('element', (el: Element) => this.push(el));
    this.parser.on('error', (err: Error) => this.fail(new Error(`the peer broke the XML stream: ${err.message}`)));
    this.parser.on('end', () => this.fail(new Error('the peer closed the stream')));
    socket.on('data', this.onData);
    socket.on('close', () =>
      this.fail(new Error(this.received === 0 ? 'the peer closed the connection without sending anything' : 'the peer closed the connection')),
    );
    socket.on('error', (err: NodeJS.ErrnoException) =>
      this.fail(new Error(err.code === 'ECONNRESET' ? 'the peer reset the connection (ECONNRESET)' : `the connection failed: ${err.message}`)),
    );
  }

  /** The stream header's attributes, once it has arrived. */
  get header(): Record<string, string> | undefined {
    return this.headerAttrs;
  }

  /** Stops reading (the socket is handed to TLS). */
  detach(): void {
    this.socket.off('data', this.onData);
  }

  /** The next top-level element; a deadline that passes says how much the peer sent meanwhile. */
  async next(timeoutMs: number, what: string): Promise<Element> {
    const el = this.queue.shift();
    if (el) return el;
    if (this.failure) throw this.failure;
    const before = this.received;
    try {
      return await withDeadline(
        new Promise<Element>((resolve, reject) => {
          this.waiter = (x) => (x instanceof Error ? reject(x) : resolve(x));
        }),
        timeoutMs,
        what,
      );
    } catch (err) {
      if (!(err instanceof TimeoutError)) throw err;
      const sent = this.received - before;
      throw new TimeoutError(
        `${err.message} (${sent === 0 ? 'the peer sent nothing meanwhile' : `the peer sent ${sent} bytes meanwhile, the last ${sniff(this.last)}`})`,
      );
    } finally {
      this.waiter = undefined;
    }
  }

  private readonly onData = (chunk: Buffer) => {
    this.received += chunk.length;
    this.last = Buffer.from(chunk.subarray(Math.max(0, chunk.length - 24)));
    this.parser.write(chunk);
  };

  private push(el: Element): void {
    if (this.waiter) this.waiter(el);
    else this.queue.push(el);
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.waiter?.(this.failure);
  }
}

/** `<stream:error/>`'s condition and text, as one phrase: `host-unknown ("no such domain")`. */
export function streamErrorOf(el: Element): string | undefined {
  if (el.getName() !== 'error' || (el.getNS() !== STREAMS && !el.name.startsWith('stream:'))) return undefined;
  const children = el.getChildElements();
  const condition = children.find((c) => c.getName() !== 'text')?.getName() ?? 'undefined-condition';
  const text = children.find((c) => c.getName() === 'text')?.getText();
  return `${condition}${text ? ` (${JSON.stringify(text.slice(0, 200))})` : ''}`;
}
