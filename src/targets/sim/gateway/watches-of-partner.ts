import type { Element } from 'ltx';
import { buildRequest, type IncomingRequest, type SipResponseInit, type SipTarget } from '../../../sip/endpoint.js';
import { newCallId, newTag, parseNameAddr, parseSipUri, tagOf, uriOf } from '../../../sip/message.js';
import { buildPidf, type PidfPresence } from '../../../sip/pidf.js';
import { bareJid, jidToSipUri, sipUriToJid } from '../mapping/address.js';
import type { PartnerPolicy } from './partner-policy.js';
import { presenceToPidf } from './presence-mapping.js';
import type { SipSide } from './sip-side.js';
import type { XmppSide } from './xmpp-side.js';

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
 * SfB users watching partner users (RFC 8048 over RFC 6665): the pool's SUBSCRIBE becomes an XMPP
 * subscribe, the partner user's answer and presence become NOTIFYs.
 */
export class WatchesOfPartners {
  /** `sfbUser|partner`, both bare JIDs. */
  private readonly watches = new Map<string, WatchOfPartner>();
  /** PublicUnverified: partner subscriptions held until the SfB user adds the partner contact (`partner|sfbUser`). */
  private readonly held = new Map<string, Element>();

  constructor(
    private readonly xmpp: XmppSide,
    private readonly sip: SipSide,
    private readonly policy: PartnerPolicy,
    private readonly opts: {
      /** Lets a held subscription of the partner user go ahead. */
      release: (watcher: string, sfbUser: string, stanza: Element) => Promise<void>;
      onError: (err: Error) => void;
    },
  ) {}

  /** Held, not refused: the SfB user has to add the partner first (docs/sfb-xmpp-federation.md section 3). */
  hold(partner: string, sfbUser: string, subscribe: Element): void {
    this.held.set(`${partner}|${sfbUser}`, subscribe);
  }

  dropHeld(partner: string, sfbUser: string): void {
    this.held.delete(`${partner}|${sfbUser}`);
  }

  async onSipSubscribe(req: IncomingRequest): Promise<SipResponseInit> {
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
    const inDialog = [...this.watches.entries()].find(([, w]) => w.callId === callId && w.remoteTag === remoteTag);
    const contact = inDialog ? inDialog[1].contact : bareJid(to);
    const key = inDialog ? inDialog[0] : `${from}|${contact}`;
    const existing = inDialog?.[1];
    if (existing) {
      if (expires === 0) {
        // The SfB user removed the contact: end the dialog, and the XMPP subscription with it.
        existing.state = 'terminated';
        this.watches.delete(key);
        this.policy.contactRemoved(existing.sfbUser, existing.contact);
        return { status: 200, headers: { Expires: '0' }, afterSend: () => void this.afterUnsubscribe(existing).catch((err: Error) => this.opts.onError(err)) };
      }
      existing.expires = expires;
      return { status: 200, headers: { Expires: String(expires) } };
    }
    if (!this.xmpp.connected) return { status: 503, reason: 'XMPP gateway not connected to the Edge' };
    const remoteUri = uriOf(request.headers.get('Contact')) ?? uriOf(request.headers.get('From')) ?? '';
    const watch: WatchOfPartner = {
      sfbUser: from,
      contact,
      callId: request.headers.get('Call-ID') ?? newCallId(this.sip.host),
      localTag: newTag(),
      remoteTag,
      remoteUri,
      target: targetOf(remoteUri, req),
      cseq: 1,
      expires,
      state: 'pending',
    };
    this.watches.set(key, watch);
    this.policy.contactAdded(watch.sfbUser, watch.contact);
    return {
      status: 202,
      toTag: watch.localTag,
      headers: { Expires: String(expires), Contact: this.sip.contact(req.transport) },
      afterSend: () => void this.afterSubscribe(watch).catch((err: Error) => this.opts.onError(err)),
    };
  }

  /** What a partner user says to an SfB user who watches him: approval, refusal, presence. */
  async onPartnerPresence(partner: string, sfbUser: string, type: string, s: Element): Promise<void> {
    const key = `${sfbUser}|${partner}`;
    const watch = this.watches.get(key);
    if (!watch || watch.state === 'terminated') return;
    if (type === 'unsubscribed') {
      watch.state = 'terminated';
      this.watches.delete(key);
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

  private async afterSubscribe(watch: WatchOfPartner): Promise<void> {
    // RFC 6665: a NOTIFY follows the 202 at once; pending until the partner user answers.
    await this.sendNotify(watch, `pending;expires=${watch.expires}`);
    await this.xmpp.sendPresence({ type: 'subscribe', from: watch.sfbUser, to: watch.contact });
    // PublicUnverified: the partner's own request, held until now, goes ahead.
    const key = `${watch.contact}|${watch.sfbUser}`;
    const held = this.held.get(key);
    if (held) {
      this.held.delete(key);
      await this.opts.release(watch.contact, watch.sfbUser, held);
    }
  }

  private async afterUnsubscribe(watch: WatchOfPartner): Promise<void> {
    await this.sendNotify(watch, 'terminated;reason=timeout');
    await this.xmpp.sendPresence({ type: 'unsubscribe', from: watch.sfbUser, to: watch.contact });
  }

  private async sendNotify(watch: WatchOfPartner, state: string): Promise<void> {
    const request = buildRequest({
      method: 'NOTIFY',
      uri: watch.remoteUri,
      from: `<${jidToSipUri(watch.contact)}>;tag=${watch.localTag}`,
      to: `<${jidToSipUri(watch.sfbUser)}>;tag=${watch.remoteTag}`,
      callId: watch.callId,
      cseq: watch.cseq++,
      contact: this.sip.contact(watch.target.transport),
      headers: { Event: 'presence', 'Subscription-State': state },
      ...(watch.presence && state.startsWith('active') ? { body: buildPidf(watch.presence), contentType: 'application/pidf+xml' } : {}),
    });
    await this.sip.request(request, watch.target);
  }
}

/** Where in-dialog requests go: the subscriber's Contact, or failing that where the SUBSCRIBE came from. */
function targetOf(uri: string, req: IncomingRequest): SipTarget {
  try {
    const u = parseSipUri(uri);
    const transport = (u.params.transport?.toLowerCase() as SipTarget['transport'] | undefined) ?? req.transport;
    return { host: u.host, port: u.port ?? 5060, transport };
  } catch {
    return { host: req.remote.host, port: req.remote.port, transport: req.transport };
  }
}
