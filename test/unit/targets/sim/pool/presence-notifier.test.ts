import { afterEach, describe, expect, it } from '@jest/globals';
import { SFB_AVAILABILITIES, type ShowMapping } from '../../../../../src/sfb/availability.js';
import type { PartnerType } from '../../../../../src/sfb/partner-profile.js';
import type { SipTransport } from '../../../../../src/sip/endpoint.js';
import { parseNameAddr, type SipRequest, type SipResponse } from '../../../../../src/sip/message.js';
import { buildPidf } from '../../../../../src/sip/pidf.js';
import { PARTNER, SFB } from '../../../../helpers/gateway-under-test.js';
import { PoolsUnderTest } from '../../../../helpers/pools-under-test.js';
import { headersOf } from '../../../../helpers/sip-headers.js';

const USERS = [
  { name: 'accept', pool: 'legacy', behaviour: 'accept' as const },
  { name: 'silent', pool: 'legacy', behaviour: 'silent' as const },
  { name: 'reject', pool: 'legacy', behaviour: 'reject' as const },
  { name: 'offline', pool: 'legacy', behaviour: 'offline' as const },
  { name: 'noted', pool: 'legacy', behaviour: 'accept' as const, note: 'hello' },
];

let t: PoolsUnderTest;
afterEach(() => t?.stop());

/** bob subscribes to `user`; the NOTIFYs of that dialog, one by one. */
async function subscribe(user: string, o: { expires?: string; event?: string; transport?: SipTransport } = {}) {
  const headers: Record<string, string> = { Event: o.event ?? 'presence', Accept: 'application/pidf+xml' };
  if (o.expires !== undefined) headers.Expires = o.expires;
  const req = t.fromGateway({ method: 'SUBSCRIBE', user, headers, ...(o.transport ? { transport: o.transport } : {}) });
  const res = await t.send(req, t.legacy, o.transport);
  const callId = req.headers.get('Call-ID')!;
  const notify = () => t.gateway.next((r) => r.method === 'NOTIFY' && r.headers.get('Call-ID') === callId, `a NOTIFY for ${user}`);
  return { req, res, notify };
}

/** A refresh (or with 0, the end) of the dialog `s` opened. */
function inDialog(s: { req: SipRequest; res: SipResponse }, expires: string, cseq: number): Promise<SipResponse> {
  const headers = s.req.headers
    .clone()
    .set('To', s.res.headers.get('To')!)
    .set('CSeq', `${cseq} SUBSCRIBE`)
    .set('Expires', expires)
    .delete('Via')
    .delete('Max-Forwards');
  return t.send({ kind: 'request', method: 'SUBSCRIBE', uri: parseNameAddr(s.res.headers.get('Contact')!).uri, headers, body: '' });
}

const stateOf = (n: SipRequest) => n.headers.get('Subscription-State');

describe('a SUBSCRIBE to a pool user', () => {
  it.each<SipTransport>(['udp', 'tcp'])('is accepted (202) and followed by an active NOTIFY with PIDF over %s', async (transport) => {
    t = await PoolsUnderTest.start(USERS);
    t.legacy.setXmppRoute(t.gateway.target(transport));
    const s = await subscribe('accept', { transport });
    const localTag = parseNameAddr(s.res.headers.get('To')!).params.tag;
    expect([s.res.status, s.res.headers.get('Expires'), s.res.headers.get('Contact')]).toEqual([
      202,
      '28800',
      `<${t.legacy.endpoint.contactUri('accept', transport)}>`,
    ]);
    const n = await s.notify();
    expect(n.uri).toBe(t.gateway.contactUri('bob', transport));
    expect(headersOf(n)).toEqual({
      From: `<sip:accept@${SFB}>;tag=${localTag}`,
      To: s.req.headers.get('From'),
      'Call-ID': s.req.headers.get('Call-ID'),
      CSeq: '1 NOTIFY',
      Contact: `<${t.legacy.endpoint.contactUri('accept')}>`,
      Event: 'presence',
      'Subscription-State': 'active;expires=28800',
      'Content-Type': 'application/pidf+xml',
      'Max-Forwards': '70',
    });
    expect(n.body).toBe(buildPidf({ entity: `sip:accept@${SFB}`, basic: 'open' }));
    expect(t.legacy.watchers('accept')).toEqual([`sip:bob@${PARTNER}`]);
    expect(await t.events.next((e) => e.kind === 'subscribe', 'the subscribe event')).toEqual({
      user: 'accept',
      kind: 'subscribe',
      from: `sip:bob@${PARTNER}`,
      subscriptionState: 'active;expires=28800',
      at: expect.any(Number),
    });
  });

  it('grants the documented lifetimes: 28800 by default, at least 1200, at most 43200', async () => {
    const cited: string[] = [];
    t = await PoolsUnderTest.start(USERS, { cite: (id) => cited.push(id) });
    for (const [asked, granted] of [
      [undefined, '28800'],
      ['soon', '28800'],
      ['86400', '43200'],
      ['200', '1200'],
      ['3000', '3000'],
    ] as const) {
      const s = await subscribe('accept', asked === undefined ? {} : { expires: asked });
      expect([asked, s.res.status, s.res.headers.get('Expires'), stateOf(await s.notify())]).toEqual([asked, 202, granted, `active;expires=${granted}`]);
    }
    expect(cited.filter((id) => id === 'presence.pool-subscription-expiry')).toHaveLength(4);
  });

  it('a shortened subscriptionExpires is the default and lowers the minimum', async () => {
    t = await PoolsUnderTest.start(USERS, { subscriptionExpires: 600 });
    for (const [asked, granted] of [
      [undefined, '600'],
      ['300', '600'],
      ['1200', '1200'],
      ['86400', '43200'],
    ] as const) {
      const s = await subscribe('accept', asked === undefined ? {} : { expires: asked });
      expect([asked, s.res.headers.get('Expires')]).toEqual([asked, granted]);
    }
  });

  it.each([
    ['offline', 'active;expires=28800', buildPidf({ entity: `sip:offline@${SFB}`, basic: 'closed' }), [`sip:bob@${PARTNER}`]],
    ['silent', 'pending;expires=28800', '', []],
    ['reject', 'terminated;reason=rejected', '', []],
  ])('%s: %s', async (user, state, body, watchers) => {
    t = await PoolsUnderTest.start(USERS);
    const s = await subscribe(user);
    const n = await s.notify();
    expect([s.res.status, stateOf(n), n.body]).toEqual([202, state, body]);
    expect(t.legacy.watchers(user)).toEqual(watchers);
  });

  it('a probe (Expires 0) gets one NOTIFY with the current state, terminated;reason=timeout, and leaves no subscription', async () => {
    t = await PoolsUnderTest.start(USERS);
    const s = await subscribe('noted', { expires: '0' });
    const n = await s.notify();
    expect([s.res.headers.get('Expires'), stateOf(n), n.body]).toEqual([
      '0',
      'terminated;reason=timeout',
      buildPidf({ entity: `sip:noted@${SFB}`, basic: 'open', note: 'hello' }),
    ]);
    expect(await t.events.next((e) => e.user === 'noted', 'the probe event')).toMatchObject({ kind: 'probe', subscriptionState: 'terminated;reason=timeout' });
    expect((await inDialog(s, '600', 2)).status).toBe(481);
  });

  it('a refresh gets 200 and a NOTIFY with the current state; Expires 0 ends it with a final NOTIFY; then 481', async () => {
    t = await PoolsUnderTest.start(USERS);
    const s = await subscribe('accept', { expires: '1200' });
    await s.notify();
    const refresh = await inDialog(s, '2400', 2);
    expect([refresh.status, refresh.headers.get('Expires')]).toEqual([200, '2400']);
    const n = await s.notify();
    expect([stateOf(n), n.headers.get('CSeq')]).toEqual(['active;expires=2400', '2 NOTIFY']);
    expect(await t.events.next((e) => e.kind === 'refresh', 'the refresh event')).toMatchObject({ user: 'accept', subscriptionState: 'active;expires=2400' });
    const end = await inDialog(s, '0', 3);
    expect([end.status, end.headers.get('Expires')]).toEqual([200, '0']);
    const last = await s.notify();
    expect([stateOf(last), last.body]).toEqual(['terminated;reason=timeout', '']);
    expect(await t.events.next((e) => e.kind === 'unsubscribe', 'the unsubscribe event')).toMatchObject({
      user: 'accept',
      subscriptionState: 'terminated;reason=timeout',
    });
    expect(t.legacy.watchers('accept')).toEqual([]);
    expect((await inDialog(s, '600', 4)).status).toBe(481);
  });

  it('a NOTIFY the watcher refuses ends the subscription (RFC 6665 4.2.2)', async () => {
    t = await PoolsUnderTest.start(USERS);
    t.gateway.answerOnce('NOTIFY', { status: 481 });
    const s = await subscribe('accept');
    await s.notify();
    // The refresh leaves after the 481 and the pool takes them in that order.
    expect((await inDialog(s, '600', 2)).status).toBe(481);
    expect(t.legacy.watchers('accept')).toEqual([]);
  });

  it('refuses other event packages with 489 and Allow-Events', async () => {
    t = await PoolsUnderTest.start(USERS);
    const s = await subscribe('accept', { event: 'dialog' });
    expect([s.res.status, s.res.headers.get('Allow-Events')]).toEqual([489, 'presence']);
  });
});

describe('who may watch (docs/sfb-xmpp-federation.md section 3)', () => {
  let partnerType: PartnerType | undefined;
  let cited: string[];
  const start = async () => {
    cited = [];
    t = await PoolsUnderTest.start(USERS, { partnerTypeOf: (domain) => (domain === PARTNER ? partnerType : undefined), cite: (id) => cited.push(id) });
  };

  it('Federated and PublicVerified partners are approved without the user acting, even by a user who never answers', async () => {
    await start();
    for (const type of ['Federated', 'PublicVerified'] as const) {
      partnerType = type;
      const s = await subscribe('silent');
      const n = await s.notify();
      expect([type, stateOf(n), n.body]).toEqual([type, 'active;expires=28800', buildPidf({ entity: `sip:silent@${SFB}`, basic: 'open' })]);
    }
    expect(cited).toEqual(expect.arrayContaining(['partner-types.federated-no-approval', 'partner-types.public-verified-no-approval']));
    // A domain that is no allowed partner: the user decides (silent: pending).
    partnerType = undefined;
    expect(stateOf(await (await subscribe('silent')).notify())).toBe('pending;expires=28800');
  });

  it('a PublicUnverified partner is approved once the user has him as a contact, and waits (pending) otherwise', async () => {
    partnerType = 'PublicUnverified';
    await start();
    const before = await subscribe('accept');
    expect([stateOf(await before.notify()), t.legacy.watchers('accept')]).toEqual(['pending;expires=28800', []]);
    expect(cited).toContain('partner-types.public-unverified-needs-contact');
    // accept adds bob (through the XMPP route, which the fake gateway accepts).
    expect((await t.legacy.addContact('accept', `bob@${PARTNER}`)).status).toBe(200);
    const after = await subscribe('accept');
    expect(stateOf(await after.notify())).toBe('active;expires=28800');
    expect(cited).toContain('partner-types.public-unverified-added-authorizes');
    // Removed again: pending again.
    await t.legacy.removeContact('accept', `bob@${PARTNER}`);
    expect(stateOf(await (await subscribe('accept')).notify())).toBe('pending;expires=28800');
  });

  it('a user who blocked the watcher (reject) ends the subscription as rejected, whatever the partner type', async () => {
    partnerType = 'Federated';
    await start();
    const s = await subscribe('reject');
    const n = await s.notify();
    expect([s.res.status, stateOf(n), n.body, t.legacy.watchers('reject')]).toEqual([202, 'terminated;reason=rejected', '', []]);
    expect(cited).toContain('partner-types.blocked-contact');
  });
});

describe('a change of availability', () => {
  it('NOTIFYs every active watcher with the mapped PIDF; pending ones hear nothing', async () => {
    const mapping: ShowMapping = {
      Available: { basic: 'open', show: 'chat' },
      Busy: { basic: 'open', show: 'dnd' },
      DoNotDisturb: { basic: 'open', show: 'dnd' },
      BeRightBack: { basic: 'open', show: 'away' },
      Away: { basic: 'open', show: 'away' },
      Offline: { basic: 'closed' },
    };
    t = await PoolsUnderTest.start(USERS, { showMapping: mapping });
    const a = await subscribe('accept');
    const b = await subscribe('accept', { transport: 'tcp' });
    const pending = await subscribe('silent');
    await Promise.all([a.notify(), b.notify(), pending.notify()]);
    for (const availability of SFB_AVAILABILITIES) {
      await t.legacy.setAvailability('accept', availability, `now ${availability}`);
      await t.legacy.setAvailability('silent', availability);
      const mapped = mapping[availability];
      for (const s of [a, b]) {
        expect((await s.notify()).body).toBe(
          buildPidf({ entity: `sip:accept@${SFB}`, basic: mapped.basic, ...(mapped.show ? { show: mapped.show } : {}), note: `now ${availability}` }),
        );
      }
    }
    expect(t.gateway.untaken('NOTIFY')).toEqual([]);
  });
});
