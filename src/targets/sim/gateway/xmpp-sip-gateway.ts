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
import { unsupportedInIq, unsupportedInPresence } from '../mapping/xmpp-features.js';
import { ComponentLink, type EdgeAttachment } from './component-link.js';
import { DomainLinks } from './domain-links.js';
import { answerPingAndDisco } from './disco.js';
import { InstantMessages } from './im.js';
import { PartnerPolicy } from './partner-policy.js';
import { remoteDomainsVia } from './remote-domains.js';
import { SipSide } from './sip-side.js';
import { StanzaRefusal } from './stanza-router.js';
import { WatchesOfPartners } from './watches-of-partner.js';
import { WatchesOfSfbUsers, type RefreshRetry } from './watches-of-sfb.js';
import type { XmppLink } from './xmpp-link.js';
import { XmppSide } from './xmpp-side.js';

export interface XmppSipGatewayOptions {
  /** The SfB SIP domain; the gateway is the Edge's component for it. */
  domain: string;
  /** The deployment's other SIP domains enabled for XMPP: a component connection each, JIDs of each mapped to SIP URIs of the same domain. */
  additionalDomains?: string[];
  /** The legacy pool the gateway lives on: every SIP request goes there. */
  pool: SipTarget;
  partners: ResolvedPartnerProfile[];
  /** Expires of the SUBSCRIBEs the gateway sends: SubscriptionRefreshInterval, 28800 s unless shortened. */
  subscriptionExpires?: number;
  /** Waits between refresh attempts that fail for a passing reason (default 1 s doubling to 60 s). */
  refreshRetry?: RefreshRetry;
  /** Bound on every SIP transaction and on the XMPP delivery barrier. */
  timeoutMs?: number;
  /** Says which catalogue behaviour the gateway applies (docs/sfb-behaviours.md). */
  cite?: Cite;
  /** The DNS the Edge resolves partner domains with: tells a domain that does not exist from one that cannot be resolved. */
  resolver?: Endpoint;
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
    private readonly opts: Required<Omit<XmppSipGatewayOptions, 'partners' | 'resolver'>> & Pick<XmppSipGatewayOptions, 'resolver'>,
    partners: ResolvedPartnerProfile[],
    readonly sip: SipEndpoint,
  ) {
    super();
    const onError = (err: unknown) => this.emit('gateway-error', err);
    this.xmpp = new XmppSide({
      domain: opts.domain,
      additionalDomains: opts.additionalDomains,
      timeoutMs: opts.timeoutMs,
      unhandledIq: (ns) => {
        opts.cite('modalities.iq-refused');
        return new StanzaRefusal('service-unavailable', `The Skype for Business XMPP gateway does not handle ${ns ?? 'this'} requests`);
      },
      onTraffic: (direction, s) => this.trace({ at: Date.now(), t: performance.now(), protocol: 'xmpp', direction, label: xmppLabel(s), wire: s.toString() }),
      onError,
    });
    const sipSide = new SipSide(sip, opts.pool, opts.timeoutMs, onError, opts.cite);
    this.policy = new PartnerPolicy(partners, opts.cite);
    this.im = new InstantMessages(this.xmpp, sipSide, this.policy, {
      timeoutMs: opts.timeoutMs,
      cite: opts.cite,
      ...(opts.resolver ? { remoteDomains: remoteDomainsVia(opts.resolver, opts.timeoutMs) } : {}),
    });
    this.sfbWatches = new WatchesOfSfbUsers(this.xmpp, sipSide, this.policy, {
      expires: opts.subscriptionExpires,
      retry: opts.refreshRetry,
      // A NOTIFY may take a transaction's whole life (RFC 3261 timer F, 64*T1) to arrive.
      lingerMs: 32_000,
      cite: opts.cite,
      onRefresh: (w) => this.emit('refresh', w),
      onError,
    });
    this.partnerWatches = new WatchesOfPartners(this.xmpp, sipSide, this.policy, {
      release: (watcher, sfbUser, stanza) => this.sfbWatches.subscribe(watcher, sfbUser, stanza),
      timeoutMs: opts.timeoutMs,
      cite: opts.cite,
      onError,
    });
    this.xmpp.router
      .on('message', (s) => this.im.onMessage(s))
      .on('presence', (s) => this.onPresence(s))
      .checkIq((iq) => {
        const unsupported = unsupportedInIq(iq);
        if (unsupported) opts.cite(unsupported.behaviour);
        return unsupported;
      });
    answerPingAndDisco(this.xmpp.router, sipSide, opts.cite);
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
        additionalDomains: options.additionalDomains ?? [],
        pool: options.pool,
        // Set-CsXmppGatewayConfiguration: SubscriptionRefreshInterval defaults to 28800 s.
        subscriptionExpires: options.subscriptionExpires ?? 28_800,
        refreshRetry: options.refreshRetry ?? { firstMs: 1_000, maxMs: 60_000 },
        timeoutMs: options.timeoutMs ?? 5_000,
        cite: options.cite ?? (() => {}),
        ...(options.resolver ? { resolver: options.resolver } : {}),
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

  /** Connects the XMPP side to the Edge's XMPP proxy as its component (XEP-0114), over the internal hop's MTLS when given. */
  async attach(edge: EdgeAttachment): Promise<void> {
    await this.detach();
    await this.attachLink(
      await DomainLinks.connect(this.xmpp.domains, (domain) => ComponentLink.connect({ ...edge, domain, timeoutMs: this.opts.timeoutMs }), this.opts.cite),
    );
  }

  /** Takes `link` as the XMPP side, in place of any other (a unit test's fake link, say). */
  async attachLink(link: XmppLink): Promise<void> {
    await this.detach();
    this.xmpp.attach(link);
  }

  async detach(): Promise<void> {
    await this.xmpp.detach();
  }

  /**
   * The gateway service stopped (or restarted): the SIP dialogs it held in memory are gone, so the
   * pool's next NOTIFY or an SfB user's refresh gets 481 (xfed's choice, docs/sfb-behaviours.md).
   */
  forgetDialogs(): void {
    this.opts.cite('presence.gateway-restart-state-lost');
    this.sfbWatches.forget();
    this.partnerWatches.forget();
  }

  /**
   * The gateway's process crashes: its component connections drop without a stream close (the Edge
   * sees its component vanish), and the SIP dialogs it held in memory are lost. Attaching again
   * (`attach`) is its restart.
   */
  crash(): void {
    this.forgetDialogs();
    this.xmpp.drop();
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
    if (this.xmpp.domains.includes(to) || type === 'error') return;
    const unsupported = unsupportedInPresence(s);
    if (unsupported) {
      this.opts.cite(unsupported.behaviour);
      return this.xmpp.replyError(s, unsupported.condition, unsupported.text);
    }
    switch (type) {
      case 'subscribe':
        if (!this.policy.mayReach(from, to)) return this.partnerWatches.hold(from, to, s);
        return this.sfbWatches.subscribe(from, to, s);
      case 'probe':
        // An unauthorized probe reveals nothing (RFC 6121 4.3.2): unsubscribed, and no SIP.
        if (!this.policy.mayReach(from, to)) {
          this.opts.cite('partner-types.public-unverified-probe-unsubscribed');
          return this.xmpp.sendPresence({ type: 'unsubscribed', from: to, to: from });
        }
        return this.sfbWatches.probe(from, to, s);
      case 'unsubscribe':
        this.partnerWatches.dropHeld(from, to);
        return this.sfbWatches.end(from, to);
      case 'subscribed':
      case 'unsubscribed':
      case 'available':
      case 'unavailable':
        return this.partnerWatches.onPartnerPresence(s.attrs.from as string, to, type, s);
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
