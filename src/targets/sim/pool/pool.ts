import { EventEmitter } from 'node:events';
import { TimeoutError, XfedError } from '../../../errors.js';
import { DEFAULT_SHOW_MAPPING, type SfbAvailability, type ShowMapping } from '../../../sfb/availability.js';
import { escapeSipUser, unescapeSipUser } from '../../../sip/escape.js';
import type { SfbDirectory, SfbUserState } from './directory.js';
import { SipEndpoint, buildRequest, buildResponse, type IncomingRequest, type SipResponseInit, type SipTarget, type SipTrace, type SipTransport } from '../../../sip/endpoint.js';
import { SipParseError, newCallId, newTag, parseSipUri, tagOf, uriOf, type SipRequest, type SipResponse, type SipUri } from '../../../sip/message.js';
import { buildPidf, parsePidf, type PidfPresence } from '../../../sip/pidf.js';

/**
 * One simulated SfB Front End pool: a SIP registrar-less proxy for the users homed on it, with
 * (legacy 2013/2015) or without (2019) the XMPP gateway route. Users are scripted by their
 * `behaviour`; the methods below are what a user does on his own.
 */
export interface SipPoolOptions {
  name: string;
  directory: SfbDirectory;
  hasXmppGateway: boolean;
  showMapping?: ShowMapping;
  /** Longest subscription granted, seconds (default 3600). */
  subscriptionExpires?: number;
  /** Bound of every request the pool sends (default 8000 ms). */
  requestTimeoutMs?: number;
}

export type SipUserEventKind = 'im' | 'echo' | 'subscribe' | 'refresh' | 'unsubscribe' | 'probe' | 'notify';

export interface SipUserEvent {
  user: string;
  kind: SipUserEventKind;
  /** The other party's URI. */
  from: string;
  body?: string;
  subject?: string;
  lang?: string;
  callId?: string;
  presence?: PidfPresence;
  /** Subscription-State sent or received. */
  subscriptionState?: string;
  /** The SIP status the user answered, or (kind 'echo') got. */
  status?: number;
  error?: string;
  at: number;
}

export interface ContactPresence {
  state: 'active' | 'pending' | 'terminated';
  reason?: string;
  presence?: PidfPresence;
}

// A subscription to one of our users (we are the notifier).
interface Watcher {
  user: string;
  callId: string;
  localTag: string;
  /** Our side as it appears in From of our NOTIFYs. */
  localHeader: string;
  /** The SUBSCRIBE's From, the To of our NOTIFYs. */
  remoteHeader: string;
  remoteUri: string;
  remoteTarget: string;
  cseq: number;
  state: 'active' | 'pending';
  expiresAt: number;
}

// A subscription one of our users made with addContact (we are the subscriber).
interface Subscription extends ContactPresence {
  user: string;
  contact: string;
  callId: string;
  localTag: string;
  remoteTag?: string;
  remoteTarget?: string;
  cseq: number;
}

const ALLOW = 'MESSAGE, SUBSCRIBE, NOTIFY, OPTIONS';
const dialogKey = (callId: string, localTag: string) => `${callId}\n${localTag}`;

/** `alice@partner.test` or a SIP URI, normalised (escapes, no parameters) so it can be a map key. */
function toUri(address: string): string {
  const raw = /^sips?:/i.test(address) ? address : `sip:${address}`;
  const u = parseSipUri(raw);
  const user = u.user !== undefined ? `${escapeSipUser(unescapeSipUser(u.user))}@` : '';
  return `${u.scheme}:${user}${u.host}${u.port !== undefined ? `:${u.port}` : ''}`;
}

export class SipPool extends EventEmitter {
  readonly name: string;
  readonly directory: SfbDirectory;
  readonly hasXmppGateway: boolean;
  private readonly showMapping: ShowMapping;
  private readonly maxExpires: number;
  private readonly timeoutMs: number;
  private xmppRoute: SipTarget | undefined;
  private peers: SipPool[] = [];
  private readonly watcherDialogs = new Map<string, Watcher>();
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly contacts = new Map<string, Subscription>();
  private readonly background = new Set<Promise<unknown>>();
  private cseq = 1;

  private constructor(
    opts: SipPoolOptions,
    readonly endpoint: SipEndpoint,
  ) {
    super();
    this.name = opts.name;
    this.directory = opts.directory;
    this.hasXmppGateway = opts.hasXmppGateway;
    this.showMapping = opts.showMapping ?? DEFAULT_SHOW_MAPPING;
    this.maxExpires = opts.subscriptionExpires ?? 3600;
    this.timeoutMs = opts.requestTimeoutMs ?? 8_000;
  }

  static async start(opts: SipPoolOptions): Promise<SipPool> {
    // The handler needs the pool and the pool needs the endpoint; nothing arrives before both exist.
    const ref: { pool?: SipPool } = {};
    const endpoint = await SipEndpoint.listen({ name: opts.name, onRequest: (req) => (ref.pool ? ref.pool.handle(req) : { status: 503 }) });
    const pool = (ref.pool = new SipPool(opts, endpoint));
    pool.endpoint.on('trace', (t: SipTrace) => pool.emit('trace', t));
    pool.endpoint.on('malformed', (m: unknown) => pool.emit('malformed', m));
    return pool;
  }

  target(transport: SipTransport = 'udp'): SipTarget {
    return this.endpoint.target(transport);
  }

  /** Where requests for non-SfB domains go. Ignored by a pool without an XMPP gateway. */
  setXmppRoute(target: SipTarget | undefined): void {
    this.xmppRoute = target;
  }

  setPeers(pools: SipPool[]): void {
    this.peers = pools.filter((p) => p !== this);
  }

  async stop(): Promise<void> {
    await this.endpoint.close();
    // Work started by answers (echoes, NOTIFYs) fails fast once the endpoint is closed.
    await Promise.allSettled([...this.background]);
    this.watcherDialogs.clear();
    this.subscriptions.clear();
    this.contacts.clear();
  }

  async sendIm(user: string, to: string, body: string, opts?: { subject?: string; callId?: string; lang?: string }): Promise<SipResponse> {
    const home = this.homeOf(user);
    if (home !== this) return home.sendIm(user, to, body, opts);
    const u = this.mustUser(user);
    // A GRUU (`;gr=`, an XMPP resource on the far side) is kept, so the IM reaches one client.
    const gr = /^sips?:/i.test(to) ? parseSipUri(to).params.gr : undefined;
    const uri = gr ? `${toUri(to)};gr=${gr}` : toUri(to);
    const req = buildRequest({
      method: 'MESSAGE',
      uri,
      from: `<${u.uri}>;tag=${newTag()}`,
      to: `<${uri}>`,
      callId: opts?.callId ?? newCallId(this.endpoint.host),
      cseq: this.cseq++,
      headers: { Subject: opts?.subject, 'Content-Language': opts?.lang },
      body,
      contentType: 'text/plain; charset=UTF-8',
    });
    return this.userSend(u, req);
  }

  /** Publishes new state and NOTIFYs every active watcher (on any pool holding the dialog). */
  async setAvailability(user: string, availability: SfbAvailability, note?: string): Promise<void> {
    this.directory.setPresence(this.mustUser(user).name, availability, note);
    await Promise.all([this, ...this.peers].map((p) => p.notifyWatchers(user)));
  }

  async addContact(user: string, contact: string): Promise<SipResponse> {
    const home = this.homeOf(user);
    if (home !== this) return home.addContact(user, contact);
    const u = this.mustUser(user);
    const uri = toUri(contact);
    const sub: Subscription = { user: u.name, contact: uri, callId: newCallId(this.endpoint.host), localTag: newTag(), cseq: 1, state: 'pending' };
    // Registered before sending: the first NOTIFY may overtake the 2xx.
    this.subscriptions.set(dialogKey(sub.callId, sub.localTag), sub);
    this.contacts.set(`${u.name.toLowerCase()}\n${uri}`, sub);
    const res = await this.userSend(u, this.subscribeRequest(u, sub, this.maxExpires));
    if (res.status >= 300) {
      sub.state = 'terminated';
      sub.reason = `${res.status} ${res.reason}`;
    } else if (res.status >= 200) {
      sub.remoteTag ??= tagOf(res.headers.get('To'));
      sub.remoteTarget ??= uriOf(res.headers.get('Contact'));
    }
    return res;
  }

  async removeContact(user: string, contact: string): Promise<void> {
    const home = this.homeOf(user);
    if (home !== this) return home.removeContact(user, contact);
    const u = this.mustUser(user);
    const sub = this.contacts.get(`${u.name.toLowerCase()}\n${toUri(contact)}`);
    if (!sub) throw new XfedError(`${u.name} has no subscription to ${contact}`);
    if (sub.state === 'terminated') return;
    sub.cseq++;
    const res = await this.userSend(u, this.subscribeRequest(u, sub, 0));
    if (res.status < 300) {
      // The final NOTIFY (terminated;reason=...) may come before or after this answer.
      sub.state = 'terminated';
      sub.reason ??= 'removed';
    }
  }

  contactPresence(user: string, contact: string): ContactPresence | undefined {
    const key = `${user.toLowerCase()}\n${toUri(contact)}`;
    for (const pool of [this, ...this.peers]) {
      const sub = pool.contacts.get(key);
      if (sub) {
        const out: ContactPresence = { state: sub.state };
        if (sub.reason !== undefined) out.reason = sub.reason;
        if (sub.presence) out.presence = sub.presence;
        return out;
      }
    }
    return undefined;
  }

  watchers(user: string): string[] {
    const all = [this, ...this.peers].flatMap((p) => p.liveWatchers(user).filter((w) => w.state === 'active'));
    return [...new Set(all.map((w) => w.remoteUri))];
  }

  // ---- requests arriving at the pool ----

  private async handle({ request: req, transport }: IncomingRequest): Promise<SipResponseInit> {
    let ruri: SipUri;
    try {
      ruri = parseSipUri(req.uri);
    } catch {
      return { status: 416 };
    }
    if (!this.isLocal(ruri)) return this.forwardToXmpp(req);
    if (ruri.user === undefined) {
      // Addressed to the pool itself: a keep-alive OPTIONS from a peer or gateway.
      return req.method === 'OPTIONS' ? { status: 200, headers: { Allow: ALLOW } } : { status: 404 };
    }
    const toTag = tagOf(req.headers.get('To'));
    // Dialog-bound requests go to the pool that holds the dialog, whatever the user's home now.
    if (req.method === 'NOTIFY' && toTag) {
      const sub = this.subscriptions.get(dialogKey(req.headers.get('Call-ID') ?? '', toTag));
      if (sub) return this.onNotify(sub, req);
    }
    if (req.method === 'SUBSCRIBE' && toTag) {
      const w = this.findWatcher(req.headers.get('Call-ID') ?? '', toTag);
      if (w) return this.onRefresh(w, req);
    }
    const user = this.directory.get(unescapeSipUser(ruri.user));
    const inDialog = req.method === 'NOTIFY' || (req.method === 'SUBSCRIBE' && toTag !== undefined);
    if (user && user.pool !== this.name) return this.proxyHome(user, req, transport);
    if (inDialog) return { status: 481 };
    if (!user) return this.refuse(404, `no user ${ruri.user}@${this.directory.domain}`);

    const fromUri = uriOf(req.headers.get('From'));
    let fromHost = '';
    try {
      fromHost = fromUri ? parseSipUri(fromUri).host : '';
    } catch {
      // a tel: or other non-SIP From is not SfB either
    }
    const external = !this.directory.isSfbDomain(fromHost);
    if (external) {
      if (!this.hasXmppGateway) return this.refuse(403, `pool ${this.name} has no XMPP gateway`);
      if (!user.xmppAccess) return this.refuse(403, `external access policy of ${user.name} has no EnableXmppAccess`);
    }
    if (user.respondWith !== undefined && ['MESSAGE', 'SUBSCRIBE', 'OPTIONS'].includes(req.method)) {
      return user.respondWith >= 300 ? this.refuse(user.respondWith, `${user.name} is set to answer ${user.respondWith}`) : { status: user.respondWith };
    }
    switch (req.method) {
      case 'MESSAGE':
        return this.onMessage(user, req, external);
      case 'SUBSCRIBE':
        return this.onSubscribe(user, req, transport);
      case 'OPTIONS':
        return this.isOffline(user) ? { status: 480 } : { status: 200, headers: { Allow: ALLOW, Accept: 'text/plain, application/pidf+xml' } };
      default:
        return { status: 405, headers: { Allow: ALLOW } };
    }
  }

  private onMessage(user: SfbUserState, req: SipRequest, external: boolean): SipResponseInit {
    const type = (req.headers.get('Content-Type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'text/plain') return { status: 415, headers: { Accept: 'text/plain' } };
    const status = this.isOffline(user) ? 480 : user.behaviour === 'reject' ? 603 : 200;
    const from = uriOf(req.headers.get('From')) ?? '';
    const event: SipUserEvent = { user: user.name, kind: 'im', from, body: req.body, status, at: Date.now() };
    const subject = req.headers.get('Subject');
    const lang = req.headers.get('Content-Language');
    const callId = req.headers.get('Call-ID');
    if (subject !== undefined) event.subject = subject;
    if (lang !== undefined) event.lang = lang;
    if (callId !== undefined) event.callId = callId;
    this.emit('user-event', event);
    const init: SipResponseInit = { status };
    // Only XMPP senders get an echo: two SfB echo users would otherwise echo each other forever.
    if (status === 200 && user.behaviour === 'echo' && external) init.afterSend = () => this.inBackground(this.echo(user, req, from));
    return init;
  }

  // The echo user answers with the same text, Subject, language and Call-ID (the XMPP thread).
  private async echo(user: SfbUserState, req: SipRequest, to: string): Promise<void> {
    const event: SipUserEvent = { user: user.name, kind: 'echo', from: to, body: req.body, at: 0 };
    try {
      const opts: { subject?: string; callId?: string; lang?: string } = { callId: req.headers.get('Call-ID') ?? newCallId(this.endpoint.host) };
      const subject = req.headers.get('Subject');
      const lang = req.headers.get('Content-Language');
      if (subject !== undefined) opts.subject = subject;
      if (lang !== undefined) opts.lang = lang;
      event.status = (await this.sendIm(user.name, to, req.body, opts)).status;
    } catch (err) {
      event.error = (err as Error).message;
    }
    event.at = Date.now();
    this.emit('user-event', event);
  }

  private onSubscribe(user: SfbUserState, req: SipRequest, transport: SipTransport): SipResponseInit {
    const event = (req.headers.get('Event') ?? '').split(';')[0]!.trim().toLowerCase();
    if (event !== 'presence') return { status: 489, headers: { 'Allow-Events': 'presence' } };
    const expires = this.grantedExpires(req);
    const from = req.headers.get('From') ?? '';
    const localTag = newTag();
    const w: Watcher = {
      user: user.name,
      callId: req.headers.get('Call-ID') ?? '',
      localTag,
      localHeader: `${req.headers.get('To') ?? `<${user.uri}>`};tag=${localTag}`,
      remoteHeader: from,
      remoteUri: uriOf(from) ?? '',
      remoteTarget: uriOf(req.headers.get('Contact')) ?? uriOf(from) ?? '',
      cseq: 0,
      state: user.behaviour === 'silent' ? 'pending' : 'active',
      expiresAt: Date.now() + expires * 1000,
    };
    const ok: SipResponseInit = { status: 202, toTag: localTag, headers: { Contact: `<${this.endpoint.contactUri(user.name, transport)}>`, Expires: String(expires) } };
    // A probe (Expires 0, from an XMPP presence probe) gets one NOTIFY and leaves no subscription;
    // a user who never decides (silent) shows nothing to it.
    const kind: SipUserEventKind = expires === 0 ? 'probe' : 'subscribe';
    const withBody = user.behaviour !== 'reject' && w.state === 'active';
    let state: string;
    if (user.behaviour === 'reject') {
      state = 'terminated;reason=rejected';
    } else if (expires === 0) {
      state = 'terminated;reason=timeout';
    } else {
      this.watcherDialogs.set(dialogKey(w.callId, localTag), w);
      state = `${w.state};expires=${expires}`;
    }
    this.emit('user-event', { user: user.name, kind, from: w.remoteUri, subscriptionState: state, at: Date.now() } satisfies SipUserEvent);
    ok.afterSend = () => this.inBackground(this.notify(w, state, withBody));
    return ok;
  }

  private onRefresh(w: Watcher, req: SipRequest): SipResponseInit {
    const expires = this.grantedExpires(req);
    const user = this.directory.get(w.user);
    if (expires === 0 || !user) {
      this.watcherDialogs.delete(dialogKey(w.callId, w.localTag));
      this.emit('user-event', { user: w.user, kind: 'unsubscribe', from: w.remoteUri, subscriptionState: 'terminated;reason=timeout', at: Date.now() } satisfies SipUserEvent);
      return { status: 200, headers: { Expires: '0' }, afterSend: () => this.inBackground(this.notify(w, 'terminated;reason=timeout', false)) };
    }
    w.expiresAt = Date.now() + expires * 1000;
    const state = `${w.state};expires=${expires}`;
    this.emit('user-event', { user: w.user, kind: 'refresh', from: w.remoteUri, subscriptionState: state, at: Date.now() } satisfies SipUserEvent);
    // RFC 6665 4.2.1.2: a refresh is followed by a NOTIFY with the current state.
    return { status: 200, headers: { Expires: String(expires) }, afterSend: () => this.inBackground(this.notify(w, state, w.state === 'active')) };
  }

  private onNotify(sub: Subscription, req: SipRequest): SipResponseInit {
    const [state = '', ...params] = (req.headers.get('Subscription-State') ?? '').split(';').map((s) => s.trim());
    if (state !== 'active' && state !== 'pending' && state !== 'terminated') {
      return this.refuse(400, `bad Subscription-State "${req.headers.get('Subscription-State') ?? ''}"`);
    }
    let presence: PidfPresence | undefined;
    if (req.body.trim()) {
      try {
        presence = parsePidf(req.body);
      } catch (err) {
        if (err instanceof SipParseError) return this.refuse(400, err.message);
        throw err;
      }
    }
    sub.state = state;
    const reason = params.find((p) => p.toLowerCase().startsWith('reason='))?.slice('reason='.length);
    if (reason !== undefined) sub.reason = reason;
    if (presence) sub.presence = presence;
    sub.remoteTag ??= tagOf(req.headers.get('From'));
    sub.remoteTarget = uriOf(req.headers.get('Contact')) ?? sub.remoteTarget;
    const event: SipUserEvent = { user: sub.user, kind: 'notify', from: sub.contact, subscriptionState: req.headers.get('Subscription-State') ?? '', at: Date.now() };
    if (presence) event.presence = presence;
    this.emit('user-event', event);
    return { status: 200 };
  }

  // ---- routing ----

  private isLocal(u: SipUri): boolean {
    if (this.directory.isSfbDomain(u.host)) return true;
    // A pool's own contact address (in-dialog requests use it as their Request-URI).
    return [this, ...this.peers].some((p) => p.endpoint.host === u.host && p.endpoint.port === (u.port ?? 5060));
  }

  private effectiveXmppRoute(): SipTarget | undefined {
    return this.hasXmppGateway ? this.xmppRoute : undefined;
  }

  private async proxyHome(user: SfbUserState, req: SipRequest, transport: SipTransport): Promise<SipResponseInit> {
    const home = this.peers.find((p) => p.name === user.pool);
    if (!home) return this.refuse(404, `${user.name} is homed on pool ${user.pool}, unknown to ${this.name}`);
    return this.relay(home.target(transport), req, `home pool ${home.name}`);
  }

  private async forwardToXmpp(req: SipRequest): Promise<SipResponseInit> {
    const route = this.effectiveXmppRoute();
    if (!route) return this.refuse(404, `pool ${this.name} has no route to ${req.uri}`);
    return this.relay(route, req, 'the XMPP gateway');
  }

  // Stateful proxying: our Via on top, Max-Forwards down by one, the final response relayed.
  private async relay(target: SipTarget, req: SipRequest, what: string): Promise<SipResponseInit> {
    const maxForwards = Number(req.headers.get('Max-Forwards') ?? '70');
    if (!(maxForwards > 0)) return { status: 483 };
    const headers = req.headers.clone().set('Max-Forwards', String(maxForwards - 1));
    let res: SipResponse;
    try {
      res = await this.endpoint.request(target, { method: req.method, uri: req.uri, headers, body: req.body }, { timeoutMs: this.timeoutMs });
    } catch (err) {
      return this.refuse(err instanceof TimeoutError ? 408 : 503, `${what}: ${(err as Error).message}`);
    }
    const copied: Record<string, string[]> = {};
    const skip = new Set(['Via', 'From', 'To', 'Call-ID', 'CSeq', 'Content-Length', 'Content-Type']);
    for (const [n, v] of res.headers.entries()) if (!skip.has(n)) (copied[n] ??= []).push(v);
    const init: SipResponseInit = { status: res.status, reason: res.reason, headers: copied, body: res.body };
    const type = res.headers.get('Content-Type');
    const toTag = tagOf(res.headers.get('To'));
    if (type) init.contentType = type;
    if (toTag) init.toTag = toTag;
    return init;
  }

  /**
   * Sends what a user originates. Requests the deployment could never route (no XMPP gateway,
   * no policy, no route) fail here without touching the network, with a response made up and
   * traced as synthetic, the way the SfB client shows a local failure.
   */
  private async userSend(user: SfbUserState, req: SipRequest): Promise<SipResponse> {
    const uri = parseSipUri(req.uri);
    let target: SipTarget | undefined;
    let refusal: [number, string] | undefined;
    if (this.directory.isSfbDomain(uri.host)) {
      const home = [this, ...this.peers].find((p) => p.name === this.directory.get(unescapeSipUser(uri.user ?? ''))?.pool) ?? this;
      target = home.target();
    } else if (/^\d{1,3}(\.\d{1,3}){3}$/.test(uri.host)) {
      // An IP-literal contact (a dialog's remote target): sent there directly.
      target = { host: uri.host, port: uri.port ?? 5060, transport: uri.params.transport === 'tcp' ? 'tcp' : 'udp' };
    } else if (!this.hasXmppGateway) {
      refusal = [404, `pool ${this.name} has no XMPP gateway`];
    } else if (!user.xmppAccess) {
      refusal = [403, `external access policy of ${user.name} has no EnableXmppAccess`];
    } else if (!this.xmppRoute) {
      refusal = [404, `pool ${this.name} has no XMPP route`];
    } else {
      target = this.xmppRoute;
    }
    if (!target) {
      const [status, why] = refusal!;
      const res = buildResponse(req, { status, headers: { Warning: this.warning(why) } });
      this.endpoint.traceSynthetic('out', req, why);
      this.endpoint.traceSynthetic('in', res, why);
      return res;
    }
    return this.endpoint.request(target, req, { timeoutMs: this.timeoutMs });
  }

  private subscribeRequest(user: SfbUserState, sub: Subscription, expires: number): SipRequest {
    return buildRequest({
      method: 'SUBSCRIBE',
      uri: sub.remoteTarget ?? sub.contact,
      from: `<${user.uri}>;tag=${sub.localTag}`,
      to: sub.remoteTag ? `<${sub.contact}>;tag=${sub.remoteTag}` : `<${sub.contact}>`,
      callId: sub.callId,
      cseq: sub.cseq,
      contact: `<${this.endpoint.contactUri(user.name)}>`,
      headers: { Event: 'presence', Accept: 'application/pidf+xml', Expires: String(expires) },
    });
  }

  // ---- notifier side ----

  private async notify(w: Watcher, state: string, withBody: boolean): Promise<void> {
    const user = this.directory.get(w.user);
    const req = buildRequest({
      method: 'NOTIFY',
      uri: w.remoteTarget,
      from: w.localHeader,
      to: w.remoteHeader,
      callId: w.callId,
      cseq: ++w.cseq,
      contact: `<${this.endpoint.contactUri(w.user)}>`,
      headers: { Event: 'presence', 'Subscription-State': state },
      body: withBody && user ? buildPidf(this.presenceOf(user)) : '',
      contentType: withBody && user ? 'application/pidf+xml' : undefined,
    });
    const key = dialogKey(w.callId, w.localTag);
    try {
      const res = await this.userSend(user ?? this.mustUser(w.user), req);
      // RFC 6665 4.2.2: a NOTIFY refused or lost ends the subscription.
      if (res.status >= 300) this.watcherDialogs.delete(key);
    } catch {
      this.watcherDialogs.delete(key);
    }
  }

  private async notifyWatchers(user: string): Promise<void> {
    const watchers = this.liveWatchers(user).filter((w) => w.state === 'active');
    await Promise.all(watchers.map((w) => this.notify(w, `active;expires=${Math.max(0, Math.round((w.expiresAt - Date.now()) / 1000))}`, true)));
  }

  private presenceOf(user: SfbUserState): PidfPresence {
    const mapped = this.isOffline(user) ? { basic: 'closed' as const } : this.showMapping[user.availability];
    const p: PidfPresence = { entity: user.uri, basic: mapped.basic };
    if (mapped.show) p.show = mapped.show;
    if (user.note !== undefined) p.note = user.note;
    return p;
  }

  // Subscriptions lapse lazily: an expired one is dropped when next looked at.
  private liveWatchers(user: string): Watcher[] {
    const now = Date.now();
    const out: Watcher[] = [];
    for (const [k, w] of this.watcherDialogs) {
      if (w.expiresAt <= now) this.watcherDialogs.delete(k);
      else if (w.user.toLowerCase() === user.toLowerCase()) out.push(w);
    }
    return out;
  }

  private findWatcher(callId: string, localTag: string): Watcher | undefined {
    const key = dialogKey(callId, localTag);
    const w = this.watcherDialogs.get(key);
    if (w && w.expiresAt <= Date.now()) {
      this.watcherDialogs.delete(key);
      return undefined;
    }
    return w;
  }

  // ---- helpers ----

  private grantedExpires(req: SipRequest): number {
    const raw = req.headers.get('Expires');
    const asked = raw !== undefined && /^\d+$/.test(raw.trim()) ? Number(raw) : this.maxExpires;
    return Math.min(asked, this.maxExpires);
  }

  private isOffline(user: SfbUserState): boolean {
    return user.behaviour === 'offline' || user.availability === 'Offline';
  }

  private refuse(status: number, why: string): SipResponseInit {
    return { status, headers: { Warning: this.warning(why) } };
  }

  private warning(why: string): string {
    return `399 ${this.name}.${this.directory.domain} "${why.replace(/["\\\r\n]/g, ' ')}"`;
  }

  private mustUser(name: string): SfbUserState {
    const user = this.directory.get(name);
    if (!user) throw new XfedError(`no SfB user ${name}@${this.directory.domain}`);
    return user;
  }

  // A user acts through his home pool, as his client is registered there.
  private homeOf(name: string): SipPool {
    const user = this.mustUser(name);
    const home = [this, ...this.peers].find((p) => p.name === user.pool);
    if (!home) throw new XfedError(`${name} is homed on pool ${user.pool}, which is not running beside ${this.name}`);
    return home;
  }

  private inBackground(work: Promise<unknown>): void {
    const p = work.catch(() => undefined).finally(() => this.background.delete(p));
    this.background.add(p);
  }
}
