import type { Element } from 'ltx';
import type { Cite } from '../../../sfb/behaviours/log.js';
import { buildRequest, type IncomingRequest, type SipResponseInit, type SipTarget } from '../../../sip/endpoint.js';
import { newCallId, newTag, parseNameAddr, parseSipUri, tagOf, uriOf } from '../../../sip/message.js';
import { buildPidf, pidfOfTuples, type PidfTuple } from '../../../sip/pidf.js';
import { bareJid, jidToSipUri, sipUriToJid } from '../mapping/address.js';
import type { PartnerPolicy } from './partner-policy.js';
import { presenceToTuple, resourceOf, tupleIdOf } from './presence-mapping.js';
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
  /** What each of the partner user's resources said last, by resource (RFC 8048 section 6.2 note 2). */
  resources: Map<string, PidfTuple>;
}

/** What a partner user's server answered to a probe. */
type ProbeAnswer = { type: 'unsubscribed' } | { type: 'presence'; stanza: Element };

/**
 * SfB users watching partner users (RFC 8048 over RFC 6665): the pool's SUBSCRIBE becomes an XMPP
 * subscribe, the partner user's answer and presence become NOTIFYs.
 */
export class WatchesOfPartners {
  /** `sfbUser|partner`, both bare JIDs. */
  private readonly watches = new Map<string, WatchOfPartner>();
  /** PublicUnverified: partner subscriptions held until the SfB user adds the partner contact (`partner|sfbUser`). */
  private readonly held = new Map<string, Element>();
  /** Polls (SUBSCRIBE Expires 0) waiting for the answer to their XMPP probe, by `sfbUser|partner`. */
  private readonly polls = new Map<string, Array<(answer: ProbeAnswer) => void>>();

  constructor(
    private readonly xmpp: XmppSide,
    private readonly sip: SipSide,
    private readonly policy: PartnerPolicy,
    private readonly opts: {
      /** Lets a held subscription of the partner user go ahead. */
      release: (watcher: string, sfbUser: string, stanza: Element) => Promise<void>;
      /** Bound on the wait for the answer to a probe. */
      timeoutMs: number;
      cite: Cite;
      onError: (err: Error) => void;
    },
  ) {}

  /** Held, not refused: the SfB user has to add the partner first (docs/sfb-xmpp-federation.md section 3). */
  hold(partner: string, sfbUser: string, subscribe: Element): void {
    this.opts.cite('partner-types.public-unverified-subscription-held');
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
        // The SfB user removed the contact (RFC 8048 section 5.3.3): a last NOTIFY says closed, and
        // the partner user is told unavailable; his subscription to the SfB user stays.
        this.opts.cite('presence.sip-unsubscribe-unavailable');
        existing.state = 'terminated';
        this.watches.delete(key);
        this.policy.contactRemoved(existing.sfbUser, existing.contact);
        return { status: 200, headers: { Expires: '0' }, afterSend: () => this.inBackground(this.afterUnsubscribe(existing)) };
      }
      // A refresh is followed by a NOTIFY with the state known (RFC 8048 section 5.3.2, RFC 6665 4.2.1.2).
      this.opts.cite('presence.sip-refresh-notify');
      existing.expires = expires;
      const state = `${existing.state};expires=${expires}`;
      return { status: 200, headers: { Expires: String(expires) }, afterSend: () => this.inBackground(this.sendNotify(existing, state)) };
    }
    // A refresh of a dialog the gateway does not hold (lost in a restart, say) (RFC 3261 12.2.2).
    if (tagOf(request.headers.get('To'))) return { status: 481 };
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
      resources: new Map(),
    };
    if (expires === 0) {
      // A poll (RFC 8048 section 7.2): an XMPP probe, and one NOTIFY with its answer.
      this.opts.cite('presence.sip-poll-probe');
      return {
        status: 202,
        toTag: watch.localTag,
        headers: { Expires: '0', Contact: this.sip.contact(req.transport) },
        afterSend: () => this.inBackground(this.poll(watch)),
      };
    }
    this.opts.cite('presence.sip-subscribe');
    this.watches.set(key, watch);
    this.policy.contactAdded(watch.sfbUser, watch.contact);
    return {
      status: 202,
      toTag: watch.localTag,
      headers: { Expires: String(expires), Contact: this.sip.contact(req.transport) },
      afterSend: () => this.inBackground(this.afterSubscribe(watch)),
    };
  }

  /** What a partner user says to an SfB user: approval, refusal, presence of one of his resources. */
  async onPartnerPresence(partnerJid: string, sfbUser: string, type: string, s: Element): Promise<void> {
    const partner = bareJid(partnerJid);
    const key = `${sfbUser}|${partner}`;
    const waiting = this.polls.get(key);
    if (waiting && type !== 'subscribed') {
      this.polls.delete(key);
      for (const answer of waiting) answer(type === 'unsubscribed' ? { type } : { type: 'presence', stanza: s });
    }
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
    // Before approval the partner's presence is not the SfB user's to see.
    if (watch.state !== 'active') return;
    this.update(watch, s);
    await this.sendNotify(watch, `active;expires=${watch.expires}`);
  }

  /** The gateway service restarted: its dialogs, held in memory, are gone. */
  forget(): void {
    this.watches.clear();
    this.held.clear();
    this.polls.clear();
  }

  /**
   * One resource's presence into the watch: each resource keeps its tuple, and one going offline
   * leaves the others (RFC 8048 section 6.2 note 2); the last one going offline leaves a closed tuple.
   */
  private update(watch: WatchOfPartner, s: Element): void {
    const tuple = presenceToTuple(s);
    this.opts.cite('presence.pidf-mapping');
    if (tuple.contact?.priority !== undefined) this.opts.cite('presence.priority');
    const resource = resourceOf(s.attrs.from as string);
    if (tuple.basic === 'open') {
      for (const [r, t] of watch.resources) if (t.basic === 'closed') watch.resources.delete(r);
      watch.resources.set(resource, tuple);
    } else {
      watch.resources.delete(resource);
      if (watch.resources.size === 0) watch.resources.set(resource, tuple);
    }
    if (watch.resources.size > 1 || (tuple.basic === 'closed' && [...watch.resources.values()].some((t) => t.basic === 'open'))) {
      this.opts.cite('presence.resource-tuples');
    }
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
    const closed: PidfTuple = { id: tupleIdOf(''), basic: 'closed' };
    watch.resources = new Map([['', closed]]);
    await this.sendNotify(watch, 'terminated;reason=timeout', true);
    await this.xmpp.sendPresence({ type: 'unavailable', from: watch.sfbUser, to: watch.contact });
  }

  private async poll(watch: WatchOfPartner): Promise<void> {
    const key = `${watch.sfbUser}|${watch.contact}`;
    const answered = new Promise<ProbeAnswer | undefined>((resolve) => {
      const timer = setTimeout(() => {
        const rest = (this.polls.get(key) ?? []).filter((r) => r !== settle);
        if (rest.length > 0) this.polls.set(key, rest);
        else this.polls.delete(key);
        resolve(undefined);
      }, this.opts.timeoutMs);
      timer.unref();
      const settle = (answer: ProbeAnswer) => {
        clearTimeout(timer);
        resolve(answer);
      };
      this.polls.set(key, [...(this.polls.get(key) ?? []), settle]);
    });
    await this.xmpp.sendPresence({ type: 'probe', from: watch.sfbUser, to: watch.contact });
    const answer = await answered;
    if (answer?.type === 'unsubscribed') return this.sendNotify(watch, 'terminated;reason=rejected');
    // No answer within the bound: the poll ends with nothing known (xfed's choice: RFC 8048 is silent).
    if (answer) this.update(watch, answer.stanza);
    await this.sendNotify(watch, 'terminated;reason=timeout', answer !== undefined);
  }

  private async sendNotify(watch: WatchOfPartner, state: string, withPidf = state.startsWith('active')): Promise<void> {
    const pidf = withPidf && watch.resources.size > 0 ? pidfOfTuples(jidToSipUri(watch.contact), [...watch.resources.values()]) : undefined;
    // RFC 8048 section 6.2 Table 1: the stanza's xml:lang is the Content-Language.
    if (pidf?.lang) this.opts.cite('presence.content-language');
    const request = buildRequest({
      method: 'NOTIFY',
      uri: watch.remoteUri,
      from: `<${jidToSipUri(watch.contact)}>;tag=${watch.localTag}`,
      to: `<${jidToSipUri(watch.sfbUser)}>;tag=${watch.remoteTag}`,
      callId: watch.callId,
      cseq: watch.cseq++,
      contact: this.sip.contact(watch.target.transport),
      headers: { Event: 'presence', 'Subscription-State': state, 'Content-Language': pidf?.lang },
      ...(pidf ? { body: buildPidf(pidf), contentType: 'application/pidf+xml' } : {}),
    });
    await this.sip.request(request, watch.target);
  }

  private inBackground(work: Promise<unknown>): void {
    work.catch((err: Error) => this.opts.onError(err));
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
