import { afterEach, describe, expect, it } from '@jest/globals';
import { xml } from '@xmpp/component-core';
import type { Element } from 'ltx';
import { withDeadline } from '../../../../../src/infra/deadline.js';
import { buildRequest } from '../../../../../src/sip/endpoint.js';
import { parseNameAddr, type SipRequest } from '../../../../../src/sip/message.js';
import { buildPidf } from '../../../../../src/sip/pidf.js';
import { GatewayUnderTest, PARTNER, SFB } from '../../../../helpers/gateway-under-test.js';
import { headersOf } from '../../../../helpers/sip-headers.js';

const STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
const ALICE = `alice@${PARTNER}`;
const ERIN = `erin@${SFB}`;
const POOL_TAG = 'pooltag';
const PIDF = buildPidf({ entity: `sip:erin@${SFB}`, basic: 'open', show: 'dnd', note: 'In a meeting' });

let t: GatewayUnderTest;
afterEach(() => t?.stop());

const presence = (attrs: Record<string, string>, ...children: Element[]) => xml('presence', attrs, ...children).toString();
const fromAlice = (type: string, id?: string) => xml('presence', { from: `${ALICE}/pc`, to: ERIN, type, ...(id ? { id } : {}) });

/** The pool's NOTIFY in the dialog `subscribe` opened. */
function notify(subscribe: SipRequest, state: string, o: { body?: string; cseq?: number } = {}): SipRequest {
  return buildRequest({
    method: 'NOTIFY',
    uri: parseNameAddr(subscribe.headers.get('Contact')!).uri,
    from: `${subscribe.headers.get('To')!.replace(/;tag=.*$/, '')};tag=${POOL_TAG}`,
    to: subscribe.headers.get('From')!,
    callId: subscribe.headers.get('Call-ID')!,
    cseq: o.cseq ?? 1,
    contact: `<${t.pool.contactUri('erin', 'tcp')}>`,
    headers: { Event: 'presence', 'Subscription-State': state },
    body: o.body ?? '',
    contentType: o.body ? 'application/pidf+xml' : undefined,
  });
}

/** alice subscribes to erin; the pool accepts (202) with `expires` granted. */
async function subscribe(expires = '3600'): Promise<SipRequest> {
  t.pool.answerOnce('SUBSCRIBE', { status: 202, toTag: POOL_TAG, headers: { Expires: expires } });
  t.edge.deliver(fromAlice('subscribe'));
  return t.pool.next('SUBSCRIBE', "alice's SUBSCRIBE");
}

/** A request the gateway sends after everything before it: an OPTIONS for a ping of a user. */
async function barrier(): Promise<void> {
  t.edge.deliver(xml('iq', { type: 'get', id: 'barrier', from: `${ALICE}/pc`, to: `barrier@${SFB}` }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
  await t.edge.replyTo('barrier');
}

describe('a partner user subscribes to an SfB user', () => {
  it('sends a SUBSCRIBE for presence to the pool; an active NOTIFY becomes subscribed, then the presence', async () => {
    t = await GatewayUnderTest.start();
    const sub = await subscribe();
    expect(sub.uri).toBe(`sip:erin@${SFB}`);
    expect(headersOf(sub)).toEqual({
      From: expect.stringMatching(/^<sip:alice@partner\.test>;tag=[0-9a-f]{10}$/),
      To: `<sip:erin@${SFB}>`,
      'Call-ID': expect.stringMatching(/^[0-9a-f]{20}@127\.0\.0\.1$/),
      CSeq: '1 SUBSCRIBE',
      Contact: `<${t.gateway.sip.contactUri(undefined, 'tcp')}>`,
      Event: 'presence',
      Accept: 'application/pidf+xml',
      Expires: '3600',
      'Max-Forwards': '70',
    });
    expect((await t.fromPool(notify(sub, 'active;expires=3600', { body: PIDF }))).status).toBe(200);
    expect(t.edge.sent.map(String)).toEqual([
      presence({ from: ERIN, to: ALICE, type: 'subscribed' }),
      presence({ from: ERIN, to: ALICE }, xml('show', {}, 'dnd'), xml('status', {}, 'In a meeting')),
    ]);
    // Later NOTIFYs carry presence only; closed is unavailable.
    await t.fromPool(notify(sub, 'active;expires=3000', { body: buildPidf({ entity: `sip:erin@${SFB}`, basic: 'closed' }), cseq: 2 }));
    expect(t.edge.sent.map(String).slice(2)).toEqual([presence({ from: ERIN, to: ALICE, type: 'unavailable' })]);
  });

  it('a pending NOTIFY says nothing to the partner; a repeated subscribe while active is answered without SIP', async () => {
    t = await GatewayUnderTest.start();
    const sub = await subscribe();
    expect((await t.fromPool(notify(sub, 'pending;expires=3600'))).status).toBe(200);
    expect(t.edge.sent).toEqual([]);
    await t.fromPool(notify(sub, 'active;expires=3600', { cseq: 2 }));
    expect(t.edge.sent.map(String)).toEqual([presence({ from: ERIN, to: ALICE, type: 'subscribed' })]);
    t.edge.deliver(fromAlice('subscribe'));
    expect((await t.edge.next((s) => s.attrs.type === 'subscribed', 'the answer from what is known')).toString()).toBe(
      presence({ from: ERIN, to: ALICE, type: 'subscribed' }),
    );
    await barrier();
    expect(t.pool.untaken('SUBSCRIBE')).toEqual([]);
  });

  it.each([
    ['terminated;reason=rejected', true, 'unsubscribed'],
    ['terminated;reason=noresource', true, 'unsubscribed'],
    ['terminated;reason=timeout', true, 'unavailable'],
    ['terminated;reason=timeout', false, 'unsubscribed'],
  ])('a NOTIFY %s (approved before: %s) becomes %s, and ends the dialog', async (state, approved, type) => {
    t = await GatewayUnderTest.start();
    const sub = await subscribe();
    if (approved) await t.fromPool(notify(sub, 'active;expires=3600'));
    const before = t.edge.sent.length;
    expect((await t.fromPool(notify(sub, state, { cseq: 2 }))).status).toBe(200);
    expect(t.edge.sent.slice(before).map(String)).toEqual([presence({ from: ERIN, to: ALICE, type })]);
    expect((await t.fromPool(notify(sub, 'active;expires=3600', { cseq: 3 }))).status).toBe(481);
  });

  it('a SUBSCRIBE the pool refuses (403) is a presence error for the subscribe, and leaves no dialog', async () => {
    t = await GatewayUnderTest.start();
    t.pool.answerOnce('SUBSCRIBE', { status: 403, headers: { Warning: '399 sfb2019.contoso.test "pool sfb2019 has no XMPP gateway"' } });
    t.edge.deliver(fromAlice('subscribe', 'sub-1'));
    const sub = await t.pool.next('SUBSCRIBE', 'the SUBSCRIBE');
    expect((await t.edge.replyTo('sub-1')).toString()).toBe(
      xml(
        'presence',
        { type: 'error', id: 'sub-1', from: ERIN, to: `${ALICE}/pc` },
        xml(
          'error',
          { type: 'auth' },
          xml('forbidden', { xmlns: STANZAS }),
          xml('text', { xmlns: STANZAS }, 'SIP 403 Forbidden (399 sfb2019.contoso.test "pool sfb2019 has no XMPP gateway")'),
        ),
      ).toString(),
    );
    expect((await t.fromPool(notify(sub, 'active;expires=3600'))).status).toBe(481);
  });

  it('a probe is a SUBSCRIBE with Expires 0; its one NOTIFY (terminated, with PIDF) becomes presence and keeps no dialog', async () => {
    t = await GatewayUnderTest.start();
    t.pool.answerOnce('SUBSCRIBE', { status: 202, toTag: POOL_TAG, headers: { Expires: '0' } });
    t.edge.deliver(xml('presence', { from: ALICE, to: ERIN, type: 'probe' }));
    const probe = await t.pool.next('SUBSCRIBE', 'the probe');
    expect([probe.headers.get('Expires'), probe.headers.get('CSeq')]).toEqual(['0', '1 SUBSCRIBE']);
    expect((await t.fromPool(notify(probe, 'active;expires=0'))).status).toBe(481);
    expect((await t.fromPool(notify(probe, 'terminated;reason=timeout', { body: PIDF, cseq: 2 }))).status).toBe(200);
    expect(t.edge.sent.map(String)).toEqual([presence({ from: ERIN, to: ALICE }, xml('show', {}, 'dnd'), xml('status', {}, 'In a meeting'))]);
  });

  it('unsubscribe ends the dialog: SUBSCRIBE Expires 0 with the pool tag and the next CSeq', async () => {
    t = await GatewayUnderTest.start();
    const sub = await subscribe();
    await t.fromPool(notify(sub, 'active;expires=3600'));
    t.edge.deliver(fromAlice('unsubscribe'));
    const unsub = await t.pool.next('SUBSCRIBE', 'the unSUBSCRIBE');
    expect(headersOf(unsub)).toEqual({ ...headersOf(sub), To: `<sip:erin@${SFB}>;tag=${POOL_TAG}`, CSeq: '2 SUBSCRIBE', Expires: '0' });
    expect((await t.fromPool(notify(sub, 'terminated;reason=timeout', { cseq: 2 }))).status).toBe(481);
  });

  it('PublicVerified partners get presence without status notes', async () => {
    t = await GatewayUnderTest.start({ partnerType: 'PublicVerified' });
    const sub = await subscribe();
    await t.fromPool(notify(sub, 'active;expires=3600', { body: PIDF }));
    expect(t.edge.sent.map(String)).toEqual([
      presence({ from: ERIN, to: ALICE, type: 'subscribed' }),
      presence({ from: ERIN, to: ALICE }, xml('show', {}, 'dnd')),
    ]);
  });
});

describe('refreshes (the pool grants 0 s, so they come at the 100 ms floor)', () => {
  const refreshed = () => withDeadline(new Promise((resolve) => t.gateway.once('refresh', resolve)), 2_000, "the gateway's 'refresh'");

  it('refreshes in the dialog before expiry, and says so', async () => {
    t = await GatewayUnderTest.start();
    const event = refreshed();
    const sub = await subscribe('0');
    t.pool.answerOnce('SUBSCRIBE', { status: 200, headers: { Expires: '3600' } });
    const refresh = await t.pool.next('SUBSCRIBE', 'the refresh');
    expect(await event).toEqual({ watcher: ALICE, sfbUser: ERIN });
    expect(headersOf(refresh)).toEqual({ ...headersOf(sub), To: `<sip:erin@${SFB}>;tag=${POOL_TAG}`, CSeq: '2 SUBSCRIBE' });
  });

  it.each([423, 481])('a refresh answered %i starts a new subscription', async (status) => {
    t = await GatewayUnderTest.start();
    const sub = await subscribe('0');
    t.pool.answerOnce('SUBSCRIBE', { status });
    t.pool.answerOnce('SUBSCRIBE', { status: 202, toTag: 'newtag', headers: { Expires: '3600' } });
    await t.pool.next('SUBSCRIBE', 'the refresh');
    const again = await t.pool.next('SUBSCRIBE', 'the new SUBSCRIBE');
    expect(again.headers.get('Call-ID')).not.toBe(sub.headers.get('Call-ID'));
    expect([again.headers.get('To'), again.headers.get('CSeq'), again.headers.get('Expires')]).toEqual([`<sip:erin@${SFB}>`, '1 SUBSCRIBE', '3600']);
    expect(t.edge.sent).toEqual([]);
  });

  it.each([403, 489, 603])('a refresh answered %i ends it for good: unsubscribed', async (status) => {
    t = await GatewayUnderTest.start();
    await subscribe('0');
    t.pool.answerOnce('SUBSCRIBE', { status });
    await t.pool.next('SUBSCRIBE', 'the refresh');
    expect((await t.edge.next(() => true, 'the end of the subscription')).toString()).toBe(presence({ from: ERIN, to: ALICE, type: 'unsubscribed' }));
    await barrier();
    expect(t.pool.untaken('SUBSCRIBE')).toEqual([]);
  });
});
