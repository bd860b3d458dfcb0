import { XfedError } from '../../errors.js';
import type { BehaviourId } from '../../sfb/behaviours/index.js';
import type { Cite } from '../../sfb/behaviours/log.js';
import type {
  EdgeCertificate,
  EdgeName,
  FederationRoute,
  InternalHopCertificate,
  InternalHopPort,
  PoolName,
  RouteTarget,
  ServiceState,
  SrvTarget,
} from '../../sfb/deployment.js';
import { resolvePartnerProfile, type PartnerProfileSpec, type ResolvedPartnerProfile } from '../../sfb/partner-profile.js';
import type { TestDnsServer } from '../../infra/dns.js';
import type { Deployment, SimFault } from '../../steps/index.js';
import type { EdgeLink } from './edge-link.js';
import type { LegacyEdge } from './edge/legacy-edge.js';
import type { XmppSipGateway } from './gateway/xmpp-sip-gateway.js';
import type { SfbDirectory } from './pool/directory.js';

/** What the legacy Edge tells a partner whose stream it refuses while AllowFederatedUsers is $false. */
const FEDERATION_OFF = 'Federation is disabled on this Access Edge (AllowFederatedUsers $false)';

/** The federation state of the simulated deployment, as the federation steps leave it. */
export interface FederationState {
  routes: Record<FederationRoute, RouteTarget>;
  allowFederatedUsers: boolean;
  accessEdgeService: ServiceState;
  xmppProxyService: ServiceState;
  gatewayService: ServiceState;
  /** The pool that holds the central management store. */
  cms: PoolName;
}

/**
 * The simulated deployment as migration steps change it, live, without restarting the partner:
 * the directory (homes and policies), the Edge (its partners, certificate, services, or a 2019 Edge
 * in its place), the site's federation routes, the central management store, the gateway service
 * and the partner-Edge link. Each change resolves when it is in effect.
 */
export class SimDeployment implements Deployment {
  private readonly state: FederationState = {
    routes: { sip: 'legacy-edge', xmpp: 'legacy-edge' },
    allowFederatedUsers: true,
    accessEdgeService: 'started',
    xmppProxyService: 'started',
    gatewayService: 'started',
    cms: 'legacy',
  };
  private edgeReplaced = false;
  /** What the DNS, certificate, link and pool steps last set, for the lasting changes in effect. */
  private srv: SrvTarget = 'legacy-edge';
  private certificate: EdgeCertificate = 'valid';
  private network: 'cut' | 'restored' | 'slow' = 'restored';
  private readonly poolsDown = new Set<string>();
  /** The faults steps injected that still hold, each with what it means for the checks after it. */
  private readonly faults = new Map<'edge-killed' | 'component-killed' | 'dns-stopped', string>();
  /** The allowed partners as configured; the legacy Edge holds them while the store is on the legacy pool. */
  private configured: ResolvedPartnerProfile[];

  constructor(
    private readonly parts: {
      directory: SfbDirectory;
      edge: LegacyEdge;
      gateway: XmppSipGateway;
      link: EdgeLink;
      /** The DNS server the partner and the Edge resolve each other with (fault steps stop it). */
      dns: TestDnsServer;
      /** The partner's domains; the first is the one a profile without a domain is about. */
      partnerDomains: string[];
      /** Says which catalogue behaviour a step applies (docs/sfb-behaviours.md). */
      cite: Cite;
    },
  ) {
    this.configured = parts.edge.allowedPartners;
  }

  /**
   * The catalogue rows of the changes steps made that still hold (docs/sfb-behaviours.md): every
   * check run in this state rests on them, whether or not it touches the code that applies them.
   */
  lastingChanges(): BehaviourId[] {
    const s = this.state;
    const hop = this.parts.edge.internal.state;
    const changes: Array<[boolean, BehaviourId]> = [
      [this.edgeReplaced, 'migration.edge-replaced'],
      [this.srv !== 'legacy-edge', 'edge.srv-record'],
      [this.certificate === 'missing-bare-domain-san', 'edge.bare-domain-san'],
      [this.certificate === 'expired' || this.certificate === 'untrusted-ca', 'edge.certificate-invalid'],
      [s.routes.sip !== 'legacy-edge', 'edge.sip-federation-route'],
      [s.routes.xmpp !== 'legacy-edge', 'edge.xmpp-federation-route'],
      [!s.allowFederatedUsers, 'edge.allow-federated-users'],
      [s.accessEdgeService === 'stopped', 'edge.access-edge-service'],
      [s.xmppProxyService === 'stopped', 'edge.xmpp-proxy-service'],
      [this.poolsDown.size > 0, 'edge.pool-down'],
      [s.cms !== 'legacy', 'migration.cms-moved'],
      [!this.configured.some((p) => p.domain === this.parts.partnerDomains[0]), 'migration.partner-removed'],
      [s.gatewayService === 'stopped', 'migration.gateway-stopped'],
      [this.network !== 'restored', 'migration.network-link'],
      [hop.certificate !== 'valid', 'gateway.internal-hop-certificate'],
      [hop.port !== 'open', 'gateway.internal-hop-port'],
    ];
    return changes.filter(([on]) => on).map(([, id]) => id);
  }

  /** The routes, the Access Edge, the services and the store as they are now. */
  get federation(): FederationState {
    return { ...this.state, routes: { ...this.state.routes } };
  }

  async moveUser(user: string, pool: PoolName): Promise<void> {
    await this.parts.directory.move(this.known(user), pool);
  }

  async setXmppAccess(user: string, enabled: boolean): Promise<void> {
    await this.parts.directory.setXmppAccess(this.known(user), enabled);
  }

  async replaceEdge(edge: EdgeName): Promise<void> {
    this.parts.cite('migration.edge-replaced');
    this.edgeReplaced = edge === 'sfb2019';
    await this.applyEdgeRunning();
    await this.parts.link.pointSrvRecord(edge === 'sfb2019' ? 'sfb2019-edge' : 'legacy-edge');
  }

  pointSrvRecord(target: SrvTarget): Promise<void> {
    this.srv = target;
    return this.parts.link.pointSrvRecord(target);
  }

  async renewEdgeCertificate(certificate: EdgeCertificate, domain?: string): Promise<void> {
    this.certificate = certificate;
    await this.reconfigureEdge({ certificate, certificateDomain: domain });
  }

  async removePartner(domain: string | undefined): Promise<void> {
    this.parts.cite('migration.partner-removed');
    const gone = (domain ?? this.parts.partnerDomains[0]!).toLowerCase();
    this.configured = this.configured.filter((p) => p.domain !== gone);
    await this.publishPartners();
  }

  async setPartner(profile: PartnerProfileSpec): Promise<void> {
    // Set-CsXmppAllowedPartner changes only what it names, over the profile in force; after
    // Remove- the partner comes back with the cmdlet's defaults.
    const [primary, ...additional] = this.parts.partnerDomains;
    const base = this.configured.find((p) => p.domain === primary) ?? { domain: primary!, additionalDomains: additional };
    const next = resolvePartnerProfile({ ...base, ...profile });
    this.configured = [...this.configured.filter((p) => p.domain !== next.domain), next];
    await this.publishPartners();
  }

  async setGateway(state: 'stopped' | 'started' | 'restarted'): Promise<void> {
    this.parts.cite('migration.gateway-stopped');
    // Starting the service is also how a crashed component comes back.
    this.faults.delete('component-killed');
    this.state.gatewayService = state === 'stopped' ? 'stopped' : 'started';
    // The service's process ends: the SIP dialogs it held in memory are lost.
    if (state !== 'started') this.parts.gateway.forgetDialogs();
    if (state === 'restarted') await this.parts.gateway.detach();
    await this.applyGateway();
  }

  setNetwork(state: 'cut' | 'restored' | 'slow', delayMs: number | undefined): Promise<void> {
    this.parts.cite('migration.network-link');
    this.network = state;
    return this.parts.link.set(state, delayMs);
  }

  async setFederationRoute(route: FederationRoute, to: RouteTarget): Promise<string> {
    this.state.routes[route] = to;
    if (route === 'sip') {
      this.parts.cite('edge.sip-federation-route');
      return `SIP federation ${to === 'none' ? 'has no route' : `goes through the ${edgeName(to)}`}; XMPP keeps its own route (${routeText(this.state.routes.xmpp)})`;
    }
    this.parts.cite('edge.xmpp-federation-route');
    // Only the legacy Edge pool on the XMPP route listens for XMPP (edge.xmpp-pool).
    await this.parts.link.setXmppRouteOnLegacyEdge(to === 'legacy-edge');
    await this.applyGateway();
    return to === 'legacy-edge'
      ? "the legacy pool's XMPP gateway goes through the legacy Edge's XMPP proxy"
      : `users on the legacy pool cannot reach XMPP partners: ${to === 'none' ? 'no XMPP federation route' : 'the 2019 Edge has no XMPP proxy'}`;
  }

  async setAccessEdge(change: { allowFederatedUsers?: boolean | undefined; service?: ServiceState | undefined }): Promise<string> {
    const said: string[] = [];
    const { allowFederatedUsers, service } = change;
    if (allowFederatedUsers !== undefined) {
      this.parts.cite('edge.allow-federated-users');
      if (allowFederatedUsers !== this.state.allowFederatedUsers) {
        this.state.allowFederatedUsers = allowFederatedUsers;
        await this.reconfigureEdge({ federationRefused: allowFederatedUsers ? null : FEDERATION_OFF });
      }
      said.push(allowFederatedUsers ? 'the legacy Edge federates with its allowed partners' : "the legacy Edge refuses every partner's stream");
    }
    if (service !== undefined) {
      this.parts.cite('edge.access-edge-service');
      this.state.accessEdgeService = service;
      said.push(`SIP federation through the legacy Edge is ${service === 'stopped' ? 'down' : 'up'}; its XMPP proxy, a service of its own, is unchanged`);
    }
    return said.join('; ');
  }

  async setXmppProxy(service: ServiceState): Promise<void> {
    this.parts.cite('edge.xmpp-proxy-service');
    this.state.xmppProxyService = service;
    await this.applyEdgeRunning();
  }

  async moveCms(to: PoolName): Promise<string> {
    this.parts.cite('migration.cms-moved');
    if (to !== this.state.cms) {
      this.state.cms = to;
      await this.publishPartners();
    }
    return to === 'sfb2019'
      ? "the XMPP partner configuration is no longer published to the legacy Edge: partners' streams are refused"
      : 'the XMPP partner configuration is published to the legacy Edge';
  }

  async setInternalHop(change: { certificate?: InternalHopCertificate | undefined; port?: InternalHopPort | undefined }): Promise<string> {
    const hop = this.parts.edge.internal;
    if (change.certificate !== undefined) {
      this.parts.cite('gateway.internal-hop-certificate');
      await hop.setCertificate(change.certificate);
    }
    if (change.port !== undefined) {
      this.parts.cite('gateway.internal-hop-port');
      await hop.setPort(change.port);
    }
    // The gateway's connection went down with the hop's: the Front End's service connects again.
    await this.parts.gateway.detach();
    return this.applyGateway();
  }

  async setEdgePool(pool: string, change: { state?: 'up' | 'down' | undefined; priority?: number | null | undefined }): Promise<string> {
    const { link } = this.parts;
    const said: string[] = [];
    if (change.state !== undefined) {
      this.parts.cite('edge.pool-down');
      await link.setPool(pool, change.state);
      if (change.state === 'down') this.poolsDown.add(pool);
      else this.poolsDown.delete(pool);
      said.push(
        pool === link.xmppPool
          ? `Edge pool ${pool}, on the XMPP federation route, is ${change.state}`
          : `Edge pool ${pool} is ${change.state}; XMPP federation goes through ${link.xmppPool}`,
      );
      // The gateway reaches the XMPP proxy through the pool on the XMPP route only.
      if (pool === link.xmppPool) said.push(await this.applyGateway());
    }
    if (change.priority !== undefined) {
      this.parts.cite('edge.srv-priorities');
      await link.setPriority(pool, change.priority ?? undefined);
      said.push(change.priority === null ? `Edge pool ${pool} has no SRV record` : `the SRV records of Edge pool ${pool} have priority ${change.priority}`);
    }
    return said.join('; ');
  }

  async failOverXmpp(pool: string): Promise<string> {
    const { link } = this.parts;
    this.parts.cite('edge.xmpp-failover');
    // Set-CsSite -XmppFederationRoute, with the new pool's services stopped and started around it:
    // the gateway connects again, to that pool's proxy.
    await link.setXmppPool(pool);
    await link.setXmppRouteOnLegacyEdge(true);
    this.state.routes.xmpp = 'legacy-edge';
    const said = [`XMPP federation goes through Edge pool ${pool}`];
    if (!link.hasSrvRecord(pool)) {
      const priority = link.firstPriority();
      await link.setPriority(pool, priority);
      said.push(`its SRV record added with priority ${priority}`);
    }
    await this.parts.gateway.detach();
    said.push(await this.applyGateway());
    return said.join('; ');
  }

  async injectFault(fault: SimFault): Promise<string> {
    const { edge, gateway, link, dns } = this.parts;
    switch (fault) {
      case 'kill-edge':
        this.faults.set('edge-killed', "a kill-edge step killed the legacy Edge's Prosody (SIGKILL): partners' connections are refused");
        await edge.crash();
        // The gateway sees its component connection drop; its partners' streams went with the Edge.
        await gateway.detach();
        await link.edgeRunningChanged();
        return "the legacy Edge's Prosody was killed: its streams dropped with no close, its port refuses connections";
      case 'restart-edge': {
        const wasKilled = this.faults.delete('edge-killed');
        if (!this.edgeRuns()) return 'the legacy Edge stays down: it is replaced or its XMPP proxy service is stopped';
        if (wasKilled) await this.applyEdgeRunning();
        else await this.reconfigureEdge({});
        return `the legacy Edge's Prosody ${wasKilled ? 'started again' : 'restarted'} on its ports; ${await this.applyGateway()}`;
      }
      case 'kill-component':
        this.faults.set('component-killed', "a kill-component step crashed the XMPP gateway's component: the Edge has no component for the SfB domain");
        gateway.crash();
        return "the XMPP gateway's component crashed: its connection to the Edge dropped with no close, its SIP dialogs are lost";
      case 'stop-dns':
        this.faults.set('dns-stopped', 'a stop-dns step stopped the DNS server: new lookups of the partner and the Edge time out');
        await dns.stop();
        return `the DNS server at ${dns.host}:${dns.port} is stopped`;
      case 'start-dns':
        if (this.faults.has('dns-stopped')) {
          await dns.start(dns.port, dns.host);
          this.faults.delete('dns-stopped');
        }
        return `the DNS server at ${dns.host}:${dns.port} answers again`;
    }
  }

  /** The faults steps injected that still hold, one line each (the target's diagnosis). */
  faultsInEffect(): string[] {
    return [...this.faults.values()];
  }

  /** A step stopped the DNS: its silence is the rehearsal's, not a harness fault. */
  get dnsStoppedByStep(): boolean {
    return this.faults.has('dns-stopped');
  }

  private known(user: string): string {
    const state = this.parts.directory.get(user);
    if (!state)
      throw new XfedError(
        `unknown SfB user '${user}' (known: ${
          this.parts.directory
            .users()
            .map((u) => u.name)
            .join(', ') || 'none'
        })`,
      );
    return state.name;
  }

  /** The allowed partners as the legacy Edge and the gateway hold them: none once the store is 2019's. */
  private async publishPartners(): Promise<void> {
    const published = this.state.cms === 'legacy' ? this.configured : [];
    this.parts.gateway.setPartners(published);
    await this.reconfigureEdge({ partners: published });
  }

  /** Reconfiguring restarts the Edge; one that is replaced or whose XMPP proxy is stopped stays down. */
  private async reconfigureEdge(change: Parameters<LegacyEdge['reconfigure']>[0]): Promise<void> {
    await this.parts.edge.reconfigure(change);
    if (!this.edgeRuns()) {
      await this.parts.edge.halt();
      return;
    }
    this.afterEdgeRestart();
    await this.applyGateway();
  }

  private edgeRuns(): boolean {
    return !this.edgeReplaced && this.state.xmppProxyService === 'started' && !this.faults.has('edge-killed');
  }

  /** Starts or stops the legacy Edge's Prosody as its place and its XMPP proxy service say. */
  private async applyEdgeRunning(): Promise<void> {
    const { edge, gateway, link } = this.parts;
    if (this.edgeRuns() === edge.running) return;
    if (this.edgeRuns()) {
      await edge.resume();
      await link.edgeRunningChanged();
      await this.applyGateway();
    } else {
      await gateway.detach();
      await edge.halt();
      // Its port closed: partners' connections are refused, and those open end before their next stanza.
      await link.edgeRunningChanged();
    }
  }

  /**
   * The gateway is attached to the legacy Edge's component while its service runs, the Edge's
   * XMPP proxy runs, and the site's XMPP federation route goes through the legacy Edge.
   */
  private async applyGateway(): Promise<string> {
    const { gateway, edge } = this.parts;
    const up = this.state.gatewayService === 'started' && !this.faults.has('component-killed');
    if (up && this.state.routes.xmpp === 'legacy-edge' && edge.running && this.parts.link.xmppPoolUp) {
      try {
        await gateway.attach(edge.gatewayAttachment);
        return "the XMPP gateway is attached to the Edge's internal interface over MTLS";
      } catch (err) {
        // A broken internal hop keeps the gateway out, as it would a real one; anything else is a fault.
        const { certificate, port } = edge.internal.state;
        if (err instanceof XfedError && (certificate !== 'valid' || port !== 'open')) return err.message;
        throw err;
      }
    }
    await gateway.detach();
    return 'the XMPP gateway is not attached to the Edge';
  }

  /** A restarted Edge may have a new address (a new container). */
  private afterEdgeRestart(): void {
    this.parts.link.edgeRestarted();
  }
}

const edgeName = (to: RouteTarget): string => (to === 'legacy-edge' ? 'legacy Edge' : '2019 Edge');
const routeText = (to: RouteTarget): string => (to === 'none' ? 'none' : `through the ${edgeName(to)}`);
