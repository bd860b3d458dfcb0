import { once, type EventEmitter } from 'node:events';
import type { Client } from '@xmpp/client';
import { Parser } from '@xmpp/xml';
import { BoundedXmlParser, XmlFault, type XmlLimits } from './bounded-xml.js';

type Transport = (new (...args: never[]) => object) & { prototype: { Parser?: unknown } };

interface Entity {
  status: string;
  options: { service: string; domain: string; lang?: string };
  connect(service: string): Promise<void>;
  open(o: { domain: string; lang?: string }): Promise<unknown>;
  start(): Promise<unknown>;
  transports: Transport[];
  parser: { write(data: Buffer): void } | null;
  _onData(data: Buffer): void;
}

/**
 * Drops the bytes that reach an @xmpp connection after it detached its parser (its stream closed,
 * or a fault): the peer may still be sending, and @xmpp would throw on them from the socket's
 * event. For connections that keep @xmpp's own parser (`readBounded` has this guard built in).
 */
export function dropDataAfterClose(connection: object): void {
  const c = connection as Pick<Entity, 'parser' | '_onData'>;
  const onData = c._onData;
  c._onData = function (this: typeof c, data: Buffer) {
    if (this.parser) onData.call(this, data);
  };
}

/**
 * Makes an @xmpp/client read its streams through the bounded parser. @xmpp/connection builds
 * `new this.Parser()` for every stream (re)start, taking the class from the transport's
 * prototype, and hands it `data.toString('utf8')`, which turns a UTF-8 sequence split across two
 * chunks into replacement characters. So each TCP transport becomes a subclass whose `Parser` is
 * bounded, and the client hands the parser the bytes. A parser fault reaches the client as an
 * `error` event (and @xmpp closes the stream with `bad-format`), never as a thrown exception.
 */
export function readBounded(xmpp: Client, limits: Partial<XmlLimits> = {}): void {
  const entity = xmpp as unknown as Entity;
  class ServerParser extends BoundedXmlParser {
    constructor() {
      super(limits);
    }
    override emit(event: string | symbol, ...args: unknown[]): boolean {
      if (event === 'error' && args[0] instanceof XmlFault) return super.emit(event, new XmlFault(`the server broke the XML stream: ${args[0].message}`));
      return super.emit(event, ...args);
    }
  }
  entity.transports = entity.transports.map((T) => {
    if (T.prototype.Parser !== Parser) return T;
    const Bounded = class extends T {};
    Object.defineProperty(Bounded.prototype, 'Parser', { value: ServerParser });
    return Bounded;
  });
  // After a fault @xmpp detaches the parser; bytes that still arrive are dropped, not thrown on.
  entity._onData = function (this: Entity, data: Buffer) {
    this.parser?.write(data);
  };
  // @xmpp/connection's start() as it is, but for one line: it makes the promise of 'online'
  // before opening the stream, and a fault before the server's stream header rejects both; the
  // caller hears open()'s rejection, and the other one went unhandled and ended the process.
  entity.start = async function (this: Entity) {
    if (this.status !== 'offline') throw new Error('Connection is not offline');
    const { service, domain, lang } = this.options;
    await this.connect(service);
    // Like @xmpp's own promise(): the address of 'online', or the first 'error'.
    const online = once(this as unknown as EventEmitter, 'online').then(([address]: unknown[]) => address);
    online.catch(() => undefined);
    await this.open({ domain, ...(lang ? { lang } : {}) });
    return online;
  };
}
