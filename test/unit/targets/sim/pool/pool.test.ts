import { afterEach, describe, expect, it } from '@jest/globals';
import { buildRequest } from '../../../../../src/sip/endpoint.js';
import { newCallId, type SipResponse } from '../../../../../src/sip/message.js';
import { PARTNER, SFB } from '../../../../helpers/gateway-under-test.js';
import { PoolsUnderTest } from '../../../../helpers/pools-under-test.js';

const USERS = [
  { name: 'echo', pool: 'legacy' },
  { name: 'accept', pool: 'legacy', behaviour: 'accept' as const },
  { name: 'noxmpp', pool: 'legacy', behaviour: 'accept' as const, xmppAccess: false },
  { name: 'modern', pool: 'sfb2019', behaviour: 'accept' as const },
];

let t: PoolsUnderTest;
afterEach(() => t?.stop());

const im = (user: string, extra: { from?: string; headers?: Record<string, string> } = {}) => t.fromGateway({ method: 'MESSAGE', user, body: 'hi', ...extra });
const outcome = (res: SipResponse) => [res.status, res.headers.get('Warning')];
/** A request to another domain, as an SfB user's client sends it to its pool. */
const toPartner = (from: string) =>
  buildRequest({
    method: 'MESSAGE',
    uri: `sip:dave@${PARTNER}`,
    from: `<sip:${from}@${SFB}>`,
    to: `<sip:dave@${PARTNER}>`,
    callId: newCallId('x'),
    cseq: 1,
    body: 'out',
    contentType: 'text/plain',
  });

describe('requests for SfB users', () => {
  it('are proxied to the home pool: its Via on top, Max-Forwards down by one, the answer relayed', async () => {
    t = await PoolsUnderTest.start(USERS);
    const req = im('accept', { headers: { 'Max-Forwards': '10' } });
    const res = await t.send(req, t.sfb2019);
    expect(res.status).toBe(200);
    const atHome = t.traces.find(
      (tr) => tr.endpoint === 'legacy' && tr.direction === 'in' && tr.message.headers.get('Call-ID') === req.headers.get('Call-ID'),
    )!;
    expect([atHome.message.headers.getAll('Via').length, atHome.message.headers.get('Max-Forwards')]).toEqual([2, '9']);
    expect(await t.events.next((e) => e.kind === 'im', 'the IM at home')).toMatchObject({ user: 'accept', status: 200 });
    expect((await t.send(im('accept', { headers: { 'Max-Forwards': '0' } }), t.sfb2019)).status).toBe(483);
  });

  it('from XMPP, for a user on the 2019 pool: 403, directly or proxied; SfB-internal traffic still reaches him', async () => {
    t = await PoolsUnderTest.start(USERS);
    for (const pool of [t.sfb2019, t.legacy])
      expect(outcome(await t.send(im('modern'), pool))).toEqual([403, '399 sfb2019.contoso.test "pool sfb2019 has no XMPP gateway"']);
    expect((await t.send(im('modern', { from: `sip:accept@${SFB}` }), t.sfb2019)).status).toBe(200);
  });

  it('from XMPP, for a user without EnableXmppAccess: 403, for any method', async () => {
    t = await PoolsUnderTest.start(USERS);
    const why = '399 legacy.contoso.test "external access policy of noxmpp has no EnableXmppAccess"';
    expect(outcome(await t.send(im('noxmpp')))).toEqual([403, why]);
    expect(outcome(await t.send(t.fromGateway({ method: 'SUBSCRIBE', user: 'noxmpp', headers: { Event: 'presence' } })))).toEqual([403, why]);
  });

  it('follows a move: the same user answers from his new pool', async () => {
    t = await PoolsUnderTest.start(USERS);
    await t.directory.move('accept', 'sfb2019');
    expect(outcome(await t.send(im('accept')))).toEqual([403, '399 sfb2019.contoso.test "pool sfb2019 has no XMPP gateway"']);
    await t.directory.move('accept', 'legacy');
    expect((await t.send(im('accept'))).status).toBe(200);
  });

  it('404 for an unknown user, 405 with Allow for a method no user takes, 481 for a dialog nobody holds', async () => {
    t = await PoolsUnderTest.start(USERS);
    expect(outcome(await t.send(im('nobody')))).toEqual([404, '399 legacy.contoso.test "no user nobody@contoso.test"']);
    const info = await t.send(t.fromGateway({ method: 'INFO', user: 'accept' }));
    expect([info.status, info.headers.get('Allow')]).toEqual([405, 'MESSAGE, SUBSCRIBE, NOTIFY, OPTIONS']);
    expect(
      (await t.send(t.fromGateway({ method: 'NOTIFY', user: 'accept', toTag: 'gone', headers: { Event: 'presence', 'Subscription-State': 'active' } }))).status,
    ).toBe(481);
    expect((await t.send(t.fromGateway({ method: 'SUBSCRIBE', user: 'accept', toTag: 'gone', headers: { Event: 'presence' } }))).status).toBe(481);
  });

  it('OPTIONS: 200 for a user there (Allow, Accept), 200 for the pool itself, 416 for a URI that is not SIP', async () => {
    t = await PoolsUnderTest.start(USERS);
    const user = await t.send(t.fromGateway({ method: 'OPTIONS', user: 'accept' }));
    expect([user.status, user.headers.get('Allow'), user.headers.get('Accept')]).toEqual([
      200,
      'MESSAGE, SUBSCRIBE, NOTIFY, OPTIONS',
      'text/plain, application/pidf+xml',
    ]);
    const keepAlive = buildRequest({ method: 'OPTIONS', uri: `sip:${SFB}`, from: `<sip:${SFB}>`, to: `<sip:${SFB}>`, callId: 'ka', cseq: 1 });
    expect([
      (await t.send(keepAlive)).status,
      (await t.send({ ...keepAlive, method: 'MESSAGE', headers: keepAlive.headers.clone().set('CSeq', '2 MESSAGE') })).status,
    ]).toEqual([200, 404]);
    expect((await t.send({ ...keepAlive, uri: 'tel:+4930123' })).status).toBe(416);
  });
});

describe("the directory changes a user's home or policy", () => {
  const CAROL = `carol@${PARTNER}`;
  let cited: string[];

  /** `from` subscribes to accept through the fake gateway: the Call-ID, and the first NOTIFY taken. */
  async function watch(from = `sip:bob@${PARTNER}`): Promise<string> {
    const req = t.fromGateway({ method: 'SUBSCRIBE', user: 'accept', from, headers: { Event: 'presence', Expires: '3600' } });
    expect((await t.send(req)).status).toBe(202);
    const callId = req.headers.get('Call-ID')!;
    await t.gateway.next((r) => r.method === 'NOTIFY' && r.headers.get('Call-ID') === callId, 'the first NOTIFY');
    return callId;
  }
  /** accept adds carol; the fake gateway accepts. */
  async function addCarol(): Promise<string> {
    t.gateway.answerOnce('SUBSCRIBE', { status: 202, toTag: 'gwtag', headers: { Expires: '3600', Contact: `<${t.gateway.contactUri()}>` } });
    expect((await t.legacy.addContact('accept', CAROL)).status).toBe(202);
    return (await t.gateway.next('SUBSCRIBE', "accept's SUBSCRIBE to carol")).headers.get('Call-ID')!;
  }

  it("a move ends the user's watchers as deactivated and his contacts' dialogs, and his contacts subscribe again from his new home", async () => {
    cited = [];
    t = await PoolsUnderTest.start(USERS, { cite: (id) => cited.push(id) });
    const bob = await watch();
    const carol = await addCarol();
    await t.directory.move('accept', 'sfb2019');
    const ended = await t.gateway.next((r) => r.method === 'NOTIFY' && r.headers.get('Call-ID') === bob, 'the NOTIFY that ends it');
    expect([ended.headers.get('Subscription-State'), ended.body]).toEqual(['terminated;reason=deactivated', '']);
    const unsub = await t.gateway.next((r) => r.method === 'SUBSCRIBE' && r.headers.get('Call-ID') === carol, 'the unSUBSCRIBE');
    expect([unsub.headers.get('Expires'), unsub.headers.get('To')]).toEqual(['0', `<sip:${CAROL}>;tag=gwtag`]);
    // From the 2019 pool the contact cannot be reached: a local 404, nothing sent.
    expect([t.legacy.watchers('accept'), t.sfb2019.contactPresence('accept', CAROL)]).toEqual([[], { state: 'terminated', reason: '404 Not Found' }]);
    expect(t.gateway.untaken('SUBSCRIBE')).toEqual([]);
    // Back on the legacy pool: a new subscription through the XMPP route.
    t.gateway.answerOnce('SUBSCRIBE', { status: 202, toTag: 'again', headers: { Expires: '3600' } });
    await t.directory.move('accept', 'legacy');
    const again = await t.gateway.next('SUBSCRIBE', 'the SUBSCRIBE from the legacy pool again');
    expect([again.headers.get('Call-ID') !== carol, again.headers.get('To'), again.headers.get('Expires')]).toEqual([true, `<sip:${CAROL}>`, '28800']);
    expect(t.sfb2019.contactPresence('accept', CAROL)).toEqual({ state: 'pending' });
    expect(cited).toEqual(expect.arrayContaining(['presence.moved-user-deactivated', 'presence.moved-user-contacts']));
  });

  it('a revoked EnableXmppAccess ends XMPP watchers as rejected, not SfB ones', async () => {
    cited = [];
    t = await PoolsUnderTest.start(USERS, { cite: (id) => cited.push(id) });
    const bob = await watch();
    await watch(`sip:modern@${SFB}`);
    await addCarol();
    await t.directory.setXmppAccess('accept', false);
    const ended = await t.gateway.next((r) => r.method === 'NOTIFY' && r.headers.get('Call-ID') === bob, 'the NOTIFY that ends it');
    expect(ended.headers.get('Subscription-State')).toBe('terminated;reason=rejected');
    expect(t.legacy.watchers('accept')).toEqual([`sip:modern@${SFB}`]);
    // His XMPP contact subscribes again, under a policy that refuses it: a local 403.
    await t.gateway.next((r) => r.method === 'SUBSCRIBE' && r.headers.get('Expires') === '0', 'the unSUBSCRIBE');
    expect(t.legacy.contactPresence('accept', CAROL)).toEqual({ state: 'terminated', reason: '403 Forbidden' });
    expect(cited).toEqual(expect.arrayContaining(['presence.policy-revoked-rejected', 'presence.moved-user-contacts']));
  });
});

describe('requests for other domains', () => {
  it('go to the XMPP route, proxied, and its answer comes back with its headers', async () => {
    t = await PoolsUnderTest.start(USERS);
    t.gateway.answer('MESSAGE', { status: 486, headers: { Warning: '399 xmpp-gateway "recipient-unavailable"' } });
    const req = toPartner('accept');
    expect(outcome(await t.send(req))).toEqual([486, '399 xmpp-gateway "recipient-unavailable"']);
    const fwd = await t.gateway.next('MESSAGE', 'the forwarded MESSAGE');
    expect([fwd.uri, fwd.headers.get('Call-ID'), fwd.headers.getAll('Via').length, fwd.body]).toEqual([
      `sip:dave@${PARTNER}`,
      req.headers.get('Call-ID'),
      2,
      'out',
    ]);
  });

  it('a pool without the XMPP gateway has no route (404); a route that does not answer is 408', async () => {
    t = await PoolsUnderTest.start(USERS, { requestTimeoutMs: 200 });
    expect(outcome(await t.send(toPartner('modern'), t.sfb2019))).toEqual([404, `399 sfb2019.contoso.test "pool sfb2019 has no route to sip:dave@${PARTNER}"`]);
    t.gateway.answer('MESSAGE', () => new Promise(() => undefined));
    const res = await t.send(toPartner('accept'));
    expect(outcome(res)).toEqual([
      408,
      `399 legacy.contoso.test "the XMPP gateway: timed out after 200 ms waiting for the final response to MESSAGE sip:dave@${PARTNER} from udp:127.0.0.1:${t.gateway.target().port}"`,
    ]);
  });
});

describe('what users send', () => {
  it('what the deployment cannot route fails locally, with a synthetic answer that never touches the network', async () => {
    t = await PoolsUnderTest.start(USERS);
    const local = async (pool: typeof t.legacy, user: string, callId: string) => {
      const res = await pool.sendIm(user, `carol@${PARTNER}`, 'nope', { callId });
      const mine = t.traces.filter((tr) => tr.message.headers.get('Call-ID') === callId);
      expect(mine.map((tr) => [tr.direction, tr.synthetic])).toEqual([
        ['out', expect.any(String)],
        ['in', expect.any(String)],
      ]);
      return outcome(res);
    };
    expect(await local(t.sfb2019, 'modern', 'c1')).toEqual([404, '399 sfb2019.contoso.test "pool sfb2019 has no XMPP gateway"']);
    // Asked through the wrong pool, a user still acts through his home pool.
    expect(await local(t.legacy, 'modern', 'c2')).toEqual([404, '399 sfb2019.contoso.test "pool sfb2019 has no XMPP gateway"']);
    expect(await local(t.legacy, 'noxmpp', 'c3')).toEqual([403, '399 legacy.contoso.test "external access policy of noxmpp has no EnableXmppAccess"']);
    t.legacy.setXmppRoute(undefined);
    expect(await local(t.legacy, 'accept', 'c4')).toEqual([404, '399 legacy.contoso.test "pool legacy has no XMPP route"']);
    expect(t.gateway.received).toEqual([]);
  });

  it('to an SfB user: to his home pool, whichever pool he is on', async () => {
    t = await PoolsUnderTest.start(USERS);
    expect((await t.sfb2019.sendIm('modern', `sip:accept@${SFB}`, 'internal')).status).toBe(200);
    expect(await t.events.next((e) => e.kind === 'im', 'the internal IM')).toMatchObject({
      user: 'accept',
      from: `sip:modern@${SFB}`,
      body: 'internal',
      status: 200,
    });
    await expect(t.legacy.sendIm('nobody', `carol@${PARTNER}`, 'x')).rejects.toThrow('no SfB user nobody@contoso.test');
  });
});
