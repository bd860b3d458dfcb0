import ConnectionTCP from '@xmpp/connection-tcp';
import xml, { type Element } from '@xmpp/xml';
import { createHash } from 'node:crypto';
import { dropDataAfterClose } from '../../../xmpp/bounded-transport.js';

const NS_COMPONENT = 'jabber:component:accept';

/**
 * A XEP-0114 external component on xmpp.js' TCP connection (0.14). @xmpp/component-core does the
 * same, but has had no release past 0.13, which is CommonJS and cannot extend the 0.14 connection
 * (ESM): this is its handshake, so the tree holds one version of the @xmpp packages. Unlike
 * @xmpp/component it answers no IQ on its own; the gateway answers every IQ itself.
 */
export class ComponentConnection extends ConnectionTCP {
  constructor(options: { service: string; domain: string }) {
    super(options);
    // Under load the Edge is still sending when the gateway closes its stream (a restart).
    dropDataAfterClose(this);
  }

  override socketParameters(service: string): object | undefined {
    const params = super.socketParameters(service) as { port?: number | null } | undefined;
    return params && { ...params, port: params.port ?? 5347 };
  }

  /** XEP-0114 example 4: every stanza a component sends carries a 'from'. */
  override send(element: Element): Promise<void> {
    if (this.isStanza(element) && !element.attrs.from) element.attrs.from = this.options.domain;
    return super.send(element);
  }

  /** XEP-0114 example 3: the handshake is SHA-1 of the stream id and the shared secret, in hex. */
  async authenticate(streamId: string, secret: string): Promise<void> {
    const digest = createHash('sha1')
      .update(streamId + secret, 'binary')
      .digest('hex');
    const answer = await this.sendReceive(xml('handshake', {}, digest));
    if (answer.name !== 'handshake') throw new Error(`the Edge answered the handshake with <${answer.name}/>`);
    this._jid(this.options.domain!);
    this._status('online', this.jid);
  }
}

ComponentConnection.prototype.NS = NS_COMPONENT;
