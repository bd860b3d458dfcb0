import { XfedError } from '../../errors.js';
import type { Cite } from '../../sfb/behaviours/log.js';
import type { EdgeCertificate, EdgeName, PoolName, SrvTarget } from '../../sfb/deployment.js';
import { resolvePartnerProfile, type PartnerProfileSpec, type ResolvedPartnerProfile } from '../../sfb/partner-profile.js';
import type { Deployment } from '../../steps/index.js';
import type { EdgeLink } from './edge-link.js';
import type { LegacyEdge } from './edge/legacy-edge.js';
import type { XmppSipGateway } from './gateway/xmpp-sip-gateway.js';
import type { SfbDirectory } from './pool/directory.js';

/**
 * The simulated deployment as migration steps change it, live, without restarting the partner:
 * the directory (homes and policies), the Edge (its partners, certificate, or a 2019 Edge in its
 * place), the gateway service and the partner-Edge link. Each change resolves when it is in effect.
 */
export class SimDeployment implements Deployment {
  constructor(
    private readonly parts: {
      directory: SfbDirectory;
      edge: LegacyEdge;
      gateway: XmppSipGateway;
      link: EdgeLink;
      /** The partner's domains; the first is the one a profile without a domain is about. */
      partnerDomains: string[];
      /** Says which catalogue behaviour a step applies (docs/sfb-behaviours.md). */
      cite: Cite;
    },
  ) {}

  async moveUser(user: string, pool: PoolName): Promise<void> {
    this.parts.directory.move(this.known(user), pool);
  }

  async setXmppAccess(user: string, enabled: boolean): Promise<void> {
    this.parts.directory.setXmppAccess(this.known(user), enabled);
  }

  async replaceEdge(edge: EdgeName): Promise<void> {
    const { gateway, link } = this.parts;
    if (edge === 'sfb2019') {
      await gateway.detach();
      await this.parts.edge.halt();
      await link.pointSrvRecord('sfb2019-edge');
    } else {
      await this.parts.edge.resume();
      await this.afterEdgeRestart();
      await link.pointSrvRecord('legacy-edge');
    }
  }

  pointSrvRecord(target: SrvTarget): Promise<void> {
    return this.parts.link.pointSrvRecord(target);
  }

  async renewEdgeCertificate(certificate: EdgeCertificate): Promise<void> {
    await this.parts.edge.reconfigure({ certificate });
    await this.afterEdgeRestart();
  }

  async removePartner(domain: string | undefined): Promise<void> {
    const gone = (domain ?? this.parts.partnerDomains[0]!).toLowerCase();
    await this.setProfiles(this.parts.edge.allowedPartners.filter((p) => p.domain !== gone));
  }

  async setPartner(profile: PartnerProfileSpec): Promise<void> {
    // Set-CsXmppAllowedPartner changes only what it names, over the profile in force; after
    // Remove- the partner comes back with the cmdlet's defaults.
    const [primary, ...additional] = this.parts.partnerDomains;
    const profiles = this.parts.edge.allowedPartners;
    const base = profiles.find((p) => p.domain === primary) ?? { domain: primary!, additionalDomains: additional };
    const next = resolvePartnerProfile({ ...base, ...profile });
    await this.setProfiles([...profiles.filter((p) => p.domain !== next.domain), next]);
  }

  async setGateway(state: 'stopped' | 'started' | 'restarted'): Promise<void> {
    const { gateway, edge } = this.parts;
    if (state !== 'started') await gateway.detach();
    if (state !== 'stopped') await gateway.attach({ component: edge.component, secret: edge.secret });
  }

  setNetwork(state: 'cut' | 'restored' | 'slow', delayMs: number | undefined): Promise<void> {
    return this.parts.link.set(state, delayMs);
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

  private async setProfiles(profiles: ResolvedPartnerProfile[]): Promise<void> {
    this.parts.gateway.setPartners(profiles);
    await this.parts.edge.reconfigure({ partners: profiles });
    await this.afterEdgeRestart();
  }

  /** A restarted Edge may have a new address (a new container) and a new component listener. */
  private async afterEdgeRestart(): Promise<void> {
    this.parts.link.edgeRestarted();
    await this.parts.gateway.attach({ component: this.parts.edge.component, secret: this.parts.edge.secret });
  }
}
