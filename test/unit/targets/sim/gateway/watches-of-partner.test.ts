import { afterEach, describe, expect, it } from '@jest/globals';
import xml from '@xmpp/xml';
import type { Element } from 'ltx';
import { buildRequest } from '../../../../../src/sip/endpoint.js';
import { parseNameAddr, type SipRequest, type SipResponse } from '../../../../../src/sip/message.js';
import { buildPidf, pidfOfTuples, type PidfTuple } from '../../../../../src/sip/pidf.js';
import { GatewayUnderTest, PARTNER, SFB } from '../../../../helpers/gateway-under-test.js';
import { headersOf } from '../../../../helpers/sip-headers.js';

const ALICE = `alice@${PARTNER}`;
const NORA = `nora@${SFB}`;
const NORA_TAG = 'noratag';

let t: GatewayUnderTest;
afterEach(() => t?.stop());

const presence = (attrs: Record<string, string>, ...children: Element[]) => xml('presence', attrs, ...children).toString();
const fromAlice = (attrs: Record<string, string>, ...children: Element[]) => xml('presence', { from: `${ALICE}/pc`, to: NORA, ...attrs }, ...children);

/** nora's SUBSCRIBE to alice as the pool sends it; `dialog` (the gateway's 202) makes it in-dialog. */
function subscribe(o: { expires?: string; event?: string; dialog?: SipResponse; cseq?: number; from?: string; callId?: string } = {}): SipRequest {
  return buildRequest({
    method: 'SUBSCRIBE',
    uri: o.dialog ? parseNameAddr(o.dialog.headers.get('Contact')!).uri : `sip:${ALICE}`,
    from: `<${o.from ?? `sip:${NORA}`}>;tag=${NORA_TAG}`,
    to: o.dialog ? o.dialog.headers.get('To')! : `<sip:${ALICE}>`,
    callId: o.callId ?? 'nora-alice',
    cseq: o.cseq ?? 1,
    contact: `<${t.pool.contactUri('nora', 'tcp')}>`,
    headers: { Event: o.event ?? 'presence', Accept: 'application/pidf+xml', Expires: o.expires ?? '3600' },
  });
}

/** nora adds alice: the 202, the pending NOTIFY, and alice's subscribe request. */
async function addAlice(): Promise<{ accepted: SipResponse; pending: SipRequest }> {
  const accepted = await t.fromPool(subscribe());
  const pending = await t.pool.next('NOTIFY', 'the pending NOTIFY');
  expect((await t.edge.next(() => true, "nora's subscribe")).toString()).toBe(presence({ from: NORA, to: ALICE, type: 'subscribe' }));
  return { accepted, pending };
}

const stateOf = (n: SipRequest) => n.headers.get('Subscription-State');
/** The PIDF of alice's resources as the gateway writes it. */
const pidfOf = (...tuples: PidfTuple[]) => buildPidf(pidfOfTuples(`sip:${ALICE}`, tuples));
const onPc = (t: Omit<PidfTuple, 'id' | 'contact'>, resource = 'pc'): PidfTuple => ({
  id: `ID-${resource}`,
  ...t,
  contact: { uri: `sip:${ALICE};gr=${resource}` },
});

/** nora adds alice, and alice approves: the dialog, active. */
async function activeWatch(): Promise<SipResponse> {
  const { accepted } = await addAlice();
  t.edge.deliver(xml('presence', { from: ALICE, to: NORA, type: 'subscribed' }));
  await t.pool.next('NOTIFY', 'the active NOTIFY');
  return accepted;
}

/** A request the gateway sends after everything before it: an OPTIONS for a ping of a user. */
async function barrier(): Promise<void> {
  t.edge.deliver(xml('iq', { type: 'get', id: 'barrier', from: `${ALICE}/pc`, to: `barrier@${SFB}` }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
  await t.edge.replyTo('barrier');
}

describe('an SfB user adds a partner contact', () => {
  it('202 with a dialog, a pending NOTIFY at once to the subscriber Contact, then subscribe to the partner user', async () => {
    t = await GatewayUnderTest.start();
    const { accepted, pending } = await addAlice();
    const gatewayTag = parseNameAddr(accepted.headers.get('To')!).params.tag;
    expect(gatewayTag).toMatch(/^[0-9a-f]{10}$/);
    expect([accepted.status, accepted.headers.get('Expires'), accepted.headers.get('Contact')]).toEqual([
      202,
      '3600',
      `<${t.gateway.sip.contactUri(undefined, 'tcp')}>`,
    ]);
    expect(pending.uri).toBe(t.pool.contactUri('nora', 'tcp'));
    expect(headersOf(pending)).toEqual({
      From: `<sip:${ALICE}>;tag=${gatewayTag}`,
      To: `<sip:${NORA}>;tag=${NORA_TAG}`,
      'Call-ID': 'nora-alice',
      CSeq: '1 NOTIFY',
      Contact: `<${t.gateway.sip.contactUri(undefined, 'tcp')}>`,
      Event: 'presence',
      'Subscription-State': 'pending;expires=3600',
      'Max-Forwards': '70',
    });
    expect(pending.body).toBe('');
  });

  it('approval makes it active; presence then follows as PIDF (RFC 8048), unavailable as closed', async () => {
    t = await GatewayUnderTest.start();
    await addAlice();
    // Before approval the partner's presence is not the SfB user's to see.
    t.edge.deliver(fromAlice({}, xml('show', {}, 'chat')));
    t.edge.deliver(xml('presence', { from: ALICE, to: NORA, type: 'subscribed' }));
    const active = await t.pool.next('NOTIFY', 'the active NOTIFY');
    expect([stateOf(active), active.headers.get('CSeq'), active.body, active.headers.get('Content-Type')]).toEqual([
      'active;expires=3600',
      '2 NOTIFY',
      '',
      undefined,
    ]);
    t.edge.deliver(fromAlice({ 'xml:lang': 'en' }, xml('show', {}, 'away'), xml('status', {}, 'lunch')));
    const away = await t.pool.next('NOTIFY', 'the NOTIFY with away');
    // The stanza's xml:lang is the Content-Language (RFC 8048 section 6.2 Table 1).
    expect([stateOf(away), away.headers.get('Content-Type'), away.headers.get('Content-Language'), away.body]).toEqual([
      'active;expires=3600',
      'application/pidf+xml',
      'en',
      pidfOf(onPc({ basic: 'open', show: 'away', note: 'lunch', lang: 'en' })),
    ]);
    t.edge.deliver(fromAlice({ type: 'unavailable' }));
    expect((await t.pool.next('NOTIFY', 'the NOTIFY with closed')).body).toBe(pidfOf(onPc({ basic: 'closed' })));
    expect(t.pool.untaken('NOTIFY')).toEqual([]);
  });

  it('a partner user who refuses ends it: terminated;reason=rejected, and nothing after', async () => {
    t = await GatewayUnderTest.start();
    await addAlice();
    t.edge.deliver(xml('presence', { from: ALICE, to: NORA, type: 'unsubscribed' }));
    const ended = await t.pool.next('NOTIFY', 'the final NOTIFY');
    expect([stateOf(ended), ended.body]).toEqual(['terminated;reason=rejected', '']);
    t.edge.deliver(fromAlice({}, xml('show', {}, 'away')));
    await barrier();
    expect(t.pool.untaken('NOTIFY')).toEqual([]);
  });

  it('a refresh in the dialog is granted what it asks and followed by a NOTIFY with the state known', async () => {
    t = await GatewayUnderTest.start();
    const accepted = await activeWatch();
    t.edge.deliver(fromAlice({}, xml('show', {}, 'chat')));
    await t.pool.next('NOTIFY', 'the NOTIFY with chat');
    const refreshed = await t.fromPool(subscribe({ dialog: accepted, expires: '600', cseq: 2 }));
    expect([refreshed.status, refreshed.headers.get('Expires')]).toEqual([200, '600']);
    const after = await t.pool.next('NOTIFY', 'the NOTIFY after the refresh');
    expect([stateOf(after), after.body]).toEqual(['active;expires=600', pidfOf(onPc({ basic: 'open', show: 'chat' }))]);
    expect(t.edge.sent.filter((s) => s.attrs.type === 'probe')).toEqual([]);
  });

  it('Expires 0 in the dialog (the contact removed): a last NOTIFY with PIDF closed, terminated;reason=timeout, and unavailable to the partner user', async () => {
    t = await GatewayUnderTest.start();
    const accepted = await activeWatch();
    const removed = await t.fromPool(subscribe({ dialog: accepted, expires: '0', cseq: 2 }));
    expect([removed.status, removed.headers.get('Expires')]).toEqual([200, '0']);
    const last = await t.pool.next('NOTIFY', 'the final NOTIFY');
    expect([stateOf(last), last.headers.get('Content-Type'), last.body]).toEqual([
      'terminated;reason=timeout',
      'application/pidf+xml',
      pidfOf({ id: 'ID-', basic: 'closed' }),
    ]);
    // Not unsubscribe: RFC 8048 section 5.3.3 leaves the partner's subscription alone.
    expect((await t.edge.next((s) => s.attrs.type === 'unavailable', 'unavailable')).toString()).toBe(presence({ from: NORA, to: ALICE, type: 'unavailable' }));
    expect(t.edge.sent.filter((s) => s.attrs.type === 'unsubscribe')).toEqual([]);
    // The dialog is gone: alice's presence goes nowhere.
    t.edge.deliver(fromAlice({}));
    await barrier();
    expect(t.pool.untaken('NOTIFY')).toEqual([]);
  });

  it('an Expires 0 SUBSCRIBE out of a dialog is a poll: an XMPP probe, and one NOTIFY with its answer', async () => {
    t = await GatewayUnderTest.start();
    const polled = await t.fromPool(subscribe({ expires: '0' }));
    expect([polled.status, polled.headers.get('Expires')]).toEqual([202, '0']);
    expect((await t.edge.next((s) => s.attrs.type === 'probe', 'the probe')).toString()).toBe(presence({ from: NORA, to: ALICE, type: 'probe' }));
    // The poll is no subscription: the partner user gets no subscribe.
    expect(t.edge.sent.filter((s) => s.attrs.type === 'subscribe')).toEqual([]);
    t.edge.deliver(fromAlice({}, xml('show', {}, 'dnd'), xml('status', {}, 'busy')));
    const answer = await t.pool.next('NOTIFY', 'the NOTIFY of the poll');
    expect([stateOf(answer), answer.body]).toEqual(['terminated;reason=timeout', pidfOf(onPc({ basic: 'open', show: 'dnd', note: 'busy' }))]);
    // Refused: rejected. Unanswered within the bound: a NOTIFY with nothing known.
    await t.fromPool(subscribe({ expires: '0', callId: 'poll-2' }));
    t.edge.deliver(xml('presence', { from: ALICE, to: NORA, type: 'unsubscribed' }));
    expect(stateOf(await t.pool.next('NOTIFY', 'the refused poll'))).toBe('terminated;reason=rejected');
    await t.fromPool(subscribe({ expires: '0', callId: 'poll-3' }));
    const silent = await t.pool.next('NOTIFY', 'the unanswered poll', 3_000);
    expect([stateOf(silent), silent.body]).toEqual(['terminated;reason=timeout', '']);
  });

  it('several resources: one tuple each (ID-<resource>), and one going offline leaves the contact open', async () => {
    const cited: string[] = [];
    t = await GatewayUnderTest.start({ cite: (id) => cited.push(id) });
    await activeWatch();
    t.edge.deliver(fromAlice({}, xml('show', {}, 'away'), xml('priority', {}, '1')));
    await t.pool.next('NOTIFY', 'the NOTIFY with pc');
    t.edge.deliver(xml('presence', { from: `${ALICE}/phone`, to: NORA }, xml('status', {}, 'mobile'), xml('priority', {}, '10')));
    const both = await t.pool.next('NOTIFY', 'the NOTIFY with both');
    const pc = { ...onPc({ basic: 'open', show: 'away' }), contact: { uri: `sip:${ALICE};gr=pc`, priority: 0.007 } };
    const phone = { ...onPc({ basic: 'open', note: 'mobile' }, 'phone'), contact: { uri: `sip:${ALICE};gr=phone`, priority: 0.078 } };
    expect(both.body).toBe(pidfOf(pc, phone));
    t.edge.deliver(fromAlice({ type: 'unavailable' }));
    const phoneOnly = await t.pool.next('NOTIFY', 'the NOTIFY after pc left');
    expect(phoneOnly.body).toBe(pidfOf(phone));
    t.edge.deliver(xml('presence', { from: `${ALICE}/phone`, to: NORA, type: 'unavailable' }));
    expect((await t.pool.next('NOTIFY', 'the NOTIFY after both left')).body).toBe(pidfOf(onPc({ basic: 'closed' }, 'phone')));
    expect(cited).toContain('presence.resource-tuples');
  });

  it('refuses other event packages (489), an address that cannot be a JID (400), and new subscriptions while detached (503)', async () => {
    t = await GatewayUnderTest.start();
    expect((await t.fromPool(subscribe({ event: 'dialog' }))).status).toBe(489);
    const bad = await t.fromPool(subscribe({ from: 'sips:nora@contoso.test' }));
    expect([bad.status, bad.headers.get('Warning')]).toEqual([
      400,
      expect.stringMatching(/^399 xmpp-gateway "'sips:nora@contoso\.test' is a sips: URI, which is never gatewayed/),
    ]);
    await t.gateway.detach();
    const detached = await t.fromPool(subscribe());
    expect([detached.status, detached.reason]).toEqual([503, 'XMPP gateway not connected to the Edge']);
    expect(t.pool.received.map((r) => r.request.method)).toEqual([]);
    expect(t.edge.sent).toEqual([]);
  });
});

describe('PublicUnverified partners', () => {
  const bobSubscribes = () => xml('presence', { from: `bob@${PARTNER}/pc`, to: `leo@${SFB}`, type: 'subscribe', id: 'bob-leo' });
  const leoAddsBob = () =>
    buildRequest({
      method: 'SUBSCRIBE',
      uri: `sip:bob@${PARTNER}`,
      from: `<sip:leo@${SFB}>`,
      to: `<sip:bob@${PARTNER}>`,
      callId: 'leo-bob',
      cseq: 1,
      contact: `<${t.pool.contactUri('leo', 'tcp')}>`,
      headers: { Event: 'presence', Expires: '3600' },
    });

  it("a partner user's subscription is held, not refused, until the SfB user adds him; then it goes to the pool", async () => {
    t = await GatewayUnderTest.start({ partnerType: 'PublicUnverified' });
    t.edge.deliver(bobSubscribes());
    await barrier();
    expect(t.pool.untaken('SUBSCRIBE')).toEqual([]);
    expect(t.edge.sent.filter((s) => s.is('presence'))).toEqual([]);
    expect((await t.fromPool(leoAddsBob())).status).toBe(202);
    expect(stateOf(await t.pool.next('NOTIFY', "the pending NOTIFY of leo's subscription"))).toBe('pending;expires=3600');
    const held = await t.pool.next('SUBSCRIBE', "bob's held SUBSCRIBE");
    expect([held.uri, parseNameAddr(held.headers.get('From')!).uri, held.headers.get('Expires')]).toEqual([`sip:leo@${SFB}`, `sip:bob@${PARTNER}`, '28800']);
    expect(t.edge.sent.map(String)).toContain(presence({ from: `leo@${SFB}`, to: `bob@${PARTNER}`, type: 'subscribe' }));
  });

  it('an unsubscribe drops the held request', async () => {
    t = await GatewayUnderTest.start({ partnerType: 'PublicUnverified' });
    t.edge.deliver(bobSubscribes());
    t.edge.deliver(xml('presence', { from: `bob@${PARTNER}/pc`, to: `leo@${SFB}`, type: 'unsubscribe' }));
    expect((await t.fromPool(leoAddsBob())).status).toBe(202);
    await t.pool.next('NOTIFY', 'the pending NOTIFY');
    await t.edge.next((s) => s.attrs.type === 'subscribe', "leo's subscribe");
    await barrier();
    expect(t.pool.untaken('SUBSCRIBE')).toEqual([]);
  });
});
