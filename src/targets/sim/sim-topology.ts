import { XfedError } from '../../errors.js';
import { withDeadline } from '../../infra/deadline.js';
import { LinkProxy, type LinkEvent } from '../../infra/link-proxy.js';
import { TestCa } from '../../infra/pki.js';
import { TeardownStack } from '../../infra/teardown.js';
import { PartnerServer } from '../../partner/partner-server.js';
import { startRuntime } from '../../prosody/runtime-choice.js';
import type { ProsodyRuntime } from '../../prosody/runtimes/runtime.js';
import type { Endpoint } from '../../infra/endpoint.js';
import type { PartnerUserSpec } from '../../partner/types.js';
import type { RuntimeChoice, RuntimeKind, S2sSecurity } from '../../prosody/types.js';
import { XmppUser } from '../../xmpp/client.js';
import { probeStream } from '../../xmpp/stream-probe.js';
import { FlowRecorder, type Lane } from '../flow.js';
import { barrierThrough, PartnerUsers } from '../partner-users.js';
import { LegacyEdge, type EdgeCertificate } from './edge/legacy-edge.js';
import { XmppSipGateway, type GatewayTrace } from './gateway/xmpp-sip-gateway.js';
import { resolvePartnerProfile, type PartnerProfile, type ResolvedPartnerProfile } from '../../sfb/partner-profile.js';
import { describeStep, type MigrationStep, type PoolName } from './migration.js';
import { DEFAULT_SHOW_MAPPING, type SfbAvailability, type ShowMapping } from '../../sfb/availability.js';
import { SfbDirectory, type SfbUserSpec } from './pool/directory.js';
import type { SipTransport } from '../../sip/endpoint.js';
import type { SipResponse } from '../../sip/message.js';
import { SipPool } from './pool/pool.js';
import type { SipUserEvent } from './pool/user-event.js';

export interface SimTopologyOptions {
  runtime?: RuntimeChoice;
  baseImage?: string;
  partner: {
    domains: string[];
    users: Array<string | PartnerUserSpec>;
    s2s?: Partial<S2sSecurity>;
    logLevel?: 'debug' | 'info' | 'warn' | 'error';
  };
  sfb: {
    /** The SfB SIP domain, e.g. `contoso.test`. */
    domain: string;
    users: SfbUserSpec[];
    /** The partner's `New-CsXmppAllowedPartner` profile; its domains default to the partner's. */
    partnerProfile?: Partial<PartnerProfile>;
    edgeCertificate?: EdgeCertificate;
    showMapping?: ShowMapping;
    /** Expires of SIP subscriptions (s); small values exercise refreshes. */
    subscriptionExpires?: number;
    /** How the gateway and the pools talk: TCP (as SfB's MTLS) or UDP. */
    sipTransport?: SipTransport;
  };
}

/** What a simulated SfB user can do on his own, through his home pool, over SIP. */
export interface SfbUserHandle {
  readonly name: string;
  readonly jid: string;
  readonly pool: PoolName;
  sendIm(to: string, body: string, opts?: { subject?: string; callId?: string; lang?: string }): Promise<SipResponse>;
  setAvailability(availability: SfbAvailability, note?: string): Promise<void>;
  addContact(jid: string): Promise<SipResponse>;
  removeContact(jid: string): Promise<void>;
}

/**
 * One rehearsal environment: a partner Prosody with its users, and the simulated legacy SfB side
 * (the legacy Edge's XMPP proxy, the XMPP-SIP gateway, the legacy and 2019 pools), joined by the
 * test DNS and two relays on the partner-Edge link. Users on both sides act through it, migration
 * steps change it live, and `flow` records every message with its hop.
 */
export class SimTopology {
  readonly flow = new FlowRecorder();
  private profiles: ResolvedPartnerProfile[];
  private readonly teardown: TeardownStack;
  private readonly partnerUsers: PartnerUsers;

  private constructor(
    private readonly options: SimTopologyOptions,
    readonly runtime: ProsodyRuntime,
    readonly ca: TestCa,
    readonly partner: PartnerServer,
    readonly edge: LegacyEdge,
    readonly gateway: XmppSipGateway,
    readonly directory: SfbDirectory,
    readonly pools: Record<PoolName, SipPool>,
    /** Partner -> Edge (what the Edge's SRV record points at) and Edge -> partner relays. */
    readonly links: { toEdge: LinkProxy; toPartner: LinkProxy },
    private readonly edge2019: Endpoint,
    teardown: TeardownStack,
  ) {
    this.teardown = teardown;
    this.profiles = edge.allowedPartners;
    this.partnerUsers = new PartnerUsers(partner, this.flow, teardown);
  }

  static async start(options: SimTopologyOptions): Promise<SimTopology> {
    const teardown = new TeardownStack('sim topology');
    try {
      const ca = await TestCa.create();
      const runtime = await startRuntime(options.runtime ?? 'auto', options.baseImage ? { baseImage: options.baseImage } : {});
      teardown.defer(`${runtime.kind} runtime`, () => runtime.stop());
      const sfbDomain = options.sfb.domain.toLowerCase();
      const partnerDomains = options.partner.domains.map((d) => d.toLowerCase());
      const profile = resolvePartnerProfile({ domain: partnerDomains[0]!, additionalDomains: partnerDomains.slice(1), ...options.sfb.partnerProfile });

      const partner = await PartnerServer.start(
        { domains: partnerDomains, users: options.partner.users, ...(options.partner.s2s ? { s2s: options.partner.s2s } : {}), logLevel: options.partner.logLevel ?? 'info' },
        { runtime, ca },
      );
      teardown.defer(`partner ${partnerDomains[0]}`, () => partner.stop());
      const edge = await LegacyEdge.start({ domain: sfbDomain, partners: [profile], certificate: options.sfb.edgeCertificate ?? 'valid' }, { runtime, ca });
      teardown.defer(`legacy edge ${sfbDomain}`, () => edge.stop());

      // Relays on the partner-Edge link, on the address the servers reach the host on.
      const toEdge = await LinkProxy.start('partner->edge', runtime.dns.host, edge.peerAddress);
      teardown.defer('partner->edge link', () => toEdge.stop());
      const toPartner = await LinkProxy.start('edge->partner', runtime.dns.host, partner.peerAddress);
      teardown.defer('edge->partner link', () => toPartner.stop());
      const edge2019 = await runtime.closedAddress();

      const directory = new SfbDirectory(sfbDomain, options.sfb.users);
      const poolOptions = { directory, ...(options.sfb.showMapping ? { showMapping: options.sfb.showMapping } : {}), ...(options.sfb.subscriptionExpires ? { subscriptionExpires: options.sfb.subscriptionExpires } : {}) };
      const legacy = await SipPool.start({ name: 'legacy', hasXmppGateway: true, ...poolOptions });
      teardown.defer('legacy pool', () => legacy.stop());
      const sfb2019 = await SipPool.start({ name: 'sfb2019', hasXmppGateway: false, ...poolOptions });
      teardown.defer('sfb2019 pool', () => sfb2019.stop());
      legacy.setPeers([sfb2019]);
      sfb2019.setPeers([legacy]);

      const transport = options.sfb.sipTransport ?? 'tcp';
      const gateway = await XmppSipGateway.start({
        domain: sfbDomain,
        pool: legacy.target(transport),
        partners: [profile],
        ...(options.sfb.subscriptionExpires ? { subscriptionExpires: options.sfb.subscriptionExpires } : {}),
      });
      teardown.defer('xmpp gateway', () => gateway.stop());
      legacy.setXmppRoute(gateway.sipTarget(transport));

      const topology = new SimTopology(options, runtime, ca, partner, edge, gateway, directory, { legacy, sfb2019 }, { toEdge, toPartner }, edge2019, teardown);
      await topology.publishDns('legacy-edge');
      for (const d of partnerDomains) {
        runtime.dns.publishXmppServer(d, { host: `s2s.${d}`, address: toPartner.address.host, port: toPartner.address.port });
      }
      topology.wireFlow();
      await gateway.attach({ component: edge.component, secret: edge.secret });
      return topology;
    } catch (err) {
      await teardown.close();
      throw err;
    }
  }

  get kind(): RuntimeKind {
    return this.runtime.kind;
  }
  get sfbDomain(): string {
    return this.edge.domain;
  }
  /** The SfB availability -> XMPP mapping in force (the documented default, or the suite's). */
  get showMapping(): ShowMapping {
    return { ...DEFAULT_SHOW_MAPPING, ...this.options.sfb.showMapping };
  }

  get partnerProfiles(): ResolvedPartnerProfile[] {
    return this.profiles.map((p) => ({ ...p }));
  }

  /** A partner user, logged in and available (roster fetched), connected once per topology. */
  partnerUser(name: string): Promise<XmppUser> {
    return this.partnerUsers.get(name);
  }

  sfbUser(name: string): SfbUserHandle {
    const state = this.directory.get(name);
    if (!state) throw new XfedError(`unknown SfB user '${name}' (known: ${this.directory.users().map((u) => u.name).join(', ') || 'none'})`);
    const pool = () => this.pools[this.directory.get(name)!.pool as PoolName];
    const act = (label: string, wire: string) => this.flow.record({ from: 'sfb-user', to: 'sip-pool', protocol: 'control', label, actor: name, wire });
    const directory = this.directory;
    return {
      name: state.name,
      jid: `${state.name}@${this.sfbDomain}`,
      get pool() {
        return directory.get(name)!.pool as PoolName;
      },
      sendIm: (to, body, opts) => {
        act(`writes to ${to}`, body);
        return pool().sendIm(state.name, to, body, opts);
      },
      setAvailability: (availability, note) => {
        act(`sets ${availability}`, note ?? '');
        return pool().setAvailability(state.name, availability, note);
      },
      addContact: (jid) => {
        act(`adds contact ${jid}`, jid);
        return pool().addContact(state.name, jid);
      },
      removeContact: (jid) => {
        act(`removes contact ${jid}`, jid);
        return pool().removeContact(state.name, jid);
      },
    };
  }

  /**
   * The first SIP-side event of an SfB user (an IM received, a NOTIFY, a subscription) from now
   * on that matches, within a deadline.
   */
  async waitForSfbEvent(match: (e: SipUserEvent) => boolean, timeoutMs: number, what: string): Promise<SipUserEvent> {
    let off = () => undefined as void;
    try {
      return await withDeadline(
        new Promise<SipUserEvent>((resolve) => {
          const listener = (e: SipUserEvent) => match(e) && resolve(e);
          for (const pool of Object.values(this.pools)) pool.on('user-event', listener);
          off = () => Object.values(this.pools).forEach((pool) => pool.off('user-event', listener));
        }),
        timeoutMs,
        what,
      );
    } finally {
      off();
    }
  }

  /** Applies one migration step live; resolves when the change is in effect. */
  async apply(step: MigrationStep): Promise<string> {
    const what = describeStep(step);
    this.flow.record({ from: 'sfb-user', to: 'sfb-user', protocol: 'control', label: `step: ${what}`, wire: JSON.stringify(step) });
    switch (step.action) {
      case 'move-user':
        this.directory.move(this.sfbUser(step.user).name, step.pool);
        break;
      case 'set-policy':
        this.directory.setXmppAccess(this.sfbUser(step.user).name, step.xmppAccess);
        break;
      case 'replace-edge':
        if (step.edge === 'sfb2019') {
          await this.gateway.detach();
          await this.edge.halt();
          await this.publishDns('sfb2019-edge');
        } else {
          await this.edge.resume();
          await this.afterEdgeRestart();
          await this.publishDns('legacy-edge');
        }
        break;
      case 'srv-record':
        await this.publishDns(step.target);
        break;
      case 'renew-certificate':
        await this.edge.reconfigure({ certificate: step.certificate });
        await this.afterEdgeRestart();
        break;
      case 'remove-partner': {
        const domain = (step.domain ?? this.partner.domains[0]!).toLowerCase();
        await this.setProfiles(this.profiles.filter((p) => p.domain !== domain));
        break;
      }
      case 'set-partner': {
        const base = this.profiles.find((p) => p.domain === (step.profile.domain ?? this.partner.domains[0]));
        const next = resolvePartnerProfile({ ...(base ?? { domain: this.partner.domains[0]!, additionalDomains: this.partner.domains.slice(1) }), ...step.profile });
        await this.setProfiles([...this.profiles.filter((p) => p.domain !== next.domain), next]);
        break;
      }
      case 'gateway':
        if (step.state !== 'started') await this.gateway.detach();
        if (step.state !== 'stopped') await this.gateway.attach({ component: this.edge.component, secret: this.edge.secret });
        break;
      case 'network':
        if (step.state === 'cut') {
          const reset = (await this.links.toEdge.cut()) + (await this.links.toPartner.cut());
          if (reset > 0) await this.settleAfterReset();
        }
        for (const link of [this.links.toEdge, this.links.toPartner]) {
          if (step.state === 'restored') await link.restore();
          else if (step.state === 'slow') link.slow(step.delayMs ?? 200);
        }
        break;
    }
    return what;
  }

  async stop(): Promise<void> {
    await this.teardown.close();
  }

  private async setProfiles(profiles: ResolvedPartnerProfile[]): Promise<void> {
    this.profiles = profiles;
    this.gateway.setPartners(profiles);
    await this.edge.reconfigure({ partners: profiles });
    await this.afterEdgeRestart();
  }

  /** A restarted Edge may have a new address (a new container) and a new component listener. */
  private async afterEdgeRestart(): Promise<void> {
    this.links.toEdge.setUpstream(this.edge.peerAddress);
    await this.gateway.attach({ component: this.edge.component, secret: this.edge.secret });
  }

  /**
   * Points the SfB domain's SRV record. Open partner->Edge connections are dropped so the record
   * takes effect now, as it would at the partner's next connection.
   */
  private async publishDns(target: 'legacy-edge' | 'sfb2019-edge' | 'none'): Promise<void> {
    const { dns } = this.runtime;
    const domain = this.sfbDomain;
    const srv = `_xmpp-server._tcp.${domain}`;
    if (target === 'none') {
      dns.remove(srv);
    } else if (target === 'legacy-edge') {
      const relay = this.links.toEdge.address;
      dns.publishXmppServer(domain, { host: `legacy-edge.${domain}`, address: relay.host, port: relay.port });
    } else {
      dns.publishXmppServer(domain, { host: `edge2019.${domain}`, address: this.edge2019.host, port: this.edge2019.port });
    }
    await this.renewS2s();
  }

  /**
   * Drops the partner's open S2S streams to the Edge, so the next stanza opens a new one (which
   * an s2s check observes, and which takes new DNS records).
   */
  async renewS2s(): Promise<void> {
    if (this.links.toEdge.resetConnections() > 0) await this.settleAfterReset();
  }

  /**
   * After S2S connections were reset, both servers must have seen it before the next stanza, or
   * that stanza goes out on a dead stream and is lost without an error. The reset is already
   * queued at their sockets, so one round trip through each one's event loop (a stream header
   * and its features) is the barrier.
   */
  private async settleAfterReset(): Promise<void> {
    const probes = [probeStream({ ...this.partner.c2s, to: this.partner.domains[0]!, ns: 'jabber:client', timeoutMs: 5_000 })];
    if (this.edge.running) probes.push(probeStream({ ...this.edge.s2s, to: this.sfbDomain, ns: 'jabber:server', timeoutMs: 5_000 }));
    await Promise.all(probes);
  }

  /**
   * A barrier through the partner-Edge-gateway-SIP path: an IM from `via` to an echo user of the
   * legacy pool. Its echo (or its error) comes back after anything the path carried before it,
   * so what has not arrived by then was not sent. Without an echo user, a ping of the SfB domain.
   */
  async barrier(via: XmppUser, timeoutMs = 5_000): Promise<void> {
    const echo = this.directory.users().find((u) => u.behaviour === 'echo' && u.pool === 'legacy' && u.xmppAccess);
    await barrierThrough(via, this.sfbDomain, echo?.name, timeoutMs);
  }

  /** Prosody log lines of the partner and of the Edge (container logs may arrive late). */
  logs(): { partner: string[]; edge: string[] } {
    return { partner: this.partner.logs(), edge: this.edge.logs() };
  }

  private wireFlow(): void {
    const lanes = (t: GatewayTrace): [Lane, Lane] => {
      if (t.protocol === 'xmpp') return t.direction === 'in' ? ['edge', 'gateway'] : ['gateway', 'edge'];
      return t.direction === 'in' ? ['sip-pool', 'gateway'] : ['gateway', 'sip-pool'];
    };
    this.gateway.on('trace', (t: GatewayTrace) => {
      const [from, to] = lanes(t);
      this.flow.record({ from, to, protocol: t.protocol, label: t.label, wire: t.wire, at: t.at, t: t.t });
    });
    for (const pool of Object.values(this.pools)) {
      pool.on('user-event', (e: SipUserEvent) =>
        this.flow.record({ from: 'sip-pool', to: 'sfb-user', protocol: 'sip', label: `${pool.name}: ${e.kind}${e.from ? ` from ${e.from}` : ''}`, actor: e.user, wire: e.body ?? '' }),
      );
    }
    const link = (from: Lane, to: Lane) => (e: LinkEvent) =>
      this.flow.record({ from, to, protocol: 'control', label: `S2S link ${e.kind}${e.detail ? ` (${e.detail})` : ''}`, wire: e.remote, at: e.at });
    this.links.toEdge.on('link', link('partner-server', 'edge'));
    this.links.toPartner.on('link', link('edge', 'partner-server'));
  }
}

