import { EventEmitter } from 'node:events';
import { TimeoutError, XfedError } from '../../../errors.js';
import { DEFAULT_SHOW_MAPPING, type SfbAvailability, type ShowMapping } from '../../../sfb/availability.js';
import { unescapeSipUser } from '../../../sip/escape.js';
import {
  SipEndpoint,
  buildResponse,
  type IncomingRequest,
  type SipResponseInit,
  type SipTarget,
  type SipTrace,
  type SipTransport,
} from '../../../sip/endpoint.js';
import type { Cite } from '../../../sfb/behaviours/log.js';
import type { PartnerType } from '../../../sfb/partner-profile.js';
import { parseSipUri, tagOf, uriOf, type SipRequest, type SipResponse, type SipUri } from '../../../sip/message.js';
import { Contacts, type ContactPresence } from './contacts.js';
import type { DirectoryChange, SfbDirectory, SfbUserState } from './directory.js';
import { isOffline, type HomePool, type ImOptions } from './home-pool.js';
import { PresenceNotifier, subscriptionExpiry } from './presence-notifier.js';
import { ScriptedUsers } from './scripted-users.js';

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
  /**
   * Subscription lifetime, seconds: granted by default and asked by the pool's users. Unset, the
   * documented 28800 (min 1200, max 43200); shorter, it lowers the minimum too (tests see refreshes).
   */
  subscriptionExpires?: number;
  /** The PartnerType of an XMPP domain in the allowed-partner list (the Edge's, as steps change it). */
  partnerTypeOf?: (domain: string) => PartnerType | undefined;
  /** Bound of every request the pool sends (default 8000 ms). */
  requestTimeoutMs?: number;
  /** Says which catalogue behaviour the pool applies (docs/sfb-behaviours.md). */
  cite?: Cite;
}

const ALLOW = 'MESSAGE, SUBSCRIBE, NOTIFY, OPTIONS';

/** The pool's routing; what its users do is in scripted-users.ts, presence-notifier.ts and contacts.ts. */
export class SipPool extends EventEmitter {
  readonly name: string;
  readonly directory: SfbDirectory;
  readonly hasXmppGateway: boolean;
  readonly cite: Cite;
  private readonly timeoutMs: number;
  private xmppRoute: SipTarget | undefined;
  private peers: SipPool[] = [];
  private readonly users: ScriptedUsers;
  private readonly notifier: PresenceNotifier;
  private readonly contacts: Contacts;
  private readonly background = new Set<Promise<unknown>>();
  private readonly unlisten: () => void;

  private constructor(
    opts: SipPoolOptions,
    readonly endpoint: SipEndpoint,
  ) {
    super();
    this.name = opts.name;
    this.directory = opts.directory;
    this.hasXmppGateway = opts.hasXmppGateway;
    this.cite = opts.cite ?? (() => {});
    this.timeoutMs = opts.requestTimeoutMs ?? 8_000;
    const expiry = subscriptionExpiry(opts.subscriptionExpires);
    const partnerTypeOf = opts.partnerTypeOf ?? (() => undefined);
    const home: HomePool = {
      directory: this.directory,
      endpoint,
      userSend: (user, req) => this.userSend(user, req),
      sendIm: (user, to, body, o) => this.sendIm(user, to, body, o),
      addContact: (user, contact) => this.addContact(user, contact),
      hasContact: (user, contactUri) => [this, ...this.peers].some((p) => p.contacts.has(user, contactUri)),
      partnerTypeOf: (domain) => partnerTypeOf(domain.toLowerCase()),
      userEvent: (event) => this.emit('user-event', event),
      inBackground: (work) => this.inBackground(work),
      refuse: (status, why) => this.refuse(status, why),
      mustUser: (name) => this.mustUser(name),
      cite: this.cite,
    };
    this.users = new ScriptedUsers(home);
    this.notifier = new PresenceNotifier(home, opts.showMapping ?? DEFAULT_SHOW_MAPPING, expiry);
    this.contacts = new Contacts(home, expiry.default);
    this.unlisten = this.directory.onChange((change) => this.onDirectoryChange(change));
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
    this.unlisten();
    await this.endpoint.close();
    // Work started by answers (echoes, NOTIFYs) fails fast once the endpoint is closed.
    await Promise.allSettled([...this.background]);
    this.notifier.clear();
    this.contacts.clear();
  }

  async sendIm(user: string, to: string, body: string, opts?: ImOptions): Promise<SipResponse> {
    const home = this.homeOf(user);
    if (home !== this) return home.sendIm(user, to, body, opts);
    return this.users.sendIm(this.mustUser(user), to, body, opts);
  }

  /** Publishes new state and NOTIFYs every active watcher (on any pool holding the dialog). */
  async setAvailability(user: string, availability: SfbAvailability, note?: string): Promise<void> {
    await this.users.setAvailability(
      user,
      availability,
      note,
      [this, ...this.peers].map((p) => p.notifier),
    );
  }

  async addContact(user: string, contact: string): Promise<SipResponse> {
    const home = this.homeOf(user);
    if (home !== this) return home.addContact(user, contact);
    return this.contacts.add(this.mustUser(user), contact);
  }

  async removeContact(user: string, contact: string): Promise<void> {
    const home = this.homeOf(user);
    if (home !== this) return home.removeContact(user, contact);
    return this.contacts.remove(this.mustUser(user), contact);
  }

  contactPresence(user: string, contact: string): ContactPresence | undefined {
    for (const pool of [this, ...this.peers]) {
      const known = pool.contacts.presenceOf(user, contact);
      if (known) return known;
    }
    return undefined;
  }

  watchers(user: string): string[] {
    const all = [this, ...this.peers].flatMap((p) => p.notifier.liveWatchers(user).filter((w) => w.state === 'active'));
    return [...new Set(all.map((w) => w.remoteUri))];
  }

  // ---- the directory changes ----

  /**
   * A user moved away from this pool: his watchers' subscriptions end as deactivated (RFC 6665
   * 4.1.3, a subscription moving to another node) and his own contacts subscribe again from his new
   * home. His policy changed on his home pool: XMPP watchers no longer allowed end as rejected, and
   * his XMPP contacts subscribe again under the new policy.
   */
  private async onDirectoryChange(change: DirectoryChange): Promise<void> {
    const external = (uri: string) => {
      try {
        return !this.directory.isSfbDomain(parseSipUri(uri).host);
      } catch {
        return false;
      }
    };
    if (change.kind === 'moved') {
      if (change.from !== this.name) return;
      await Promise.all([this.notifier.end(change.user, 'deactivated', () => true), this.contacts.resubscribe(change.user, () => true)]);
      return;
    }
    if (this.directory.get(change.user)?.pool !== this.name) return;
    await Promise.all([
      change.enabled ? Promise.resolve() : this.notifier.end(change.user, 'rejected', (w) => external(w.remoteUri)),
      this.contacts.resubscribe(change.user, external),
    ]);
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
      const sub = this.contacts.dialog(req.headers.get('Call-ID') ?? '', toTag);
      if (sub) return this.contacts.onNotify(sub, req);
    }
    if (req.method === 'SUBSCRIBE' && toTag) {
      const w = this.notifier.findWatcher(req.headers.get('Call-ID') ?? '', toTag);
      if (w) return this.notifier.onRefresh(w, req);
    }
    const user = this.directory.at(unescapeSipUser(ruri.user), ruri.host);
    const inDialog = req.method === 'NOTIFY' || (req.method === 'SUBSCRIBE' && toTag !== undefined);
    if (user && user.pool !== this.name) return this.proxyHome(user, req, transport);
    if (inDialog) return { status: 481 };
    if (!user) return this.refuse(404, `no user ${ruri.user}@${ruri.host}`);

    const fromUri = uriOf(req.headers.get('From'));
    let fromHost = '';
    try {
      fromHost = fromUri ? parseSipUri(fromUri).host : '';
    } catch {
      // a tel: or other non-SIP From is not SfB either
    }
    const external = !this.directory.isSfbDomain(fromHost);
    if (external) {
      if (!this.hasXmppGateway) {
        this.cite('migration.user-on-2019-pool');
        return this.refuse(403, `pool ${this.name} has no XMPP gateway`);
      }
      if (!user.xmppAccess) {
        this.cite('migration.xmpp-access-required');
        return this.refuse(403, `external access policy of ${user.name} has no EnableXmppAccess`);
      }
    }
    if (user.respondWith !== undefined && ['MESSAGE', 'SUBSCRIBE', 'OPTIONS'].includes(req.method)) {
      return user.respondWith >= 300 ? this.refuse(user.respondWith, `${user.name} is set to answer ${user.respondWith}`) : { status: user.respondWith };
    }
    switch (req.method) {
      case 'MESSAGE':
        return this.users.onMessage(user, req, external);
      case 'SUBSCRIBE':
        return this.notifier.onSubscribe(user, req, transport);
      case 'OPTIONS':
        return isOffline(user) ? { status: 480 } : { status: 200, headers: { Allow: ALLOW, Accept: 'text/plain, application/pidf+xml' } };
      default:
        return { status: 405, headers: { Allow: ALLOW } };
    }
  }

  // ---- routing ----

  private isLocal(u: SipUri): boolean {
    if (this.directory.isSfbDomain(u.host)) return true;
    // A pool's own contact address (in-dialog requests use it as their Request-URI).
    return [this, ...this.peers].some((p) => p.endpoint.host === u.host && p.endpoint.port === (u.port ?? 5060));
  }

  private async proxyHome(user: SfbUserState, req: SipRequest, transport: SipTransport): Promise<SipResponseInit> {
    const home = this.peers.find((p) => p.name === user.pool);
    if (!home) return this.refuse(404, `${user.name} is homed on pool ${user.pool}, unknown to ${this.name}`);
    return this.relay(home.target(transport), req, `home pool ${home.name}`);
  }

  private async forwardToXmpp(req: SipRequest): Promise<SipResponseInit> {
    const route = this.hasXmppGateway ? this.xmppRoute : undefined;
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
      const home = [this, ...this.peers].find((p) => p.name === this.directory.at(unescapeSipUser(uri.user ?? ''), uri.host)?.pool) ?? this;
      target = home.target();
    } else if (/^\d{1,3}(\.\d{1,3}){3}$/.test(uri.host)) {
      // An IP-literal contact (a dialog's remote target): sent there directly.
      target = { host: uri.host, port: uri.port ?? 5060, transport: uri.params.transport === 'tcp' ? 'tcp' : 'udp' };
    } else if (!this.hasXmppGateway) {
      this.cite('migration.user-on-2019-pool');
      refusal = [404, `pool ${this.name} has no XMPP gateway`];
    } else if (!user.xmppAccess) {
      this.cite('migration.xmpp-access-required');
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
