import { Component } from '@xmpp/component-core';
import type { Element } from 'ltx';
import { EventEmitter } from 'node:events';
import { XfedError } from '../../../errors.js';
import { withDeadline } from '../../../infra/deadline.js';
import type { Endpoint } from '../../../infra/endpoint.js';
import type { XmppLink } from './xmpp-link.js';

/** The gateway's XMPP link as an external component of the Edge's Prosody (XEP-0114). */
export class ComponentLink extends EventEmitter implements XmppLink {
  private constructor(private readonly component: Component) {
    super();
    component.on('stanza', (s: Element) => this.emit('stanza', s));
  }

  static async connect(o: { component: Endpoint; secret: string; domain: string; timeoutMs: number }): Promise<ComponentLink> {
    // component-core, not @xmpp/component: the latter answers every IQ it has no handler for with
    // service-unavailable, before the gateway's own answer. Nor does it reconnect on its own:
    // re-attaching is the owner's decision (after an Edge restart).
    const xmpp = new Component({ service: `xmpp://${o.component.host}:${o.component.port}`, domain: o.domain });
    let lastError: Error | undefined;
    xmpp.on('error', (err: Error) => (lastError = err));
    xmpp.on('open', (el: Element) => {
      xmpp.authenticate(el.attrs.id as string, o.secret).catch((err: Error) => xmpp.emit('error', err));
    });
    // 40 ms stalls come from Nagle plus delayed ACK: no Nagle on the component stream.
    xmpp.on('connect', () => xmpp.socket?.setNoDelay?.(true));
    const link = new ComponentLink(xmpp);
    try {
      await withDeadline(xmpp.start(), o.timeoutMs, `the gateway's component connection to ${o.component.host}:${o.component.port}`);
    } catch (err) {
      await xmpp.stop().catch(() => undefined);
      throw new XfedError(`the XMPP gateway cannot attach to the Edge: ${(err as Error).message}${lastError ? ` (${lastError.message})` : ''}`);
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
}
