import { buildRequest, type SipResponseInit } from '../../../sip/endpoint.js';
import { SipParseError, newCallId, newTag, tagOf, uriOf, type SipRequest, type SipResponse } from '../../../sip/message.js';
import { parsePidf, type PidfPresence } from '../../../sip/pidf.js';
import { XfedError } from '../../../errors.js';
import type { SfbUserState } from './directory.js';
import { dialogKey, toUri, type HomePool } from './home-pool.js';
import type { SipUserEvent } from './user-event.js';

export interface ContactPresence {
  state: 'active' | 'pending' | 'terminated';
  reason?: string;
  presence?: PidfPresence;
}

/** A subscription a user of the pool made with addContact: the pool is the subscriber. */
export interface Subscription extends ContactPresence {
  user: string;
  contact: string;
  callId: string;
  localTag: string;
  remoteTag?: string;
  remoteTarget?: string;
  cseq: number;
  /** The user took the contact off his list. */
  removed?: boolean;
  refresh?: NodeJS.Timeout;
}

const contactKey = (user: string, contactUri: string) => `${user.toLowerCase()}\n${contactUri}`;

/** The contacts the pool's users added: their SUBSCRIBEs, kept fresh, and what the NOTIFYs say of each contact. */
export class Contacts {
  private readonly dialogs = new Map<string, Subscription>();
  private readonly byContact = new Map<string, Subscription>();

  constructor(
    private readonly pool: HomePool,
    /** Expires of the SUBSCRIBEs sent, seconds. */
    private readonly expires: number,
  ) {}

  async add(u: SfbUserState, contact: string): Promise<SipResponse> {
    const uri = toUri(contact);
    const previous = this.byContact.get(contactKey(u.name, uri));
    if (previous) clearTimeout(previous.refresh);
    const sub: Subscription = { user: u.name, contact: uri, callId: newCallId(this.pool.endpoint.host), localTag: newTag(), cseq: 1, state: 'pending' };
    // Registered before sending: the first NOTIFY may overtake the 2xx.
    this.dialogs.set(dialogKey(sub.callId, sub.localTag), sub);
    this.byContact.set(contactKey(u.name, uri), sub);
    const res = await this.pool.userSend(u, this.subscribeRequest(u, sub, this.expires));
    if (res.status >= 300) {
      sub.state = 'terminated';
      sub.reason = `${res.status} ${res.reason}`;
    } else if (res.status >= 200) {
      sub.remoteTag ??= tagOf(res.headers.get('To'));
      sub.remoteTarget ??= uriOf(res.headers.get('Contact'));
      this.scheduleRefresh(sub, res);
    }
    return res;
  }

  async remove(u: SfbUserState, contact: string): Promise<void> {
    const sub = this.byContact.get(contactKey(u.name, toUri(contact)));
    if (!sub) throw new XfedError(`${u.name} has no subscription to ${contact}`);
    sub.removed = true;
    clearTimeout(sub.refresh);
    if (sub.state === 'terminated') return;
    if (await this.unsubscribe(u, sub)) sub.reason ??= 'removed';
  }

  /**
   * The user's client subscribes again to the contacts `which` selects, through his home pool
   * (after a Move-CsUser, or a change of his external access policy): the dialogs held here end
   * (Expires 0) and the new ones follow the deployment's rules from the new home.
   */
  async resubscribe(user: string, which: (contactUri: string) => boolean): Promise<void> {
    const subs = [...this.byContact.values()].filter((s) => s.user.toLowerCase() === user.toLowerCase() && !s.removed && which(s.contact));
    if (subs.length === 0) return;
    this.pool.cite('presence.moved-user-contacts');
    for (const sub of subs) {
      clearTimeout(sub.refresh);
      this.byContact.delete(contactKey(sub.user, sub.contact));
      // The final NOTIFY of the ended dialog still finds it (dialogs), and drops it.
      if (sub.state !== 'terminated') await this.unsubscribe(this.pool.mustUser(sub.user), sub).catch(() => undefined);
      await this.pool.addContact(sub.user, sub.contact);
    }
  }

  /** What `user` knows of `contact`, if he subscribed through this pool. */
  presenceOf(user: string, contact: string): ContactPresence | undefined {
    const sub = this.byContact.get(contactKey(user, toUri(contact)));
    if (!sub) return undefined;
    const out: ContactPresence = { state: sub.state };
    if (sub.reason !== undefined) out.reason = sub.reason;
    if (sub.presence) out.presence = sub.presence;
    return out;
  }

  /** Whether `user` added `contactUri` (normalised) here and has not removed it. */
  has(user: string, contactUri: string): boolean {
    const sub = this.byContact.get(contactKey(user, contactUri));
    return sub !== undefined && !sub.removed;
  }

  dialog(callId: string, localTag: string): Subscription | undefined {
    return this.dialogs.get(dialogKey(callId, localTag));
  }

  onNotify(sub: Subscription, req: SipRequest): SipResponseInit {
    const [state = '', ...params] = (req.headers.get('Subscription-State') ?? '').split(';').map((s) => s.trim());
    if (state !== 'active' && state !== 'pending' && state !== 'terminated') {
      return this.pool.refuse(400, `bad Subscription-State "${req.headers.get('Subscription-State') ?? ''}"`);
    }
    let presence: PidfPresence | undefined;
    if (req.body.trim()) {
      try {
        presence = parsePidf(req.body);
      } catch (err) {
        if (err instanceof SipParseError) return this.pool.refuse(400, err.message);
        throw err;
      }
    }
    sub.state = state;
    const reason = params.find((p) => p.toLowerCase().startsWith('reason='))?.slice('reason='.length);
    if (reason !== undefined) sub.reason = reason;
    if (presence) sub.presence = presence;
    sub.remoteTag ??= tagOf(req.headers.get('From'));
    sub.remoteTarget = uriOf(req.headers.get('Contact')) ?? sub.remoteTarget;
    if (state === 'terminated') {
      clearTimeout(sub.refresh);
      if (this.byContact.get(contactKey(sub.user, sub.contact)) !== sub) this.dialogs.delete(dialogKey(sub.callId, sub.localTag));
    }
    const event: SipUserEvent = {
      user: sub.user,
      kind: 'notify',
      from: sub.contact,
      subscriptionState: req.headers.get('Subscription-State') ?? '',
      at: Date.now(),
    };
    if (presence) event.presence = presence;
    this.pool.userEvent(event);
    return { status: 200 };
  }

  clear(): void {
    for (const sub of this.byContact.values()) clearTimeout(sub.refresh);
    this.dialogs.clear();
    this.byContact.clear();
  }

  /** Ends the dialog (Expires 0); true when the notifier took it. */
  private async unsubscribe(u: SfbUserState, sub: Subscription): Promise<boolean> {
    sub.cseq++;
    const res = await this.pool.userSend(u, this.subscribeRequest(u, sub, 0));
    if (res.status >= 300) return false;
    // The final NOTIFY (terminated;reason=...) may come before or after this answer.
    sub.state = 'terminated';
    return true;
  }

  /** The client refreshes before expiry (RFC 6665 4.1.2.2), at four fifths of what was granted. */
  private scheduleRefresh(sub: Subscription, res: SipResponse): void {
    const granted = Number(res.headers.get('Expires') ?? this.expires);
    if (!(granted > 0)) return;
    clearTimeout(sub.refresh);
    sub.refresh = setTimeout(() => this.pool.inBackground(this.refresh(sub)), Math.max(100, granted * 800));
    sub.refresh.unref();
  }

  private async refresh(sub: Subscription): Promise<void> {
    if (sub.removed || sub.state === 'terminated' || this.byContact.get(contactKey(sub.user, sub.contact)) !== sub) return;
    const user = this.pool.mustUser(sub.user);
    sub.cseq++;
    const res = await this.pool.userSend(user, this.subscribeRequest(user, sub, this.expires));
    if (res.status < 300) return this.scheduleRefresh(sub, res);
    if (res.status === 481) {
      // The notifier no longer knows the dialog (the gateway restarted, say): the client subscribes
      // anew (RFC 6665 4.1.2.2).
      this.pool.cite('presence.sfb-refresh-new-subscription');
      this.byContact.delete(contactKey(sub.user, sub.contact));
      this.dialogs.delete(dialogKey(sub.callId, sub.localTag));
      await this.pool.addContact(sub.user, sub.contact);
      return;
    }
    // Any other failure leaves the subscription as it was until it runs out (RFC 6665 4.1.2.2): try again later.
    this.scheduleRefresh(sub, res);
  }

  private subscribeRequest(user: SfbUserState, sub: Subscription, expires: number): SipRequest {
    return buildRequest({
      method: 'SUBSCRIBE',
      uri: sub.remoteTarget ?? sub.contact,
      from: `<${user.uri}>;tag=${sub.localTag}`,
      to: sub.remoteTag ? `<${sub.contact}>;tag=${sub.remoteTag}` : `<${sub.contact}>`,
      callId: sub.callId,
      cseq: sub.cseq,
      contact: `<${this.pool.endpoint.contactUri(user.name)}>`,
      headers: { Event: 'presence', Accept: 'application/pidf+xml', Expires: String(expires) },
    });
  }
}
