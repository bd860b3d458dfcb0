import { afterEach, describe, expect, it } from '@jest/globals';
import xml from '@xmpp/xml';
import type { Element } from 'ltx';
import { TimeoutError } from '../../../../../src/errors.js';
import { TestDnsServer } from '../../../../../src/infra/dns.js';
import type { BehaviourId } from '../../../../../src/sfb/behaviours/index.js';
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

/** A gateway whose citations are kept, in order. */
async function citing(o: Parameters<typeof GatewayUnderTest.start>[0] = {}): Promise<{ t: GatewayUnderTest; cited: BehaviourId[] }> {
  const cited: BehaviourId[] = [];
  return { t: await GatewayUnderTest.start({ ...o, cite: (id) => cited.push(id) }), cited };
}

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

  it('answers a XEP-0353 call proposal with feature-not-implemented and a MUC join with service-unavailable, without SIP', async () => {
    let cited: BehaviourId[];
    ({ t, cited } = await citing());
    const propose = xml(
      'message',
      { from: ALICE, to: ERIN, id: 'call' },
      xml('propose', { xmlns: 'urn:xmpp:jingle-message:0', id: 'c1' }, xml('description', { xmlns: 'urn:xmpp:jingle:apps:rtp:1', media: 'audio' })),
    );
    const join = xml('presence', { from: ALICE, to: `room@${SFB}/alice`, id: 'join' }, xml('x', { xmlns: 'http://jabber.org/protocol/muc' }));
    t.edge.deliver(propose);
    t.edge.deliver(join);
    expect((await t.edge.replyTo('call')).toString()).toBe(
      refusal(
        propose,
        'cancel',
        'feature-not-implemented',
        'Skype for Business XMPP gateway: audio, video and other Jingle sessions are not supported (only 1:1 IM and presence)',
      ),
    );
    expect((await t.edge.replyTo('join')).toString()).toBe(
      refusal(join, 'cancel', 'service-unavailable', 'Skype for Business XMPP gateway: there are no group chat rooms to join (only 1:1 IM and presence)'),
    );
    expect(t.pool.received).toEqual([]);
    expect(cited).toEqual(['modalities.jingle-message', 'modalities.muc-join']);
  });

  it('cites the catalogue rows a message rests on', async () => {
    let cited: BehaviourId[];
    ({ t, cited } = await citing());
    t.pool.answer('MESSAGE', { status: 404 });
    t.edge.deliver(chat('m1', 'hi'));
    await t.edge.replyTo('m1');
    t.edge.deliver(chat('m2', 'x'.repeat(SIP_MESSAGE_LIMIT)));
    await t.edge.replyTo('m2');
    t.edge.deliver(chat('m3', undefined, {}, xml('active', { xmlns: 'http://jabber.org/protocol/chatstates' })));
    t.edge.deliver(xml('message', { type: 'chat', from: ALICE, to: SFB, id: 'm4' }, xml('body', {}, 'server?')));
    await t.edge.replyTo('m4');
    expect(cited).toEqual([
      'im.xmpp-to-sip',
      'addresses.jid-to-sip',
      'addresses.resource-gruu',
      'errors.sip-to-xmpp',
      'im.xmpp-to-sip',
      'addresses.jid-to-sip',
      'addresses.resource-gruu',
      'im.size-limit',
      'im.bodiless-not-sent',
      'addresses.user-addresses-only',
    ]);
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

  it('sends a page-mode message (type normal) with subject, xml:lang and Call-ID as thread, then a ping to the partner domain in the same write; its result is 200', async () => {
    t = await GatewayUnderTest.start();
    const res = t.fromPool(fromErin({ headers: { Subject: 'Réunion', 'Content-Language': 'fr' } }));
    const [message, ping] = await messageAndPing();
    const id = message.attrs.id as string;
    expect(message.toString()).toBe(
      xml(
        'message',
        { type: 'normal', id, from: ERIN, to: `alice@${PARTNER}`, 'xml:lang': 'fr' },
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

  it('refuses what cannot become a message: 415 for a body neither text/plain nor text/html, 400 for a From that is no SIP URI, 503 while detached', async () => {
    t = await GatewayUnderTest.start();
    const json = await t.fromPool(fromErin({ contentType: 'application/json', body: '{}' }));
    expect([json.status, json.headers.get('Accept')]).toEqual([415, 'text/plain, text/html']);
    const bad = await t.fromPool(fromErin({ from: 'tel:+15551234' }));
    expect([bad.status, bad.reason, bad.headers.get('Warning')]).toEqual([400, 'Bad Address', `399 xmpp-gateway "'tel:+15551234' is not a sip: URI"`]);
    await t.gateway.detach();
    const detached = await t.fromPool(fromErin());
    expect([detached.status, detached.reason]).toEqual([503, 'XMPP gateway not connected to the Edge']);
    expect(t.edge.sent).toEqual([]);
  });

  it('sends a text/html body as the plain text a reader sees (RFC 7572 section 7)', async () => {
    let cited: BehaviourId[];
    ({ t, cited } = await citing());
    const res = t.fromPool(fromErin({ contentType: 'text/html; charset=UTF-8', body: '<p>Bonjour <b>Alice</b> &amp; co</p><p>à ce soir</p>' }));
    const [message, ping] = await messageAndPing();
    expect(message.getChildText('body')).toBe('Bonjour Alice & co\nà ce soir');
    expect(message.getChild('html')).toBeUndefined();
    t.edge.deliver(xml('iq', { type: 'result', id: ping.attrs.id as string, from: PARTNER, to: SFB }));
    expect((await res).status).toBe(200);
    expect(cited).toContain('im.html-to-text');
  });

  it('a From with a GRUU becomes a full JID; a temporary GRUU (a valueless gr) is ignored (RFC 7572 section 5)', async () => {
    let cited: BehaviourId[];
    ({ t, cited } = await citing());
    const fromOf = async (from: string): Promise<string> => {
      const res = t.fromPool(fromErin({ from }));
      const [message, ping] = await messageAndPing();
      t.edge.deliver(xml('iq', { type: 'result', id: ping.attrs.id as string, from: PARTNER, to: SFB }));
      expect((await res).status).toBe(200);
      return message.attrs.from as string;
    };
    expect(await fromOf(`sip:erin@${SFB};gr=urn:uuid:desk-1`)).toBe(`${ERIN}/urn:uuid:desk-1`);
    expect(cited).toContain('im.from-gruu-full-jid');
    expect(await fromOf(`sip:erin@${SFB};gr`)).toBe(ERIN);
    expect(cited).toContain('addresses.temporary-gruu-ignored');
  });

  it('refuses a sips: Request-URI or To with 416, and translates a sips: From (RFC 7247 section 8)', async () => {
    let cited: BehaviourId[];
    ({ t, cited } = await citing());
    const uri = await t.fromPool(fromErin({ uri: `sips:alice@${PARTNER}` }));
    expect([uri.status, uri.reason, uri.headers.get('Warning')]).toEqual([
      416,
      'Unsupported URI Scheme',
      `399 xmpp-gateway "'sips:alice@${PARTNER}' is a sips: URI, which is never gatewayed to XMPP (RFC 7247 section 8)"`,
    ]);
    const toHeader = buildRequest({
      method: 'MESSAGE',
      uri: `sip:alice@${PARTNER}`,
      from: `<sip:erin@${SFB}>`,
      to: `<sips:alice@${PARTNER}>`,
      callId: 'call-8',
      cseq: 1,
      body: 'hi',
      contentType: 'text/plain',
    });
    expect((await t.fromPool(toHeader)).status).toBe(416);
    expect(t.edge.sent).toEqual([]);
    expect(cited.filter((c) => c === 'addresses.sips-refused')).toHaveLength(2);
    const res = t.fromPool(fromErin({ from: `sips:erin@${SFB}` }));
    const [message, ping] = await messageAndPing();
    expect(message.attrs.from).toBe(ERIN);
    t.edge.deliver(xml('iq', { type: 'result', id: ping.attrs.id as string, from: PARTNER, to: SFB }));
    expect((await res).status).toBe(200);
  });

  /** The message the gateway sends for `uri`, refused with `error` (children of <error/>); the SIP answer. */
  async function refusedWith(uri: string, type: string, ...error: Element[]) {
    const res = t.fromPool(fromErin({ uri }));
    const [message] = await messageAndPing();
    t.edge.deliver(
      xml('message', { type: 'error', id: message.attrs.id as string, from: message.attrs.to as string, to: ERIN }, xml('error', { type }, ...error)),
    );
    return res;
  }

  it('an error for a bare JID becomes the 6xx of RFC 7247 notes 1 and 2; for a full JID the 4xx', async () => {
    let cited: BehaviourId[];
    ({ t, cited } = await citing());
    const cases: Array<[string, number, number]> = [
      ['item-not-found', 604, 404],
      ['forbidden', 603, 403],
      ['not-allowed', 603, 403],
      ['recipient-unavailable', 600, 480],
      ['not-acceptable', 606, 406],
      ['feature-not-implemented', 501, 405],
      ['policy-violation', 403, 403],
    ];
    for (const [condition, bare, full] of cases) {
      const toBare = await refusedWith(`sip:alice@${PARTNER}`, 'cancel', xml(condition, { xmlns: STANZAS }));
      const toFull = await refusedWith(`sip:alice@${PARTNER};gr=pc`, 'cancel', xml(condition, { xmlns: STANZAS }));
      expect({ condition, bare: toBare.status, full: toFull.status }).toEqual({ condition, bare, full });
    }
    expect(cited).toContain('errors.bare-jid-6xx');
  });

  it('gone with a new address becomes 301 with the address in Contact (RFC 7247 note 3); redirect keeps 302 with it', async () => {
    t = await GatewayUnderTest.start();
    const gone = await refusedWith(`sip:alice@${PARTNER}`, 'cancel', xml('gone', { xmlns: STANZAS }, 'xmpp:alice@new.test'));
    expect([gone.status, gone.headers.get('Contact')]).toEqual([301, '<sip:alice@new.test>']);
    const goneNowhere = await refusedWith(`sip:alice@${PARTNER}`, 'cancel', xml('gone', { xmlns: STANZAS }));
    expect([goneNowhere.status, goneNowhere.headers.get('Contact')]).toEqual([410, undefined]);
    const redirect = await refusedWith(`sip:alice@${PARTNER}`, 'modify', xml('redirect', { xmlns: STANZAS }, 'xmpp:alice@other.test/phone'));
    expect([redirect.status, redirect.headers.get('Contact')]).toEqual([302, '<sip:alice@other.test;gr=phone>']);
  });

  it('remote-server-not-found: 404 when DNS says the domain does not exist, 408 when it exists but cannot be resolved (RFC 7247 note 4)', async () => {
    const dns = new TestDnsServer();
    await dns.start();
    try {
      dns.publishXmppServer(PARTNER, { host: `xmpp.${PARTNER}`, address: '127.0.0.1', port: 1 });
      let cited: BehaviourId[];
      ({ t, cited } = await citing({ resolver: { host: dns.host, port: dns.port } }));
      const notFound = xml('remote-server-not-found', { xmlns: STANZAS });
      const absent = await refusedWith('sip:alice@nowhere.test', 'cancel', notFound);
      expect([absent.status, absent.headers.get('Warning')]).toEqual([404, '399 xmpp-gateway "remote-server-not-found"']);
      expect((await refusedWith(`sip:alice@${PARTNER}`, 'cancel', notFound)).status).toBe(408);
      expect(cited.filter((c) => c === 'errors.remote-server-not-found')).toHaveLength(2);
    } finally {
      await dns.stop();
    }
  });

  it('any answer to the barrier ping but a server error means the message went through: 200', async () => {
    t = await GatewayUnderTest.start();
    const res = t.fromPool(fromErin());
    const [, ping] = await messageAndPing();
    t.edge.deliver(
      xml(
        'iq',
        { type: 'error', id: ping.attrs.id as string, from: PARTNER, to: SFB },
        xml('error', { type: 'cancel' }, xml('service-unavailable', { xmlns: STANZAS })),
      ),
    );
    expect((await res).status).toBe(200);
  });
});
