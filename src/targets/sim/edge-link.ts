import { XfedError } from '../../errors.js';
import type { Cite } from '../../sfb/behaviours/log.js';
import type { Endpoint } from '../../infra/endpoint.js';
import { LinkProxy, type LinkEvent } from '../../infra/link-proxy.js';
import type { TeardownStack } from '../../infra/teardown.js';
import type { PartnerServer } from '../../partner/partner-server.js';
import type { ProsodyRuntime } from '../../prosody/runtimes/runtime.js';
import { DEFAULT_EDGE_POOL, type SrvTarget } from '../../sfb/deployment.js';
import type { DnsQueryLog } from '../../infra/dns.js';
import { probeStream } from '../../xmpp/stream-probe.js';
import type { FlowRecorder, Lane } from '../flow.js';
import type { LegacyEdge } from './edge/legacy-edge.js';

/** A legacy Edge pool as a suite declares it: its name, and the priority of its `_xmpp-server._tcp` SRV record (none: no record). */
export interface EdgePoolSpec {
  name: string;
  priority?: number | undefined;
}

/** A deployment that declares no pools has one, whose SRV record is the one xfed always published. */
export const DEFAULT_EDGE_POOLS: readonly EdgePoolSpec[] = [DEFAULT_EDGE_POOL];

interface Pool {
  readonly name: string;
  /** Its SRV record's priority in every SIP domain; undefined: it has none. */
  priority: number | undefined;
  up: boolean;
  /** Its public listener (5269 in the field), as partners reach it. */
  readonly relay: LinkProxy;
}

/**
 * The network between the partner and the simulated Edge, and the legacy Edge pools on it. Each
 * pool is a relay (partner -> the Edge's XMPP proxy) standing for its public XMPP listener; one
 * relay Edge -> partner is where the partner's SRV record points. For every SIP domain enabled
 * for XMPP, the test DNS has one `_xmpp-server._tcp` SRV record per pool with its priority,
 * naming the pool's Access Edge `<pool>.<primary domain>` ("Setting up XMPP federation": a record
 * per Edge pool, each with a different priority). Only the pool on the site's XMPP federation
 * route listens for XMPP, while it is up and the route goes through the legacy Edge at all; the
 * others refuse connections, so a partner moves on to the next record, and one Edge Prosody serves
 * as the proxy of whichever pool is on the route. Cutting, slowing and repointing the link happen
 * here, without touching either server.
 */
export class EdgeLink {
  private srvTarget: SrvTarget = 'legacy-edge';
  private cut = false;
  private slowMs: number | undefined;
  private route: string;
  /** The site's XMPP federation route goes through a legacy Edge pool (not the 2019 Edge, not none). */
  private routeOnLegacy = true;

  private constructor(
    private readonly runtime: ProsodyRuntime,
    private readonly partner: PartnerServer,
    private readonly edge: LegacyEdge,
    /** In the order the suite lists them. */
    private readonly pools: ReadonlyMap<string, Pool>,
    readonly toPartner: LinkProxy,
    /** Where a 2019 Edge "is": an address in the runtime's network where nothing serves XMPP. */
    private readonly edge2019: Endpoint,
  ) {
    this.route = [...pools.keys()][0]!;
  }

  static async start(o: {
    runtime: ProsodyRuntime;
    partner: PartnerServer;
    edge: LegacyEdge;
    /** The pools and their SRV priorities; the first carries the XMPP federation route. */
    pools: readonly EdgePoolSpec[];
    flow: FlowRecorder;
    teardown: TeardownStack;
    cite?: Cite;
  }): Promise<EdgeLink> {
    const { runtime, partner, edge, teardown } = o;
    const several = o.pools.length > 1;
    const record = (from: Lane, to: Lane, name: string) => (e: LinkEvent) =>
      o.flow.record({ from, to, protocol: 'control', label: `S2S link ${name}${e.kind}${e.detail ? ` (${e.detail})` : ''}`, wire: e.remote, at: e.at });
    // The relays listen where the servers reach the host: loopback, or the Docker network's gateway.
    const pools = new Map<string, Pool>();
    for (const { name, priority } of o.pools) {
      const relay = await LinkProxy.start(`partner->${name}`, runtime.dns.host, edge.peerAddress);
      teardown.defer(`partner->${name} link`, () => relay.stop());
      relay.on('link', record('partner-server', 'edge', several ? `to ${name} ` : ''));
      pools.set(name, { name, priority, up: true, relay });
    }
    const toPartner = await LinkProxy.start('edge->partner', runtime.dns.host, partner.peerAddress);
    teardown.defer('edge->partner link', () => toPartner.stop());
    toPartner.on('link', record('edge', 'partner-server', ''));
    const link = new EdgeLink(runtime, partner, edge, pools, toPartner, await runtime.closedAddress());
    if (o.cite) link.citeWhereStreamsLand(o.cite, teardown);
    for (const d of partner.domains) runtime.dns.publishXmppServer(d, { host: `s2s.${d}`, address: toPartner.address.host, port: toPartner.address.port });
    await link.applyListeners();
    await link.pointSrvRecord('legacy-edge');
    return link;
  }

  get poolNames(): string[] {
    return [...this.pools.keys()];
  }
  /** The pool on the site's XMPP federation route. */
  get xmppPool(): string {
    return this.route;
  }
  /** The pool on the XMPP route is up: the gateway can reach its XMPP proxy (over the internal hop). */
  get xmppPoolUp(): boolean {
    return this.pool(this.route).up;
  }

  /** The relay of one pool: its public XMPP listener, as partners reach it. */
  relay(pool: string): LinkProxy {
    return this.pool(pool).relay;
  }

  /**
   * Points every SIP domain's SRV records: at the legacy Edge's pools (each with its record and
   * priority), at the 2019 Edge, or nowhere. Open partner->Edge connections are dropped so the
   * records take effect now, as they would at the partner's next connection.
   */
  async pointSrvRecord(target: SrvTarget): Promise<void> {
    this.srvTarget = target;
    this.publish();
    await this.renewS2s();
  }

  /** A pool's SRV priority changed in every SIP domain (undefined: its records removed). */
  async setPriority(pool: string, priority: number | undefined): Promise<void> {
    this.pool(pool).priority = priority;
    this.publish();
    await this.renewS2s();
  }

  /** The pool has SRV records (published while the records point at the legacy Edge). */
  hasSrvRecord(pool: string): boolean {
    return this.pool(pool).priority !== undefined;
  }

  /** A priority before every pool's, for a record added for the pool that now hosts XMPP federation (0 at best: it may then share it). */
  firstPriority(): number {
    const given = [...this.pools.values()].flatMap((p) => (p.priority === undefined ? [] : [p.priority]));
    return given.length === 0 ? 0 : Math.max(0, Math.min(...given) - 1);
  }

  /** A pool goes down (its listener closes, open connections reset) or comes back. */
  async setPool(pool: string, state: 'up' | 'down'): Promise<void> {
    this.pool(pool).up = state === 'up';
    await this.applyListeners();
  }

  /** Set-CsSite -XmppFederationRoute: this pool's Edge listens for XMPP from now on, the one before stops. */
  async setXmppPool(pool: string): Promise<void> {
    this.route = this.pool(pool).name;
    await this.applyListeners();
  }

  /** The XMPP federation route through a legacy Edge pool, or elsewhere (the 2019 Edge, none): then no legacy pool listens. */
  async setXmppRouteOnLegacyEdge(on: boolean): Promise<void> {
    this.routeOnLegacy = on;
    await this.applyListeners();
  }

  /** The Edge's XMPP proxy stopped or started: its listeners close (connections refused) or open with it. */
  async edgeRunningChanged(): Promise<void> {
    if (this.edge.running) this.edgeRestarted();
    await this.applyListeners();
  }

  /** A restarted Edge may have a new address (a new container). */
  edgeRestarted(): void {
    for (const p of this.pools.values()) p.relay.setUpstream(this.edge.peerAddress);
  }

  /** Drops the partner's open S2S streams to the Edge, so the next stanza opens a new one. */
  async renewS2s(): Promise<void> {
    let reset = 0;
    for (const p of this.pools.values()) reset += p.relay.resetConnections();
    if (reset > 0) await this.settleAfterReset();
  }

  async set(state: 'cut' | 'restored' | 'slow', delayMs = 0): Promise<void> {
    if (state === 'cut') {
      this.cut = true;
      const reset = await this.toPartner.cut();
      if (reset > 0) await this.settleAfterReset();
    } else if (state === 'restored') {
      this.cut = false;
      this.slowMs = undefined;
      await this.toPartner.restore();
    } else if (!this.cut) {
      // A cut link stays cut: slowing it would leave its listener closed for good.
      this.slowMs = delayMs;
      this.toPartner.slow(delayMs);
    }
    await this.applyListeners();
  }

  /** Each pool's listener open only while the link is not cut, the Edge runs, and the pool is up and on the XMPP route. */
  private async applyListeners(): Promise<void> {
    let reset = 0;
    for (const p of this.pools.values()) {
      if (!this.cut && this.edge.running && p.up && this.routeOnLegacy && p.name === this.route) {
        if (p.relay.current.state === 'cut') await p.relay.restore();
        if (this.slowMs !== undefined) p.relay.slow(this.slowMs);
        else if (p.relay.current.state === 'slow') await p.relay.restore();
      } else {
        reset += await p.relay.cut();
      }
    }
    if (reset > 0) await this.settleAfterReset();
  }

  private publish(): void {
    const { dns } = this.runtime;
    const primary = this.edge.domain;
    for (const domain of this.edge.domains) {
      if (this.srvTarget === 'none') {
        dns.remove(`_xmpp-server._tcp.${domain}`);
      } else if (this.srvTarget === 'legacy-edge') {
        const records = [...this.pools.values()].flatMap(({ name, priority, relay }) =>
          priority === undefined ? [] : [{ host: `${name}.${primary}`, address: relay.address.host, port: relay.address.port, priority }],
        );
        dns.publishXmppServers(domain, records);
      } else {
        dns.publishXmppServer(domain, { host: `edge2019.${primary}`, address: this.edge2019.host, port: this.edge2019.port });
      }
    }
  }

  /**
   * The catalogue rows that decide where a partner's S2S stream lands, cited as the partner looks
   * up an SfB domain's SRV records: the records it will try in order, up to the pool that listens
   * (a refused connection is the kernel's, unseen here).
   */
  private citeWhereStreamsLand(cite: Cite, teardown: TeardownStack): void {
    const names = new Map(this.edge.domains.map((d) => [`_xmpp-server._tcp.${d}`, d]));
    const onQuery = (q: DnsQueryLog) => {
      const domain = q.type === 'SRV' ? names.get(q.name) : undefined;
      if (domain === undefined || this.srvTarget !== 'legacy-edge') return;
      cite('edge.srv-record');
      if (this.pools.size > 1) cite('edge.srv-priorities');
      if (domain !== this.edge.domain) cite('edge.sip-domains');
      const published = [...this.pools.values()].filter((p) => p.priority !== undefined).sort((a, b) => a.priority! - b.priority!);
      for (const p of published) {
        if (!p.up) cite('edge.pool-down');
        else if (p.name !== this.route || !this.routeOnLegacy) cite('edge.xmpp-pool');
        else break;
      }
    };
    this.runtime.dns.on('query', onQuery);
    teardown.defer('citing Edge pool lookups', () => {
      this.runtime.dns.off('query', onQuery);
    });
    // A stream that lands presents the Edge's certificate, which must name the domain.
    for (const p of this.pools.values()) {
      p.relay.on('link', (e: LinkEvent) => {
        if (e.kind === 'connected') cite('edge.bare-domain-san');
      });
    }
  }

  private pool(name: string): Pool {
    const pool = this.pools.get(name);
    if (!pool) throw new XfedError(`unknown Edge pool '${name}' (pools: ${this.poolNames.join(', ')})`);
    return pool;
  }

  /**
   * After S2S connections were reset, both servers must have seen it before the next stanza, or
   * that stanza goes out on a dead stream and is lost without an error. The reset is already
   * queued at their sockets, so one round trip through each one's event loop (a stream header
   * and its features) is the barrier.
   */
  private async settleAfterReset(): Promise<void> {
    const probes = [probeStream({ ...this.partner.c2s, to: this.partner.domains[0]!, ns: 'jabber:client', timeoutMs: 5_000 })];
    if (this.edge.running) probes.push(probeStream({ ...this.edge.s2s, to: this.edge.domain, ns: 'jabber:server', timeoutMs: 5_000 }));
    await Promise.all(probes);
  }
}
