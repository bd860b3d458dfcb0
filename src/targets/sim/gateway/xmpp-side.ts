import xml from '@xmpp/xml';
import type { Element } from 'ltx';
import { withDeadline } from '../../../infra/deadline.js';
import { STANZAS_NS } from '../../../xmpp/stanza-errors.js';
import { stanzaErrorType } from '../../../xmpp/stanza-errors.js';
import { StanzaCaller } from './stanza-caller.js';
import { StanzaRouter, type StanzaRefusal } from './stanza-router.js';
import type { XmppLink } from './xmpp-link.js';

/** A presence the gateway sends; no type is available. */
export interface OutgoingPresence {
  type?: string;
  from: string;
  to: string;
  children?: Element[];
  /** The stanza's xml:lang (RFC 8048: a NOTIFY's Content-Language). */
  lang?: string;
}

/**
 * The gateway's XMPP side: the link to the Edge while there is one, every stanza in traced and
 * routed, every stanza out traced and sent (dropped while detached).
 */
export class XmppSide {
  readonly caller: StanzaCaller;
  readonly router: StanzaRouter;
  private link: XmppLink | undefined;
  private readonly receive = (s: Element) => {
    this.opts.onTraffic('in', s);
    this.router.route(s).catch((err: Error) => this.opts.onError(err));
  };

  constructor(
    private readonly opts: {
      /** The component's domain: the SfB domain. */
      domain: string;
      /** The deployment's other SIP domains, each a component of its own. */
      additionalDomains?: string[];
      timeoutMs: number;
      unhandledIq: (ns: string | undefined) => StanzaRefusal;
      onTraffic: (direction: 'in' | 'out', stanza: Element) => void;
      onError: (err: Error) => void;
    },
  ) {
    this.caller = new StanzaCaller((...stanzas) => this.send(...stanzas));
    this.router = new StanzaRouter(this.caller, this, opts.unhandledIq);
  }

  get domain(): string {
    return this.opts.domain;
  }
  /** Every SIP domain the gateway serves, the primary first. */
  get domains(): string[] {
    return [this.opts.domain, ...(this.opts.additionalDomains ?? [])];
  }
  get connected(): boolean {
    return this.link !== undefined;
  }

  attach(link: XmppLink): void {
    this.link = link;
    link.on('stanza', this.receive);
  }

  async detach(): Promise<void> {
    const link = this.link;
    this.link = undefined;
    if (!link) return;
    // Answers can no longer arrive: what waits for one ends now, not at its deadline.
    this.caller.cancelAll();
    await withDeadline(link.stop(), this.opts.timeoutMs, 'the gateway component to disconnect').catch(() => undefined);
    link.off('stanza', this.receive);
  }

  /** The link lost at once (the gateway's process crashed): nothing is closed, what waited for an answer ends. */
  drop(): void {
    const link = this.link;
    this.link = undefined;
    if (!link) return;
    this.caller.cancelAll();
    link.off('stanza', this.receive);
    if (link.drop) link.drop();
    else void link.stop().catch(() => undefined);
  }

  /** Several stanzas go in one write: two small writes in a row would meet Nagle and a delayed ACK. */
  async send(...stanzas: Element[]): Promise<void> {
    const link = this.link;
    if (!link) return;
    for (const stanza of stanzas) this.opts.onTraffic('out', stanza);
    if (stanzas.length === 1) await link.send(stanzas[0]!);
    else await link.write(stanzas);
  }

  async sendPresence(p: OutgoingPresence): Promise<void> {
    const attrs = { from: p.from, to: p.to, ...(p.type && p.type !== 'available' ? { type: p.type } : {}), ...(p.lang ? { 'xml:lang': p.lang } : {}) };
    await this.send(xml('presence', attrs, ...(p.children ?? [])));
  }

  async replyError(s: Element, condition: string, text: string): Promise<void> {
    const type = stanzaErrorType(condition);
    await this.send(
      xml(
        s.getName(),
        { type: 'error', id: s.attrs.id as string | undefined, from: s.attrs.to as string | undefined, to: s.attrs.from as string | undefined },
        xml('error', { type }, xml(condition, { xmlns: STANZAS_NS }), xml('text', { xmlns: STANZAS_NS }, text)),
      ),
    );
  }
}
