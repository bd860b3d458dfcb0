import { xml } from '@xmpp/component-core';
import type { Element } from 'ltx';
import { randomUUID } from 'node:crypto';
import { TimeoutError } from '../../../errors.js';
import { buildRequest, type SipResponseInit } from '../../../sip/endpoint.js';
import { newCallId, parseNameAddr, serializeSipMessage, type SipRequest } from '../../../sip/message.js';
import { stanzaError } from '../../../xmpp/client.js';
import { bareJid, domainOf, jidToSipUri, sipUriToJid } from '../mapping/address.js';
import { stanzaErrorToSipStatus } from '../mapping/errors.js';
import { unsupportedInMessage } from '../mapping/xmpp-features.js';
import { PING_NS } from './disco.js';
import type { PartnerPolicy } from './partner-policy.js';
import { stanzaErrorOf, type SipSide } from './sip-side.js';
import type { XmppSide } from './xmpp-side.js';

/** RFC 7572 / docs/sfb-xmpp-federation.md section 7: a MESSAGE larger than this is not sent (policy-violation). */
export const SIP_MESSAGE_LIMIT = 1300;

/** 1:1 IM across the gateway (RFC 7572): XMPP messages to SIP MESSAGEs and back. */
export class InstantMessages {
  constructor(
    private readonly xmpp: XmppSide,
    private readonly sip: SipSide,
    private readonly policy: PartnerPolicy,
    /** Bound on the XMPP delivery barrier. */
    private readonly timeoutMs: number,
  ) {}

  /** A partner user's message to an SfB user, sent on as a SIP MESSAGE; a failure comes back as a stanza error. */
  async onMessage(s: Element): Promise<void> {
    if (s.attrs.type === 'error') return;
    const from = s.attrs.from as string;
    const to = s.attrs.to as string;
    const unsupported = unsupportedInMessage(s);
    if (unsupported) return this.xmpp.replyError(s, unsupported.condition, unsupported.text);
    const body = s.getChildText('body');
    // Chat states and receipts alone have no SIP counterpart (RFC 7572 carries text only).
    if (body === null) return;
    if (to === this.xmpp.domain) return this.xmpp.replyError(s, 'service-unavailable', 'The XMPP gateway domain itself takes no messages');
    if (!this.policy.mayReach(from, to)) {
      return this.xmpp.replyError(s, 'forbidden', `PublicUnverified partner: ${bareJid(to)} has not added ${bareJid(from)} as a contact`);
    }
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
      return this.xmpp.replyError(
        s,
        'policy-violation',
        `The message is too large for the SIP side: ${size} bytes, over the ${SIP_MESSAGE_LIMIT}-byte limit of a SIP MESSAGE`,
      );
    }
    const res = await this.sip.request(request);
    if (res.status >= 300) await this.xmpp.replyError(s, ...stanzaErrorOf(res));
  }

  /**
   * An SfB user's IM to a partner user. XMPP has no delivery report, so a ping to the partner's
   * domain follows the message on the same S2S path as a barrier: an error for the message
   * arrives before the ping's answer, or the message went through.
   */
  async onSipMessage(request: SipRequest): Promise<SipResponseInit> {
    if (!this.xmpp.connected) return { status: 503, reason: 'XMPP gateway not connected to the Edge' };
    let from: string;
    let to: string;
    try {
      ({ from, to } = addressesOf(request));
    } catch (err) {
      return { status: 400, reason: 'Bad Address', headers: { Warning: `399 xmpp-gateway "${(err as Error).message}"` } };
    }
    const type = request.headers.get('Content-Type') ?? 'text/plain';
    if (!/^text\/plain\b/i.test(type)) return { status: 415, headers: { Accept: 'text/plain' } };
    const id = randomUUID();
    const pingId = randomUUID();
    const lang = request.headers.get('Content-Language');
    const subject = request.headers.get('Subject');
    const message = xml(
      'message',
      { type: 'chat', id, from, to, ...(lang ? { 'xml:lang': lang } : {}) },
      xml('body', {}, request.body),
      ...(subject ? [xml('subject', {}, subject)] : []),
      xml('thread', {}, request.headers.get('Call-ID') ?? ''),
    );
    // To a full JID (a GRUU on the SIP side) the barrier goes to that client, which answers after
    // it has handled (or refused) the message; otherwise to the partner's server.
    const barrier = to.includes('/') ? to : domainOf(to);
    const ping = xml('iq', { type: 'get', id: pingId, from: barrier === to ? from : this.xmpp.domain, to: barrier }, xml('ping', { xmlns: PING_NS }));
    let reply: Element;
    try {
      reply = await this.xmpp.caller.call([message, ping], [id, pingId], this.timeoutMs, `the XMPP delivery barrier for ${to}`);
    } catch (err) {
      if (err instanceof TimeoutError) return { status: 408 };
      throw err;
    }
    if (reply.attrs.type === 'result') return { status: 200 };
    const { condition, text } = stanzaError(reply);
    // A client that does not implement ping still answered, so the message reached it.
    if (reply.attrs.id === pingId && barrier === to && !condition.startsWith('remote-server-')) return { status: 200 };
    return { status: stanzaErrorToSipStatus(condition), headers: { Warning: `399 xmpp-gateway "${condition}${text ? `: ${text.replace(/"/g, "'")}` : ''}"` } };
  }
}

function addressesOf(request: SipRequest): { from: string; to: string } {
  const fromUri = parseNameAddr(request.headers.get('From') ?? '').uri;
  return { from: bareJid(sipUriToJid(fromUri)), to: sipUriToJid(request.uri) };
}
