import type { Element } from 'ltx';
import { EventEmitter } from 'node:events';
import type { Cite } from '../../../sfb/behaviours/log.js';
import { domainOf } from '../mapping/address.js';
import type { XmppLink } from './xmpp-link.js';

/**
 * The gateway's XMPP side where the deployment has several SIP domains: one component connection
 * per domain (XEP-0114 authenticates a connection for one domain, and the Edge takes from it only
 * stanzas from that domain), read as one stream. A stanza goes out on the connection of its
 * `from` domain, so each domain's traffic keeps to its own component and S2S streams.
 */
export class DomainLinks extends EventEmitter implements XmppLink {
  private constructor(
    private readonly links: ReadonlyMap<string, XmppLink>,
    private readonly primary: string,
    private readonly cite: Cite,
  ) {
    super();
    for (const [domain, link] of links) {
      link.on('stanza', (s: Element) => {
        if (domain !== primary) cite('edge.sip-domains');
        this.emit('stanza', s);
      });
    }
  }

  /**
   * Connects one link per domain (the first is the primary); a single domain gets its link as it
   * is. If one cannot connect, those that did are closed again.
   */
  static async connect(domains: readonly string[], connect: (domain: string) => Promise<XmppLink>, cite: Cite): Promise<XmppLink> {
    if (domains.length === 1) return connect(domains[0]!);
    const results = await Promise.allSettled(domains.map(connect));
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) {
      await Promise.allSettled(results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.stop()] : [])));
      throw failed.reason;
    }
    const links = new Map(domains.map((d, i) => [d, (results[i] as PromiseFulfilledResult<XmppLink>).value]));
    return new DomainLinks(links, domains[0]!, cite);
  }

  async send(stanza: Element): Promise<void> {
    await this.linkFor(stanza).send(stanza);
  }

  /** Consecutive stanzas of one domain go in one write, in order. */
  async write(stanzas: Element[]): Promise<void> {
    let batch: Element[] = [];
    let link: XmppLink | undefined;
    for (const stanza of stanzas) {
      const next = this.linkFor(stanza);
      if (link && next !== link) {
        await link.write(batch);
        batch = [];
      }
      link = next;
      batch.push(stanza);
    }
    if (link) await link.write(batch);
  }

  async stop(): Promise<void> {
    await Promise.all([...this.links.values()].map((l) => l.stop()));
  }

  drop(): void {
    for (const l of this.links.values()) {
      if (l.drop) l.drop();
      else void l.stop().catch(() => undefined);
    }
  }

  private linkFor(stanza: Element): XmppLink {
    const from = stanza.attrs.from as string | undefined;
    const domain = from ? domainOf(from).toLowerCase() : this.primary;
    if (domain !== this.primary) this.cite('edge.sip-domains');
    // A stanza from no domain of ours goes on the primary's link, where the Edge refuses it.
    return this.links.get(domain) ?? this.links.get(this.primary)!;
  }
}
