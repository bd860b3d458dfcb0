import { afterEach, describe, expect, it } from '@jest/globals';
import { XfedError } from '../../../../../src/errors.js';
import { buildRequest } from '../../../../../src/sip/endpoint.js';
import { parseNameAddr, type SipRequest, type SipResponse } from '../../../../../src/sip/message.js';
import { PARTNER, SFB } from '../../../../helpers/gateway-under-test.js';
import { PoolsUnderTest } from '../../../../helpers/pools-under-test.js';
import { headersOf } from '../../../../helpers/sip-headers.js';

const USERS = [
  { name: 'accept', pool: 'legacy', behaviour: 'accept' as const },
  { name: 'modern', pool: 'sfb2019', behaviour: 'accept' as const },
];
const CAROL = `carol@${PARTNER}`;
const GW_TAG = 'gwtag';
const PIDF = `<presence xmlns='urn:ietf:params:xml:ns:pidf' entity='sip:${CAROL}'><tuple id='a'><status><basic>open</basic></status><show xmlns='jabber:client'>away</show></tuple><note>lunch</note></presence>`;

let t: PoolsUnderTest;
afterEach(() => t?.stop());

/** The gateway's NOTIFY in the dialog `sub` opened. */
function notify(sub: SipRequest, state: string, o: { body?: string; cseq?: number } = {}): Promise<SipResponse> {
  return t.gateway.request(
    t.legacy.target(),
    buildRequest({
      method: 'NOTIFY',
      uri: parseNameAddr(sub.headers.get('Contact')!).uri,
      from: `${sub.headers.get('To')!.replace(/;tag=.*$/, '')};tag=${GW_TAG}`,
      to: sub.headers.get('From')!,
      callId: sub.headers.get('Call-ID')!,
      cseq: o.cseq ?? 1,
      contact: `<${t.gateway.contactUri()}>`,
      headers: { Event: 'presence', 'Subscription-State': state },
      body: o.body ?? '',
      contentType: o.body ? 'application/pidf+xml' : undefined,
    }),
  );
}

const accepting = () => t.gateway.answerOnce('SUBSCRIBE', { status: 202, toTag: GW_TAG, headers: { Expires: '3600', Contact: `<${t.gateway.contactUri()}>` } });

describe("a user's contacts", () => {
  it('addContact subscribes through the XMPP route; the contact is pending until a NOTIFY says more', async () => {
    t = await PoolsUnderTest.start(USERS);
    accepting();
    expect((await t.legacy.addContact('accept', CAROL)).status).toBe(202);
    const sub = await t.gateway.next('SUBSCRIBE', 'the SUBSCRIBE');
    expect(sub.uri).toBe(`sip:${CAROL}`);
    expect(headersOf(sub)).toEqual({
      From: expect.stringMatching(/^<sip:accept@contoso\.test>;tag=[0-9a-f]{10}$/),
      To: `<sip:${CAROL}>`,
      'Call-ID': expect.stringMatching(/@127\.0\.0\.1$/),
      CSeq: '1 SUBSCRIBE',
      Contact: `<${t.legacy.endpoint.contactUri('accept')}>`,
      Event: 'presence',
      Accept: 'application/pidf+xml',
      Expires: '28800',
      'Max-Forwards': '70',
    });
    expect(t.legacy.contactPresence('accept', CAROL)).toEqual({ state: 'pending' });
    expect((await notify(sub, 'active;expires=3600', { body: PIDF })).status).toBe(200);
    const presence = { entity: `sip:${CAROL}`, basic: 'open', show: 'away', note: 'lunch' };
    // Asked of either pool, in either spelling of the address.
    expect(t.sfb2019.contactPresence('Accept', `sip:${CAROL}`)).toEqual({ state: 'active', presence });
    expect(await t.events.next((e) => e.kind === 'notify', 'the notify event')).toEqual({
      user: 'accept',
      kind: 'notify',
      from: `sip:${CAROL}`,
      subscriptionState: 'active;expires=3600',
      presence,
      at: expect.any(Number),
    });
  });

  it('refreshes before expiry; a refresh answered 481 subscribes anew', async () => {
    const cited: string[] = [];
    t = await PoolsUnderTest.start(USERS, { cite: (id) => cited.push(id) });
    // Granted 1 s: the refresh comes at four fifths of it.
    t.gateway.answerOnce('SUBSCRIBE', { status: 202, toTag: GW_TAG, headers: { Expires: '1', Contact: `<${t.gateway.contactUri()}>` } });
    t.gateway.answerOnce('SUBSCRIBE', { status: 200, headers: { Expires: '1' } });
    t.gateway.answerOnce('SUBSCRIBE', { status: 481 });
    t.gateway.answerOnce('SUBSCRIBE', { status: 202, toTag: 'again', headers: { Expires: '3600' } });
    await t.legacy.addContact('accept', CAROL);
    const sub = await t.gateway.next('SUBSCRIBE', 'the SUBSCRIBE');
    const added = Date.now();
    const refresh = await t.gateway.next('SUBSCRIBE', 'the refresh', 3_000);
    expect(Date.now() - added).toBeGreaterThanOrEqual(750);
    expect(headersOf(refresh)).toEqual({ ...headersOf(sub), To: `<sip:${CAROL}>;tag=${GW_TAG}`, CSeq: '2 SUBSCRIBE' });
    expect(refresh.uri).toBe(t.gateway.contactUri());
    const second = await t.gateway.next('SUBSCRIBE', 'the second refresh', 3_000);
    expect(second.headers.get('CSeq')).toBe('3 SUBSCRIBE');
    // 481: the gateway lost the dialog; a new subscription, as the first.
    const anew = await t.gateway.next('SUBSCRIBE', 'the new SUBSCRIBE');
    expect(anew.headers.get('Call-ID')).not.toBe(sub.headers.get('Call-ID'));
    expect([anew.uri, anew.headers.get('To'), anew.headers.get('CSeq'), anew.headers.get('Expires')]).toEqual([
      `sip:${CAROL}`,
      `<sip:${CAROL}>`,
      '1 SUBSCRIBE',
      '28800',
    ]);
    expect(t.legacy.contactPresence('accept', CAROL)).toEqual({ state: 'pending' });
    expect(cited).toContain('presence.sfb-refresh-new-subscription');
  });

  it('a NOTIFY may come before the 2xx of its SUBSCRIBE', async () => {
    t = await PoolsUnderTest.start(USERS);
    t.gateway.answerOnce('SUBSCRIBE', async ({ request }) => {
      expect((await notify(request, 'pending;expires=3600')).status).toBe(200);
      return { status: 202, toTag: GW_TAG, headers: { Expires: '3600' } };
    });
    expect((await t.legacy.addContact('accept', CAROL)).status).toBe(202);
    expect(t.legacy.contactPresence('accept', CAROL)).toEqual({ state: 'pending' });
  });

  it('refuses a NOTIFY with a broken PIDF or Subscription-State (400), keeping what it knew', async () => {
    t = await PoolsUnderTest.start(USERS);
    accepting();
    await t.legacy.addContact('accept', CAROL);
    const sub = await t.gateway.next('SUBSCRIBE', 'the SUBSCRIBE');
    await notify(sub, 'active', { body: PIDF });
    const broken = await notify(sub, 'active', { body: '<broken', cseq: 2 });
    expect([broken.status, broken.headers.get('Warning')]).toEqual([400, expect.stringMatching(/^399 legacy\.contoso\.test "PIDF is not well-formed XML: /)]);
    const state = await notify(sub, 'sleeping', { cseq: 3 });
    expect([state.status, state.headers.get('Warning')]).toEqual([400, '399 legacy.contoso.test "bad Subscription-State  sleeping "']);
    expect(t.legacy.contactPresence('accept', CAROL)).toMatchObject({ state: 'active', presence: { show: 'away' } });
  });

  it('removeContact ends the dialog (Expires 0 to its remote target, with its tag and the next CSeq); the final NOTIFY gives the reason', async () => {
    t = await PoolsUnderTest.start(USERS);
    accepting();
    await t.legacy.addContact('accept', CAROL);
    const sub = await t.gateway.next('SUBSCRIBE', 'the SUBSCRIBE');
    await notify(sub, 'active', { body: PIDF });
    await t.legacy.removeContact('accept', CAROL);
    const unsub = await t.gateway.next('SUBSCRIBE', 'the unSUBSCRIBE');
    expect(unsub.uri).toBe(t.gateway.contactUri());
    expect(headersOf(unsub)).toEqual({ ...headersOf(sub), To: `<sip:${CAROL}>;tag=${GW_TAG}`, CSeq: '2 SUBSCRIBE', Expires: '0' });
    expect(t.legacy.contactPresence('accept', CAROL)).toMatchObject({ state: 'terminated', reason: 'removed' });
    expect((await notify(sub, 'terminated;reason=timeout', { cseq: 2 })).status).toBe(200);
    expect(t.legacy.contactPresence('accept', CAROL)).toMatchObject({ state: 'terminated', reason: 'timeout' });
  });

  it('a refused SUBSCRIBE leaves the contact terminated with the status as reason; removing it then sends nothing', async () => {
    t = await PoolsUnderTest.start(USERS);
    t.gateway.answerOnce('SUBSCRIBE', { status: 403 });
    expect((await t.legacy.addContact('accept', CAROL)).status).toBe(403);
    expect(t.legacy.contactPresence('accept', CAROL)).toEqual({ state: 'terminated', reason: '403 Forbidden' });
    await t.legacy.removeContact('accept', CAROL);
    await t.gateway.next('SUBSCRIBE', 'the refused SUBSCRIBE');
    expect(t.gateway.untaken('SUBSCRIBE')).toEqual([]);
  });

  it('removing a contact never added is an error; a user on the 2019 pool cannot subscribe to XMPP (404, locally)', async () => {
    t = await PoolsUnderTest.start(USERS);
    await expect(t.legacy.removeContact('accept', CAROL)).rejects.toThrow(new XfedError(`accept has no subscription to ${CAROL}`));
    const res = await t.legacy.addContact('modern', CAROL);
    expect([res.status, res.headers.get('Warning')]).toEqual([404, '399 sfb2019.contoso.test "pool sfb2019 has no XMPP gateway"']);
    expect(t.legacy.contactPresence('modern', CAROL)).toEqual({ state: 'terminated', reason: '404 Not Found' });
    expect(t.gateway.received).toEqual([]);
    expect(t.legacy.contactPresence('accept', `nobody@${SFB}`)).toBeUndefined();
  });
});
