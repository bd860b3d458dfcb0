import type { Endpoint } from '../../src/infra/endpoint.js';
import type { Cite } from '../../src/sfb/behaviours/log.js';
import { resolvePartnerProfile, type PartnerType } from '../../src/sfb/partner-profile.js';
import type { SipTransport } from '../../src/sip/endpoint.js';
import type { SipRequest, SipResponse } from '../../src/sip/message.js';
import type { RefreshRetry } from '../../src/targets/sim/gateway/watches-of-sfb.js';
import { XmppSipGateway } from '../../src/targets/sim/gateway/xmpp-sip-gateway.js';
import { FakeSipPeer } from './fake-sip-peer.js';
import { FakeXmppLink } from './fake-xmpp-link.js';

export const SFB = 'contoso.test';
export const PARTNER = 'partner.test';

/**
 * A simulated gateway between fakes: its XMPP link is a FakeXmppLink (the Edge), its pool a
 * FakeSipPeer. Milliseconds to start, no Prosody.
 */
export class GatewayUnderTest {
  /** What the gateway emitted as 'gateway-error'. */
  readonly errors: unknown[] = [];

  private constructor(
    readonly gateway: XmppSipGateway,
    readonly pool: FakeSipPeer,
    readonly edge: FakeXmppLink,
    readonly transport: SipTransport,
  ) {
    gateway.on('gateway-error', (err: unknown) => this.errors.push(err));
  }

  static async start(
    o: {
      partnerType?: PartnerType;
      transport?: SipTransport;
      subscriptionExpires?: number;
      timeoutMs?: number;
      resolver?: Endpoint;
      cite?: Cite;
      refreshRetry?: RefreshRetry;
    } = {},
  ): Promise<GatewayUnderTest> {
    const transport = o.transport ?? 'tcp';
    const pool = await FakeSipPeer.start('fake-pool');
    const gateway = await XmppSipGateway.start({
      domain: SFB,
      pool: pool.target(transport),
      partners: [resolvePartnerProfile({ domain: PARTNER, partnerType: o.partnerType ?? 'Federated' })],
      timeoutMs: o.timeoutMs ?? 1_000,
      ...(o.subscriptionExpires !== undefined ? { subscriptionExpires: o.subscriptionExpires } : {}),
      ...(o.resolver ? { resolver: o.resolver } : {}),
      ...(o.cite ? { cite: o.cite } : {}),
      ...(o.refreshRetry ? { refreshRetry: o.refreshRetry } : {}),
    });
    const edge = new FakeXmppLink();
    await gateway.attachLink(edge);
    return new GatewayUnderTest(gateway, pool, edge, transport);
  }

  /** A request from the pool to the gateway, and the gateway's final answer. */
  fromPool(req: SipRequest): Promise<SipResponse> {
    return this.pool.request(this.gateway.sipTarget(this.transport), req);
  }

  async stop(): Promise<void> {
    await Promise.allSettled([this.gateway.stop(), this.pool.stop()]);
  }
}
