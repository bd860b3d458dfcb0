import type { Element } from 'ltx';
import { EventEmitter } from 'node:events';
import type { Endpoint } from '../../../infra/endpoint.js';
import type { Cite } from '../../../sfb/behaviours/log.js';
import type { ResolvedPartnerProfile } from '../../../sfb/partner-profile.js';
import { SipEndpoint, type IncomingRequest, type SipResponseInit, type SipTarget, type SipTrace } from '../../../sip/endpoint.js';
import { sipLabel } from '../../../sip/label.js';
import { serializeSipMessage } from '../../../sip/message.js';
import { xmppLabel } from '../../../xmpp/label.js';
import { bareJid } from '../mapping/address.js';
import { unsupportedInIq } from '../mapping/xmpp-features.js';
import { ComponentLink } from './component-link.js';
import { answerPingAndDisco } from './disco.js';
import { InstantMessages } from './im.js';
import { PartnerPolicy } from './partner-policy.js';
import { SipSide } from './sip-side.js';
import { StanzaRefusal } from './stanza-router.js';
import { WatchesOfPartners } from './watches-of-partner.js';
import { WatchesOfSfbUsers } from './watches-of-sfb.js';
import type { XmppLink } from './xmpp-link.js';
import { XmppSide } from './xmpp-side.js';

export interface XmppSipGatewayOptions {
  /** The SfB SIP domain; the gateway is the Edge's component for it. */
  domain: string;
  /** The legacy pool the gateway lives on: every SIP request goes there. */
  pool: SipTarget;
  partners: ResolvedPartnerProfile[];
  /** Expires of the SUBSCRIBEs the gateway sends (SfB's SubscriptionRefreshInterval is 8 h). */
  subscriptionExpires?: number;
  /** Bound on every SIP transaction and on the XMPP delivery barrier. */
  timeoutMs?: number;
  /** Says which catalogue behaviour the gateway applies (docs/sfb-behaviours.md). */
  cite?: Cite;
}

export interface GatewayTrace {
  at: number;
  t: number;
  protocol: 'xmpp' | 'sip';
  direction: 'in' | 'out';
  label: string;
  wire: string;
}

const ALLOW = 'MESSAGE, SUBSCRIBE, NOTIFY, OPTIONS';

/**
 * The XMPP-SIP gateway of the legacy pool (RFC 7247, 8048, 7572), as an external component of the
 * Edge's Prosody: stanzas for any JID of the SfB domain arrive here and leave as SIP requests to
 * the pool; SIP requests from the pool leave as stanzas. It talks to the pool only over SIP.
 */
export class XmppSipGateway extends EventEmitter {
  private readonly xmpp: XmppSide;
  private readonly policy: PartnerPolicy;
  private readonly im: InstantMessages;
  private readonly sfbWatches: WatchesOfSfbUsers;
  private readonly partnerWatches: WatchesOfPartners;

  private constructor(
    private readonly opts: Required<Omit<XmppSipGatewayOptions, 'partners'>>,
    partners: ResolvedPartnerProfile[],
    readonly sip: SipEndpoint,
  ) {
    super();
    const onError = (err: unknown) => this.emit('gateway-error', err);
    this.xmpp = new XmppSide({
      domain: opts.domain,
      timeoutMs: opts.timeoutMs,
      unhandledIq: (ns) => new StanzaRefusal('service-unavailable', `The Skype for Business XMPP gateway does not handle ${ns ?? 'this'} requests`),
      onTraffic: (direction, s) => this.trace({ at: Date.now(), t: performance.now(), protocol: 'xmpp', direction, label: xmppLabel(s), wire: s.toString() }),
      onError,
    });
    const sipSide = new SipSide(sip, opts.pool, opts.timeoutMs, onError);
    this.policy = new PartnerPolicy(partners);
    this.im = new InstantMessages(this.xmpp, sipSide, this.policy, opts.timeoutMs);
    this.sfbWatches = new WatchesOfSfbUsers(this.xmpp, sipSide, this.policy, {
      expires: opts.subscriptionExpires,
      onRefresh: (w) => this.emit('refresh', w),
      onError,
    });
    this.partnerWatches = new WatchesOfPartners(this.xmpp, sipSide, this.policy, {
      release: (watcher, sfbUser, stanza) => this.sfbWatches.subscribe(watcher, sfbUser, false, stanza),
      onError,
    });
    this.xmpp.router
      .on('message', (s) => this.im.onMessage(s))
      .on('presence', (s) => this.onPresence(s))
      .checkIq(unsupportedInIq);
    answerPingAndDisco(this.xmpp.router, sipSide);
    sip.on('trace', (t: SipTrace) =>
      this.trace({
        at: t.at,
        t: t.hrtime,
        protocol: 'sip',
        direction: t.direction,
        label: sipLabel(t.message),
        wire: serializeSipMessage(t.message).toString('utf8'),
      }),
    );
  }

  static async start(options: XmppSipGatewayOptions): Promise<XmppSipGateway> {
    // The endpoint's handler needs the gateway, which needs the endpoint.
    const holder: { gateway?: XmppSipGateway } = {};
    const sip = await SipEndpoint.listen({ name: 'xmpp-gateway', onRequest: (req) => holder.gateway!.onSipRequest(req) });
    const gateway = new XmppSipGateway(
      {
        domain: options.domain,
        pool: options.pool,
        subscriptionExpires: options.subscriptionExpires ?? 3600,
        timeoutMs: options.timeoutMs ?? 5_000,
        cite: options.cite ?? (() => {}),
      },
      options.partners,
      sip,
    );
    holder.gateway = gateway;
    return gateway;
  }

  get domain(): string {
    return this.opts.domain;
  }
  get attached(): boolean {
    return this.xmpp.connected;
  }
  /** Where the pools send requests for XMPP domains. */
  sipTarget(transport: SipTarget['transport'] = 'tcp'): SipTarget {
    return this.sip.target(transport);
  }

  setPartners(partners: ResolvedPartnerProfile[]): void {
    this.policy.setPartners(partners);
  }

  /** Connects the XMPP side to the Edge's component listener (XEP-0114). */
  async attach(edge: { component: Endpoint; secret: string }): Promise<void> {
    await this.detach();
    await this.attachLink(await ComponentLink.connect({ ...edge, domain: this.opts.domain, timeoutMs: this.opts.timeoutMs }));
  }

  /** Takes `link` as the XMPP side, in place of any other (a unit test's fake link, say). */
  async attachLink(link: XmppLink): Promise<void> {
    await this.detach();
    this.xmpp.attach(link);
  }

  async detach(): Promise<void> {
    await this.xmpp.detach();
  }

  async stop(): Promise<void> {
    this.sfbWatches.stop();
    await this.detach();
    await this.sip.close();
  }

  private async onPresence(s: Element): Promise<void> {
    const type = (s.attrs.type as string | undefined) ?? 'available';
    const from = bareJid(s.attrs.from as string);
    const to = bareJid(s.attrs.to as string);
    if (to === this.opts.domain || type === 'error') return;
    switch (type) {
      case 'subscribe':
        if (!this.policy.mayReach(from, to)) return this.partnerWatches.hold(from, to, s);
        return this.sfbWatches.subscribe(from, to, false, s);
      case 'probe':
        return this.sfbWatches.subscribe(from, to, true, s);
      case 'unsubscribe':
        this.partnerWatches.dropHeld(from, to);
        return this.sfbWatches.end(from, to);
      case 'subscribed':
      case 'unsubscribed':
      case 'available':
      case 'unavailable':
        return this.partnerWatches.onPartnerPresence(from, to, type, s);
    }
  }

  private async onSipRequest(req: IncomingRequest): Promise<SipResponseInit> {
    const { request } = req;
    switch (request.method) {
      case 'MESSAGE':
        return this.im.onSipMessage(request);
      case 'SUBSCRIBE':
        return this.partnerWatches.onSipSubscribe(req);
      case 'NOTIFY':
        return this.sfbWatches.onSipNotify(request);
      case 'OPTIONS':
        return { status: 200, headers: { Allow: ALLOW } };
      default:
        return { status: 405, headers: { Allow: ALLOW } };
    }
  }

  private trace(t: GatewayTrace): void {
    this.emit('trace', t);
  }
}
