import { afterEach, describe, expect, it } from '@jest/globals';
import { DEFAULT_SHOW_MAPPING } from '../../../../../src/sfb/availability.js';
import { parseNameAddr } from '../../../../../src/sip/message.js';
import { buildPidf } from '../../../../../src/sip/pidf.js';
import type { UserBehaviour } from '../../../../../src/targets/sim/pool/directory.js';
import { PARTNER, SFB } from '../../../../helpers/gateway-under-test.js';
import { PoolsUnderTest } from '../../../../helpers/pools-under-test.js';
import { headersOf } from '../../../../helpers/sip-headers.js';

const USERS = [
  { name: 'echo', pool: 'legacy' },
  { name: 'accept', pool: 'legacy', behaviour: 'accept' as const },
  { name: 'silent', pool: 'legacy', behaviour: 'silent' as const },
  { name: 'reject', pool: 'legacy', behaviour: 'reject' as const },
  { name: 'offline', pool: 'legacy', behaviour: 'offline' as const },
  { name: 'gone', pool: 'legacy', behaviour: 'accept' as const, availability: 'Offline' as const },
  { name: 'josé', pool: 'legacy', behaviour: 'accept' as const },
];

let t: PoolsUnderTest;
afterEach(() => t?.stop());

const im = (user: string, body: string, extra: { from?: string; headers?: Record<string, string>; contentType?: string } = {}) =>
  t.fromGateway({ method: 'MESSAGE', user, body, ...extra });

describe('an IM to a scripted user', () => {
  it('the echo user answers 200, then sends the same text, Subject, language and Call-ID back through the XMPP route', async () => {
    t = await PoolsUnderTest.start(USERS);
    const req = im('echo', 'hello über', { headers: { Subject: 'greeting', 'Content-Language': 'de' } });
    const callId = req.headers.get('Call-ID')!;
    expect((await t.send(req)).status).toBe(200);
    expect(await t.events.next((e) => e.kind === 'im', 'the im event')).toEqual({
      user: 'echo',
      kind: 'im',
      from: `sip:bob@${PARTNER}`,
      body: 'hello über',
      subject: 'greeting',
      lang: 'de',
      callId,
      status: 200,
      at: expect.any(Number),
    });
    const back = await t.gateway.next('MESSAGE', 'the echo');
    expect(back.uri).toBe(`sip:bob@${PARTNER}`);
    expect(headersOf(back)).toEqual({
      From: expect.stringMatching(/^<sip:echo@contoso\.test>;tag=[0-9a-f]{10}$/),
      To: `<sip:bob@${PARTNER}>`,
      'Call-ID': callId,
      CSeq: '1 MESSAGE',
      Subject: 'greeting',
      'Content-Language': 'de',
      'Content-Type': 'text/plain; charset=UTF-8',
      'Max-Forwards': '70',
    });
    expect(back.body).toBe('hello über');
    expect(await t.events.next((e) => e.kind === 'echo', 'the echo outcome')).toEqual({
      user: 'echo',
      kind: 'echo',
      from: `sip:bob@${PARTNER}`,
      body: 'hello über',
      status: 200,
      at: expect.any(Number),
    });
  });

  it('the echo goes back to the GRUU it came from, and reports the status the route gave it', async () => {
    t = await PoolsUnderTest.start(USERS);
    t.gateway.answer('MESSAGE', { status: 480 });
    expect((await t.send(im('echo', 'to one client', { from: `sip:bob@${PARTNER};gr=pc` }))).status).toBe(200);
    expect((await t.gateway.next('MESSAGE', 'the echo')).uri).toBe(`sip:bob@${PARTNER};gr=pc`);
    expect(await t.events.next((e) => e.kind === 'echo', 'the echo outcome')).toMatchObject({ status: 480 });
  });

  it.each<[string, UserBehaviour | 'Offline', number]>([
    ['accept', 'accept', 200],
    ['silent', 'silent', 200],
    ['reject', 'reject', 603],
    ['offline', 'offline', 480],
    ['gone', 'Offline', 480],
  ])('%s (%s) answers %i and never echoes', async (user, _behaviour, status) => {
    t = await PoolsUnderTest.start(USERS);
    const req = im(user, 'hi');
    expect((await t.send(req)).status).toBe(status);
    expect(await t.events.next((e) => e.kind === 'im', 'the im event')).toMatchObject({ user, status });
    // The echo of a later IM comes back after anything sent for this one.
    const marker = im('echo', 'marker');
    await t.send(marker);
    expect((await t.gateway.next('MESSAGE', 'the first MESSAGE back')).headers.get('Call-ID')).toBe(marker.headers.get('Call-ID'));
  });

  it('an SfB sender gets no echo (two echo users would echo forever)', async () => {
    t = await PoolsUnderTest.start(USERS);
    expect((await t.send(im('echo', 'internal', { from: `sip:accept@${SFB}` }))).status).toBe(200);
    await t.events.next((e) => e.kind === 'im', 'the im event');
    const marker = im('echo', 'marker');
    await t.send(marker);
    expect((await t.gateway.next('MESSAGE', 'the first MESSAGE back')).body).toBe('marker');
    // An echo to accept would have gone to his pool, and been over before the marker's.
    await t.events.next((e) => e.kind === 'echo' && e.body === 'marker', "the marker's echo");
    expect(t.events.peek((e) => e.kind === 'echo' || e.user === 'accept')).toEqual([]);
  });

  it('refuses a body that is not text/plain (415, Accept), and answers a fixed status while the directory says so', async () => {
    t = await PoolsUnderTest.start(USERS);
    const json = await t.send(im('accept', '{}', { contentType: 'application/json' }));
    expect([json.status, json.headers.get('Accept')]).toEqual([415, 'text/plain']);
    t.directory.setRespondWith('accept', 486);
    const busy = await t.send(im('accept', 'hi'));
    expect([busy.status, busy.headers.get('Warning')]).toEqual([486, '399 legacy.contoso.test "accept is set to answer 486"']);
    t.directory.setRespondWith('accept', 202);
    const ok = await t.send(im('accept', 'hi'));
    expect([ok.status, ok.headers.get('Warning')]).toEqual([202, undefined]);
  });
});

describe('what a user does on his own', () => {
  it('sendIm: a MESSAGE with subject, language and Call-ID, to a raw or escaped address or a GRUU', async () => {
    t = await PoolsUnderTest.start(USERS);
    expect((await t.legacy.sendIm('josé', `carol@${PARTNER}`, 'ping', { subject: 's', lang: 'en', callId: 'thread-1@x' })).status).toBe(200);
    const first = await t.gateway.next('MESSAGE', 'the IM');
    expect([
      first.uri,
      parseNameAddr(first.headers.get('From')!).uri,
      first.headers.get('Subject'),
      first.headers.get('Content-Language'),
      first.headers.get('Call-ID'),
      first.body,
    ]).toEqual([`sip:carol@${PARTNER}`, `sip:jos%C3%A9@${SFB}`, 's', 'en', 'thread-1@x', 'ping']);
    await t.legacy.sendIm('accept', `josé@${PARTNER}`, 'a');
    await t.legacy.sendIm('accept', `sip:jos%c3%a9@${PARTNER};transport=tcp`, 'b');
    await t.legacy.sendIm('accept', `sip:carol@${PARTNER};gr=phone`, 'c');
    const uris = [await t.gateway.next('MESSAGE', 'a'), await t.gateway.next('MESSAGE', 'b'), await t.gateway.next('MESSAGE', 'c')].map((r) => r.uri);
    expect(uris).toEqual([`sip:jos%C3%A9@${PARTNER}`, `sip:jos%C3%A9@${PARTNER}`, `sip:carol@${PARTNER};gr=phone`]);
  });

  it('setAvailability NOTIFYs the active watchers, whichever pool holds the dialog', async () => {
    t = await PoolsUnderTest.start(USERS);
    expect((await t.send(t.fromGateway({ method: 'SUBSCRIBE', user: 'accept', headers: { Event: 'presence' } }))).status).toBe(202);
    await t.gateway.next('NOTIFY', 'the first NOTIFY');
    // Asked through the other pool: the legacy pool holds the dialog.
    await t.sfb2019.setAvailability('accept', 'BeRightBack', 'back soon');
    const n = await t.gateway.next('NOTIFY', 'the NOTIFY of the change');
    expect(n.headers.get('Subscription-State')).toMatch(/^active;expires=(28800|28799)$/);
    expect(n.body).toBe(buildPidf({ entity: `sip:accept@${SFB}`, basic: 'open', show: DEFAULT_SHOW_MAPPING.BeRightBack.show!, note: 'back soon' }));
    expect(t.directory.get('accept')).toMatchObject({ availability: 'BeRightBack', note: 'back soon' });
  });
});
