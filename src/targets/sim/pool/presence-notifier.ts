import type { ShowMapping } from '../../../sfb/availability.js';
import { buildRequest, type SipResponseInit, type SipTransport } from '../../../sip/endpoint.js';
import { newTag, uriOf, type SipRequest } from '../../../sip/message.js';
import { buildPidf, type PidfPresence } from '../../../sip/pidf.js';
import type { SfbUserState } from './directory.js';
import { dialogKey, isOffline, type HomePool } from './home-pool.js';
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

/**
 * The pool's users as presentities (RFC 6665, RFC 3856): watcher dialogs, the NOTIFY after each
 * SUBSCRIBE or refresh, and one to every active watcher when a user's state changes.
 */
export class PresenceNotifier {
  private readonly dialogs = new Map<string, Watcher>();

  constructor(
    private readonly pool: HomePool,
    private readonly showMapping: ShowMapping,
    /** Longest subscription granted, seconds. */
    private readonly maxExpires: number,
  ) {}

  onSubscribe(user: SfbUserState, req: SipRequest, transport: SipTransport): SipResponseInit {
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
    const ok: SipResponseInit = {
      status: 202,
      toTag: localTag,
      headers: { Contact: `<${this.pool.endpoint.contactUri(user.name, transport)}>`, Expires: String(expires) },
    };
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
    return { status: 200, headers: { Expires: String(expires) }, afterSend: () => this.pool.inBackground(this.notify(w, state, w.state === 'active')) };
  }

  async notifyWatchers(user: string): Promise<void> {
    const watchers = this.liveWatchers(user).filter((w) => w.state === 'active');
    await Promise.all(watchers.map((w) => this.notify(w, `active;expires=${Math.max(0, Math.round((w.expiresAt - Date.now()) / 1000))}`, true)));
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
      if (res.status >= 300) this.dialogs.delete(key);
    } catch {
      this.dialogs.delete(key);
    }
  }

  private presenceOf(user: SfbUserState): PidfPresence {
    const mapped = isOffline(user) ? { basic: 'closed' as const } : this.showMapping[user.availability];
    const p: PidfPresence = { entity: user.uri, basic: mapped.basic };
    if (mapped.show) p.show = mapped.show;
    if (user.note !== undefined) p.note = user.note;
    return p;
  }

  private grantedExpires(req: SipRequest): number {
    const raw = req.headers.get('Expires');
    const asked = raw !== undefined && /^\d+$/.test(raw.trim()) ? Number(raw) : this.maxExpires;
    return Math.min(asked, this.maxExpires);
  }
}
