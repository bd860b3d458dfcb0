import type { Element } from 'ltx';
import type { Cite } from '../../../sfb/behaviours/log.js';
import { buildRequest, type SipResponseInit, type SipTarget } from '../../../sip/endpoint.js';
import { newCallId, newTag, parseNameAddr, tagOf, type SipRequest, type SipResponse } from '../../../sip/message.js';
import type { PidfPresence } from '../../../sip/pidf.js';
import { bareJid, jidToSipUri, sipUriToJid } from '../mapping/address.js';
import type { PartnerPolicy } from './partner-policy.js';
import { pidfToPresence, readPidf } from './presence-mapping.js';
import { stanzaErrorOf, type SipSide } from './sip-side.js';
import type { XmppSide } from './xmpp-side.js';

/** A partner user watching an SfB user: the gateway is the SIP subscriber. */
interface WatchOfSfbUser {
  watcher: string;
  sfbUser: string;
  callId: string;
  fromTag: string;
  toTag?: string;
  cseq: number;
  target: SipTarget;
  state: 'init' | 'pending' | 'active';
  subscribedSent: boolean;
  /** When the pool's grant runs out (ms since the epoch); 0 while none is known. */
  expiresAt: number;
  /** Refreshes that failed for a passing reason, in a row. */
  failures: number;
  /** The grant ran out while retrying: the partner was told the SfB user is unavailable. */
  lapsed: boolean;
  /** Dialogs the pool ended and the gateway opened again, since the last active NOTIFY. */
  renewals: number;
  /** The last presence sent to the watcher. */
  lastSent?: string;
  /** A refresh (or a new dialog) was sent: its NOTIFY, if it says what the watcher knows, is not repeated to him. */
  echoExpected?: boolean;
  timer?: NodeJS.Timeout;
}

/** How long the gateway waits between refresh attempts that fail for a passing reason. */
export interface RefreshRetry {
  /** The first wait; each next one doubles. */
  firstMs: number;
  /** The longest wait. */
  maxMs: number;
}

/** RFC 8048 section 5.2.2: the refusals that end a subscription for good. */
const PERMANENT = [403, 489, 603];
/** RFC 6665 section 4.1.3: the reasons after which a subscriber SHOULD NOT (or need not) subscribe again. */
const FINAL_REASONS = ['rejected', 'noresource', 'invariant', 'giveup'];

/**
 * Partner users watching SfB users (RFC 8048 over RFC 6665): an XMPP subscribe or probe becomes a
 * SUBSCRIBE to the pool, kept fresh until unsubscribe; the pool's NOTIFYs become presence.
 */
export class WatchesOfSfbUsers {
  /** `watcher|sfbUser`, both bare JIDs. */
  private readonly watches = new Map<string, WatchOfSfbUser>();
  /** Probes (SUBSCRIBE Expires 0) waiting for their one NOTIFY, by Call-ID. */
  private readonly probes = new Map<string, { watcher: string; sfbUser: string; timer: NodeJS.Timeout }>();
  /** Dialogs the gateway ended (XMPP unsubscribe), whose final NOTIFY is still due, by Call-ID. */
  private readonly ending = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly xmpp: XmppSide,
    private readonly sip: SipSide,
    private readonly policy: PartnerPolicy,
    private readonly opts: {
      /** Expires of the SUBSCRIBEs sent (SubscriptionRefreshInterval). */
      expires: number;
      retry: RefreshRetry;
      /** How long a probe's or an ended dialog's last NOTIFY is awaited. */
      lingerMs: number;
      cite: Cite;
      onRefresh: (watch: { watcher: string; sfbUser: string }) => void;
      onError: (err: Error) => void;
    },
  ) {}

  /** A subscribe: a SUBSCRIBE to the pool; a SIP failure is answered to `stanza`. */
  async subscribe(watcher: string, sfbUser: string, stanza: Element): Promise<void> {
    const key = `${watcher}|${sfbUser}`;
    const existing = this.watches.get(key);
    if (existing) {
      // A repeated subscribe is answered from what is known (RFC 6121 3.1.3).
      if (existing.state === 'active') await this.xmpp.sendPresence({ type: 'subscribed', from: sfbUser, to: watcher });
      return;
    }
    const watch: WatchOfSfbUser = {
      watcher,
      sfbUser,
      callId: newCallId(this.sip.host),
      fromTag: newTag(),
      cseq: 1,
      target: this.sip.pool,
      state: 'init',
      subscribedSent: false,
      expiresAt: 0,
      failures: 0,
      lapsed: false,
      renewals: 0,
    };
    this.watches.set(key, watch);
    this.opts.cite('presence.xmpp-subscribe');
    const res = await this.sendSubscribe(watch, this.opts.expires);
    if (res.status >= 300 && this.watches.get(key) === watch) {
      this.watches.delete(key);
      const [condition, text] = stanzaErrorOf(res);
      await this.xmpp.replyError(stanza, condition, text);
    }
  }

  /** A probe (RFC 8048 section 7.1): a SUBSCRIBE with Expires 0, whose one NOTIFY becomes presence. */
  async probe(watcher: string, sfbUser: string, stanza: Element): Promise<void> {
    const callId = newCallId(this.sip.host);
    const timer = setTimeout(() => this.probes.delete(callId), this.opts.lingerMs);
    timer.unref();
    // Registered before sending: the NOTIFY may overtake the 2xx.
    this.probes.set(callId, { watcher, sfbUser, timer });
    this.opts.cite('presence.probe-poll');
    const request = this.subscribeRequest({ watcher, sfbUser, callId, fromTag: newTag(), cseq: 1 }, 0);
    const res = await this.sip.request(request, this.sip.pool);
    if (res.status >= 300) {
      clearTimeout(timer);
      this.probes.delete(callId);
      const [condition, text] = stanzaErrorOf(res);
      await this.xmpp.replyError(stanza, condition, text);
    }
  }

  /** An unsubscribe: the dialog ends with a SUBSCRIBE of Expires 0, then `unsubscribed` (RFC 8048 section 5.2.3). */
  async end(watcher: string, sfbUser: string): Promise<void> {
    const key = `${watcher}|${sfbUser}`;
    const watch = this.watches.get(key);
    if (!watch) return;
    this.watches.delete(key);
    clearTimeout(watch.timer);
    this.opts.cite('presence.xmpp-unsubscribe');
    const timer = setTimeout(() => this.ending.delete(watch.callId), this.opts.lingerMs);
    timer.unref();
    this.ending.set(watch.callId, timer);
    const res = await this.sendSubscribe(watch, 0);
    if (res.status < 300) await this.xmpp.sendPresence({ type: 'unsubscribed', from: sfbUser, to: watcher });
  }

  async onSipNotify(request: SipRequest): Promise<SipResponseInit> {
    const callId = request.headers.get('Call-ID') ?? '';
    const state = (request.headers.get('Subscription-State') ?? '').toLowerCase();
    const presence = request.body ? readPidf(request.body) : undefined;
    const probe = this.probes.get(callId);
    if (probe) {
      // A probe's dialog is not kept: its one NOTIFY carries the state and ends it.
      clearTimeout(probe.timer);
      this.probes.delete(callId);
      if (presence) await this.sendPresenceOf(presence, request, probe.sfbUser, probe.watcher);
      return { status: 200 };
    }
    const ended = this.ending.get(callId);
    if (ended) {
      // The final NOTIFY of a dialog the gateway ended (RFC 6665 4.1.2.3): nothing left to tell.
      if (state.startsWith('terminated')) {
        clearTimeout(ended);
        this.ending.delete(callId);
      }
      return { status: 200 };
    }
    const watch = [...this.watches.values()].find((w) => w.callId === callId);
    if (!watch) return { status: 481 };
    const key = `${watch.watcher}|${watch.sfbUser}`;
    if (state.startsWith('active')) {
      watch.state = 'active';
      watch.renewals = 0;
      if (!watch.subscribedSent) {
        watch.subscribedSent = true;
        await this.xmpp.sendPresence({ type: 'subscribed', from: watch.sfbUser, to: watch.watcher });
      }
      if (presence) await this.sendPresenceOf(presence, request, watch.sfbUser, watch.watcher, watch);
      return { status: 200 };
    }
    if (state.startsWith('pending')) {
      watch.state = 'pending';
      return { status: 200 };
    }
    if (!state.startsWith('terminated')) return { status: 200 };
    clearTimeout(watch.timer);
    const reason = /;\s*reason=([a-z-]+)/.exec(state)?.[1];
    const retryAfter = Number(/;\s*retry-after=(\d+)/.exec(state)?.[1]);
    if (reason !== undefined && FINAL_REASONS.includes(reason)) {
      this.opts.cite('presence.terminated-unsubscribed');
      this.watches.delete(key);
      return { status: 200, afterSend: () => this.inBackground(this.xmpp.sendPresence({ type: 'unsubscribed', from: watch.sfbUser, to: watch.watcher })) };
    }
    // RFC 6665 4.1.3: deactivated (the subscription moves to another node), timeout and no reason
    // mean subscribe again at once; probation, later.
    this.opts.cite(reason === 'probation' ? 'presence.probation-retry' : 'presence.deactivated-resubscribe');
    this.newDialog(watch);
    // A pool that ends every new dialog at once would make this a loop: after the first renewal
    // with no active NOTIFY between, the waits grow as for failed refreshes.
    const renewals = watch.renewals++;
    const wait =
      reason === 'probation' ? (Number.isFinite(retryAfter) ? retryAfter * 1000 : this.opts.retry.firstMs) : renewals === 0 ? 0 : this.backoff(renewals);
    if (wait > 0) {
      this.schedule(watch, wait);
      return { status: 200 };
    }
    return { status: 200, afterSend: () => this.inBackground(this.refresh(watch)) };
  }

  stop(): void {
    for (const w of this.watches.values()) clearTimeout(w.timer);
    for (const p of this.probes.values()) clearTimeout(p.timer);
    for (const t of this.ending.values()) clearTimeout(t);
  }

  /** The gateway service restarted: its dialogs, held in memory, are gone. */
  forget(): void {
    this.stop();
    this.watches.clear();
    this.probes.clear();
    this.ending.clear();
  }

  /** PIDF from the pool as presence to the watcher: the From's GRUU makes it a full JID (RFC 7572 section 5). */
  private async sendPresenceOf(p: PidfPresence, request: SipRequest, sfbUser: string, watcher: string, watch?: WatchOfSfbUser): Promise<void> {
    let from = sfbUser;
    try {
      const jid = sipUriToJid(parseNameAddr(request.headers.get('From') ?? '').uri);
      if (jid.includes('/') && bareJid(jid) === sfbUser) {
        this.opts.cite('presence.gruu-full-jid');
        from = jid;
      }
    } catch {
      // A From that maps to no JID: the dialog's SfB user speaks.
    }
    const lang = request.headers.get('Content-Language');
    if (lang) this.opts.cite('presence.content-language');
    const strip = p.note !== undefined && this.policy.stripsNotes(watcher);
    this.opts.cite('presence.pidf-mapping');
    const out = pidfToPresence(p, from, watcher, strip, lang);
    if (watch) {
      const said = JSON.stringify([out.type, out.from, out.lang, out.children.map(String)]);
      const echo = watch.echoExpected && watch.lastSent === said;
      watch.echoExpected = false;
      if (echo) return;
      watch.lastSent = said;
    }
    await this.xmpp.sendPresence(out);
  }

  /** Another dialog for the same watch: the old one is gone (RFC 6665 4.1.2.2 and 4.1.3). */
  private newDialog(watch: WatchOfSfbUser): void {
    watch.callId = newCallId(this.sip.host);
    watch.fromTag = newTag();
    delete watch.toTag;
    watch.cseq = 1;
    watch.state = 'init';
    watch.expiresAt = 0;
  }

  private subscribeRequest(
    d: { watcher: string; sfbUser: string; callId: string; fromTag: string; toTag?: string; cseq: number },
    expires: number,
  ): SipRequest {
    return buildRequest({
      method: 'SUBSCRIBE',
      uri: jidToSipUri(d.sfbUser),
      from: `<${jidToSipUri(d.watcher)}>;tag=${d.fromTag}`,
      to: `<${jidToSipUri(d.sfbUser)}>${d.toTag ? `;tag=${d.toTag}` : ''}`,
      callId: d.callId,
      cseq: d.cseq,
      contact: this.sip.contact(this.sip.pool.transport),
      headers: { Event: 'presence', Accept: 'application/pidf+xml', Expires: String(expires) },
    });
  }

  private async sendSubscribe(watch: WatchOfSfbUser, expires: number): Promise<SipResponse> {
    if (expires > 0 && expires === this.opts.expires) this.opts.cite('presence.gateway-subscription-interval');
    const res = await this.sip.request(this.subscribeRequest({ ...watch, cseq: watch.cseq++ }, expires), watch.target);
    if (res.status < 300) {
      const toTag = tagOf(res.headers.get('To'));
      if (toTag) watch.toTag = toTag;
      const granted = Number(res.headers.get('Expires') ?? expires);
      if (expires > 0) {
        watch.expiresAt = Date.now() + granted * 1000;
        watch.failures = 0;
        // Before expiry (RFC 6665 4.1.2.2): at four fifths of the grant.
        this.schedule(watch, Math.max(100, granted * 800));
      }
    }
    return res;
  }

  private schedule(watch: WatchOfSfbUser, ms: number): void {
    clearTimeout(watch.timer);
    watch.timer = setTimeout(() => this.inBackground(this.refresh(watch)), ms);
    watch.timer.unref();
  }

  /** Refreshes the subscription, or subscribes again when its dialog is gone. */
  private async refresh(watch: WatchOfSfbUser): Promise<void> {
    const key = `${watch.watcher}|${watch.sfbUser}`;
    if (this.watches.get(key) !== watch) return;
    this.opts.onRefresh({ watcher: watch.watcher, sfbUser: watch.sfbUser });
    watch.echoExpected = true;
    const inDialog = watch.toTag !== undefined;
    let res = await this.sendSubscribe(watch, this.opts.expires);
    if (this.watches.get(key) !== watch || res.status < 300) {
      if (res.status < 300) watch.lapsed = false;
      return;
    }
    if (res.status === 423) {
      // Interval too brief: ask again at once for the pool's minimum (RFC 3261 21.4.17 and 20.23).
      this.opts.cite('presence.refresh-new-dialog');
      const min = Number(res.headers.get('Min-Expires'));
      res = await this.sendSubscribe(watch, Number.isFinite(min) && min > this.opts.expires ? min : this.opts.expires);
    } else if (res.status === 481 && inDialog) {
      // The pool no longer knows the dialog: a new subscription at once (RFC 6665 4.1.2.2).
      this.opts.cite('presence.refresh-new-dialog');
      this.newDialog(watch);
      res = await this.sendSubscribe(watch, this.opts.expires);
    }
    if (this.watches.get(key) !== watch || res.status < 300) {
      if (res.status < 300) watch.lapsed = false;
      return;
    }
    if (PERMANENT.includes(res.status)) {
      this.opts.cite('presence.refresh-permanent-failure');
      this.watches.delete(key);
      clearTimeout(watch.timer);
      await this.xmpp.sendPresence({ type: 'unsubscribed', from: watch.sfbUser, to: watch.watcher });
      return;
    }
    // A passing failure (408, 480, 5xx, no answer): the subscription stands until its grant runs
    // out (RFC 6665 4.1.2.2); try again, waiting longer each time, up to a bound.
    this.opts.cite('presence.refresh-transient-retry');
    const wait = this.backoff(++watch.failures);
    if (!watch.lapsed && Date.now() + wait >= watch.expiresAt) {
      watch.lapsed = true;
      delete watch.lastSent;
      if (watch.subscribedSent) await this.xmpp.sendPresence({ type: 'unavailable', from: watch.sfbUser, to: watch.watcher });
    }
    this.schedule(watch, wait);
  }

  /** The wait before the nth attempt in a row: doubling from the first, up to the bound. */
  private backoff(n: number): number {
    return Math.min(this.opts.retry.firstMs * 2 ** (n - 1), this.opts.retry.maxMs);
  }

  private inBackground(work: Promise<unknown>): void {
    work.catch((err: Error) => this.opts.onError(err));
  }
}
