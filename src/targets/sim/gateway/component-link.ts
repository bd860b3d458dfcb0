import { ComponentConnection as Component } from './component-connection.js';
import type { Element } from 'ltx';
import { EventEmitter } from 'node:events';
import tls from 'node:tls';
import { XfedError } from '../../../errors.js';
import { withDeadline } from '../../../infra/deadline.js';
import type { Endpoint } from '../../../infra/endpoint.js';
import type { XmppLink } from './xmpp-link.js';

/**
 * Where and how the gateway reaches the Edge's XMPP proxy: the component endpoint and secret
 * (XEP-0114) and, over the internal hop (XMPP over MTLS, TCP 23456), the Front End's certificate
 * it presents and the internal CA and name it verifies the Edge's internal certificate with.
 */
export interface EdgeAttachment {
  component: Endpoint;
  secret: string;
  tls?: { ca: string; cert: string; key: string; servername: string };
}

/** The TLS client socket the component connection connects with in place of net.Socket: `connect` once the handshake is done. */
class MtlsSocket extends EventEmitter {
  private socket: tls.TLSSocket | undefined;

  connect(params: tls.ConnectionOptions): void {
    const socket = tls.connect(params);
    this.socket = socket;
    socket.on('secureConnect', () => this.emit('connect'));
    socket.on('data', (data: Buffer) => this.emit('data', data));
    socket.on('error', (err: Error) => this.emit('error', err));
    socket.on('close', () => this.emit('close'));
  }

  write(data: string, cb: (err?: Error) => void): void {
    this.socket?.write(data, (err) => cb(err ?? undefined));
  }

  end(): void {
    this.socket?.end();
  }

  destroy(): void {
    this.socket?.destroy();
  }

  setNoDelay(on: boolean): void {
    this.socket?.setNoDelay(on);
  }
}

/** The gateway's XMPP link as an external component of the Edge's Prosody (XEP-0114). */
export class ComponentLink extends EventEmitter implements XmppLink {
  private constructor(private readonly component: Component) {
    super();
    component.on('stanza', (s: Element) => this.emit('stanza', s));
  }

  static async connect(o: EdgeAttachment & { domain: string; timeoutMs: number }): Promise<ComponentLink> {
    // Not @xmpp/component: it answers every IQ it has no handler for with
    // service-unavailable, before the gateway's own answer. Nor does it reconnect on its own:
    // re-attaching is the owner's decision (after an Edge restart).
    const xmpp = new Component({ service: `xmpp://${o.component.host}:${o.component.port}`, domain: o.domain });
    if (o.tls) {
      // Mutual TLS: the Front End's certificate presented, the Edge's internal one verified
      // against the internal CA and its name.
      const { ca, cert, key, servername } = o.tls;
      const plain = xmpp.socketParameters.bind(xmpp);
      xmpp.Socket = MtlsSocket;
      xmpp.socketParameters = (service) => ({ ...plain(service), ca, cert, key, servername });
    }
    let lastError: Error | undefined;
    xmpp.on('error', (err: Error) => (lastError = err));
    xmpp.on('open', (el: Element) => {
      xmpp.authenticate(el.attrs.id as string, o.secret).catch((err: Error) => xmpp.emit('error', err));
    });
    // 40 ms stalls come from Nagle plus delayed ACK: no Nagle on the component stream.
    xmpp.on('connect', () => (xmpp.socket as { setNoDelay?: (on: boolean) => void } | null)?.setNoDelay?.(true));
    const link = new ComponentLink(xmpp);
    try {
      await withDeadline(xmpp.start(), o.timeoutMs, `the gateway's component connection to ${o.component.host}:${o.component.port}`);
    } catch (err) {
      await xmpp.stop().catch(() => undefined);
      const cause = (err as Error).message;
      throw new XfedError(`the XMPP gateway cannot attach to the Edge: ${cause}${lastError && lastError.message !== cause ? ` (${lastError.message})` : ''}`);
    }
    return link;
  }

  async send(stanza: Element): Promise<void> {
    await this.component.send(stanza);
  }

  /** One write: two small writes in a row would meet Nagle and a delayed ACK. */
  async write(stanzas: Element[]): Promise<void> {
    await this.component.write(stanzas.map((s) => s.toString()).join(''));
  }

  async stop(): Promise<void> {
    await this.component.stop();
  }

  /** The socket torn down with no `</stream>`: what the Edge sees when the gateway's process dies. */
  drop(): void {
    (this.component.socket as { destroy?: () => void } | undefined)?.destroy?.();
  }
}
