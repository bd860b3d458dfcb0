import { buildRequest, type SipTrace, type SipTransport } from '../../src/sip/endpoint.js';
import { newCallId, newTag, type SipRequest, type SipResponse } from '../../src/sip/message.js';
import type { ShowMapping } from '../../src/sfb/availability.js';
import type { Cite } from '../../src/sfb/behaviours/log.js';
import type { PartnerType } from '../../src/sfb/partner-profile.js';
import { xmppAccessOf, type ExternalAccessPolicySpec } from '../../src/sfb/deployment.js';
import { SfbDirectory, type SfbUserSpec } from '../../src/targets/sim/pool/directory.js';
import { SipPool } from '../../src/targets/sim/pool/pool.js';
import type { SipUserEvent } from '../../src/targets/sim/pool/user-event.js';
import { FakeSipPeer } from './fake-sip-peer.js';
import { PARTNER, SFB } from './gateway-under-test.js';
import { Inbox } from './inbox.js';

/**
 * A legacy pool (with the XMPP gateway route) and a 2019 pool (without) over one directory, the
 * route ending at a FakeSipPeer that stands for the XMPP gateway. Milliseconds to start.
 */
export class PoolsUnderTest {
  /** Every user-event of both pools, to take by predicate. */
  readonly events = new Inbox<SipUserEvent>();
  readonly traces: SipTrace[] = [];

  private constructor(
    readonly directory: SfbDirectory,
    readonly legacy: SipPool,
    readonly sfb2019: SipPool,
    readonly gateway: FakeSipPeer,
  ) {
    for (const p of [legacy, sfb2019]) {
      p.on('user-event', (e: SipUserEvent) => this.events.push(e));
      p.on('trace', (tr: SipTrace) => this.traces.push(tr));
    }
  }

  /**
   * Users without `xmppAccess` of their own get the global `externalAccessPolicy`'s: by default one
   * that grants it, so that tests of other things reach their users; `null` for none (SfB's False).
   */
  static async start(
    users: SfbUserSpec[],
    o: {
      subscriptionExpires?: number;
      requestTimeoutMs?: number;
      showMapping?: ShowMapping;
      externalAccessPolicy?: ExternalAccessPolicySpec | null;
      cite?: Cite;
      partnerTypeOf?: (domain: string) => PartnerType | undefined;
    } = {},
  ): Promise<PoolsUnderTest> {
    const policy = o.externalAccessPolicy === undefined ? { enableXmppAccess: true } : (o.externalAccessPolicy ?? undefined);
    const directory = new SfbDirectory(
      SFB,
      users.map((u) => ({ ...u, xmppAccess: xmppAccessOf(u, policy) })),
    );
    const common = {
      directory,
      requestTimeoutMs: o.requestTimeoutMs ?? 1_000,
      ...(o.subscriptionExpires !== undefined ? { subscriptionExpires: o.subscriptionExpires } : {}),
      ...(o.showMapping ? { showMapping: o.showMapping } : {}),
      ...(o.cite ? { cite: o.cite } : {}),
      ...(o.partnerTypeOf ? { partnerTypeOf: o.partnerTypeOf } : {}),
    };
    const legacy = await SipPool.start({ name: 'legacy', hasXmppGateway: true, ...common });
    const sfb2019 = await SipPool.start({ name: 'sfb2019', hasXmppGateway: false, ...common });
    for (const p of [legacy, sfb2019]) p.setPeers([legacy, sfb2019]);
    const gateway = await FakeSipPeer.start('fake-gateway');
    legacy.setXmppRoute(gateway.target('udp'));
    return new PoolsUnderTest(directory, legacy, sfb2019, gateway);
  }

  /** A request as the XMPP gateway sends it, from bob@partner.test (or `from`) to an SfB user. */
  fromGateway(o: {
    method: string;
    user: string;
    from?: string;
    headers?: Record<string, string>;
    body?: string;
    contentType?: string;
    toTag?: string;
    transport?: SipTransport;
  }): SipRequest {
    const uri = `sip:${o.user}@${SFB}`;
    return buildRequest({
      method: o.method,
      uri,
      from: `<${o.from ?? `sip:bob@${PARTNER}`}>;tag=${newTag()}`,
      to: o.toTag ? `<${uri}>;tag=${o.toTag}` : `<${uri}>`,
      callId: newCallId('127.0.0.1'),
      cseq: 1,
      contact: `<${this.gateway.contactUri('bob', o.transport)}>`,
      headers: o.headers ?? {},
      body: o.body ?? '',
      contentType: o.contentType ?? (o.body !== undefined ? 'text/plain' : undefined),
    });
  }

  /** Sends `req` from the fake gateway to a pool (the legacy one unless told). */
  send(req: SipRequest, pool: SipPool = this.legacy, transport: SipTransport = 'udp'): Promise<SipResponse> {
    return this.gateway.request(pool.target(transport), req);
  }

  async stop(): Promise<void> {
    await Promise.allSettled([this.legacy.stop(), this.sfb2019.stop(), this.gateway.stop()]);
  }
}
