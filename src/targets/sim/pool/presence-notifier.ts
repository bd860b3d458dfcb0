import type { ShowMapping } from '../../../sfb/availability.js';
import { buildRequest, type SipResponseInit, type SipTransport } from '../../../sip/endpoint.js';
import { newTag, parseSipUri, uriOf, type SipRequest } from '../../../sip/message.js';
import { buildPidf, type PidfPresence } from '../../../sip/pidf.js';
import type { SfbUserState } from './directory.js';
import { dialogKey, isOffline, toUri, type HomePool } from './home-pool.js';
import type { SipUserEvent, SipUserEventKind } from './user-event.js';

/** A subscription to one of the pool's users: the pool is the notifier. */
export interface Watcher {
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

/** The subscription lifetimes the pool grants, seconds (Set-CsUserServicesConfiguration). */
export interface SubscriptionExpiry {
  /** Granted when the SUBSCRIBE asks none (DefaultSubscriptionExpiration). */
  default: number;
  /** A shorter request is granted this (MinSubscriptionExpiration). */
  min: number;
  /** A longer request is granted this (MaxSubscriptionExpiration). */
  max: number;
}

/**
 * Set-CsUserServicesConfiguration's defaults, or with `shortened` (a suite's
 * `subscriptionExpires`, so tests see refreshes) that as the default, the minimum lowered to it.
 */
export function subscriptionExpiry(shortened?: number): SubscriptionExpiry {
  const documented = { default: 28_800, min: 1_200, max: 43_200 };
  if (shortened === undefined) return documented;
  return { default: shortened, min: Math.min(documented.min, shortened), max: Math.max(documented.max, shortened) };
}

type Authorization = 'active' | 'pending' | 'rejected';

const hostOf = (uri: string): string => {
  try {
    return parseSipUri(uri).host;
  } catch {
    return '';
  }
};

/**
 * The pool's users as presentities (RFC 6665, RFC 3856): watcher dialogs, the NOTIFY after each
 * SUBSCRIBE or refresh, and one to every active watcher when a user's state changes.
 */
export class PresenceNotifier {
  private readonly dialogs = new Map<string, Watcher>();

  constructor(
    private readonly pool: HomePool,
    private readonly showMapping: ShowMapping,
    private readonly expiry: SubscriptionExpiry,
  ) {}

  onSubscribe(user: SfbUserState, req: SipRequest, transport: SipTransport): SipResponseInit {
    const event = (req.headers.get('Event') ?? '').split(';')[0]!.trim().toLowerCase();
    if (event !== 'presence') return { status: 489, headers: { 'Allow-Events': 'presence' } };
    const expires = this.grantedExpires(req);
    const from = req.headers.get('From') ?? '';
    const localTag = newTag();
    const remoteUri = uriOf(from) ?? '';
    const authorization = this.authorize(user, remoteUri);
    const w: Watcher = {
      user: user.name,
      callId: req.headers.get('Call-ID') ?? '',
      localTag,
      localHeader: `${req.headers.get('To') ?? `<${user.uri}>`};tag=${localTag}`,
      remoteHeader: from,
      remoteUri,
      remoteTarget: uriOf(req.headers.get('Contact')) ?? remoteUri,
      cseq: 0,
      state: authorization === 'pending' ? 'pending' : 'active',
      expiresAt: Date.now() + expires * 1000,
    };
    const ok: SipResponseInit = {
      status: 202,
      toTag: localTag,
      headers: { Contact: `<${this.pool.endpoint.contactUri(user.name, transport)}>`, Expires: String(expires) },
    };
    // A probe (Expires 0, from an XMPP presence probe) gets one NOTIFY and leaves no subscription
    // (RFC 6665 4.4.3); a watcher not (yet) authorized sees nothing in it.
    const kind: SipUserEventKind = expires === 0 ? 'probe' : 'subscribe';
    const withBody = authorization === 'active';
    let state: string;
    if (authorization === 'rejected') {
      state = 'terminated;reason=rejected';
    } else if (expires === 0) {
      this.pool.cite('presence.pool-probe-answer');
      state = 'terminated;reason=timeout';
    } else {
      this.dialogs.set(dialogKey(w.callId, localTag), w);
      state = `${w.state};expires=${expires}`;
    }
    this.pool.userEvent({ user: user.name, kind, from: w.remoteUri, subscriptionState: state, at: Date.now() } satisfies SipUserEvent);
    ok.afterSend = () => this.pool.inBackground(this.notify(w, state, withBody));
    return ok;
  }

  onRefresh(w: Watcher, req: SipRequest): SipResponseInit {
    const expires = this.grantedExpires(req);
    const user = this.pool.directory.get(w.user);
    if (expires === 0 || !user) {
      this.dialogs.delete(dialogKey(w.callId, w.localTag));
      this.pool.userEvent({
        user: w.user,
        kind: 'unsubscribe',
        from: w.remoteUri,
        subscriptionState: 'terminated;reason=timeout',
        at: Date.now(),
      } satisfies SipUserEvent);
      return { status: 200, headers: { Expires: '0' }, afterSend: () => this.pool.inBackground(this.notify(w, 'terminated;reason=timeout', false)) };
    }
    w.expiresAt = Date.now() + expires * 1000;
    const state = `${w.state};expires=${expires}`;
    this.pool.userEvent({ user: w.user, kind: 'refresh', from: w.remoteUri, subscriptionState: state, at: Date.now() } satisfies SipUserEvent);
    // RFC 6665 4.2.1.2: a refresh is followed by a NOTIFY with the current state.
    this.pool.cite('presence.pool-refresh-notify');
    return { status: 200, headers: { Expires: String(expires) }, afterSend: () => this.pool.inBackground(this.notify(w, state, w.state === 'active')) };
  }

  async notifyWatchers(user: string): Promise<void> {
    const watchers = this.liveWatchers(user).filter((w) => w.state === 'active');
    await Promise.all(watchers.map((w) => this.notify(w, `active;expires=${Math.max(0, Math.round((w.expiresAt - Date.now()) / 1000))}`, true)));
  }

  /**
   * Ends the subscriptions to `user` that `which` selects, with a NOTIFY terminated;reason=`reason`
   * (RFC 6665 4.1.3: deactivated when the user moves to another pool, rejected when a policy no
   * longer allows the watcher); resolves when the watchers have answered.
   */
  async end(user: string, reason: 'deactivated' | 'rejected', which: (w: Watcher) => boolean): Promise<void> {
    const ended = this.liveWatchers(user).filter(which);
    if (ended.length === 0) return;
    this.pool.cite(reason === 'deactivated' ? 'presence.moved-user-deactivated' : 'presence.policy-revoked-rejected');
    const state = `terminated;reason=${reason}`;
    for (const w of ended) {
      this.dialogs.delete(dialogKey(w.callId, w.localTag));
      this.pool.userEvent({ user: w.user, kind: 'unsubscribe', from: w.remoteUri, subscriptionState: state, at: Date.now() } satisfies SipUserEvent);
    }
    await Promise.all(ended.map((w) => this.notify(w, state, false)));
  }

  // Subscriptions lapse lazily: an expired one is dropped when next looked at.
  liveWatchers(user: string): Watcher[] {
    const now = Date.now();
    const out: Watcher[] = [];
    for (const [k, w] of this.dialogs) {
      if (w.expiresAt <= now) this.dialogs.delete(k);
      else if (w.user.toLowerCase() === user.toLowerCase()) out.push(w);
    }
    return out;
  }

  findWatcher(callId: string, localTag: string): Watcher | undefined {
    const key = dialogKey(callId, localTag);
    const w = this.dialogs.get(key);
    if (w && w.expiresAt <= Date.now()) {
      this.dialogs.delete(key);
      return undefined;
    }
    return w;
  }

  clear(): void {
    this.dialogs.clear();
  }

  /**
   * Who may see `user`: a user who blocked the watcher ('reject') never; an XMPP partner user by
   * his partner's type (docs/sfb-xmpp-federation.md section 3); anyone else as the user decides.
   */
  private authorize(user: SfbUserState, watcherUri: string): Authorization {
    if (user.behaviour === 'reject') {
      this.pool.cite('partner-types.blocked-contact');
      return 'rejected';
    }
    const host = hostOf(watcherUri);
    if (host && !this.pool.directory.isSfbDomain(host)) {
      switch (this.pool.partnerTypeOf(host)) {
        case 'Federated':
          this.pool.cite('partner-types.federated-no-approval');
          return 'active';
        case 'PublicVerified':
          this.pool.cite('partner-types.public-verified-no-approval');
          return 'active';
        case 'PublicUnverified':
          if (!this.pool.hasContact(user.name, toUri(watcherUri))) {
            this.pool.cite('partner-types.public-unverified-needs-contact');
            return 'pending';
          }
          this.pool.cite('partner-types.public-unverified-added-authorizes');
          return 'active';
      }
    }
    return user.behaviour === 'silent' ? 'pending' : 'active';
  }

  private async notify(w: Watcher, state: string, withBody: boolean): Promise<void> {
    const user = this.pool.directory.get(w.user);
    const req = buildRequest({
      method: 'NOTIFY',
      uri: w.remoteTarget,
      from: w.localHeader,
      to: w.remoteHeader,
      callId: w.callId,
      cseq: ++w.cseq,
      contact: `<${this.pool.endpoint.contactUri(w.user)}>`,
      headers: { Event: 'presence', 'Subscription-State': state },
      body: withBody && user ? buildPidf(this.presenceOf(user)) : '',
      contentType: withBody && user ? 'application/pidf+xml' : undefined,
    });
    const key = dialogKey(w.callId, w.localTag);
    try {
      const res = await this.pool.userSend(user ?? this.pool.mustUser(w.user), req);
      // RFC 6665 4.2.2: a NOTIFY refused or lost ends the subscription.
      if (res.status >= 300 && this.dialogs.delete(key)) this.pool.cite('presence.pool-notify-refused-ends');
    } catch {
      this.dialogs.delete(key);
    }
  }

  private presenceOf(user: SfbUserState): PidfPresence {
    this.pool.cite('presence.availability-mapping');
    const mapped = isOffline(user) ? { basic: 'closed' as const } : this.showMapping[user.availability];
    const p: PidfPresence = { entity: user.uri, basic: mapped.basic };
    if (mapped.show) p.show = mapped.show;
    if (user.note !== undefined) p.note = user.note;
    return p;
  }

  /** Set-CsUserServicesConfiguration: none asked is the default, less the minimum, more the maximum; 0 is a probe. */
  private grantedExpires(req: SipRequest): number {
    const raw = req.headers.get('Expires');
    if (raw === undefined || !/^\d+$/.test(raw.trim())) {
      this.pool.cite('presence.pool-subscription-expiry');
      return this.expiry.default;
    }
    const asked = Number(raw);
    if (asked === 0) return 0;
    const granted = Math.min(Math.max(asked, this.expiry.min), this.expiry.max);
    if (granted !== asked) this.pool.cite('presence.pool-subscription-expiry');
    return granted;
  }
}
