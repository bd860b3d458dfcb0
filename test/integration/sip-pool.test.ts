import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import dgram from 'node:dgram';
import net from 'node:net';
import { TimeoutError } from '../../src/errors.js';
import { withDeadline } from '../../src/infra/deadline.js';
import { SFB_AVAILABILITIES, DEFAULT_SHOW_MAPPING } from '../../src/sfb/availability.js';
import { SfbDirectory } from '../../src/targets/sim/pool/directory.js';
import { SipEndpoint, buildRequest, type IncomingRequest, type SipResponseInit, type SipTrace, type SipTransport } from '../../src/sip/endpoint.js';
import {
  newCallId,
  newTag,
  parseNameAddr,
  parseSipMessage,
  serializeSipMessage,
  takeSipFrame,
  type SipMessage,
  type SipRequest,
  type SipResponse,
} from '../../src/sip/message.js';
import { parsePidf } from '../../src/sip/pidf.js';
import { SipPool } from '../../src/targets/sim/pool/pool.js';
import type { SipUserEvent } from '../../src/targets/sim/pool/user-event.js';
import { Inbox } from '../helpers/inbox.js';

const DOMAIN = 'contoso.test';
const PARTNER = 'partner.test';
const uriOf = (user: string) => `sip:${user}@${DOMAIN}`;

let directory: SfbDirectory;
let legacy: SipPool;
let sfb2019: SipPool;
let gw: SipEndpoint;
// The gateway UA answers 200 unless a test installs its own answer.
let gwAnswer: (req: IncomingRequest) => SipResponseInit = () => ({ status: 200 });
const gwInbox = new Inbox<IncomingRequest>();
const events = new Inbox<SipUserEvent>();
const traces: SipTrace[] = [];
const malformed = new Inbox<{ error: string }>();

beforeAll(async () => {
  // EnableXmppAccess defaults to False: the users partners reach are granted it.
  directory = new SfbDirectory(DOMAIN, [
    { name: 'echo', pool: 'legacy', xmppAccess: true },
    { name: 'accept', pool: 'legacy', behaviour: 'accept', xmppAccess: true },
    { name: 'silent', pool: 'legacy', behaviour: 'silent', xmppAccess: true },
    { name: 'reject', pool: 'legacy', behaviour: 'reject', xmppAccess: true },
    { name: 'offline', pool: 'legacy', behaviour: 'offline', xmppAccess: true },
    { name: 'gone', pool: 'legacy', behaviour: 'accept', availability: 'Offline', xmppAccess: true },
    { name: 'presence', pool: 'legacy', behaviour: 'accept', note: 'hello', xmppAccess: true },
    { name: 'noxmpp', pool: 'legacy' },
    { name: 'modern', pool: 'sfb2019' },
  ]);
  legacy = await SipPool.start({ name: 'legacy', directory, hasXmppGateway: true, requestTimeoutMs: 3_000 });
  sfb2019 = await SipPool.start({ name: 'sfb2019', directory, hasXmppGateway: false, requestTimeoutMs: 3_000 });
  for (const p of [legacy, sfb2019]) {
    p.setPeers([legacy, sfb2019]);
    p.on('user-event', (e: SipUserEvent) => events.push(e));
    p.on('trace', (t: SipTrace) => traces.push(t));
    p.on('malformed', (m: { error: string }) => malformed.push(m));
  }
  gw = await SipEndpoint.listen({
    name: 'gateway',
    onRequest: (req) => {
      gwInbox.push(req);
      return gwAnswer(req);
    },
  });
  legacy.setXmppRoute(gw.target('udp'));
});

afterAll(async () => {
  await Promise.allSettled([legacy?.stop(), sfb2019?.stop(), gw?.close()]);
});

/** A request as the XMPP gateway sends it, from bob@partner.test to an SfB user. */
function fromGw(o: {
  method: string;
  user: string;
  callId?: string;
  headers?: Record<string, string>;
  body?: string;
  contentType?: string;
  fromUri?: string;
  transport?: SipTransport;
  toTag?: string;
}): SipRequest {
  const callId = o.callId ?? newCallId('127.0.0.1');
  return buildRequest({
    method: o.method,
    uri: uriOf(o.user),
    from: `<${o.fromUri ?? `sip:bob@${PARTNER}`}>;tag=${newTag()}`,
    to: o.toTag ? `<${uriOf(o.user)}>;tag=${o.toTag}` : `<${uriOf(o.user)}>`,
    callId,
    cseq: 1,
    contact: `<${gw.contactUri('bob', o.transport)}>`,
    headers: o.headers,
    body: o.body,
    contentType: o.contentType ?? (o.body !== undefined ? 'text/plain' : undefined),
  });
}

const send = (req: SipRequest, pool: SipPool = legacy, transport: SipTransport = 'udp') => gw.request(pool.target(transport), req, { timeoutMs: 5_000 });
const im = (user: string, body: string, extra: Partial<Parameters<typeof fromGw>[0]> = {}) => fromGw({ method: 'MESSAGE', user, body, ...extra });
const warning = (res: SipResponse) => res.headers.get('Warning') ?? '';

describe.each<SipTransport>(['udp', 'tcp'])('MESSAGE echo over %s', (transport) => {
  it('answers 200, then the echo user sends the same text, Subject, language and Call-ID back via the XMPP route', async () => {
    legacy.setXmppRoute(gw.target(transport));
    try {
      const req = im('echo', `hello über ${transport}`, { headers: { Subject: 'greeting', 'Content-Language': 'de' }, transport });
      const callId = req.headers.get('Call-ID')!;
      const res = await send(req, legacy, transport);
      expect(res.status).toBe(200);
      const back = await gwInbox.next((r) => r.request.method === 'MESSAGE' && r.request.headers.get('Call-ID') === callId, 'the echo');
      expect(back.transport).toBe(transport);
      expect(back.request.uri).toBe(`sip:bob@${PARTNER}`);
      expect(parseNameAddr(back.request.headers.get('From')!).uri).toBe(uriOf('echo'));
      expect(back.request.body).toBe(`hello über ${transport}`);
      expect(back.request.headers.get('Subject')).toBe('greeting');
      expect(back.request.headers.get('Content-Language')).toBe('de');
      expect(back.request.headers.get('Content-Type')).toMatch(/^text\/plain/);
      const got = await events.next((e) => e.kind === 'im' && e.callId === callId, 'the im user-event');
      expect(got).toMatchObject({ user: 'echo', from: `sip:bob@${PARTNER}`, body: `hello über ${transport}`, subject: 'greeting', lang: 'de', status: 200 });
      await events.next((e) => e.kind === 'echo' && e.user === 'echo' && e.status === 200, 'the echo outcome');
      expect(
        traces.some(
          (t) =>
            t.endpoint === 'legacy' &&
            t.transport === transport &&
            t.direction === 'in' &&
            t.message.kind === 'request' &&
            t.message.headers.get('Call-ID') === callId,
        ),
      ).toBe(true);
    } finally {
      legacy.setXmppRoute(gw.target('udp'));
    }
  });
});

describe('MESSAGE to each behaviour', () => {
  it.each([
    ['accept', 200],
    ['silent', 200],
    ['reject', 603],
    ['offline', 480],
    ['gone', 480],
  ])('%s answers %d and never echoes', async (user, status) => {
    const req = im(user, 'hi');
    const callId = req.headers.get('Call-ID')!;
    expect((await send(req)).status).toBe(status);
    await events.next((e) => e.kind === 'im' && e.callId === callId && e.status === status, 'the im user-event');
    // An echo to a later message proves nothing was sent back for this one before it.
    const probe = im('echo', 'marker');
    expect((await send(probe)).status).toBe(200);
    await gwInbox.next((r) => r.request.headers.get('Call-ID') === probe.headers.get('Call-ID'), 'the marker echo');
    expect(gwInbox.peek((r) => r.request.headers.get('Call-ID') === callId)).toEqual([]);
  });

  it('answers a fixed status while the directory says so, then behaves again', async () => {
    directory.setRespondWith('accept', 503);
    try {
      const res = await send(im('accept', 'hi'));
      expect(res.status).toBe(503);
      expect(warning(res)).toContain('accept is set to answer 503');
      expect((await send(fromGw({ method: 'OPTIONS', user: 'accept' }))).status).toBe(503);
    } finally {
      directory.setRespondWith('accept', undefined);
    }
    expect((await send(im('accept', 'hi'))).status).toBe(200);
    expect(() => directory.setRespondWith('accept', 100)).toThrow('final SIP status');
  });

  it('refuses a body that is not text/plain with 415', async () => {
    const res = await send(im('accept', '{}', { contentType: 'application/json' }));
    expect(res.status).toBe(415);
    expect(res.headers.get('Accept')).toBe('text/plain');
  });

  it('answers 404 for an unknown user and 405 with Allow for other methods', async () => {
    const res = await send(im('nobody', 'hi'));
    expect(res.status).toBe(404);
    expect(warning(res)).toContain('no user nobody@contoso.test');
    const info = await send(fromGw({ method: 'INFO', user: 'accept' }));
    expect(info.status).toBe(405);
    expect(info.headers.get('Allow')).toBe('MESSAGE, SUBSCRIBE, NOTIFY, OPTIONS');
  });
});

describe('routing between pools and policy', () => {
  it('proxies a request to the home pool and relays its answer', async () => {
    const req = im('echo', 'via the 2019 pool');
    const callId = req.headers.get('Call-ID')!;
    const res = await send(req, sfb2019);
    expect(res.status).toBe(200);
    const atHome = traces.find(
      (t) => t.endpoint === 'legacy' && t.direction === 'in' && t.message.kind === 'request' && t.message.headers.get('Call-ID') === callId,
    )!;
    expect(atHome.message.headers.getAll('Via')).toHaveLength(2);
    expect(atHome.message.headers.get('Max-Forwards')).toBe('69');
    await gwInbox.next((r) => r.request.method === 'MESSAGE' && r.request.headers.get('Call-ID') === callId, 'the echo of a proxied IM');
  });

  it('answers 483 when Max-Forwards runs out on the way to the home pool', async () => {
    const res = await send(im('echo', 'x', { headers: { 'Max-Forwards': '0' } }), sfb2019);
    expect(res.status).toBe(483);
  });

  it('refuses XMPP traffic for a user homed on the 2019 pool with 403 (no XMPP gateway), directly or proxied', async () => {
    for (const pool of [sfb2019, legacy]) {
      const res = await send(im('modern', 'hi'), pool);
      expect(res.status).toBe(403);
      expect(warning(res)).toMatch(/^399 sfb2019\.contoso\.test ".*pool sfb2019 has no XMPP gateway"$/);
    }
    // SfB-internal traffic still reaches the 2019 user.
    expect((await send(im('modern', 'hi', { fromUri: uriOf('echo') }), sfb2019)).status).toBe(200);
  });

  it('refuses a user whose policy lacks EnableXmppAccess with 403', async () => {
    const res = await send(im('noxmpp', 'hi'));
    expect(res.status).toBe(403);
    expect(warning(res)).toContain('external access policy of noxmpp has no EnableXmppAccess');
  });

  it('follows a move: the same user answers from the other pool and loses XMPP there', async () => {
    directory.move('accept', 'sfb2019');
    try {
      expect((await send(im('accept', 'hi'))).status).toBe(403);
    } finally {
      directory.move('accept', 'legacy');
    }
    expect((await send(im('accept', 'hi'))).status).toBe(200);
  });

  it('answers OPTIONS 200 for a reachable user, 480 offline, 404 unknown, 403 by policy', async () => {
    const ok = await send(fromGw({ method: 'OPTIONS', user: 'echo' }));
    expect(ok.status).toBe(200);
    expect(ok.headers.get('Allow')).toContain('SUBSCRIBE');
    expect((await send(fromGw({ method: 'OPTIONS', user: 'offline' }))).status).toBe(480);
    expect((await send(fromGw({ method: 'OPTIONS', user: 'nobody' }))).status).toBe(404);
    expect((await send(fromGw({ method: 'OPTIONS', user: 'noxmpp' }))).status).toBe(403);
  });

  it('forwards requests for other domains to the XMPP route, and 404s without one', async () => {
    const req = buildRequest({
      method: 'MESSAGE',
      uri: `sip:dave@${PARTNER}`,
      from: `<${uriOf('echo')}>`,
      to: `<sip:dave@${PARTNER}>`,
      callId: newCallId('x'),
      cseq: 1,
      body: 'out',
      contentType: 'text/plain',
    });
    const callId = req.headers.get('Call-ID')!;
    expect((await send(req)).status).toBe(200);
    const fwd = await gwInbox.next((r) => r.request.headers.get('Call-ID') === callId, 'the forwarded request');
    expect(fwd.request.headers.getAll('Via')).toHaveLength(2);
    const res = await send(
      buildRequest({
        method: 'MESSAGE',
        uri: `sip:dave@${PARTNER}`,
        from: `<${uriOf('modern')}>`,
        to: `<sip:dave@${PARTNER}>`,
        callId: newCallId('x'),
        cseq: 1,
        body: 'x',
        contentType: 'text/plain',
      }),
      sfb2019,
    );
    expect(res.status).toBe(404);
  });
});

describe('users acting on their own', () => {
  it('sendIm goes to the partner through the XMPP route', async () => {
    gwAnswer = () => ({ status: 200 });
    const res = await legacy.sendIm('accept', `carol@${PARTNER}`, 'ping', { subject: 's', lang: 'en', callId: 'thread-1@x' });
    expect(res.status).toBe(200);
    const got = await gwInbox.next((r) => r.request.headers.get('Call-ID') === 'thread-1@x', 'the IM at the gateway');
    expect(got.request).toMatchObject({ method: 'MESSAGE', uri: `sip:carol@${PARTNER}`, body: 'ping' });
    expect(got.request.headers.get('Subject')).toBe('s');
    expect(got.request.headers.get('Content-Language')).toBe('en');
  });

  it('sends to raw or escaped addresses alike, %-escaping what SIP requires', async () => {
    await legacy.sendIm('accept', `josé@${PARTNER}`, 'a', { callId: 'esc-1@x' });
    await legacy.sendIm('accept', `sip:jos%c3%a9@${PARTNER};transport=tcp`, 'b', { callId: 'esc-2@x' });
    for (const id of ['esc-1@x', 'esc-2@x']) {
      const got = await gwInbox.next((r) => r.request.headers.get('Call-ID') === id, `IM ${id}`);
      expect(got.request.uri).toBe(`sip:jos%C3%A9@${PARTNER}`);
    }
  });

  it('a user on the 2019 pool fails locally with a synthetic 404 that never touches the network', async () => {
    const before = traces.length;
    const res = await sfb2019.sendIm('modern', `carol@${PARTNER}`, 'nope', { callId: 'local-fail@x' });
    expect(res.status).toBe(404);
    expect(warning(res)).toContain('pool sfb2019 has no XMPP gateway');
    const mine = traces.slice(before).filter((t) => t.message.headers.get('Call-ID') === 'local-fail@x');
    expect(mine.map((t) => [t.direction, t.synthetic !== undefined])).toEqual([
      ['out', true],
      ['in', true],
    ]);
    expect(gwInbox.peek((r) => r.request.headers.get('Call-ID') === 'local-fail@x')).toEqual([]);
    // Asking the wrong pool changes nothing: the user acts through his home pool.
    expect((await legacy.sendIm('modern', `carol@${PARTNER}`, 'nope')).status).toBe(404);
    expect((await legacy.sendIm('noxmpp', `carol@${PARTNER}`, 'nope')).status).toBe(403);
  });

  it('addContact subscribes through the XMPP route, records NOTIFYs, and removeContact ends the dialog', async () => {
    const gwTag = newTag();
    const notifyFromGw = (sub: SipRequest, state: string, body = '', cseq = 1) =>
      gw.request(legacy.target(), {
        method: 'NOTIFY',
        uri: parseNameAddr(sub.headers.get('Contact')!).uri,
        headers: buildRequest({
          method: 'NOTIFY',
          uri: 'x',
          from: `${sub.headers.get('To')};tag=${gwTag}`,
          to: sub.headers.get('From')!,
          callId: sub.headers.get('Call-ID')!,
          cseq,
          contact: `<${gw.contactUri('carol')}>`,
          headers: { Event: 'presence', 'Subscription-State': state },
          contentType: body ? 'application/pidf+xml' : undefined,
        }).headers,
        body,
      });
    gwAnswer = (req) =>
      req.request.method === 'SUBSCRIBE' ? { status: 202, toTag: gwTag, headers: { Expires: req.request.headers.get('Expires')! } } : { status: 200 };
    try {
      const res = await legacy.addContact('accept', `carol@${PARTNER}`);
      expect(res.status).toBe(202);
      const sub = (await gwInbox.next((r) => r.request.method === 'SUBSCRIBE' && r.request.uri === `sip:carol@${PARTNER}`, 'the SUBSCRIBE')).request;
      expect(sub.headers.get('Event')).toBe('presence');
      expect(sub.headers.get('Accept')).toBe('application/pidf+xml');
      expect(sub.headers.get('Expires')).toBe('28800');
      expect(legacy.contactPresence('accept', `carol@${PARTNER}`)).toEqual({ state: 'pending' });

      const pidf = `<presence xmlns='urn:ietf:params:xml:ns:pidf' entity='sip:carol@${PARTNER}'><tuple id='a'><status><basic>open</basic></status><show xmlns='jabber:client'>away</show></tuple></presence>`;
      expect((await notifyFromGw(sub, 'active;expires=3600', pidf)).status).toBe(200);
      expect(legacy.contactPresence('accept', `sip:carol@${PARTNER}`)).toEqual({
        state: 'active',
        presence: { entity: `sip:carol@${PARTNER}`, basic: 'open', show: 'away' },
      });
      const ev = await events.next((e) => e.kind === 'notify' && e.user === 'accept', 'the notify user-event');
      expect(ev.presence?.show).toBe('away');
      expect((await notifyFromGw(sub, 'active', '<broken', 2)).status).toBe(400);

      await legacy.removeContact('accept', `carol@${PARTNER}`);
      const unsub = (await gwInbox.next((r) => r.request.method === 'SUBSCRIBE' && r.request.headers.get('Expires') === '0', 'the unSUBSCRIBE')).request;
      expect(unsub.headers.get('Call-ID')).toBe(sub.headers.get('Call-ID'));
      expect(parseNameAddr(unsub.headers.get('To')!).params.tag).toBe(gwTag);
      expect(unsub.headers.get('CSeq')).toBe('2 SUBSCRIBE');
      expect((await notifyFromGw(sub, 'terminated;reason=timeout', '', 3)).status).toBe(200);
      expect(legacy.contactPresence('accept', `carol@${PARTNER}`)).toMatchObject({ state: 'terminated', reason: 'timeout' });
    } finally {
      gwAnswer = () => ({ status: 200 });
    }
  });

  it('answers 481 to a NOTIFY outside any dialog', async () => {
    const res = await send(fromGw({ method: 'NOTIFY', user: 'accept', toTag: 'nope', headers: { Event: 'presence', 'Subscription-State': 'active' } }));
    expect(res.status).toBe(481);
  });
});

describe('SUBSCRIBE to SfB users', () => {
  async function subscribe(user: string, expires?: number, transport: SipTransport = 'udp') {
    const headers: Record<string, string> = { Event: 'presence', Accept: 'application/pidf+xml' };
    if (expires !== undefined) headers.Expires = String(expires);
    const req = fromGw({ method: 'SUBSCRIBE', user, headers, transport });
    const res = await send(req, legacy, transport);
    const callId = req.headers.get('Call-ID')!;
    const notify = () =>
      gwInbox.next((r) => r.request.method === 'NOTIFY' && r.request.headers.get('Call-ID') === callId, `a NOTIFY for ${user}`).then((r) => r.request);
    return { req, res, callId, notify };
  }

  const inDialog = (s: Awaited<ReturnType<typeof subscribe>>, expires: number, cseq: number) => {
    const headers = s.req.headers.clone();
    headers.set('To', s.res.headers.get('To')!).set('CSeq', `${cseq} SUBSCRIBE`).set('Expires', String(expires)).delete('Via').delete('Max-Forwards');
    return send({ kind: 'request', method: 'SUBSCRIBE', uri: parseNameAddr(s.res.headers.get('Contact')!).uri, headers, body: '' });
  };

  it.each<SipTransport>(['udp', 'tcp'])('is accepted (202) and followed by an active NOTIFY with PIDF over %s', async (transport) => {
    const s = await subscribe('echo', undefined, transport);
    expect(s.res.status).toBe(202);
    expect(s.res.headers.get('Expires')).toBe('28800');
    expect(parseNameAddr(s.res.headers.get('To')!).params.tag).toBeDefined();
    const n = await s.notify();
    expect(n.headers.get('Subscription-State')).toBe('active;expires=28800');
    expect(n.headers.get('Event')).toBe('presence');
    expect(n.headers.get('Content-Type')).toBe('application/pidf+xml');
    expect(parseNameAddr(n.headers.get('From')!).params.tag).toBe(parseNameAddr(s.res.headers.get('To')!).params.tag);
    expect(parsePidf(n.body)).toEqual({ entity: uriOf('echo'), basic: 'open' });
    expect(legacy.watchers('echo')).toContain(`sip:bob@${PARTNER}`);
    await inDialog(s, 0, 2);
  });

  it('an offline user is active but closed', async () => {
    const s = await subscribe('offline');
    expect(s.res.status).toBe(202);
    const n = await s.notify();
    expect(n.headers.get('Subscription-State')).toMatch(/^active;/);
    expect(parsePidf(n.body).basic).toBe('closed');
    await inDialog(s, 0, 2);
  });

  it('a silent user leaves it pending with no body, and is not watched', async () => {
    const s = await subscribe('silent');
    expect(s.res.status).toBe(202);
    const n = await s.notify();
    expect(n.headers.get('Subscription-State')).toBe('pending;expires=28800');
    expect(n.body).toBe('');
    expect(legacy.watchers('silent')).toEqual([]);
  });

  it('a rejecting user terminates it with reason=rejected', async () => {
    const s = await subscribe('reject');
    expect(s.res.status).toBe(202);
    const n = await s.notify();
    expect(n.headers.get('Subscription-State')).toBe('terminated;reason=rejected');
    expect(n.body).toBe('');
    expect(legacy.watchers('reject')).toEqual([]);
  });

  it('a probe (Expires 0) gets one NOTIFY with the current state and terminated;reason=timeout', async () => {
    const s = await subscribe('presence', 0);
    expect(s.res.status).toBe(202);
    expect(s.res.headers.get('Expires')).toBe('0');
    const n = await s.notify();
    expect(n.headers.get('Subscription-State')).toBe('terminated;reason=timeout');
    expect(parsePidf(n.body)).toEqual({ entity: uriOf('presence'), basic: 'open', note: 'hello' });
    expect(legacy.watchers('presence')).toEqual([]);
  });

  it('a refresh gets 200 with the new expiry; Expires 0 unsubscribes with a final NOTIFY; then 481', async () => {
    const s = await subscribe('accept', 1200);
    expect(s.res.headers.get('Expires')).toBe('1200');
    expect((await s.notify()).headers.get('Subscription-State')).toBe('active;expires=1200');
    const refresh = await inDialog(s, 2400, 2);
    expect(refresh.status).toBe(200);
    expect(refresh.headers.get('Expires')).toBe('2400');
    expect((await s.notify()).headers.get('Subscription-State')).toBe('active;expires=2400');
    expect(legacy.watchers('accept')).toEqual([`sip:bob@${PARTNER}`]);
    const unsub = await inDialog(s, 0, 3);
    expect(unsub.status).toBe(200);
    const last = await s.notify();
    expect(last.headers.get('Subscription-State')).toBe('terminated;reason=timeout');
    expect(legacy.watchers('accept')).toEqual([]);
    expect((await inDialog(s, 600, 4)).status).toBe(481);
  });

  it('refuses other event packages with 489', async () => {
    const req = fromGw({ method: 'SUBSCRIBE', user: 'echo', headers: { Event: 'dialog' } });
    const res = await send(req);
    expect(res.status).toBe(489);
    expect(res.headers.get('Allow-Events')).toBe('presence');
  });

  it('setAvailability NOTIFYs every watcher with the mapped PIDF, for every availability', async () => {
    const a = await subscribe('presence');
    const b = await subscribe('presence', undefined, 'tcp');
    await a.notify();
    await b.notify();
    for (const availability of SFB_AVAILABILITIES) {
      await legacy.setAvailability('presence', availability, `note ${availability}`);
      for (const s of [a, b]) {
        const n = await s.notify();
        expect(n.headers.get('Subscription-State')).toMatch(/^active;expires=\d+$/);
        const mapped = DEFAULT_SHOW_MAPPING[availability];
        expect(parsePidf(n.body)).toEqual({
          entity: uriOf('presence'),
          basic: mapped.basic,
          ...(mapped.show ? { show: mapped.show } : {}),
          note: `note ${availability}`,
        });
      }
    }
    await legacy.setAvailability('presence', 'Available', 'hello');
    await a.notify();
    await b.notify();
    await inDialog(a, 0, 2);
    await inDialog(b, 0, 2);
  });
});

describe('transport behaviour', () => {
  it('answers a UDP retransmission from the transaction cache without calling the user twice', async () => {
    const sock = dgram.createSocket('udp4');
    const inbox = new Inbox<SipMessage>();
    sock.on('message', (b) => inbox.push(parseSipMessage(b)));
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    try {
      const req = im('accept', 'once');
      req.headers.prepend('Via', `SIP/2.0/UDP 127.0.0.1:${sock.address().port};branch=z9hG4bKretrans${newTag()};rport`);
      const wire = serializeSipMessage(req);
      const callId = req.headers.get('Call-ID')!;
      sock.send(wire, legacy.target().port, '127.0.0.1');
      const first = (await inbox.next(() => true, 'the first answer')) as SipResponse;
      sock.send(wire, legacy.target().port, '127.0.0.1');
      const second = (await inbox.next(() => true, 'the answer to the retransmission')) as SipResponse;
      expect(first.status).toBe(200);
      expect(second.headers.get('To')).toBe(first.headers.get('To'));
      expect(first.headers.get('Via')).toMatch(/;rport=\d+;received=127\.0\.0\.1$/);
      await events.next((e) => e.kind === 'im' && e.callId === callId, 'the im event');
      expect(events.peek((e) => e.kind === 'im' && e.callId === callId)).toEqual([]);
    } finally {
      sock.close();
    }
  });

  it('retransmits an unanswered UDP request (timer E) and times out naming the method and target', async () => {
    const uac = await SipEndpoint.listen({ name: 'uac', onRequest: () => ({ status: 200 }) });
    const sock = dgram.createSocket('udp4');
    const seen = new Inbox<SipRequest>();
    let answerAfter = 2;
    sock.on('message', (b) => {
      const req = parseSipMessage(b) as SipRequest;
      seen.push(req);
      // Deaf to the first transmission, then answers, like a lossy link.
      if (--answerAfter === 0)
        sock.send(serializeSipMessage({ kind: 'response', status: 200, reason: 'OK', headers: req.headers, body: '' }), uac.port, '127.0.0.1');
    });
    try {
      await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
      const target = { host: '127.0.0.1', port: sock.address().port, transport: 'udp' as const };
      try {
        const res = await uac.request(target, im('x', 'lossy'), { timeoutMs: 3_000 });
        expect(res.status).toBe(200);
        const a = await seen.next(() => true, 'first transmission');
        const b = await seen.next(() => true, 'retransmission');
        expect(b.headers.get('Via')).toBe(a.headers.get('Via'));

        answerAfter = -1; // never again
        const started = Date.now();
        const err = await uac.request(target, im('x', 'lost'), { timeoutMs: 1_200 }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(TimeoutError);
        expect((err as Error).message).toBe(
          `timed out after 1200 ms waiting for the final response to MESSAGE ${uriOf('x')} from udp:127.0.0.1:${target.port}`,
        );
        expect(Date.now() - started).toBeGreaterThanOrEqual(1_150);
        await seen.next(() => true, 'first transmission');
        await seen.next(() => true, 'retransmission at T1');
      } finally {
        sock.close();
      }
    } finally {
      await uac.close();
    }
  });

  it('frames TCP: two messages in one chunk, then one message split in two', async () => {
    const sock = net.connect({ host: '127.0.0.1', port: legacy.target('tcp').port });
    sock.setNoDelay(true);
    const inbox = new Inbox<SipMessage>();
    let buf: Buffer = Buffer.alloc(0);
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (let cut = takeSipFrame(buf); cut; cut = takeSipFrame(buf)) {
        buf = cut.rest;
        inbox.push(parseSipMessage(cut.frame));
      }
    });
    await withDeadline(new Promise<void>((r) => sock.once('connect', () => r())), 5_000, 'TCP connect');
    try {
      const port = sock.localPort!;
      const mk = (body: string) => {
        const r = im('accept', body);
        r.headers.prepend('Via', `SIP/2.0/TCP 127.0.0.1:${port};branch=z9hG4bK${newTag()}`);
        return r;
      };
      const [one, two, three] = [mk('one'), mk('two'), mk('thrée')];
      sock.write(Buffer.concat([serializeSipMessage(one), serializeSipMessage(two)]));
      const cids = new Set([one, two].map((r) => r.headers.get('Call-ID')));
      const r1 = (await inbox.next(() => true, 'answer 1')) as SipResponse;
      const r2 = (await inbox.next(() => true, 'answer 2')) as SipResponse;
      expect([r1.status, r2.status]).toEqual([200, 200]);
      expect(new Set([r1.headers.get('Call-ID'), r2.headers.get('Call-ID')])).toEqual(cids);
      const wire = serializeSipMessage(three);
      const half = wire.length - 3; // the split falls inside the UTF-8 body
      await new Promise<void>((r) => sock.write(wire.subarray(0, half), () => r()));
      sock.write(wire.subarray(half));
      const r3 = (await inbox.next(() => true, 'answer 3')) as SipResponse;
      expect(r3.headers.get('Call-ID')).toBe(three.headers.get('Call-ID'));
      const ev = await events.next((e) => e.kind === 'im' && e.callId === three.headers.get('Call-ID'), 'the split IM');
      expect(ev.body).toBe('thrée');
    } finally {
      sock.destroy();
    }
  });

  it('survives garbage and answers 400 to a request with a broken body length', async () => {
    const sock = dgram.createSocket('udp4');
    const inbox = new Inbox<SipMessage>();
    sock.on('message', (b) => inbox.push(parseSipMessage(b)));
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    try {
      sock.send(Buffer.from([0xde, 0xad, 0xbe, 0xef]), legacy.target().port, '127.0.0.1');
      await malformed.next(() => true, 'the malformed event');
      const req = im('accept', 'short');
      req.headers.prepend('Via', `SIP/2.0/UDP 127.0.0.1:${sock.address().port};branch=z9hG4bK${newTag()};rport`);
      const wire = serializeSipMessage(req).toString().replace('Content-Length: 5', 'Content-Length: 50');
      sock.send(Buffer.from(wire), legacy.target().port, '127.0.0.1');
      const res = (await inbox.next(() => true, 'the 400')) as SipResponse;
      expect(res.status).toBe(400);
      expect(warning(res)).toContain('Content-Length 50');
      expect((await send(fromGw({ method: 'OPTIONS', user: 'echo' }))).status).toBe(200);
    } finally {
      sock.close();
    }
  });

  it('answers 500 when the handler throws, and closing rejects pending requests', async () => {
    const broken = await SipEndpoint.listen({
      name: 'broken',
      onRequest: () => {
        throw new Error('boom');
      },
    });
    try {
      const res = await gw.request(broken.target(), im('x', 'hi'));
      expect(res.status).toBe(500);
      expect(warning(res)).toContain('boom');
    } finally {
      await broken.close();
    }
    const mute = await SipEndpoint.listen({ name: 'mute', onRequest: () => new Promise<SipResponseInit>(() => undefined) });
    const closing = await SipEndpoint.listen({ name: 'closing', onRequest: () => ({ status: 200 }) });
    try {
      const pending = closing.request(mute.target('tcp'), im('x', 'hi'));
      await withDeadline(new Promise<void>((r) => closing.once('trace', () => r())), 5_000, 'the request to leave');
      await closing.close();
      await expect(pending).rejects.toThrow('SIP endpoint closing closed before MESSAGE got a final response');
    } finally {
      await Promise.all([mute.close(), closing.close()]);
    }
  });
});
