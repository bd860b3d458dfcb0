import { afterEach, describe, expect, it } from '@jest/globals';
import { xml } from '@xmpp/component-core';
import type { Element } from 'ltx';
import { TimeoutError } from '../../../../../src/errors.js';
import { buildRequest } from '../../../../../src/sip/endpoint.js';
import { serializeSipMessage, type SipRequest } from '../../../../../src/sip/message.js';
import { SIP_MESSAGE_LIMIT } from '../../../../../src/targets/sim/gateway/im.js';
import { GatewayUnderTest, PARTNER, SFB } from '../../../../helpers/gateway-under-test.js';
import { headersOf } from '../../../../helpers/sip-headers.js';

const STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
const ALICE = `alice@${PARTNER}/pc`;
const ERIN = `erin@${SFB}`;

let t: GatewayUnderTest;
afterEach(() => t?.stop());

/** The error the gateway answers `stanza` with, as RFC 6120 8.3 writes it. */
const refusal = (stanza: Element, type: string, condition: string, text: string) =>
  xml(
    stanza.getName(),
    { type: 'error', id: stanza.attrs.id as string, from: stanza.attrs.to as string, to: stanza.attrs.from as string },
    xml('error', { type }, xml(condition, { xmlns: STANZAS }), xml('text', { xmlns: STANZAS }, text)),
  ).toString();

const chat = (id: string, body: string | undefined, attrs: Record<string, string> = {}, ...extra: Element[]) =>
  xml('message', { type: 'chat', from: ALICE, to: ERIN, id, ...attrs }, ...(body === undefined ? [] : [xml('body', {}, body)]), ...extra);

/** The gateway's MESSAGE as it measured it: what arrived, without the Via its endpoint added. */
const measured = (req: SipRequest) => serializeSipMessage({ ...req, headers: req.headers.clone().delete('Via') }).length;

describe('XMPP -> SIP', () => {
  it('sends body, subject, thread (as Call-ID) and xml:lang as a SIP MESSAGE to the pool', async () => {
    t = await GatewayUnderTest.start();
    t.edge.deliver(chat('m1', 'Grüße <b>&amp;</b>', { 'xml:lang': 'de' }, xml('subject', {}, 'Cutover'), xml('thread', {}, 'thread-42')));
    const req = await t.pool.next('MESSAGE', 'the MESSAGE');
    expect(req.uri).toBe(`sip:erin@${SFB}`);
    expect(headersOf(req)).toEqual({
      From: expect.stringMatching(/^<sip:alice@partner\.test;gr=pc>;tag=[0-9a-f]{10}$/),
      To: `<sip:erin@${SFB}>`,
      'Call-ID': 'thread-42',
      CSeq: '1 MESSAGE',
      Contact: `<${t.gateway.sip.contactUri(undefined, 'tcp')}>`,
      Subject: 'Cutover',
      'Content-Language': 'de',
      'Max-Forwards': '70',
      'Content-Type': 'text/plain;charset=UTF-8',
    });
    expect(req.body).toBe('Grüße <b>&amp;</b>');
    // A 200 from the pool: nothing goes back to the partner.
    t.edge.deliver(chat('m2', 'second'));
    expect((await t.pool.next('MESSAGE', 'the second MESSAGE')).headers.get('CSeq')).toBe('2 MESSAGE');
    expect(t.edge.sent).toEqual([]);
  });

  it('without a thread the Call-ID is new, and without a subject or language those headers are absent', async () => {
    t = await GatewayUnderTest.start();
    t.edge.deliver(chat('m1', 'plain'));
    const req = await t.pool.next('MESSAGE', 'the MESSAGE');
    expect(req.headers.get('Call-ID')).toMatch(/^[0-9a-f]{20}@127\.0\.0\.1$/);
    expect(Object.keys(headersOf(req))).toEqual(['From', 'To', 'Call-ID', 'CSeq', 'Contact', 'Max-Forwards', 'Content-Type']);
  });

  it('sends nothing for a message without a body (a chat state), nor for an error', async () => {
    t = await GatewayUnderTest.start();
    t.edge.deliver(chat('state', undefined, {}, xml('composing', { xmlns: 'http://jabber.org/protocol/chatstates' })));
    t.edge.deliver(xml('message', { type: 'error', from: ALICE, to: ERIN, id: 'bounce' }, xml('body', {}, 'bounced')));
    t.edge.deliver(chat('marker', 'marker'));
    // Requests reach the pool in the order the gateway sent them (one TCP connection).
    expect((await t.pool.next('MESSAGE', 'the first MESSAGE')).body).toBe('marker');
    expect(t.edge.sent).toEqual([]);
  });

  it(`refuses a MESSAGE over ${SIP_MESSAGE_LIMIT} bytes with policy-violation, and sends one of exactly ${SIP_MESSAGE_LIMIT}`, async () => {
    t = await GatewayUnderTest.start();
    t.edge.deliver(chat('m1', 'a', {}, xml('thread', {}, 'same-thread')));
    // Everything but the body and the digits of its Content-Length (1 here, 4 at the limit).
    const overhead = measured(await t.pool.next('MESSAGE', 'the measuring MESSAGE')) - 1 - 1;
    const fits = 'b'.repeat(SIP_MESSAGE_LIMIT - overhead - 4);
    expect(String(fits.length)).toHaveLength(4);
    t.edge.deliver(chat('m2', fits, {}, xml('thread', {}, 'same-thread')));
    const sent = await t.pool.next('MESSAGE', 'the MESSAGE at the limit');
    expect([sent.body, measured(sent)]).toEqual([fits, SIP_MESSAGE_LIMIT]);
    const over = chat('m3', `${fits}c`, {}, xml('thread', {}, 'same-thread'));
    t.edge.deliver(over);
    const error = await t.edge.replyTo('m3');
    expect(error.toString()).toBe(
      refusal(
        over,
        'modify',
        'policy-violation',
        `The message is too large for the SIP side: ${SIP_MESSAGE_LIMIT + 1} bytes, over the ${SIP_MESSAGE_LIMIT}-byte limit of a SIP MESSAGE`,
      ),
    );
    expect(t.pool.untaken('MESSAGE')).toEqual([]);
  });

  it.each([
    [404, 'Not Found', 'cancel', 'item-not-found'],
    [403, 'Forbidden', 'auth', 'forbidden'],
    [480, 'Temporarily Unavailable', 'wait', 'recipient-unavailable'],
    [603, 'Decline', 'wait', 'recipient-unavailable'],
  ])('a SIP %i becomes a stanza error (%s -> %s %s) naming the status and the Warning', async (status, reason, type, condition) => {
    t = await GatewayUnderTest.start();
    t.pool.answer('MESSAGE', { status, headers: { Warning: '399 legacy.contoso.test "why"' } });
    const m = chat('m1', 'hi');
    t.edge.deliver(m);
    expect((await t.edge.replyTo('m1')).toString()).toBe(refusal(m, type, condition, `SIP ${status} ${reason} (399 legacy.contoso.test "why")`));
  });

  it('a pool that does not answer: remote-server-timeout, and a gateway-error', async () => {
    t = await GatewayUnderTest.start({ timeoutMs: 200 });
    t.pool.answer('MESSAGE', () => new Promise(() => undefined));
    const m = chat('m1', 'anyone?');
    t.edge.deliver(m);
    expect((await t.edge.replyTo('m1')).toString()).toBe(refusal(m, 'wait', 'remote-server-timeout', 'SIP 408 Request Timeout'));
    expect(t.errors).toEqual([expect.any(TimeoutError)]);
  });

  it('refuses unsupported features and messages to the gateway domain itself, without SIP', async () => {
    t = await GatewayUnderTest.start();
    const group = xml('message', { type: 'groupchat', from: ALICE, to: ERIN, id: 'g' }, xml('body', {}, 'room talk'));
    const invite = xml('message', { from: ALICE, to: ERIN, id: 'i' }, xml('x', { xmlns: 'jabber:x:conference', jid: 'room@conf.partner.test' }));
    const domain = xml('message', { type: 'chat', from: ALICE, to: SFB, id: 'd' }, xml('body', {}, 'hello server'));
    for (const s of [group, invite, domain]) t.edge.deliver(s);
    expect((await t.edge.replyTo('g')).toString()).toBe(
      refusal(group, 'cancel', 'service-unavailable', 'Skype for Business XMPP gateway: group chat is not supported (only 1:1 IM and presence)'),
    );
    expect((await t.edge.replyTo('i')).toString()).toBe(
      refusal(
        invite,
        'cancel',
        'feature-not-implemented',
        'Skype for Business XMPP gateway: group chat invitations are not supported (only 1:1 IM and presence)',
      ),
    );
    expect((await t.edge.replyTo('d')).toString()).toBe(refusal(domain, 'cancel', 'service-unavailable', 'The XMPP gateway domain itself takes no messages'));
    expect(t.pool.received).toEqual([]);
  });

  it('PublicUnverified: refused (forbidden) until the SfB user has added the partner as a contact', async () => {
    t = await GatewayUnderTest.start({ partnerType: 'PublicUnverified' });
    const early = chat('m1', 'hello erin');
    t.edge.deliver(early);
    expect((await t.edge.replyTo('m1')).toString()).toBe(
      refusal(early, 'auth', 'forbidden', `PublicUnverified partner: ${ERIN} has not added alice@${PARTNER} as a contact`),
    );
    expect(t.pool.received).toEqual([]);
    const subscribe = buildRequest({
      method: 'SUBSCRIBE',
      uri: `sip:alice@${PARTNER}`,
      from: `<sip:erin@${SFB}>`,
      to: `<sip:alice@${PARTNER}>`,
      callId: 'add-alice',
      cseq: 1,
      contact: `<${t.pool.contactUri('erin', 'tcp')}>`,
      headers: { Event: 'presence', Expires: '3600' },
    });
    expect((await t.fromPool(subscribe)).status).toBe(202);
    t.edge.deliver(chat('m2', 'now allowed'));
    expect((await t.pool.next('MESSAGE', 'the allowed MESSAGE')).body).toBe('now allowed');
  });
});

describe('SIP -> XMPP', () => {
  const fromErin = (o: { uri?: string; body?: string; headers?: Record<string, string>; contentType?: string; from?: string } = {}) =>
    buildRequest({
      method: 'MESSAGE',
      uri: o.uri ?? `sip:alice@${PARTNER}`,
      from: `<${o.from ?? `sip:erin@${SFB}`}>`,
      to: `<${o.uri ?? `sip:alice@${PARTNER}`}>`,
      callId: 'call-7',
      cseq: 1,
      headers: o.headers ?? {},
      body: o.body ?? 'Bonjour à tous',
      contentType: o.contentType ?? 'text/plain; charset=UTF-8',
    });

  /** The message and the ping the gateway wrote together. */
  async function messageAndPing(): Promise<[Element, Element]> {
    const message = await t.edge.next((s) => s.is('message'), 'the message');
    const ping = await t.edge.next((s) => s.is('iq'), 'the barrier ping');
    expect(t.edge.writes).toContainEqual([message, ping]);
    return [message, ping];
  }

  it('sends the message with subject, xml:lang and Call-ID as thread, then a ping to the partner domain in the same write; its result is 200', async () => {
    t = await GatewayUnderTest.start();
    const res = t.fromPool(fromErin({ headers: { Subject: 'Réunion', 'Content-Language': 'fr' } }));
    const [message, ping] = await messageAndPing();
    const id = message.attrs.id as string;
    expect(message.toString()).toBe(
      xml(
        'message',
        { type: 'chat', id, from: ERIN, to: `alice@${PARTNER}`, 'xml:lang': 'fr' },
        xml('body', {}, 'Bonjour à tous'),
        xml('subject', {}, 'Réunion'),
        xml('thread', {}, 'call-7'),
      ).toString(),
    );
    expect(ping.toString()).toBe(
      xml('iq', { type: 'get', id: ping.attrs.id as string, from: SFB, to: PARTNER }, xml('ping', { xmlns: 'urn:xmpp:ping' })).toString(),
    );
    expect(id).not.toBe(ping.attrs.id);
    t.edge.deliver(xml('iq', { type: 'result', id: ping.attrs.id as string, from: PARTNER, to: SFB }));
    expect((await res).status).toBe(200);
  });

  it('an error for the message before the barrier becomes its SIP status, with the condition and text in Warning', async () => {
    t = await GatewayUnderTest.start();
    const res = t.fromPool(fromErin());
    const [message] = await messageAndPing();
    t.edge.deliver(
      xml(
        'message',
        { type: 'error', id: message.attrs.id as string, from: `alice@${PARTNER}`, to: ERIN },
        xml('error', { type: 'cancel' }, xml('service-unavailable', { xmlns: STANZAS }), xml('text', { xmlns: STANZAS }, 'no "such" user')),
      ),
    );
    const answer = await res;
    expect([answer.status, answer.headers.get('Warning')]).toEqual([405, `399 xmpp-gateway "service-unavailable: no 'such' user"`]);
  });

  it('to a full JID (a GRUU) the ping goes to that client: a client without ping support still got the message', async () => {
    t = await GatewayUnderTest.start();
    const res = t.fromPool(fromErin({ uri: `sip:alice@${PARTNER};gr=pc` }));
    const [message, ping] = await messageAndPing();
    expect([message.attrs.to, ping.attrs.from, ping.attrs.to]).toEqual([ALICE, ERIN, ALICE]);
    t.edge.deliver(
      xml(
        'iq',
        { type: 'error', id: ping.attrs.id as string, from: ALICE, to: ERIN },
        xml('error', { type: 'cancel' }, xml('feature-not-implemented', { xmlns: STANZAS })),
      ),
    );
    expect((await res).status).toBe(200);
  });

  it("a server's error on the ping to a client is a failure: remote-server-timeout -> 408", async () => {
    t = await GatewayUnderTest.start();
    const res = t.fromPool(fromErin({ uri: `sip:alice@${PARTNER};gr=pc` }));
    const [, ping] = await messageAndPing();
    t.edge.deliver(
      xml(
        'iq',
        { type: 'error', id: ping.attrs.id as string, from: ALICE, to: ERIN },
        xml('error', { type: 'wait' }, xml('remote-server-timeout', { xmlns: STANZAS })),
      ),
    );
    const answer = await res;
    expect([answer.status, answer.headers.get('Warning')]).toEqual([408, '399 xmpp-gateway "remote-server-timeout"']);
  });

  it('no answer to the barrier within the bound: 408', async () => {
    t = await GatewayUnderTest.start({ timeoutMs: 200 });
    const res = t.fromPool(fromErin());
    await messageAndPing();
    const answer = await res;
    expect([answer.status, answer.headers.get('Warning')]).toEqual([408, undefined]);
  });

  it('refuses what cannot become a message: 415 for a body not text/plain, 400 for a From that is no sip: URI, 503 while detached', async () => {
    t = await GatewayUnderTest.start();
    const json = await t.fromPool(fromErin({ contentType: 'application/json', body: '{}' }));
    expect([json.status, json.headers.get('Accept')]).toEqual([415, 'text/plain']);
    const bad = await t.fromPool(fromErin({ from: 'sips:erin@contoso.test' }));
    expect([bad.status, bad.reason, bad.headers.get('Warning')]).toEqual([
      400,
      'Bad Address',
      `399 xmpp-gateway "'sips:erin@contoso.test' is a sips: URI, which is never gatewayed to XMPP (RFC 7247)"`,
    ]);
    await t.gateway.detach();
    const detached = await t.fromPool(fromErin());
    expect([detached.status, detached.reason]).toEqual([503, 'XMPP gateway not connected to the Edge']);
    expect(t.edge.sent).toEqual([]);
  });
});
