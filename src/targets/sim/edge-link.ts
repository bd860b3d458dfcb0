import type { Cite } from '../../sfb/behaviours/log.js';
import type { Endpoint } from '../../infra/endpoint.js';
import { LinkProxy, type LinkEvent } from '../../infra/link-proxy.js';
import type { TeardownStack } from '../../infra/teardown.js';
import type { PartnerServer } from '../../partner/partner-server.js';
import type { ProsodyRuntime } from '../../prosody/runtimes/runtime.js';
import type { SrvTarget } from '../../sfb/deployment.js';
import { probeStream } from '../../xmpp/stream-probe.js';
import type { FlowRecorder, Lane } from '../flow.js';
import type { LegacyEdge } from './edge/legacy-edge.js';

/**
 * The network between the partner and the simulated Edge: two relays on the S2S link (partner ->
 * Edge, where the SfB domain's SRV record points, and Edge -> partner, where the partner's points)
 * and the DNS records that send each server through them. Cutting, slowing and repointing the link
 * happen here, without touching either server.
 */
export class EdgeLink {
  private constructor(
    private readonly runtime: ProsodyRuntime,
    private readonly partner: PartnerServer,
    private readonly edge: LegacyEdge,
    readonly toEdge: LinkProxy,
    readonly toPartner: LinkProxy,
    /** Where a 2019 Edge "is": an address in the runtime's network where nothing serves XMPP. */
    private readonly edge2019: Endpoint,
  ) {}

  static async start(o: {
    runtime: ProsodyRuntime;
    partner: PartnerServer;
    edge: LegacyEdge;
    flow: FlowRecorder;
    teardown: TeardownStack;
    cite?: Cite;
  }): Promise<EdgeLink> {
    const { runtime, partner, edge, teardown } = o;
    // The relays listen where the servers reach the host: loopback, or the Docker network's gateway.
    const toEdge = await LinkProxy.start('partner->edge', runtime.dns.host, edge.peerAddress);
    teardown.defer('partner->edge link', () => toEdge.stop());
    const toPartner = await LinkProxy.start('edge->partner', runtime.dns.host, partner.peerAddress);
    teardown.defer('edge->partner link', () => toPartner.stop());
    const link = new EdgeLink(runtime, partner, edge, toEdge, toPartner, await runtime.closedAddress());
    const record = (from: Lane, to: Lane) => (e: LinkEvent) =>
      o.flow.record({ from, to, protocol: 'control', label: `S2S link ${e.kind}${e.detail ? ` (${e.detail})` : ''}`, wire: e.remote, at: e.at });
    toEdge.on('link', record('partner-server', 'edge'));
    toPartner.on('link', record('edge', 'partner-server'));
    for (const d of partner.domains) runtime.dns.publishXmppServer(d, { host: `s2s.${d}`, address: toPartner.address.host, port: toPartner.address.port });
    await link.pointSrvRecord('legacy-edge');
    return link;
  }

  /**
   * Points the SfB domain's SRV record. Open partner->Edge connections are dropped so the record
   * takes effect now, as it would at the partner's next connection.
   */
  async pointSrvRecord(target: SrvTarget): Promise<void> {
    const { dns } = this.runtime;
    const domain = this.edge.domain;
    if (target === 'none') {
      dns.remove(`_xmpp-server._tcp.${domain}`);
    } else if (target === 'legacy-edge') {
      const relay = this.toEdge.address;
      dns.publishXmppServer(domain, { host: `legacy-edge.${domain}`, address: relay.host, port: relay.port });
    } else {
      dns.publishXmppServer(domain, { host: `edge2019.${domain}`, address: this.edge2019.host, port: this.edge2019.port });
    }
    await this.renewS2s();
  }

  /** A restarted Edge may have a new address (a new container). */
  edgeRestarted(): void {
    this.toEdge.setUpstream(this.edge.peerAddress);
  }

  /** Drops the partner's open S2S streams to the Edge, so the next stanza opens a new one. */
  async renewS2s(): Promise<void> {
    if (this.toEdge.resetConnections() > 0) await this.settleAfterReset();
  }

  async set(state: 'cut' | 'restored' | 'slow', delayMs = 0): Promise<void> {
    if (state === 'cut') {
      const reset = (await this.toEdge.cut()) + (await this.toPartner.cut());
      if (reset > 0) await this.settleAfterReset();
    }
    for (const link of [this.toEdge, this.toPartner]) {
      if (state === 'restored') await link.restore();
      else if (state === 'slow') link.slow(delayMs);
    }
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
