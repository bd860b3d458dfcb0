import type { TestDnsServer } from '../../infra/dns.js';
import type { Endpoint } from '../../infra/endpoint.js';
import type { LogView } from '../../infra/line-log.js';
import { TestCa } from '../../infra/pki.js';
import { TeardownStack } from '../../infra/teardown.js';
import { PartnerServer } from '../../partner/partner-server.js';
import type { PartnerUserSpec } from '../../partner/types.js';
import { startRuntime } from '../../prosody/runtime-choice.js';
import type { ProsodyRuntime } from '../../prosody/runtimes/runtime.js';
import type { RuntimeChoice, RuntimeKind, S2sSecurity, SetupProgress } from '../../prosody/types.js';
import { BehaviourLog } from '../../sfb/behaviours/log.js';
import { DEFAULT_SHOW_MAPPING, type ShowMapping } from '../../sfb/availability.js';
import { xmppAccessOf, type EdgeCertificate, type ExternalAccessPolicySpec, type PoolName } from '../../sfb/deployment.js';
import { resolvePartnerProfile, type PartnerProfile, type ResolvedPartnerProfile } from '../../sfb/partner-profile.js';
import { resolveXmppGatewaySettings, type XmppGatewaySettingsSpec } from '../../sfb/xmpp-gateway-settings.js';
import type { SipTransport } from '../../sip/endpoint.js';
import { stepKindOf, type MigrationStep } from '../../steps/index.js';
import type { XmppUser } from '../../xmpp/client.js';
import { FlowRecorder, type Lane } from '../flow.js';
import { PartnerSide } from '../partner-side.js';
import type { EdgeLocation, PartnerIdentity, SuiteTarget, TargetOptions, TargetSetup } from '../target.js';
import { DEFAULT_EDGE_POOLS, EdgeLink, type EdgePoolSpec } from './edge-link.js';
import { LegacyEdge } from './edge/legacy-edge.js';
import { XmppSipGateway, type GatewayTrace } from './gateway/xmpp-sip-gateway.js';
import { SimDeployment } from './migration.js';
import { SfbEvents, SimSfbUser } from './sfb-users.js';
import type { SimSpec } from './spec.js';
import { SfbDirectory, type SfbUserSpec } from './pool/directory.js';
import { SipPool } from './pool/pool.js';
import type { SipUserEvent } from './pool/user-event.js';

export interface SimTopologyOptions {
  runtime?: RuntimeChoice;
  baseImage?: string;
  /** Told while the runtime does something slow (the first build of the Prosody image). */
  progress?: (p: SetupProgress) => void;
  partner: {
    domains: string[];
    users: Array<string | PartnerUserSpec>;
    s2s?: Partial<S2sSecurity>;
    logLevel?: 'debug' | 'info' | 'warn' | 'error';
  };
  sfb: {
    /** The SfB SIP domain, e.g. `contoso.test`. */
    domain: string;
    /** Further SIP domains enabled for XMPP federation: each has its SRV records, its component and its bare-domain SAN. */
    additionalDomains?: string[];
    /** The legacy Edge pools with their SRV priorities (default one pool, `legacy-edge`); the first carries the XMPP federation route. */
    edgePools?: EdgePoolSpec[];
    users: SfbUserSpec[];
    /** The global external access policy: users without their own (`xmppAccess`) get its EnableXmppAccess (default False). */
    externalAccessPolicy?: ExternalAccessPolicySpec;
    /** The partner's `New-CsXmppAllowedPartner` profile; its domains default to the partner's. */
    partnerProfile?: Partial<PartnerProfile>;
    edgeCertificate?: EdgeCertificate;
    showMapping?: Partial<ShowMapping>;
    /** SIP subscription lifetime (s): SubscriptionRefreshInterval and the pools' default, 28800; small values exercise refreshes. */
    subscriptionExpires?: number;
    /** How the gateway and the pools talk: TCP (as SfB's MTLS) or UDP. */
    sipTransport?: SipTransport;
    /** Set-CsXmppGatewayConfiguration's timers and limits (default: the documented ones); tests shorten them. */
    gateway?: XmppGatewaySettingsSpec;
  };
}

/** The parts a topology is assembled from, in the order they start. */
interface Parts {
  prosody: ProsodyRuntime;
  ca: TestCa;
  partner: PartnerServer;
  edge: LegacyEdge;
  link: EdgeLink;
  directory: SfbDirectory;
  pools: Record<PoolName, SipPool>;
  gateway: XmppSipGateway;
  flow: FlowRecorder;
  showMapping: ShowMapping;
  teardown: TeardownStack;
  behaviours: BehaviourLog;
}

/**
 * One rehearsal environment: a partner Prosody with its users, and the simulated legacy SfB side
 * (the legacy Edge's XMPP proxy, the XMPP-SIP gateway, the legacy and 2019 pools), joined by the
 * test DNS and two relays on the partner-Edge link. It is a suite's target: users on both sides act
 * through it, migration steps change it live (`apply`, or `deployment`), and `flow` records every
 * message with its hop.
 */
export class SimTopology implements SuiteTarget {
  readonly kind = 'sim' as const;
  readonly flow: FlowRecorder;
  readonly partner: PartnerServer;
  readonly edge: LegacyEdge;
  readonly gateway: XmppSipGateway;
  readonly directory: SfbDirectory;
  readonly pools: Record<PoolName, SipPool>;
  /** The partner -> Edge relay (where the Edge's SRV record points) and the Edge -> partner one. */
  readonly links: EdgeLink;
  readonly ca: TestCa;
  /** The SfB availability -> XMPP mapping in force (the documented default, or the suite's). */
  readonly showMapping: ShowMapping;
  readonly deployment: SimDeployment;
  /** The catalogue behaviours the simulation applied, in order (docs/sfb-behaviours.md). */
  readonly behaviours: BehaviourLog;
  private readonly prosody: ProsodyRuntime;
  private readonly partnerSide: PartnerSide;
  private readonly events: SfbEvents;
  private readonly teardown: TeardownStack;

  private constructor(p: Parts) {
    this.prosody = p.prosody;
    this.ca = p.ca;
    this.partner = p.partner;
    this.edge = p.edge;
    this.links = p.link;
    this.directory = p.directory;
    this.pools = p.pools;
    this.gateway = p.gateway;
    this.flow = p.flow;
    this.showMapping = p.showMapping;
    this.teardown = p.teardown;
    this.behaviours = p.behaviours;
    this.events = new SfbEvents(Object.values(p.pools));
    this.deployment = new SimDeployment({
      directory: p.directory,
      edge: p.edge,
      gateway: p.gateway,
      link: p.link,
      dns: p.prosody.dns,
      partnerDomains: p.partner.domains,
      cite: p.behaviours.cite,
    });
    p.behaviours.lastingFrom(() => this.deployment.lastingChanges());
    this.partnerSide = new PartnerSide(p.partner, {
      flow: p.flow,
      teardown: p.teardown,
      sfbDomain: p.edge.domain,
      // The barrier goes through an echo user of the legacy pool with XMPP access, as homes change.
      echoUser: () => p.directory.users().find((u) => u.behaviour === 'echo' && u.pool === 'legacy' && u.xmppAccess && u.domain === p.directory.domain)?.name,
      resolver: this.resolver,
      edgeTrustPem: p.ca.certPem,
    });
  }

  static async start(options: SimTopologyOptions): Promise<SimTopology> {
    return TeardownStack.start('sim topology', async (teardown) => {
      const ca = await TestCa.create();
      const prosody = await startRuntime(options.runtime ?? 'auto', { baseImage: options.baseImage, progress: options.progress });
      teardown.defer(`${prosody.kind} runtime`, () => prosody.stop());
      const sfbDomain = options.sfb.domain.toLowerCase();
      const partnerDomains = options.partner.domains.map((d) => d.toLowerCase());
      const profile = resolvePartnerProfile({ domain: partnerDomains[0]!, additionalDomains: partnerDomains.slice(1), ...options.sfb.partnerProfile });
      const flow = new FlowRecorder();
      const behaviours = new BehaviourLog();
      const cite = behaviours.cite;

      const partner = await PartnerServer.start(
        { domains: partnerDomains, users: options.partner.users, s2s: options.partner.s2s, logLevel: options.partner.logLevel ?? 'info' },
        { runtime: prosody, ca },
      );
      teardown.defer(`partner ${partnerDomains[0]}`, () => partner.stop());
      const additionalDomains = (options.sfb.additionalDomains ?? []).map((d) => d.toLowerCase());
      const edge = await LegacyEdge.start(
        {
          domain: sfbDomain,
          additionalDomains,
          partners: [profile],
          certificate: options.sfb.edgeCertificate ?? 'valid',
          gateway: resolveXmppGatewaySettings(options.sfb.gateway),
        },
        { runtime: prosody, ca, cite },
      );
      teardown.defer(`legacy edge ${sfbDomain}`, () => edge.stop());
      const link = await EdgeLink.start({ runtime: prosody, partner, edge, pools: options.sfb.edgePools ?? DEFAULT_EDGE_POOLS, flow, teardown, cite });

      const directory = new SfbDirectory(
        sfbDomain,
        options.sfb.users.map((u) => ({ ...u, xmppAccess: xmppAccessOf(u, options.sfb.externalAccessPolicy) })),
        additionalDomains,
      );
      const showMapping = { ...DEFAULT_SHOW_MAPPING, ...options.sfb.showMapping };
      // The Front End reads the partner types from the allowed-partner list, as steps change it.
      const partnerTypeOf = (domain: string) => edge.allowedPartners.find((p) => p.domain === domain || p.additionalDomains.includes(domain))?.partnerType;
      const poolOptions = { directory, showMapping, subscriptionExpires: options.sfb.subscriptionExpires, partnerTypeOf, cite };
      const legacy = await SipPool.start({ name: 'legacy', hasXmppGateway: true, ...poolOptions });
      teardown.defer('legacy pool', () => legacy.stop());
      const sfb2019 = await SipPool.start({ name: 'sfb2019', hasXmppGateway: false, ...poolOptions });
      teardown.defer('sfb2019 pool', () => sfb2019.stop());
      legacy.setPeers([sfb2019]);
      sfb2019.setPeers([legacy]);

      const transport = options.sfb.sipTransport ?? 'tcp';
      const gateway = await XmppSipGateway.start({
        domain: sfbDomain,
        additionalDomains,
        pool: legacy.target(transport),
        partners: [profile],
        subscriptionExpires: options.sfb.subscriptionExpires,
        cite,
        resolver: { host: prosody.dns.host, port: prosody.dns.port },
      });
      teardown.defer('xmpp gateway', () => gateway.stop());
      legacy.setXmppRoute(gateway.sipTarget(transport));

      const pools = { legacy, sfb2019 };
      recordSfbSide(flow, gateway, pools);
      await gateway.attach(edge.gatewayAttachment);
      return new SimTopology({ prosody, ca, partner, edge, link, directory, pools, gateway, flow, showMapping, teardown, behaviours });
    });
  }

  /** The simulated side a suite describes (`target.sim`), beside its partner. */
  static forSuite(setup: TargetSetup, sim: SimSpec, opts: TargetOptions): Promise<SimTopology> {
    return SimTopology.start({
      runtime: opts.runtime,
      baseImage: opts.baseImage,
      progress: opts.progress,
      partner: setup.partner,
      sfb: {
        domain: setup.sfbDomain,
        additionalDomains: sim.additionalDomains,
        edgePools: sim.edgePools,
        users: sim.users,
        externalAccessPolicy: sim.externalAccessPolicy,
        partnerProfile: setup.partnerProfile,
        edgeCertificate: sim.edgeCertificate,
        subscriptionExpires: sim.subscriptionExpires,
        sipTransport: sim.transport,
        showMapping: sim.showMapping,
        gateway: sim.gateway,
      },
    });
  }

  get runtime(): RuntimeKind {
    return this.prosody.kind;
  }
  get sfbDomain(): string {
    return this.edge.domain;
  }
  get resolver(): Endpoint {
    return { host: this.prosody.dns.host, port: this.prosody.dns.port };
  }
  /** The test DNS server itself: its records, and (for rehearsing xfed's own faults) its stop. */
  get dns(): TestDnsServer {
    return this.prosody.dns;
  }
  /** The allowed partners the Edge holds now (migration steps change them). */
  get partnerProfiles(): ResolvedPartnerProfile[] {
    return this.edge.allowedPartners;
  }
  get partnerLog(): LogView {
    return this.partnerSide.partnerLog;
  }

  /** A partner user, logged in and available (roster fetched), connected once per topology. */
  partnerUser(name: string): Promise<XmppUser> {
    return this.partnerSide.partnerUser(name);
  }
  partnerSession(name: string): Promise<XmppUser> {
    return this.partnerSide.partnerSession(name);
  }

  /** An SfB user, acting over SIP through his home pool; an unknown name is an error. */
  sfbUser(name: string): SimSfbUser {
    return new SimSfbUser(name, {
      directory: this.directory,
      pools: this.pools,
      events: this.events,
      flow: this.flow,
      showMapping: this.showMapping,
    });
  }

  /** The first SIP-side event of an SfB user (an IM received, a NOTIFY, a subscription) from now on that matches, within a deadline. */
  waitForSfbEvent(match: (e: SipUserEvent) => boolean, timeoutMs: number, what: string): Promise<SipUserEvent> {
    return this.events.next(match, timeoutMs, what);
  }

  /** Applies one migration step live, as a suite's step would; resolves when the change is in effect. */
  async apply(step: MigrationStep): Promise<string> {
    const kind = stepKindOf(step);
    const what = kind.describe(step);
    this.flow.record({ from: 'sfb-user', to: 'sfb-user', protocol: 'control', label: `step: ${what}`, wire: JSON.stringify(step) });
    await kind.apply(step, { target: this, operator: {} });
    return what;
  }

  /**
   * A barrier through the partner-Edge-gateway-SIP path: an IM from `via` to an echo user of the
   * legacy pool. Its echo (or its error) comes back after anything the path carried before it,
   * so what has not arrived by then was not sent. Without an echo user, a ping of the SfB domain.
   */
  barrier(via: XmppUser, timeoutMs?: number): Promise<void> {
    return this.partnerSide.barrier(via, timeoutMs);
  }

  /** Drops the partner's open S2S streams to the Edge, so the next stanza opens a new one. */
  renewS2s(): Promise<void> {
    return this.links.renewS2s();
  }

  /** Prosody log lines of the partner and of the Edge (container logs may arrive late). */
  logs(): { partner: string[]; edge: string[] } {
    return { partner: this.partner.logs(), edge: this.edge.logs() };
  }

  /** The faults the suite's steps injected that still hold: where an answer that never came was lost. */
  diagnose(): string | undefined {
    const faults = this.deployment.faultsInEffect();
    return faults.length > 0 ? faults.join('; ') : undefined;
  }

  /**
   * xfed's own parts that broke with no step breaking them: the partner Prosody, the test DNS (unless
   * a stop-dns step stopped it), and the simulated Edge's Prosody (the simulation is xfed's too).
   */
  async harnessFault(): Promise<string | undefined> {
    const partnerSide = await this.partnerSide.harnessFault(this.deployment.dnsStoppedByStep ? undefined : this.resolver);
    if (partnerSide) return partnerSide;
    if (this.edge.exitedOnItsOwn) return `the simulated Edge's Prosody (${this.sfbDomain}) exited with no step stopping it`;
    return undefined;
  }

  locateEdge(timeoutMs: number): Promise<EdgeLocation | string> {
    return this.partnerSide.locateEdge(timeoutMs);
  }

  partnerIdentity(): PartnerIdentity {
    return this.partnerSide.partnerIdentity();
  }

  allowedProfile(): ResolvedPartnerProfile | undefined {
    const domain = this.partner.domains[0]!;
    return this.partnerProfiles.find((p) => p.domain === domain || p.additionalDomains.includes(domain));
  }

  async stop(): Promise<void> {
    await this.teardown.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/** What the gateway and the pools do goes into the flow, on the lanes of the SfB side. */
function recordSfbSide(flow: FlowRecorder, gateway: XmppSipGateway, pools: Record<PoolName, SipPool>): void {
  const lanes = (t: GatewayTrace): [Lane, Lane] => {
    if (t.protocol === 'xmpp') return t.direction === 'in' ? ['edge', 'gateway'] : ['gateway', 'edge'];
    return t.direction === 'in' ? ['sip-pool', 'gateway'] : ['gateway', 'sip-pool'];
  };
  gateway.on('trace', (t: GatewayTrace) => {
    const [from, to] = lanes(t);
    flow.record({ from, to, protocol: t.protocol, label: t.label, wire: t.wire, at: t.at, t: t.t });
  });
  for (const pool of Object.values(pools)) {
    pool.on('user-event', (e: SipUserEvent) =>
      flow.record({
        from: 'sip-pool',
        to: 'sfb-user',
        protocol: 'sip',
        label: `${pool.name}: ${e.kind}${e.from ? ` from ${e.from}` : ''}`,
        actor: e.user,
        wire: e.body ?? '',
      }),
    );
  }
}
