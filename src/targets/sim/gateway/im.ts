import xml from '@xmpp/xml';
import type { Element } from 'ltx';
import { randomUUID } from 'node:crypto';
import { TimeoutError } from '../../../errors.js';
import { WaitCancelled } from '../../../infra/deadline.js';
import type { Cite } from '../../../sfb/behaviours/log.js';
import { buildRequest, type SipResponseInit } from '../../../sip/endpoint.js';
import { newCallId, parseNameAddr, parseSipUri, serializeSipMessage, type SipRequest } from '../../../sip/message.js';
import { stanzaError } from '../../../xmpp/client.js';
import { STANZAS_NS } from '../../../xmpp/stanza-errors.js';
import { bareJid, domainOf, jidToSipUri, SipsTargetError, sipUriToJid, xmppUriToJid } from '../mapping/address.js';
import { stanzaErrorToSip } from '../mapping/errors.js';
import { htmlToText } from '../mapping/html-text.js';
import { unsupportedInMessage } from '../mapping/xmpp-features.js';
import { PING_NS } from './disco.js';
import type { PartnerPolicy } from './partner-policy.js';
import type { RemoteDomains } from './remote-domains.js';
import { stanzaErrorOf, type SipSide } from './sip-side.js';
import type { XmppSide } from './xmpp-side.js';

/**
 * RFC 7572 section 6 (after RFC 3428 section 8): a MESSAGE larger than this is not sent, the XMPP
 * sender gets policy-violation. SfB's own limit is undocumented (its clients' IM runs in INVITE sessions).
 */
export const SIP_MESSAGE_LIMIT = 1300;

/** What the gateway turns into an XMPP <body/> (RFC 7572 section 7). */
const ACCEPT = 'text/plain, text/html';

export interface InstantMessagesOptions {
  /** Bound on the XMPP delivery barrier. */
  timeoutMs: number;
  cite: Cite;
  /** Tells a domain that does not exist from one that cannot be resolved; without it, remote-server-not-found is 404. */
  remoteDomains?: RemoteDomains;
}

/** 1:1 IM across the gateway (RFC 7572, page mode): XMPP messages to SIP MESSAGEs and back. */
export class InstantMessages {
  constructor(
    private readonly xmpp: XmppSide,
    private readonly sip: SipSide,
    private readonly policy: PartnerPolicy,
    private readonly opts: InstantMessagesOptions,
  ) {}

  /** A partner user's message to an SfB user, sent on as a SIP MESSAGE; a failure comes back as a stanza error. */
  async onMessage(s: Element): Promise<void> {
    // An error is never answered with an error (RFC 6120 section 8.3.1).
    if (s.attrs.type === 'error') return;
    const { cite } = this.opts;
    const from = s.attrs.from as string;
    const to = s.attrs.to as string;
    const unsupported = unsupportedInMessage(s);
    if (unsupported) {
      cite(unsupported.behaviour);
      return this.xmpp.replyError(s, unsupported.condition, unsupported.text);
    }
    const body = s.getChildText('body');
    if (body === null) {
      cite('im.bodiless-not-sent');
      return;
    }
    if (this.xmpp.domains.includes(to)) {
      cite('addresses.user-addresses-only');
      return this.xmpp.replyError(s, 'service-unavailable', 'The XMPP gateway domain itself takes no messages');
    }
    if (!this.policy.mayReach(from, to)) {
      return this.xmpp.replyError(s, 'forbidden', `PublicUnverified partner: ${bareJid(to)} has not added ${bareJid(from)} as a contact`);
    }
    cite('im.xmpp-to-sip');
    cite('addresses.jid-to-sip');
    if (from.includes('/')) cite('addresses.resource-gruu');
    const subject = s.getChildText('subject');
    const thread = s.getChildText('thread');
    const lang = (s.attrs['xml:lang'] as string | undefined) ?? undefined;
    const request = buildRequest({
      method: 'MESSAGE',
      uri: jidToSipUri(bareJid(to)),
      from: `<${jidToSipUri(from)}>`,
      to: `<${jidToSipUri(bareJid(to))}>`,
      callId: thread ?? newCallId(this.sip.host),
      cseq: this.sip.nextCseq(),
      contact: this.sip.contact(this.sip.pool.transport),
      headers: { Subject: subject ?? undefined, 'Content-Language': lang, 'Max-Forwards': '70' },
      body,
      contentType: 'text/plain;charset=UTF-8',
    });
    const size = serializeSipMessage(request).length;
    if (size > SIP_MESSAGE_LIMIT) {
      cite('im.size-limit');
      return this.xmpp.replyError(
        s,
        'policy-violation',
        `The message is too large for the SIP side: ${size} bytes, over the ${SIP_MESSAGE_LIMIT}-byte limit of a SIP MESSAGE`,
      );
    }
    const res = await this.sip.request(request);
    if (res.status >= 300) {
      cite('errors.sip-to-xmpp');
      await this.xmpp.replyError(s, ...stanzaErrorOf(res));
    }
  }

  /**
   * An SfB user's IM to a partner user. XMPP has no delivery report, so a ping follows the message
   * on the same S2S path as a barrier: an error for the message arrives before the ping's answer,
   * or the message went through.
   */
  async onSipMessage(request: SipRequest): Promise<SipResponseInit> {
    const { cite } = this.opts;
    if (!this.xmpp.connected) {
      cite('im.detached-503');
      return { status: 503, reason: 'XMPP gateway not connected to the Edge' };
    }
    let from: string;
    let to: string;
    try {
      ({ from, to } = this.addressesOf(request));
    } catch (err) {
      const warning = { Warning: `399 xmpp-gateway "${(err as Error).message.replace(/"/g, "'")}"` };
      if (err instanceof SipsTargetError) {
        cite('addresses.sips-refused');
        return { status: 416, reason: 'Unsupported URI Scheme', headers: warning };
      }
      cite('addresses.sip-to-jid');
      return { status: 400, reason: 'Bad Address', headers: warning };
    }
    const body = this.bodyOf(request);
    if (body === undefined) {
      cite('im.unsupported-type-415');
      return { status: 415, headers: { Accept: ACCEPT } };
    }
    const id = randomUUID();
    const pingId = randomUUID();
    const lang = request.headers.get('Content-Language');
    const subject = request.headers.get('Subject');
    // Page mode is not a chat session: RFC 7572 section 5 gives type normal (or none), never chat.
    const message = xml(
      'message',
      { type: 'normal', id, from, to, ...(lang ? { 'xml:lang': lang } : {}) },
      xml('body', {}, body),
      ...(subject ? [xml('subject', {}, subject)] : []),
      xml('thread', {}, request.headers.get('Call-ID') ?? ''),
    );
    cite('im.sip-to-xmpp');
    // To a full JID (a GRUU on the SIP side) the barrier goes to that client, which answers after
    // it has handled (or refused) the message; otherwise to the partner's server, from the
    // sender's own SIP domain, so that it takes the message's S2S stream.
    const barrier = to.includes('/') ? to : domainOf(to);
    const ping = xml('iq', { type: 'get', id: pingId, from: barrier === to ? from : domainOf(from), to: barrier }, xml('ping', { xmlns: PING_NS }));
    cite('im.delivery-barrier');
    let reply: Element;
    try {
      reply = await this.xmpp.caller.call([message, ping], [id, pingId], this.opts.timeoutMs, `the XMPP delivery barrier for ${to}`);
    } catch (err) {
      if (err instanceof TimeoutError) return { status: 408 };
      // The gateway lost its link to the Edge while it waited: as if it had never had one.
      if (err instanceof WaitCancelled) {
        cite('im.detached-503');
        return { status: 503, reason: 'XMPP gateway not connected to the Edge' };
      }
      throw err;
    }
    if (reply.attrs.type === 'result') return { status: 200 };
    const { condition, text } = stanzaError(reply);
    // Any answer to the ping but a server's "no route" means it reached its target after the
    // message did: a target that does not implement ping still got the message.
    if (reply.attrs.id === pingId && !condition.startsWith('remote-server-')) return { status: 200 };
    return this.sipFailureOf(reply, condition, text, to);
  }

  /** The SIP failure a stanza error for the message (or the barrier) becomes (RFC 7247 section 7.1). */
  private async sipFailureOf(reply: Element, condition: string, text: string | undefined, to: string): Promise<SipResponseInit> {
    // <gone/> and <redirect/> may carry the new address as an XMPP URI (RFC 6120 sections 8.3.3.5, 8.3.3.14).
    const moved =
      condition === 'gone' || condition === 'redirect' ? xmppUriToJid(reply.getChild('error')?.getChildText(condition, STANZAS_NS) ?? '') : undefined;
    const contact = moved === undefined ? undefined : contactOf(moved);
    const remoteDomain = condition === 'remote-server-not-found' && this.opts.remoteDomains ? await this.opts.remoteDomains(domainOf(to)) : undefined;
    const failure = stanzaErrorToSip(condition, {
      addressedTo: to.includes('/') ? 'full' : 'bare',
      ...(moved && contact ? { newAddress: moved } : {}),
      ...(remoteDomain ? { remoteDomain } : {}),
    });
    for (const b of failure.behaviours) this.opts.cite(b);
    const warning = `399 xmpp-gateway "${condition}${text ? `: ${text.replace(/"/g, "'")}` : ''}"`;
    return { status: failure.status, headers: { Warning: warning, ...(contact ? { Contact: contact } : {}) } };
  }

  /** The body as XMPP's plain text: text/plain as is, text/html as the text a reader sees; undefined for other types. */
  private bodyOf(request: SipRequest): string | undefined {
    const type = (request.headers.get('Content-Type') ?? 'text/plain').split(';')[0]!.trim().toLowerCase();
    if (type === 'text/plain') return request.body;
    if (type !== 'text/html') return undefined;
    this.opts.cite('im.html-to-text');
    return htmlToText(request.body);
  }

  private addressesOf(request: SipRequest): { from: string; to: string } {
    const fromUri = parseNameAddr(request.headers.get('From') ?? '').uri;
    // RFC 7247 section 8: a sips: To refuses the request as a sips: Request-URI does.
    sipUriToJid(parseNameAddr(request.headers.get('To') ?? '').uri);
    const to = sipUriToJid(request.uri);
    const from = sipUriToJid(fromUri, 'sender');
    this.opts.cite('addresses.sip-to-jid');
    // RFC 7572 section 5: the sender's GRUU names his client, so his JID is the full one.
    if (from.includes('/')) this.opts.cite('im.from-gruu-full-jid');
    else if (parseSipUri(fromUri).params.gr === '') this.opts.cite('addresses.temporary-gruu-ignored');
    if (to.includes('/')) this.opts.cite('addresses.resource-gruu');
    return { from, to };
  }
}

/** A JID as the Contact of a 3xx; undefined when it has no SIP form (a server's JID). */
function contactOf(jid: string): string | undefined {
  try {
    return `<${jidToSipUri(jid)}>`;
  } catch {
    return undefined;
  }
}
