import { afterEach, describe, expect, it } from '@jest/globals';
import xml from '@xmpp/xml';
import type { Element } from 'ltx';
import { withDeadline } from '../../../../../src/infra/deadline.js';
import type { PartnerType } from '../../../../../src/sfb/partner-profile.js';
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
let cited: string[];
afterEach(() => t?.stop());

const start = async (o: { partnerType?: PartnerType; refreshRetry?: { firstMs: number; maxMs: number } } = {}) => {
  cited = [];
  t = await GatewayUnderTest.start({ ...o, cite: (id) => cited.push(id) });
};
const presence = (attrs: Record<string, string>, ...children: Element[]) => xml('presence', attrs, ...children).toString();
const fromAlice = (type: string, id?: string) => xml('presence', { from: `${ALICE}/pc`, to: ERIN, type, ...(id ? { id } : {}) });

/** The pool's NOTIFY in the dialog `subscribe` opened. */
function notify(subscribe: SipRequest, state: string, o: { body?: string; cseq?: number; from?: string; headers?: Record<string, string> } = {}): SipRequest {
  return buildRequest({
    method: 'NOTIFY',
    uri: parseNameAddr(subscribe.headers.get('Contact')!).uri,
    from: `${o.from ?? subscribe.headers.get('To')!.replace(/;tag=.*$/, '')};tag=${POOL_TAG}`,
    to: subscribe.headers.get('From')!,
    callId: subscribe.headers.get('Call-ID')!,
    cseq: o.cseq ?? 1,
    contact: `<${t.pool.contactUri('erin', 'tcp')}>`,
    headers: { Event: 'presence', 'Subscription-State': state, ...o.headers },
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
    await start();
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
      // Set-CsXmppGatewayConfiguration: SubscriptionRefreshInterval, 8 hours.
      Expires: '28800',
      'Max-Forwards': '70',
    });
    expect((await t.fromPool(notify(sub, 'active;expires=3600', { body: PIDF }))).status).toBe(200);
    // A Federated partner sees the note.
    expect(t.edge.sent.map(String)).toEqual([
      presence({ from: ERIN, to: ALICE, type: 'subscribed' }),
      presence({ from: ERIN, to: ALICE }, xml('show', {}, 'dnd'), xml('status', {}, 'In a meeting')),
    ]);
    // Later NOTIFYs carry presence only; closed is unavailable.
    await t.fromPool(notify(sub, 'active;expires=3000', { body: buildPidf({ entity: `sip:erin@${SFB}`, basic: 'closed' }), cseq: 2 }));
    expect(t.edge.sent.map(String).slice(2)).toEqual([presence({ from: ERIN, to: ALICE, type: 'unavailable' })]);
    // The user publishing the same state again is said again.
    await t.fromPool(notify(sub, 'active;expires=2000', { body: buildPidf({ entity: `sip:erin@${SFB}`, basic: 'closed' }), cseq: 3 }));
    expect(t.edge.sent.map(String).slice(3)).toEqual([presence({ from: ERIN, to: ALICE, type: 'unavailable' })]);
    expect(cited).toEqual(expect.arrayContaining(['presence.xmpp-subscribe', 'presence.gateway-subscription-interval', 'partner-types.federated-sees-notes']));
  });

  it('a pending NOTIFY says nothing to the partner; a repeated subscribe while active is answered without SIP', async () => {
    await start();
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
    ['terminated;reason=rejected', true],
    ['terminated;reason=noresource', true],
    ['terminated;reason=invariant', false],
    ['terminated;reason=giveup', false],
  ])('a NOTIFY %s becomes unsubscribed, and ends the dialog', async (state, approved) => {
    await start();
    const sub = await subscribe();
    if (approved) await t.fromPool(notify(sub, 'active;expires=3600'));
    const before = t.edge.sent.length;
    expect((await t.fromPool(notify(sub, state, { cseq: 2 }))).status).toBe(200);
    expect((await t.edge.next((s) => s.attrs.type === 'unsubscribed', 'unsubscribed')).toString()).toBe(
      presence({ from: ERIN, to: ALICE, type: 'unsubscribed' }),
    );
    expect(t.edge.sent.slice(before).map(String)).toEqual([presence({ from: ERIN, to: ALICE, type: 'unsubscribed' })]);
    expect((await t.fromPool(notify(sub, 'active;expires=3600', { cseq: 3 }))).status).toBe(481);
    expect(cited).toContain('presence.terminated-unsubscribed');
  });

  it.each([
    ['deactivated', 'terminated;reason=deactivated'],
    ['timeout', 'terminated;reason=timeout'],
    ['(none)', 'terminated'],
  ])('a NOTIFY terminated;reason=%s subscribes again at once, in a new dialog, and tells the partner nothing', async (_reason, state) => {
    await start();
    const sub = await subscribe();
    await t.fromPool(notify(sub, 'active;expires=3600', { body: PIDF }));
    const before = t.edge.sent.length;
    t.pool.answerOnce('SUBSCRIBE', { status: 202, toTag: 'newtag', headers: { Expires: '3600' } });
    expect((await t.fromPool(notify(sub, state, { cseq: 2 }))).status).toBe(200);
    const again = await t.pool.next('SUBSCRIBE', 'the new SUBSCRIBE');
    expect(again.headers.get('Call-ID')).not.toBe(sub.headers.get('Call-ID'));
    expect([again.uri, again.headers.get('To'), again.headers.get('CSeq'), again.headers.get('Expires')]).toEqual([
      `sip:erin@${SFB}`,
      `<sip:erin@${SFB}>`,
      '1 SUBSCRIBE',
      '28800',
    ]);
    // The old dialog is gone; the new one carries presence, without a second subscribed, and
    // repeats nothing the partner knows.
    expect((await t.fromPool(notify(sub, 'active;expires=3600', { cseq: 3 }))).status).toBe(481);
    expect((await t.fromPool(notify(again, 'active;expires=3600', { body: PIDF }))).status).toBe(200);
    await t.fromPool(notify(again, 'active;expires=3600', { body: buildPidf({ entity: `sip:erin@${SFB}`, basic: 'open' }), cseq: 2 }));
    expect(t.edge.sent.slice(before).map(String)).toEqual([presence({ from: ERIN, to: ALICE })]);
    expect(cited).toContain('presence.deactivated-resubscribe');
  });

  it('deactivated, then the new SUBSCRIBE refused (403), as for a user moved to the 2019 pool: unsubscribed', async () => {
    await start();
    const sub = await subscribe();
    await t.fromPool(notify(sub, 'active;expires=3600'));
    t.pool.answerOnce('SUBSCRIBE', { status: 403, headers: { Warning: '399 sfb2019.contoso.test "pool sfb2019 has no XMPP gateway"' } });
    await t.fromPool(notify(sub, 'terminated;reason=deactivated', { cseq: 2 }));
    await t.pool.next('SUBSCRIBE', 'the new SUBSCRIBE');
    expect((await t.edge.next((s) => s.attrs.type === 'unsubscribed', 'unsubscribed')).toString()).toBe(
      presence({ from: ERIN, to: ALICE, type: 'unsubscribed' }),
    );
    await barrier();
    expect(t.pool.untaken('SUBSCRIBE')).toEqual([]);
    expect(cited).toEqual(expect.arrayContaining(['presence.deactivated-resubscribe', 'presence.refresh-permanent-failure']));
  });

  it('probation subscribes again after its retry-after', async () => {
    await start();
    const sub = await subscribe();
    await t.fromPool(notify(sub, 'active;expires=3600'));
    const ended = Date.now();
    await t.fromPool(notify(sub, 'terminated;reason=probation;retry-after=1', { cseq: 2 }));
    const again = await t.pool.next('SUBSCRIBE', 'the new SUBSCRIBE', 3_000);
    expect(Date.now() - ended).toBeGreaterThanOrEqual(950);
    expect([again.headers.get('Call-ID') !== sub.headers.get('Call-ID'), again.headers.get('CSeq')]).toEqual([true, '1 SUBSCRIBE']);
    expect(t.edge.sent.map(String)).toEqual([presence({ from: ERIN, to: ALICE, type: 'subscribed' })]);
    expect(cited).toContain('presence.probation-retry');
  });

  it('a SUBSCRIBE the pool refuses (403) is a presence error for the subscribe, and leaves no dialog', async () => {
    await start();
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

  it('a probe is a SUBSCRIBE with Expires 0; its one NOTIFY becomes presence and keeps no dialog', async () => {
    await start();
    t.pool.answerOnce('SUBSCRIBE', { status: 202, toTag: POOL_TAG, headers: { Expires: '0' } });
    t.edge.deliver(xml('presence', { from: ALICE, to: ERIN, type: 'probe' }));
    const probe = await t.pool.next('SUBSCRIBE', 'the probe');
    expect([probe.headers.get('Expires'), probe.headers.get('CSeq')]).toEqual(['0', '1 SUBSCRIBE']);
    expect((await t.fromPool(notify(probe, 'terminated;reason=timeout', { body: PIDF }))).status).toBe(200);
    expect(t.edge.sent.map(String)).toEqual([presence({ from: ERIN, to: ALICE }, xml('show', {}, 'dnd'), xml('status', {}, 'In a meeting'))]);
    expect((await t.fromPool(notify(probe, 'terminated;reason=timeout', { body: PIDF, cseq: 2 }))).status).toBe(481);
    expect(cited).toContain('presence.probe-poll');
  });

  it('a probe from a PublicUnverified partner user nobody added is answered unsubscribed, with no SIP', async () => {
    await start({ partnerType: 'PublicUnverified' });
    t.edge.deliver(xml('presence', { from: ALICE, to: ERIN, type: 'probe' }));
    expect((await t.edge.next(() => true, 'the answer to the probe')).toString()).toBe(presence({ from: ERIN, to: ALICE, type: 'unsubscribed' }));
    await barrier();
    expect(t.pool.untaken('SUBSCRIBE')).toEqual([]);
    expect(cited).toEqual(expect.arrayContaining(['partner-types.public-unverified-needs-contact', 'partner-types.public-unverified-probe-unsubscribed']));
  });

  it('unsubscribe ends the dialog (SUBSCRIBE Expires 0 in it), then says unsubscribed; the final NOTIFY is answered 200', async () => {
    await start();
    const sub = await subscribe();
    await t.fromPool(notify(sub, 'active;expires=3600'));
    t.edge.deliver(fromAlice('unsubscribe'));
    const unsub = await t.pool.next('SUBSCRIBE', 'the unSUBSCRIBE');
    expect(headersOf(unsub)).toEqual({ ...headersOf(sub), To: `<sip:erin@${SFB}>;tag=${POOL_TAG}`, CSeq: '2 SUBSCRIBE', Expires: '0' });
    expect((await t.edge.next((s) => s.attrs.type === 'unsubscribed', 'unsubscribed')).toString()).toBe(
      presence({ from: ERIN, to: ALICE, type: 'unsubscribed' }),
    );
    expect((await t.fromPool(notify(sub, 'terminated;reason=timeout', { cseq: 2 }))).status).toBe(200);
    // That was its last word.
    expect((await t.fromPool(notify(sub, 'active;expires=3600', { cseq: 3 }))).status).toBe(481);
    expect(cited).toContain('presence.xmpp-unsubscribe');
  });

  it.each<PartnerType>(['PublicVerified', 'PublicUnverified'])('%s partners get presence without status notes', async (partnerType) => {
    await start({ partnerType });
    if (partnerType === 'PublicUnverified') {
      // erin adds alice first: only then does alice reach her.
      const adds = buildRequest({
        method: 'SUBSCRIBE',
        uri: `sip:${ALICE}`,
        from: `<sip:${ERIN}>`,
        to: `<sip:${ALICE}>`,
        callId: 'erin-alice',
        cseq: 1,
        contact: `<${t.pool.contactUri('erin', 'tcp')}>`,
        headers: { Event: 'presence', Expires: '3600' },
      });
      expect((await t.fromPool(adds)).status).toBe(202);
      await t.edge.next((s) => s.attrs.type === 'subscribe', "erin's subscribe");
    }
    const before = t.edge.sent.length;
    const sub = await subscribe();
    await t.fromPool(notify(sub, 'active;expires=3600', { body: PIDF }));
    expect(t.edge.sent.slice(before).map(String)).toEqual([
      presence({ from: ERIN, to: ALICE, type: 'subscribed' }),
      presence({ from: ERIN, to: ALICE }, xml('show', {}, 'dnd')),
    ]);
    expect(cited).toContain(partnerType === 'PublicVerified' ? 'partner-types.public-verified-no-notes' : 'partner-types.public-unverified-no-notes');
  });

  it("a NOTIFY's Content-Language becomes xml:lang; a From with a GRUU makes the presence come from a full JID", async () => {
    await start();
    const sub = await subscribe();
    const noted = buildPidf({ entity: `sip:erin@${SFB}`, basic: 'open', note: 'en réunion', lang: 'fr' });
    await t.fromPool(notify(sub, 'active;expires=3600', { body: noted, headers: { 'Content-Language': 'fr' }, from: `<sip:erin@${SFB};gr=desk>` }));
    expect(t.edge.sent.map(String)).toEqual([
      presence({ from: ERIN, to: ALICE, type: 'subscribed' }),
      presence({ from: `${ERIN}/desk`, to: ALICE, 'xml:lang': 'fr' }, xml('status', {}, 'en réunion')),
    ]);
    expect(cited).toEqual(expect.arrayContaining(['presence.content-language', 'presence.gruu-full-jid']));
  });
});

describe('refreshes (the pool grants 0 s, so they come at the 100 ms floor)', () => {
  const refreshed = () => withDeadline(new Promise((resolve) => t.gateway.once('refresh', resolve)), 2_000, "the gateway's 'refresh'");

  it('refreshes in the dialog before expiry, and says so', async () => {
    await start();
    const event = refreshed();
    const sub = await subscribe('0');
    t.pool.answerOnce('SUBSCRIBE', { status: 200, headers: { Expires: '3600' } });
    const refresh = await t.pool.next('SUBSCRIBE', 'the refresh');
    expect(await event).toEqual({ watcher: ALICE, sfbUser: ERIN });
    expect(headersOf(refresh)).toEqual({ ...headersOf(sub), To: `<sip:erin@${SFB}>;tag=${POOL_TAG}`, CSeq: '2 SUBSCRIBE' });
  });

  it('the NOTIFY that follows a refresh is not repeated to the partner when it says what he knows', async () => {
    await start();
    const sub = await subscribe('0');
    await t.fromPool(notify(sub, 'active;expires=0', { body: PIDF }));
    t.pool.answerOnce('SUBSCRIBE', { status: 200, headers: { Expires: '3600' } });
    await t.pool.next('SUBSCRIBE', 'the refresh');
    await t.fromPool(notify(sub, 'active;expires=3600', { body: PIDF, cseq: 2 }));
    const changed = buildPidf({ entity: `sip:erin@${SFB}`, basic: 'open', show: 'away' });
    await t.fromPool(notify(sub, 'active;expires=3500', { body: changed, cseq: 3 }));
    expect(t.edge.sent.map(String)).toEqual([
      presence({ from: ERIN, to: ALICE, type: 'subscribed' }),
      presence({ from: ERIN, to: ALICE }, xml('show', {}, 'dnd'), xml('status', {}, 'In a meeting')),
      presence({ from: ERIN, to: ALICE }, xml('show', {}, 'away')),
    ]);
  });

  it('a refresh answered 481 starts a new subscription; 423 asks again for the Min-Expires', async () => {
    await start();
    const sub = await subscribe('0');
    t.pool.answerOnce('SUBSCRIBE', { status: 481 });
    t.pool.answerOnce('SUBSCRIBE', { status: 202, toTag: 'newtag', headers: { Expires: '0' } });
    await t.pool.next('SUBSCRIBE', 'the refresh');
    const again = await t.pool.next('SUBSCRIBE', 'the new SUBSCRIBE');
    expect(again.headers.get('Call-ID')).not.toBe(sub.headers.get('Call-ID'));
    expect([again.headers.get('To'), again.headers.get('CSeq'), again.headers.get('Expires')]).toEqual([`<sip:erin@${SFB}>`, '1 SUBSCRIBE', '28800']);
    // The new dialog's refresh is found too brief.
    t.pool.answerOnce('SUBSCRIBE', { status: 423, headers: { 'Min-Expires': '40000' } });
    t.pool.answerOnce('SUBSCRIBE', { status: 200, headers: { Expires: '40000' } });
    await t.pool.next('SUBSCRIBE', 'the refresh of the new dialog');
    const longer = await t.pool.next('SUBSCRIBE', 'the refresh asking the minimum');
    expect([longer.headers.get('Call-ID'), longer.headers.get('To'), longer.headers.get('CSeq'), longer.headers.get('Expires')]).toEqual([
      again.headers.get('Call-ID'),
      `<sip:erin@${SFB}>;tag=newtag`,
      '3 SUBSCRIBE',
      '40000',
    ]);
    expect(t.edge.sent).toEqual([]);
    expect(cited).toContain('presence.refresh-new-dialog');
  });

  it.each([403, 489, 603])('a refresh answered %i ends it for good: unsubscribed', async (status) => {
    await start();
    await subscribe('0');
    t.pool.answerOnce('SUBSCRIBE', { status });
    await t.pool.next('SUBSCRIBE', 'the refresh');
    expect((await t.edge.next(() => true, 'the end of the subscription')).toString()).toBe(presence({ from: ERIN, to: ALICE, type: 'unsubscribed' }));
    await barrier();
    expect(t.pool.untaken('SUBSCRIBE')).toEqual([]);
  });

  it.each([408, 480, 503])(
    'a refresh answered %i is retried with growing waits, and the partner is told unavailable once the grant runs out',
    async (status) => {
      await start({ refreshRetry: { firstMs: 100, maxMs: 400 } });
      const attempt = (cseq: number) => (r: SipRequest) => r.method === 'SUBSCRIBE' && r.headers.get('CSeq') === `${cseq} SUBSCRIBE`;
      t.pool.answerOnce(attempt(2), { status });
      t.pool.answerOnce(attempt(3), { status });
      t.pool.answerOnce(attempt(4), { status: 200, headers: { Expires: '3600' } });
      const sub = await subscribe('0');
      await t.fromPool(notify(sub, 'active;expires=0', { body: PIDF }));
      const at: number[] = [];
      for (const what of ['the refresh', 'the first retry', 'the second retry']) {
        const r = await t.pool.next('SUBSCRIBE', what);
        at.push(Date.now());
        // Every attempt stays in the dialog: a passing failure does not end it.
        expect([r.headers.get('Call-ID'), r.headers.get('To')]).toEqual([sub.headers.get('Call-ID'), `<sip:erin@${SFB}>;tag=${POOL_TAG}`]);
      }
      expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(95);
      expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(195);
      // The grant had run out at the first failure: unavailable, once; then presence again.
      await t.fromPool(notify(sub, 'active;expires=3600', { body: PIDF, cseq: 2 }));
      expect(t.edge.sent.map(String)).toEqual([
        presence({ from: ERIN, to: ALICE, type: 'subscribed' }),
        presence({ from: ERIN, to: ALICE }, xml('show', {}, 'dnd'), xml('status', {}, 'In a meeting')),
        presence({ from: ERIN, to: ALICE, type: 'unavailable' }),
        presence({ from: ERIN, to: ALICE }, xml('show', {}, 'dnd'), xml('status', {}, 'In a meeting')),
      ]);
      expect(cited).toContain('presence.refresh-transient-retry');
    },
  );
});
