import { xml } from '@xmpp/component-core';
import type { Element } from 'ltx';
import { buildRequest, type SipResponseInit, type SipTarget } from '../../../sip/endpoint.js';
import { newCallId, newTag, parseNameAddr, tagOf, type SipRequest, type SipResponse } from '../../../sip/message.js';
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
  state: 'init' | 'pending' | 'active' | 'terminated';
  subscribedSent: boolean;
  refresh?: NodeJS.Timeout;
}

/**
 * Partner users watching SfB users (RFC 8048 over RFC 6665): an XMPP subscribe or probe becomes a
 * SUBSCRIBE to the pool, kept fresh until unsubscribe; the pool's NOTIFYs become presence.
 */
export class WatchesOfSfbUsers {
  /** `watcher|sfbUser`, both bare JIDs. */
  private readonly watches = new Map<string, WatchOfSfbUser>();

  constructor(
    private readonly xmpp: XmppSide,
    private readonly sip: SipSide,
    private readonly policy: PartnerPolicy,
    private readonly opts: {
      /** Expires of the SUBSCRIBEs sent. */
      expires: number;
      onRefresh: (watch: { watcher: string; sfbUser: string }) => void;
      onError: (err: Error) => void;
    },
  ) {}

  /** A subscribe (or with `probe`, a one-off SUBSCRIBE with Expires 0); a SIP failure is answered to `stanza`. */
  async subscribe(watcher: string, sfbUser: string, probe: boolean, stanza: Element): Promise<void> {
    const key = `${watcher}|${sfbUser}`;
    const existing = this.watches.get(key);
    if (!probe && existing && existing.state !== 'terminated') {
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
    };
    if (!probe) this.watches.set(key, watch);
    const res = await this.sendSubscribe(watch, probe ? 0 : this.opts.expires);
    if (res.status >= 300) {
      this.watches.delete(key);
      const [condition, text] = stanzaErrorOf(res);
      await this.xmpp.replyError(stanza, condition, text);
    }
  }

  /** An unsubscribe: the dialog ends with a SUBSCRIBE of Expires 0. */
  async end(watcher: string, sfbUser: string): Promise<void> {
    const key = `${watcher}|${sfbUser}`;
    const watch = this.watches.get(key);
    if (!watch) return;
    this.watches.delete(key);
    clearTimeout(watch.refresh);
    await this.sendSubscribe(watch, 0);
  }

  async onSipNotify(request: SipRequest): Promise<SipResponseInit> {
    const callId = request.headers.get('Call-ID');
    const watch = [...this.watches.values()].find((w) => w.callId === callId);
    const state = (request.headers.get('Subscription-State') ?? '').toLowerCase();
    const presence = request.body ? readPidf(request.body) : undefined;
    if (!watch) {
      // A probe's dialog is not kept: its one NOTIFY carries the state and ends it.
      const probe = state.startsWith('terminated') && /reason=timeout/.test(state) && presence;
      if (!probe) return { status: 481 };
      const from = bareJid(sipUriToJid(parseNameAddr(request.headers.get('From') ?? '').uri));
      const to = bareJid(sipUriToJid(parseNameAddr(request.headers.get('To') ?? '').uri));
      await this.xmpp.sendPresence(pidfToPresence(presence, from, to, this.policy.stripsNotes(to)));
      return { status: 200 };
    }
    if (state.startsWith('active')) {
      watch.state = 'active';
      if (!watch.subscribedSent) {
        watch.subscribedSent = true;
        await this.xmpp.sendPresence({ type: 'subscribed', from: watch.sfbUser, to: watch.watcher });
      }
      if (presence) await this.xmpp.sendPresence(pidfToPresence(presence, watch.sfbUser, watch.watcher, this.policy.stripsNotes(watch.watcher)));
    } else if (state.startsWith('pending')) {
      watch.state = 'pending';
    } else if (state.startsWith('terminated')) {
      this.watches.delete(`${watch.watcher}|${watch.sfbUser}`);
      clearTimeout(watch.refresh);
      watch.state = 'terminated';
      if (/reason=(rejected|noresource|deactivated|giveup)/.test(state) || !watch.subscribedSent) {
        await this.xmpp.sendPresence({ type: 'unsubscribed', from: watch.sfbUser, to: watch.watcher });
      } else {
        await this.xmpp.sendPresence({ type: 'unavailable', from: watch.sfbUser, to: watch.watcher });
      }
    }
    return { status: 200 };
  }

  stop(): void {
    for (const w of this.watches.values()) clearTimeout(w.refresh);
  }

  private async sendSubscribe(watch: WatchOfSfbUser, expires: number): Promise<SipResponse> {
    const request = buildRequest({
      method: 'SUBSCRIBE',
      uri: jidToSipUri(watch.sfbUser),
      from: `<${jidToSipUri(watch.watcher)}>;tag=${watch.fromTag}`,
      to: `<${jidToSipUri(watch.sfbUser)}>${watch.toTag ? `;tag=${watch.toTag}` : ''}`,
      callId: watch.callId,
      cseq: watch.cseq++,
      contact: this.sip.contact(watch.target.transport),
      headers: { Event: 'presence', Accept: 'application/pidf+xml', Expires: String(expires) },
    });
    const res = await this.sip.request(request, watch.target);
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
    watch.refresh = setTimeout(
      () => {
        if (this.watches.get(key) !== watch) return;
        this.opts.onRefresh({ watcher: watch.watcher, sfbUser: watch.sfbUser });
        this.sendSubscribe(watch, this.opts.expires)
          .then(async (res) => {
            if (res.status < 300) return;
            if ([423, 481].includes(res.status)) {
              // Transient: the dialog is gone or the interval too brief; start a new subscription.
              this.watches.delete(key);
              await this.subscribe(watch.watcher, watch.sfbUser, false, xml('presence', { from: watch.watcher, to: watch.sfbUser, type: 'subscribe' }));
              return;
            }
            this.watches.delete(key);
            await this.xmpp.sendPresence({ type: 'unsubscribed', from: watch.sfbUser, to: watch.watcher });
          })
          .catch((err: Error) => this.opts.onError(err));
      },
      Math.max(100, expires * 800),
    );
    watch.refresh.unref();
  }
}
