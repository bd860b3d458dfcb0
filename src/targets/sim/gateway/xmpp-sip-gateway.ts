import { Component, xml } from '@xmpp/component-core';
import type { Element } from 'ltx';
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { XfedError } from '../../../errors.js';
import { withDeadline } from '../../../infra/deadline.js';
import type { Endpoint } from '../../../infra/endpoint.js';
import { bareJid, domainOf, jidToSipUri, sipUriToJid } from '../mapping/address.js';
import { sipStatusToStanzaError, stanzaErrorToSipStatus, stanzaErrorType } from '../mapping/errors.js';
import type { PartnerType, ResolvedPartnerProfile } from '../../../sfb/partner-profile.js';
import { unsupportedInIq, unsupportedInMessage } from '../mapping/xmpp-features.js';
import { stanzaError } from '../../../xmpp/client.js';
import { xmppLabel } from '../../../xmpp/label.js';
import { buildRequest, SipEndpoint, type IncomingRequest, type SipResponseInit, type SipTarget, type SipTrace } from '../../../sip/endpoint.js';
import { newCallId, newTag, parseNameAddr, parseSipUri, serializeSipMessage, tagOf, uriOf, type SipRequest, type SipResponse } from '../../../sip/message.js';
import { sipLabel } from '../../../sip/label.js';
import { buildPidf, parsePidf, type PidfPresence } from '../../../sip/pidf.js';

/** RFC 7572 / domain.md section 7: a MESSAGE larger than this is not sent (policy-violation). */
export const SIP_MESSAGE_LIMIT = 1300;
const STANZAS_NS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
const PING_NS = 'urn:xmpp:ping';
const DISCO_INFO = 'http://jabber.org/protocol/disco#info';
const DISCO_ITEMS = 'http://jabber.org/protocol/disco#items';

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
}

export interface GatewayTrace {
  at: number;
  t: number;
  protocol: 'xmpp' | 'sip';
  direction: 'in' | 'out';
  label: string;
  wire: string;
}

/** A partner user watching an SfB user: the gateway is the SIP subscriber. */
interface WatchOfSfbUser {
  watcher: string;
  sfbUser: string;
  callId: string;
  fromTag: string;
  toTag?: string;
  cseq: number;
  target: SipTarget;
  state: 'init' | 'pending' | 'active' | 'terminated';
  subscribedSent: boolean;
  refresh?: NodeJS.Timeout;
}

/** An SfB user watching a partner user: the gateway is the SIP notifier. */
interface WatchOfPartner {
  sfbUser: string;
  contact: string;
  callId: string;
  localTag: string;
  remoteTag: string;
  remoteUri: string;
  target: SipTarget;
  cseq: number;
  expires: number;
  state: 'pending' | 'active' | 'terminated';
  presence?: PidfPresence;
}


/**
 * The XMPP-SIP gateway of the legacy pool (RFC 7247, 8048, 7572), as an external component of the
 * Edge's Prosody: stanzas for any JID of the SfB domain arrive here and leave as SIP requests to
 * the pool; SIP requests from the pool leave as stanzas. It talks to the pool only over SIP.
 */
export class XmppSipGateway extends EventEmitter {
  private xmpp: Component | undefined;
  private partners: ResolvedPartnerProfile[];
  private readonly watchesOfSfb = new Map<string, WatchOfSfbUser>();
  private readonly watchesOfPartner = new Map<string, WatchOfPartner>();
  /** PublicUnverified: partner subscriptions held until the SfB user adds the partner contact. */
  private readonly held = new Map<string, Element>();
  /** Partner contacts the SfB users have added (`sfbUser|partnerBareJid`). */
  private readonly contactsAdded = new Set<string>();
  private readonly awaiting = new Map<string, (stanza: Element) => void>();
  private cseq = 1;

  private constructor(
    private readonly opts: Required<Omit<XmppSipGatewayOptions, 'partners'>>,
    partners: ResolvedPartnerProfile[],
    readonly sip: SipEndpoint,
  ) {
    super();
    this.partners = partners;
    sip.on('trace', (t: SipTrace) => this.trace({ at: t.at, t: t.hrtime, protocol: 'sip', direction: t.direction, label: sipLabel(t.message), wire: serializeSipMessage(t.message).toString('utf8') }));
  }

  static async start(options: XmppSipGatewayOptions): Promise<XmppSipGateway> {
    // The endpoint's handler needs the gateway, which needs the endpoint.
    const holder: { gateway?: XmppSipGateway } = {};
    const sip = await SipEndpoint.listen({ name: 'xmpp-gateway', onRequest: (req) => holder.gateway!.onSipRequest(req) });
    const gateway = new XmppSipGateway(
      { domain: options.domain, pool: options.pool, subscriptionExpires: options.subscriptionExpires ?? 3600, timeoutMs: options.timeoutMs ?? 5_000 },
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
    return this.xmpp !== undefined;
  }
  /** Where the pools send requests for XMPP domains. */
  sipTarget(transport: SipTarget['transport'] = 'tcp'): SipTarget {
    return this.sip.target(transport);
  }

  setPartners(partners: ResolvedPartnerProfile[]): void {
    this.partners = partners;
  }

  /** Connects the XMPP side to the Edge's component listener (XEP-0114). */
  async attach(edge: { component: Endpoint; secret: string }): Promise<void> {
    await this.detach();
    // component-core, not @xmpp/component: the latter answers every IQ it has no handler for with
    // service-unavailable, before the gateway's own answer. Nor does it reconnect on its own:
    // re-attaching is the owner's decision (after an Edge restart).
    const xmpp = new Component({ service: `xmpp://${edge.component.host}:${edge.component.port}`, domain: this.opts.domain });
    let lastError: Error | undefined;
    xmpp.on('error', (err: Error) => (lastError = err));
    xmpp.on('open', (el: Element) => {
      xmpp.authenticate(el.attrs.id as string, edge.secret).catch((err: Error) => xmpp.emit('error', err));
    });
    // 40 ms stalls come from Nagle plus delayed ACK: no Nagle on the component stream.
    xmpp.on('connect', () => xmpp.socket?.setNoDelay?.(true));
    xmpp.on('stanza', (s: Element) => {
      this.trace({ at: Date.now(), t: performance.now(), protocol: 'xmpp', direction: 'in', label: xmppLabel(s), wire: s.toString() });
      this.onStanza(s).catch((err: Error) => this.emit('gateway-error', err));
    });
    try {
      await withDeadline(xmpp.start(), this.opts.timeoutMs, `the gateway's component connection to ${edge.component.host}:${edge.component.port}`);
    } catch (err) {
      await xmpp.stop().catch(() => undefined);
      throw new XfedError(`the XMPP gateway cannot attach to the Edge: ${(err as Error).message}${lastError ? ` (${lastError.message})` : ''}`);
    }
    this.xmpp = xmpp;
  }

  async detach(): Promise<void> {
    const xmpp = this.xmpp;
    this.xmpp = undefined;
    if (xmpp) await withDeadline(xmpp.stop(), this.opts.timeoutMs, 'the gateway component to disconnect').catch(() => undefined);
  }

  async stop(): Promise<void> {
    for (const w of this.watchesOfSfb.values()) clearTimeout(w.refresh);
    await this.detach();
    await this.sip.close();
  }

  // ---------------------------------------------------------------- XMPP -> SIP

  private async onStanza(s: Element): Promise<void> {
    const id = s.attrs.id as string | undefined;
    const waiter = id ? this.awaiting.get(id) : undefined;
    if (waiter && (s.attrs.type === 'error' || s.attrs.type === 'result')) {
      waiter(s);
      return;
    }
    if (s.is('message')) return this.onMessage(s);
    if (s.is('presence')) return this.onPresence(s);
    if (s.is('iq')) return this.onIq(s);
  }

  private partnerType(jid: string): PartnerType | undefined {
    const domain = domainOf(jid);
    return this.partners.find((p) => p.domain === domain || p.additionalDomains.includes(domain))?.partnerType;
  }

  private async onMessage(s: Element): Promise<void> {
    if (s.attrs.type === 'error') return;
    const from = s.attrs.from as string;
    const to = s.attrs.to as string;
    const unsupported = unsupportedInMessage(s);
    if (unsupported) return this.replyError(s, unsupported.condition, unsupported.text);
    const body = s.getChildText('body');
    // Chat states and receipts alone have no SIP counterpart (RFC 7572 carries text only).
    if (body === null) return;
    if (to === this.opts.domain) return this.replyError(s, 'service-unavailable', 'The XMPP gateway domain itself takes no messages');
    if (this.partnerType(from) === 'PublicUnverified' && !this.contactsAdded.has(`${bareJid(to)}|${bareJid(from)}`)) {
      return this.replyError(s, 'forbidden', `PublicUnverified partner: ${bareJid(to)} has not added ${bareJid(from)} as a contact`);
    }
    const subject = s.getChildText('subject');
    const thread = s.getChildText('thread');
    const lang = (s.attrs['xml:lang'] as string | undefined) ?? undefined;
    const request = buildRequest({
      method: 'MESSAGE',
      uri: jidToSipUri(bareJid(to)),
      from: `<${jidToSipUri(from)}>`,
      to: `<${jidToSipUri(bareJid(to))}>`,
      callId: thread ?? newCallId(this.sip.host),
      cseq: this.cseq++,
      contact: `<${this.sip.contactUri(undefined, this.opts.pool.transport)}>`,
      headers: { Subject: subject ?? undefined, 'Content-Language': lang, 'Max-Forwards': '70' },
      body,
      contentType: 'text/plain;charset=UTF-8',
    });
    const size = serializeSipMessage(request).length;
    if (size > SIP_MESSAGE_LIMIT) {
      return this.replyError(s, 'policy-violation', `The message is too large for the SIP side: ${size} bytes, over the ${SIP_MESSAGE_LIMIT}-byte limit of a SIP MESSAGE`);
    }
    const res = await this.sipRequest(request);
    if (res.status >= 300) this.replyError(s, ...errorFromSip(res));
  }

  private async onPresence(s: Element): Promise<void> {
    const type = (s.attrs.type as string | undefined) ?? 'available';
    const from = bareJid(s.attrs.from as string);
    const to = bareJid(s.attrs.to as string);
    if (to === this.opts.domain || type === 'error') return;
    const key = `${from}|${to}`;
    switch (type) {
      case 'subscribe':
        if (this.partnerType(from) === 'PublicUnverified' && !this.contactsAdded.has(`${to}|${from}`)) {
          // Held, not refused: the SfB user has to add the partner first (domain.md section 3).
          this.held.set(key, s);
          return;
        }
        return this.subscribeToSfbUser(from, to, false, s);
      case 'probe':
        return this.subscribeToSfbUser(from, to, true, s);
      case 'unsubscribe':
        return this.endWatchOfSfbUser(key);
      case 'subscribed':
      case 'unsubscribed':
      case 'available':
      case 'unavailable':
        return this.notifySfbWatcher(`${to}|${from}`, type, s);
    }
  }

  private async onIq(s: Element): Promise<void> {
    if (s.attrs.type !== 'get' && s.attrs.type !== 'set') return;
    const unsupported = unsupportedInIq(s);
    if (unsupported) return this.replyError(s, unsupported.condition, unsupported.text);
    const to = s.attrs.to as string;
    const child = s.getChildElements()[0];
    const ns = child?.attrs.xmlns as string | undefined;
    const isUser = to.includes('@');
    if (s.attrs.type === 'get' && (ns === PING_NS || ns === DISCO_INFO || ns === DISCO_ITEMS)) {
      if (isUser) {
        // Is the user there? Only the pool knows: ask it over SIP (OPTIONS), as a ping would.
        const res = await this.sipRequest(
          buildRequest({ method: 'OPTIONS', uri: jidToSipUri(bareJid(to)), from: `<${jidToSipUri(s.attrs.from as string)}>`, to: `<${jidToSipUri(bareJid(to))}>`, callId: newCallId(this.sip.host), cseq: this.cseq++ }),
        );
        if (res.status >= 300) return this.replyError(s, ...errorFromSip(res));
      }
      return this.send(xml('iq', { type: 'result', id: s.attrs.id, from: to, to: s.attrs.from }, ...discoAnswer(ns, isUser)));
    }
    return this.replyError(s, 'service-unavailable', `The Skype for Business XMPP gateway does not handle ${ns ?? 'this'} requests`);
  }

  private async subscribeToSfbUser(watcher: string, sfbUser: string, probe: boolean, stanza: Element): Promise<void> {
    const key = `${watcher}|${sfbUser}`;
    const existing = this.watchesOfSfb.get(key);
    if (!probe && existing && existing.state !== 'terminated') {
      // A repeated subscribe is answered from what is known (RFC 6121 3.1.3).
      if (existing.state === 'active') await this.sendPresence({ type: 'subscribed', from: sfbUser, to: watcher });
      return;
    }
    const watch: WatchOfSfbUser = { watcher, sfbUser, callId: newCallId(this.sip.host), fromTag: newTag(), cseq: 1, target: this.opts.pool, state: 'init', subscribedSent: false };
    if (!probe) this.watchesOfSfb.set(key, watch);
    const res = await this.sendSubscribe(watch, probe ? 0 : this.opts.subscriptionExpires);
    if (res.status >= 300) {
      this.watchesOfSfb.delete(key);
      const [condition, text] = errorFromSip(res);
      await this.replyError(stanza, condition, text);
    }
  }

  private async sendSubscribe(watch: WatchOfSfbUser, expires: number): Promise<SipResponse> {
    const request = buildRequest({
      method: 'SUBSCRIBE',
      uri: jidToSipUri(watch.sfbUser),
      from: `<${jidToSipUri(watch.watcher)}>;tag=${watch.fromTag}`,
      to: `<${jidToSipUri(watch.sfbUser)}>${watch.toTag ? `;tag=${watch.toTag}` : ''}`,
      callId: watch.callId,
      cseq: watch.cseq++,
      contact: `<${this.sip.contactUri(undefined, watch.target.transport)}>`,
      headers: { Event: 'presence', Accept: 'application/pidf+xml', Expires: String(expires) },
    });
    const res = await this.sipRequest(request, watch.target);
    if (res.status < 300) {
      const toTag = tagOf(res.headers.get('To'));
      if (toTag) watch.toTag = toTag;
      const granted = Number(res.headers.get('Expires') ?? expires);
      if (expires > 0) this.scheduleRefresh(watch, granted);
    }
    return res;
  }

  /** Refreshes before expiry (RFC 6665 4.1.2.1); 403/489/603 end it for good, 423/481 retry. */
  private scheduleRefresh(watch: WatchOfSfbUser, expires: number): void {
    clearTimeout(watch.refresh);
    const key = `${watch.watcher}|${watch.sfbUser}`;
    watch.refresh = setTimeout(() => {
      if (this.watchesOfSfb.get(key) !== watch) return;
      this.emit('refresh', { watcher: watch.watcher, sfbUser: watch.sfbUser });
      this.sendSubscribe(watch, this.opts.subscriptionExpires)
        .then(async (res) => {
          if (res.status < 300) return;
          if ([423, 481].includes(res.status)) {
            // Transient: the dialog is gone or the interval too brief; start a new subscription.
            this.watchesOfSfb.delete(key);
            await this.subscribeToSfbUser(watch.watcher, watch.sfbUser, false, xml('presence', { from: watch.watcher, to: watch.sfbUser, type: 'subscribe' }));
            return;
          }
          this.watchesOfSfb.delete(key);
          await this.sendPresence({ type: 'unsubscribed', from: watch.sfbUser, to: watch.watcher });
        })
        .catch((err: Error) => this.emit('gateway-error', err));
    }, Math.max(100, expires * 800));
    watch.refresh.unref();
  }

  private async endWatchOfSfbUser(key: string): Promise<void> {
    const watch = this.watchesOfSfb.get(key);
    this.held.delete(key);
    if (!watch) return;
    this.watchesOfSfb.delete(key);
    clearTimeout(watch.refresh);
    await this.sendSubscribe(watch, 0);
  }

  /** What a partner user says to an SfB user who watches him: approval, refusal, presence. */
  private async notifySfbWatcher(key: string, type: string, s: Element): Promise<void> {
    const watch = this.watchesOfPartner.get(key);
    if (!watch || watch.state === 'terminated') return;
    if (type === 'unsubscribed') {
      watch.state = 'terminated';
      this.watchesOfPartner.delete(key);
      await this.sendNotify(watch, 'terminated;reason=rejected');
      return;
    }
    if (type === 'subscribed') {
      watch.state = 'active';
      await this.sendNotify(watch, `active;expires=${watch.expires}`);
      return;
    }
    if (watch.state !== 'active') return;
    watch.presence = presenceToPidf(s, jidToSipUri(watch.contact));
    await this.sendNotify(watch, `active;expires=${watch.expires}`);
  }

  private async sendNotify(watch: WatchOfPartner, state: string): Promise<void> {
    const request = buildRequest({
      method: 'NOTIFY',
      uri: watch.remoteUri,
      from: `<${jidToSipUri(watch.contact)}>;tag=${watch.localTag}`,
      to: `<${jidToSipUri(watch.sfbUser)}>;tag=${watch.remoteTag}`,
      callId: watch.callId,
      cseq: watch.cseq++,
      contact: `<${this.sip.contactUri(undefined, watch.target.transport)}>`,
      headers: { Event: 'presence', 'Subscription-State': state },
      ...(watch.presence && state.startsWith('active') ? { body: buildPidf(watch.presence), contentType: 'application/pidf+xml' } : {}),
    });
    await this.sipRequest(request, watch.target);
  }

  // ---------------------------------------------------------------- SIP -> XMPP

  private async onSipRequest(req: IncomingRequest): Promise<SipResponseInit> {
    const { request } = req;
    switch (request.method) {
      case 'MESSAGE':
        return this.onSipMessage(request);
      case 'SUBSCRIBE':
        return this.onSipSubscribe(req);
      case 'NOTIFY':
        return this.onSipNotify(request);
      case 'OPTIONS':
        return { status: 200, headers: { Allow: 'MESSAGE, SUBSCRIBE, NOTIFY, OPTIONS' } };
      default:
        return { status: 405, headers: { Allow: 'MESSAGE, SUBSCRIBE, NOTIFY, OPTIONS' } };
    }
  }

  private addresses(request: SipRequest): { from: string; to: string } {
    const fromUri = parseNameAddr(request.headers.get('From') ?? '').uri;
    return { from: bareJid(sipUriToJid(fromUri)), to: sipUriToJid(request.uri) };
  }

  /**
   * An SfB user's IM to a partner user. XMPP has no delivery report, so a ping to the partner's
   * domain follows the message on the same S2S path as a barrier: an error for the message
   * arrives before the ping's answer, or the message went through.
   */
  private async onSipMessage(request: SipRequest): Promise<SipResponseInit> {
    if (!this.xmpp) return { status: 503, reason: 'XMPP gateway not connected to the Edge' };
    let from: string;
    let to: string;
    try {
      ({ from, to } = this.addresses(request));
    } catch (err) {
      return { status: 400, reason: 'Bad Address', headers: { Warning: `399 xmpp-gateway "${(err as Error).message}"` } };
    }
    const type = request.headers.get('Content-Type') ?? 'text/plain';
    if (!/^text\/plain\b/i.test(type)) return { status: 415, headers: { Accept: 'text/plain' } };
    const id = randomUUID();
    const pingId = randomUUID();
    const lang = request.headers.get('Content-Language');
    const subject = request.headers.get('Subject');
    const message = xml(
      'message',
      { type: 'chat', id, from, to, ...(lang ? { 'xml:lang': lang } : {}) },
      xml('body', {}, request.body),
      ...(subject ? [xml('subject', {}, subject)] : []),
      xml('thread', {}, request.headers.get('Call-ID') ?? ''),
    );
    const answer = this.awaitAny([id, pingId]);
    // To a full JID (a GRUU on the SIP side) the barrier goes to that client, which answers after
    // it has handled (or refused) the message; otherwise to the partner's server.
    const barrier = to.includes('/') ? to : domainOf(to);
    const ping = xml('iq', { type: 'get', id: pingId, from: barrier === to ? from : this.opts.domain, to: barrier }, xml('ping', { xmlns: PING_NS }));
    await this.send(message, ping);
    let reply: Element;
    try {
      reply = await withDeadline(answer.promise, this.opts.timeoutMs, `the XMPP delivery barrier for ${to}`);
    } catch {
      return { status: 408 };
    } finally {
      answer.cancel();
    }
    if (reply.attrs.type === 'result') return { status: 200 };
    const { condition, text } = stanzaError(reply);
    // A client that does not implement ping still answered, so the message reached it.
    if (reply.attrs.id === pingId && barrier === to && !condition.startsWith('remote-server-')) return { status: 200 };
    return { status: stanzaErrorToSipStatus(condition), headers: { Warning: `399 xmpp-gateway "${condition}${text ? `: ${text.replace(/"/g, "'")}` : ''}"` } };
  }

  private async onSipSubscribe(req: IncomingRequest): Promise<SipResponseInit> {
    const { request } = req;
    if ((request.headers.get('Event') ?? '').split(';')[0]!.trim() !== 'presence') return { status: 489 };
    let from = '';
    let to = '';
    try {
      from = bareJid(sipUriToJid(parseNameAddr(request.headers.get('From') ?? '').uri));
      to = sipUriToJid(parseNameAddr(request.headers.get('To') ?? '').uri);
    } catch (err) {
      return { status: 400, headers: { Warning: `399 xmpp-gateway "${(err as Error).message}"` } };
    }
    const expires = Number(request.headers.get('Expires') ?? 3600);
    const remoteTag = tagOf(request.headers.get('From')) ?? '';
    // In-dialog requests (refresh, unsubscribe) target our Contact, which names no user: the
    // dialog is found by Call-ID and tags (RFC 3261 12.2.2).
    const callId = request.headers.get('Call-ID');
    const inDialog = [...this.watchesOfPartner.entries()].find(([, w]) => w.callId === callId && w.remoteTag === remoteTag);
    const contact = inDialog ? inDialog[1].contact : bareJid(to);
    const key = inDialog ? inDialog[0] : `${from}|${contact}`;
    const existing = inDialog?.[1];
    if (existing) {
      if (expires === 0) {
        // The SfB user removed the contact: end the dialog, and the XMPP subscription with it.
        existing.state = 'terminated';
        this.watchesOfPartner.delete(key);
        this.contactsAdded.delete(key);
        return { status: 200, headers: { Expires: '0' }, afterSend: () => void this.afterUnsubscribe(existing) };
      }
      existing.expires = expires;
      return { status: 200, headers: { Expires: String(expires) } };
    }
    if (!this.xmpp) return { status: 503, reason: 'XMPP gateway not connected to the Edge' };
        const remoteUri = uriOf(request.headers.get('Contact')) ?? uriOf(request.headers.get('From')) ?? '';
    const target = targetOf(remoteUri, req);
    const watch: WatchOfPartner = {
      sfbUser: from,
      contact,
      callId: request.headers.get('Call-ID') ?? newCallId(this.sip.host),
      localTag: newTag(),
      remoteTag,
      remoteUri,
      target,
      cseq: 1,
      expires,
      state: 'pending',
    };
    this.watchesOfPartner.set(key, watch);
    this.contactsAdded.add(key);
    return {
      status: 202,
      toTag: watch.localTag,
      headers: { Expires: String(expires), Contact: `<${this.sip.contactUri(undefined, req.transport)}>` },
      afterSend: () => void this.afterSubscribe(watch).catch((err: Error) => this.emit('gateway-error', err)),
    };
  }

  private async afterSubscribe(watch: WatchOfPartner): Promise<void> {
    // RFC 6665: a NOTIFY follows the 202 at once; pending until the partner user answers.
    await this.sendNotify(watch, `pending;expires=${watch.expires}`);
    await this.sendPresence({ type: 'subscribe', from: watch.sfbUser, to: watch.contact });
    // PublicUnverified: the partner's own request, held until now, goes ahead.
    const held = this.held.get(`${watch.contact}|${watch.sfbUser}`);
    if (held) {
      this.held.delete(`${watch.contact}|${watch.sfbUser}`);
      await this.subscribeToSfbUser(watch.contact, watch.sfbUser, false, held);
    }
  }

  private async afterUnsubscribe(watch: WatchOfPartner): Promise<void> {
    await this.sendNotify(watch, 'terminated;reason=timeout');
    await this.sendPresence({ type: 'unsubscribe', from: watch.sfbUser, to: watch.contact });
  }

  private async onSipNotify(request: SipRequest): Promise<SipResponseInit> {
    const callId = request.headers.get('Call-ID');
    const watch = [...this.watchesOfSfb.values()].find((w) => w.callId === callId);
    const state = (request.headers.get('Subscription-State') ?? '').toLowerCase();
    const presence = request.body ? safePidf(request.body) : undefined;
    if (!watch) {
      // A probe's dialog is not kept: its one NOTIFY carries the state and ends it.
      const probe = state.startsWith('terminated') && /reason=timeout/.test(state) && presence;
      if (!probe) return { status: 481 };
      const from = bareJid(sipUriToJid(parseNameAddr(request.headers.get('From') ?? '').uri));
      const to = bareJid(sipUriToJid(parseNameAddr(request.headers.get('To') ?? '').uri));
      await this.sendPresence(pidfToPresence(presence, from, to, this.stripNotes(to)));
      return { status: 200 };
    }
    if (state.startsWith('active')) {
      watch.state = 'active';
      if (!watch.subscribedSent) {
        watch.subscribedSent = true;
        await this.sendPresence({ type: 'subscribed', from: watch.sfbUser, to: watch.watcher });
      }
      if (presence) await this.sendPresence(pidfToPresence(presence, watch.sfbUser, watch.watcher, this.stripNotes(watch.watcher)));
    } else if (state.startsWith('pending')) {
      watch.state = 'pending';
    } else if (state.startsWith('terminated')) {
      const key = `${watch.watcher}|${watch.sfbUser}`;
      this.watchesOfSfb.delete(key);
      clearTimeout(watch.refresh);
      watch.state = 'terminated';
      if (/reason=(rejected|noresource|deactivated|giveup)/.test(state) || !watch.subscribedSent) {
        await this.sendPresence({ type: 'unsubscribed', from: watch.sfbUser, to: watch.watcher });
      } else {
        await this.sendPresence({ type: 'unavailable', from: watch.sfbUser, to: watch.watcher });
      }
    }
    return { status: 200 };
  }

  /** PublicVerified partners never see status notes (domain.md section 3). */
  private stripNotes(partnerJid: string): boolean {
    return this.partnerType(partnerJid) === 'PublicVerified';
  }

  // ---------------------------------------------------------------- plumbing

  private async sipRequest(request: SipRequest, target: SipTarget = this.opts.pool): Promise<SipResponse> {
    try {
      return await this.sip.request(target, request, { timeoutMs: this.opts.timeoutMs });
    } catch (err) {
      // No answer from the pool: what a partner sees is a timeout (408 -> remote-server-timeout).
      this.emit('gateway-error', err);
      return { kind: 'response', status: 408, reason: 'Request Timeout', headers: request.headers.clone(), body: '' };
    }
  }

  private awaitAny(ids: string[]): { promise: Promise<Element>; cancel: () => void } {
    let resolve: (s: Element) => void = () => undefined;
    const promise = new Promise<Element>((r) => (resolve = r));
    for (const id of ids) this.awaiting.set(id, resolve);
    return { promise, cancel: () => ids.forEach((id) => this.awaiting.delete(id)) };
  }

  private async sendPresence(p: { type?: string; from: string; to: string; children?: Element[] }): Promise<void> {
    await this.send(xml('presence', { from: p.from, to: p.to, ...(p.type && p.type !== 'available' ? { type: p.type } : {}) }, ...(p.children ?? [])));
  }

  /** Sends stanzas in one write: two small writes in a row would meet Nagle and a delayed ACK. */
  private async send(...stanzas: Element[]): Promise<void> {
    if (!this.xmpp) return;
    for (const stanza of stanzas) {
      this.trace({ at: Date.now(), t: performance.now(), protocol: 'xmpp', direction: 'out', label: xmppLabel(stanza), wire: stanza.toString() });
    }
    if (stanzas.length === 1) await this.xmpp.send(stanzas[0]!);
    else await this.xmpp.write(stanzas.map((s) => s.toString()).join(''));
  }

  private async replyError(s: Element, condition: string, text: string): Promise<void> {
    const type = stanzaErrorType(condition);
    await this.send(
      xml(
        s.getName(),
        { type: 'error', id: s.attrs.id, from: s.attrs.to, to: s.attrs.from },
        xml('error', { type }, xml(condition, { xmlns: STANZAS_NS }), xml('text', { xmlns: STANZAS_NS }, text)),
      ),
    );
  }

  private trace(t: GatewayTrace): void {
    this.emit('trace', t);
  }
}

function errorFromSip(res: SipResponse): [string, string] {
  const { condition } = sipStatusToStanzaError(res.status);
  const warning = res.headers.get('Warning');
  return [condition, `SIP ${res.status} ${res.reason}${warning ? ` (${warning})` : ''}`];
}

function safePidf(body: string): PidfPresence | undefined {
  try {
    return parsePidf(body);
  } catch {
    return undefined;
  }
}

function targetOf(uri: string, req: IncomingRequest): SipTarget {
  try {
    const u = parseSipUri(uri);
    const transport = (u.params.transport?.toLowerCase() as SipTarget['transport'] | undefined) ?? req.transport;
    return { host: u.host, port: u.port ?? 5060, transport };
  } catch {
    return { host: req.remote.host, port: req.remote.port, transport: req.transport };
  }
}

/** RFC 8048: XMPP presence -> PIDF (no type = open, unavailable = closed, status = note). */
function presenceToPidf(s: Element, entity: string): PidfPresence {
  const show = s.getChildText('show') as PidfPresence['show'] | null;
  const status = s.getChildText('status');
  const lang = s.attrs['xml:lang'] as string | undefined;
  return {
    entity,
    basic: s.attrs.type === 'unavailable' ? 'closed' : 'open',
    ...(show && ['chat', 'away', 'xa', 'dnd'].includes(show) ? { show } : {}),
    ...(status ? { note: status } : {}),
    ...(lang ? { lang } : {}),
  };
}

function pidfToPresence(p: PidfPresence, from: string, to: string, stripNotes: boolean): { type?: string; from: string; to: string; children: Element[] } {
  const children: Element[] = [];
  if (p.basic === 'open' && p.show) children.push(xml('show', {}, p.show));
  if (p.note && !stripNotes) children.push(xml('status', p.lang ? { 'xml:lang': p.lang } : {}, p.note));
  return { ...(p.basic === 'closed' ? { type: 'unavailable' } : {}), from, to, children };
}

function discoAnswer(ns: string | undefined, isUser: boolean): Element[] {
  if (ns === DISCO_INFO) {
    return [
      xml(
        'query',
        { xmlns: DISCO_INFO },
        isUser ? xml('identity', { category: 'account', type: 'registered' }) : xml('identity', { category: 'gateway', type: 'sip', name: 'Skype for Business XMPP gateway (xfed simulation)' }),
        ...[DISCO_INFO, PING_NS].map((f) => xml('feature', { var: f })),
      ),
    ];
  }
  if (ns === DISCO_ITEMS) return [xml('query', { xmlns: DISCO_ITEMS })];
  return [];
}
