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
}

const contactKey = (user: string, contactUri: string) => `${user.toLowerCase()}\n${contactUri}`;

/** The contacts the pool's users added: their SUBSCRIBEs, and what the NOTIFYs say of each contact. */
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
    }
    return res;
  }

  async remove(u: SfbUserState, contact: string): Promise<void> {
    const sub = this.byContact.get(contactKey(u.name, toUri(contact)));
    if (!sub) throw new XfedError(`${u.name} has no subscription to ${contact}`);
    if (sub.state === 'terminated') return;
    sub.cseq++;
    const res = await this.pool.userSend(u, this.subscribeRequest(u, sub, 0));
    if (res.status < 300) {
      // The final NOTIFY (terminated;reason=...) may come before or after this answer.
      sub.state = 'terminated';
      sub.reason ??= 'removed';
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
    this.dialogs.clear();
    this.byContact.clear();
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
