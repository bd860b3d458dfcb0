import { afterAll, beforeAll, expect, it } from '@jest/globals';
import net from 'node:net';
import tls from 'node:tls';
import { withDeadline } from '../../src/infra/deadline.js';
import type { Endpoint } from '../../src/infra/endpoint.js';
import { LinkProxy, type LinkData } from '../../src/infra/link-proxy.js';
import { Federation } from '../../src/partner/federation.js';
import type { PartnerServer } from '../../src/partner/partner-server.js';
import { s2sStreamFromLog } from '../../src/prosody/s2s-log.js';
import { BehaviourLog } from '../../src/sfb/behaviours/log.js';
import { resolveXmppGatewaySettings } from '../../src/sfb/xmpp-gateway-settings.js';
import { LegacyEdge } from '../../src/targets/sim/edge/legacy-edge.js';
import { SimTopology } from '../../src/targets/sim/sim-topology.js';
import { stanzaError, xml, XmppUser } from '../../src/xmpp/client.js';
import { RUNTIMES, describeRuntime } from '../helpers/support.js';
import { at, cast, imEcho } from '../helpers/sim-support.js';

const SFB = 'contoso.test';

/** A ping of an SfB domain from a partner user: the answer, or the error's condition and text. */
async function ping(user: XmppUser, to: string, timeoutMs = 15_000): Promise<{ type: string; condition?: string; text?: string }> {
  const id = `ping-${Math.random().toString(36).slice(2)}`;
  await user.send(xml('iq', { type: 'get', to, id }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
  const reply = (await user.waitFor((s) => s.is('iq') && s.attrs.id === id, timeoutMs, `the answer to a ping of ${to}`)).stanza;
  if (reply.attrs.type !== 'error') return { type: reply.attrs.type as string };
  const { condition, text } = stanzaError(reply);
  return { type: 'error', ...(condition ? { condition } : {}), ...(text ? { text } : {}) };
}

const login = (p: PartnerServer, jid: string) => {
  const account = p.account(jid);
  return XmppUser.connect({ jid: account.jid, password: account.password, endpoint: p.c2s, trustPem: p.trustPem, available: true });
};

/** A stream as the relays saw it: which side the Edge is, the header its client sent first, what the Edge sent. */
interface SeenStream {
  edgeIsClient: boolean;
  header: string;
  fromEdge: string[];
}

/** The bytes on the partner-Edge link, stream by stream, from the relays' `data` events. */
class Wire {
  private readonly streams: SeenStream[] = [];
  private readonly waiters = new Set<() => void>();

  /** `toEdge` carries the partner's streams (the Edge serves them), `toPartner` the Edge's own. */
  constructor(toEdge: LinkProxy, toPartner: LinkProxy) {
    this.watch(toEdge, false);
    this.watch(toPartner, true);
  }

  /** Whitespace-only chunks the Edge sent on the plain streams with `domain`, both directions of federation. */
  keepAlivesTo(domain: string): number {
    return this.streams
      .filter((s) => s.header.includes(s.edgeIsClient ? `to='${domain}'` : `from='${domain}'`))
      .reduce((n, s) => n + s.fromEdge.filter((chunk) => /^\s+$/.test(chunk)).length, 0);
  }

  /** Resolves once `done()` holds, checked at every chunk; bounded. */
  until(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
    let check = () => {};
    return withDeadline(
      new Promise<void>((resolve) => {
        check = () => {
          if (done()) resolve();
        };
        this.waiters.add(check);
        check();
      }),
      timeoutMs,
      what,
    ).finally(() => this.waiters.delete(check));
  }

  private watch(relay: LinkProxy, edgeIsClient: boolean): void {
    const byConnection = new Map<number, SeenStream>();
    relay.on('data', (d: LinkData) => {
      let stream = byConnection.get(d.connection);
      if (!stream) {
        stream = { edgeIsClient, header: '', fromEdge: [] };
        byConnection.set(d.connection, stream);
        this.streams.push(stream);
      }
      const text = d.chunk.toString('utf8');
      if (!stream.header && d.direction === 'to-upstream') stream.header = text;
      if ((d.direction === 'to-upstream') === edgeIsClient) stream.fromEdge.push(text);
      this.waiters.forEach((w) => w());
    });
  }
}

/** A raw S2S stream to the Edge that offers its header, reads the features, and then does nothing at all. */
function idleStream(at: Endpoint, from: string): Promise<{ closedAfterMs: number; said: string }> {
  const started = performance.now();
  const socket = net.connect(at);
  let said = '';
  return withDeadline(
    new Promise<{ closedAfterMs: number; said: string }>((resolve, reject) => {
      socket.on('connect', () =>
        socket.write(
          `<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback' from='${from}' to='${SFB}' version='1.0'>`,
        ),
      );
      socket.on('data', (d) => (said += d.toString('utf8')));
      socket.on('error', reject);
      socket.on('close', () => resolve({ closedAfterMs: performance.now() - started, said }));
    }),
    20_000,
    'the Edge to close an idle stream',
  ).finally(() => socket.destroy());
}

/** STARTTLS on a raw S2S stream to the Edge, then a TLS handshake with these options: the version, or the error. */
function starttls(at: Endpoint, options: tls.ConnectionOptions): Promise<string> {
  const socket = net.connect(at);
  let said = '';
  return withDeadline(
    new Promise<string>((resolve, reject) => {
      socket.on('connect', () =>
        socket.write(
          `<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' from='sasl.test' to='${SFB}' version='1.0'>`,
        ),
      );
      let asked = false;
      const onData = (d: Buffer) => {
        said += d.toString('utf8');
        if (!asked && said.includes('</stream:features>')) {
          asked = true;
          socket.write("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
        }
        if (!said.includes('<proceed')) return;
        socket.off('data', onData);
        const secure = tls.connect({ socket, servername: SFB, rejectUnauthorized: false, ...options });
        secure.on('secureConnect', () => resolve(secure.getProtocol() ?? '?'));
        secure.on('error', (err: Error) => resolve(`refused: ${err.message}`));
      };
      socket.on('data', onData);
      socket.on('error', reject);
    }),
    10_000,
    'a TLS handshake with the Edge',
  ).finally(() => socket.destroy());
}

for (const kind of RUNTIMES) {
  describeRuntime(kind, 'the legacy Edge: per-partner profiles, TLS, timers and limits', () => {
    let fed: Federation;
    let p1: PartnerServer;
    let tls13: PartnerServer;
    let tls11: PartnerServer;
    let edge: LegacyEdge;
    let limits: LegacyEdge;
    let toEdge: LinkProxy;
    let toP1: LinkProxy;
    let wire: Wire;
    const behaviours = new BehaviourLog();
    const users = new Map<string, XmppUser>();
    const user = async (p: PartnerServer, jid: string) => {
      const u = users.get(jid) ?? (await login(p, jid));
      users.set(jid, u);
      return u;
    };

    beforeAll(async () => {
      fed = await Federation.start({ runtime: kind });
      // One partner server for five domains, each its own allowed partner (or two under one). It
      // speaks TLS or not, SASL EXTERNAL or dialback, as each Edge profile leads it, and sends a
      // whitespace keep-alive whenever it has read nothing for half a second.
      p1 = await fed.addPartner({
        domains: ['sasl.test', 'dialback.test', 'quiet.test', 'limited.test', 'limited2.test'],
        users: ['alice'],
        s2s: { tls: 'optional', auth: 'either', secureAuth: false, certificates: 'ca' },
        prosodyOptions: { network_settings: { nagle: false, read_timeout: 0.5 } },
      });
      tls13 = await fed.addPartner({ domains: ['tls13.test'], users: ['alice'], s2s: { tlsVersions: { min: 'TLSv1.3' } } });
      tls11 = await fed.addPartner({ domains: ['tls11.test'], users: ['alice'], s2s: { tlsVersions: { max: 'TLSv1.1' } } });
      edge = await LegacyEdge.start(
        {
          domain: SFB,
          partners: [
            { domain: 'sasl.test' },
            { domain: 'dialback.test', tlsNegotiation: 'NotSupported', saslNegotiation: 'NotSupported' },
            { domain: 'quiet.test', tlsNegotiation: 'NotSupported', saslNegotiation: 'NotSupported', enableKeepAlive: false },
            { domain: 'limited.test', additionalDomains: ['limited2.test'], connectionLimit: 2 },
            { domain: 'tls13.test' },
            { domain: 'tls11.test' },
          ],
          gateway: resolveXmppGatewaySettings({ keepAliveInterval: '1s', streamEstablishmentTimeout: '2s' }),
        },
        { runtime: fed.runtime, ca: fed.ca, cite: behaviours.cite },
      );
      // The partner-Edge link through relays that record the bytes, as the simulation's EdgeLink.
      const { dns } = fed.runtime;
      toEdge = await LinkProxy.start('partner->edge', dns.host, edge.peerAddress);
      toP1 = await LinkProxy.start('edge->partner', dns.host, p1.peerAddress);
      wire = new Wire(toEdge, toP1);
      dns.publishXmppServer(SFB, { host: `edge.${SFB}`, address: toEdge.address.host, port: toEdge.address.port });
      for (const d of p1.domains) dns.publishXmppServer(d, { host: `s2s.${d}`, address: toP1.address.host, port: toP1.address.port });
      // A second SfB deployment whose gateway holds few connections: 2 per partner, 3 in all.
      limits = await LegacyEdge.start(
        {
          domain: 'fabrikam.test',
          partners: [{ domain: 'limited.test', additionalDomains: ['limited2.test'] }, { domain: 'sasl.test' }],
          gateway: resolveXmppGatewaySettings({ partnerConnectionLimit: 2, connectionLimit: 3 }),
        },
        { runtime: fed.runtime, ca: fed.ca },
      );
      dns.publishXmppServer('fabrikam.test', { host: 'edge.fabrikam.test', address: limits.peerAddress.host, port: limits.peerAddress.port });
    });
    afterAll(async () => {
      await Promise.all([...users.values()].map((u) => u.stop()));
      await Promise.all([toEdge?.stop(), toP1?.stop()]);
      await limits?.stop();
      await edge?.stop();
      await fed?.stop();
    });

    it("two allowed partners on one partner server: each stream follows its own partner's profile", async () => {
      const mark = p1.log.mark();
      // No gateway is attached: the Edge's proxy answers for the domain over its own stream back.
      for (const d of ['sasl.test', 'dialback.test'])
        expect(await ping(await user(p1, `alice@${d}`), SFB)).toMatchObject({
          type: 'error',
          condition: 'remote-server-timeout',
          text: 'Component unavailable',
        });
      // TLS and SASL Required: SASL EXTERNAL over TLS 1.2, both ways, no dialback on offer.
      expect(await s2sStreamFromLog(p1.log, mark, { from: 'sasl.test', to: SFB }, 5_000)).toEqual({ tls: 'TLSv1.2', auth: 'sasl-external' });
      await p1.waitForLog(new RegExp(`xfed: incoming s2s stream ${SFB}->sasl\\.test authenticated with EXTERNAL`), 5_000);
      // TLS and SASL NotSupported: dialback over plain TCP, both ways.
      expect(await s2sStreamFromLog(p1.log, mark, { from: 'dialback.test', to: SFB }, 5_000)).toEqual({ tls: undefined, auth: 'dialback' });
      await p1.waitForLog(new RegExp(`xfed: incoming s2s stream ${SFB}->dialback\\.test authenticated with dialback`), 5_000);
      // What the Edge offered each one (container logs arrive through Docker's log stream: waited for).
      for (const line of [
        /features for sasl\.test \(plain\): STARTTLS required, SASL EXTERNAL not offered, dialback not offered/,
        /features for sasl\.test \(over TLS\): STARTTLS absent, SASL EXTERNAL offered, dialback not offered/,
        /features for dialback\.test \(plain\): STARTTLS absent, SASL EXTERNAL not offered, dialback offered/,
      ])
        await edge.log.waitFor(line, { timeoutMs: 5_000 });
      expect(edge.logs().some((l) => /features for sasl\.test .*dialback offered/.test(l))).toBe(false);
      expect(behaviours.since(0)).toEqual(
        expect.arrayContaining(['profile.per-partner-settings', 'profile.negotiation-matrix', 'profile.legacy-edge-tls-versions']),
      );
    });

    it('the legacy Edge negotiates TLS 1.2 with a default partner and TLS 1.1 with one that stops there, never 1.3', async () => {
      const mark = tls11.log.mark();
      expect(await ping(await user(tls11, 'alice@tls11.test'), SFB)).toMatchObject({ type: 'error', condition: 'remote-server-timeout' });
      expect(await s2sStreamFromLog(tls11.log, mark, { from: 'tls11.test', to: SFB }, 5_000)).toEqual({ tls: 'TLSv1.1', auth: 'sasl-external' });
      // A client that asks for 1.3 only is refused; 1.2 (Node's own range) and 1.0 are taken.
      const at = edge.s2s;
      expect(await starttls(at, { minVersion: 'TLSv1.3' })).toMatch(/^refused: .*(protocol version|unsupported protocol)/i);
      expect(await starttls(at, {})).toBe('TLSv1.2');
      expect(await starttls(at, { minVersion: 'TLSv1', maxVersion: 'TLSv1', ciphers: 'DEFAULT:@SECLEVEL=0' })).toBe('TLSv1');
      expect(edge.logs().filter((l) => /Stream encrypted \(TLSv1\.3/.test(l))).toEqual([]);
    });

    it('a partner that insists on TLS 1.3 cannot federate with the legacy Edge', async () => {
      const mark = tls13.log.mark();
      // Prosody bounces the stanza it had queued, with the TLS alert in the text.
      expect(await ping(await user(tls13, 'alice@tls13.test'), SFB)).toEqual({
        type: 'error',
        condition: 'remote-server-timeout',
        text: expect.stringMatching(/^Server-to-server connection failed: Error during negotiation of encrypted connection: .*protocol version/),
      });
      // Container logs arrive late: wait for the line, from the mark on.
      await tls13.log.waitFor(/Sending error replies for 1 queued stanzas because of failed outgoing connection to contoso\.test/, {
        timeoutMs: 5_000,
        since: mark,
      });
      // The Edge's log says it too (Prosody itself logs a failed handshake at debug level only).
      await edge.log.waitFor(/xfed-edge: TLS with tls13\.test failed: .*unsupported protocol/, { timeoutMs: 5_000 });
    });

    it('EnableKeepAlive: whitespace keep-alives every KeepAliveInterval to a partner that has it, none to one that has not', async () => {
      for (const d of ['dialback.test', 'quiet.test']) await ping(await user(p1, `alice@${d}`), SFB);
      // Two keep-alives to dialback.test take two intervals: quiet.test's streams were up as long.
      await wire.until(() => wire.keepAlivesTo('dialback.test') >= 2, 10_000, 'two keep-alives to dialback.test');
      expect(wire.keepAlivesTo('quiet.test')).toBe(0);
      await edge.log.waitFor(/keep-alive to dialback\.test/, { timeoutMs: 5_000 });
      expect(edge.logs().some((l) => /keep-alive to quiet\.test/.test(l))).toBe(false);
      // The partner's own keep-alives answer the Edge's: its streams stay up.
      expect(edge.logs().some((l) => /closing the \w+ stream with (dialback|quiet)\.test/.test(l))).toBe(false);
      expect(behaviours.since(0)).toEqual(expect.arrayContaining(['profile.enable-keep-alive', 'gateway.keep-alive-interval']));
    });

    it('KeepAliveInterval: a stream on which the partner sends nothing for that long is closed', async () => {
      // tls11.test's server sends no keep-alives: its idle streams end after a second, closed plainly.
      const mark = edge.log.mark();
      const partnerMark = tls11.log.mark();
      await ping(await user(tls11, 'alice@tls11.test'), SFB);
      await edge.log.waitFor(/xfed-edge: closing the incoming stream with tls11\.test: nothing received for 1 s \(KeepAliveInterval\)/, {
        since: mark,
        timeoutMs: 10_000,
      });
      // The partner's stream to the Edge ended when the partner saw the close.
      await tls11.log.waitFor(/Outgoing s2s stream tls11\.test->contoso\.test closed: stream closed/, { since: partnerMark, timeoutMs: 5_000 });
      // The next stanza opens a new stream.
      const again = tls11.log.mark();
      expect(await ping(await user(tls11, 'alice@tls11.test'), SFB)).toMatchObject({ condition: 'remote-server-timeout', text: 'Component unavailable' });
      await s2sStreamFromLog(tls11.log, again, { from: 'tls11.test', to: SFB }, 5_000);
    });

    it("ConnectionLimit: a partner's domains share its connections, and one over the limit is refused", async () => {
      // limited.test's stream to the Edge and the Edge's back: the partner's two connections.
      expect(await ping(await user(p1, 'alice@limited.test'), SFB)).toMatchObject({ text: 'Component unavailable' });
      // The stream over the limit is refused before it authenticates; Prosody bounces the ping.
      expect(await ping(await user(p1, 'alice@limited2.test'), SFB)).toEqual({
        type: 'error',
        condition: 'remote-server-timeout',
        text: 'Server-to-server connection failed: resource-constraint (Connection limit 2 reached for partner limited.test (ConnectionLimit of the partner))',
      });
      await edge.log.waitFor(
        /xfed-edge: refusing the incoming stream with limited2\.test: Connection limit 2 reached for partner limited\.test \(ConnectionLimit of the partner\)/,
        { timeoutMs: 5_000 },
      );
      expect(behaviours.since(0)).toContain('profile.connection-limit');
    });

    it('PartnerConnectionLimit and ConnectionLimit: connections over either are refused', async () => {
      await ping(await user(p1, 'alice@limited.test'), 'fabrikam.test');
      await ping(await user(p1, 'alice@limited2.test'), 'fabrikam.test');
      await limits.log.waitFor(
        /refusing the incoming stream with limited2\.test: Connection limit 2 reached for partner limited\.test \(PartnerConnectionLimit\)/,
        {
          timeoutMs: 5_000,
        },
      );
      // sasl.test's stream in is the third connection; the Edge's own back would be the fourth.
      const alice = await user(p1, 'alice@sasl.test');
      await alice.send(xml('iq', { type: 'get', to: 'fabrikam.test', id: 'over-the-limit' }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
      await limits.log.waitFor(/refusing the outgoing stream with sasl\.test: ConnectionLimit 3 reached/, { timeoutMs: 10_000 });
    });

    it('StreamEstablishmentTimeout: a stream not established in time is closed with connection-timeout', async () => {
      const { closedAfterMs, said } = await idleStream(edge.s2s, 'sasl.test');
      expect(said).toContain('<connection-timeout');
      expect(closedAfterMs).toBeGreaterThanOrEqual(1_900);
      await edge.log.waitFor(
        /s2s stream \(unknown host\)->contoso\.test closed: connection-timeout$|s2s stream sasl\.test->contoso\.test closed: connection-timeout$/,
        {
          timeoutMs: 5_000,
        },
      );
      expect(behaviours.since(0)).toContain('gateway.stream-establishment-timeout');
    });
  });
}

/** A TLS client of the Edge's internal interface: whether the Edge let it speak, or why not. */
function internalClient(at: Endpoint, options: tls.ConnectionOptions): Promise<string> {
  const socket = tls.connect({ ...at, ...options });
  return withDeadline(
    new Promise<string>((resolve) => {
      socket.on('secureConnect', () =>
        socket.write(`<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' to='${SFB}'>`),
      );
      socket.on('data', () => resolve('answered'));
      socket.on('error', (err: Error) => resolve(`refused: ${err.message}`));
      socket.on('close', () => resolve('refused: closed'));
    }),
    10_000,
    "a client of the Edge's internal interface",
  ).finally(() => socket.destroy());
}

for (const kind of RUNTIMES) {
  describeRuntime(kind, 'the simulated deployment: StreamInactivityTimeout and the internal hop (XMPP over MTLS, TCP 23456)', () => {
    let topo: SimTopology;
    let alice: XmppUser;
    const sfbIm = async () => (await topo.sfbUser('erin').sendIm(alice.bare, `from erin ${Math.random().toString(36).slice(2)}`)).sip.status;
    beforeAll(async () => {
      // Without keep-alives, only StreamInactivityTimeout ends an idle stream.
      topo = await SimTopology.start(cast(kind, { partnerType: 'Federated', enableKeepAlive: false }, { gateway: { streamInactivityTimeout: '2s' } }));
      alice = await topo.partnerUser('alice');
    });
    afterAll(() => topo?.stop());

    it('the gateway attaches through the internal interface with MTLS, and a client without the Front End certificate is refused', async () => {
      expect(topo.gateway.attached).toBe(true);
      expect(await imEcho(alice, at('erin'))).toEqual({ delivered: true });
      const hop = topo.edge.internal;
      expect(hop.endpoint).not.toEqual(topo.edge.component);
      const { ca, cert, key, servername } = hop.credentials();
      // The Front End's certificate and the internal CA: the Edge lets it speak.
      expect(await internalClient(hop.endpoint, { ca, cert, key, servername })).toBe('answered');
      // No client certificate: refused in the handshake.
      expect(await internalClient(hop.endpoint, { ca, servername })).toMatch(/^refused/);
      // The internal certificate is not the public one: the public CA does not vouch for it.
      expect(await internalClient(hop.endpoint, { ca: topo.ca.certPem, cert, key, servername })).toMatch(
        /^refused: .*(unable to verify|local issuer|self-signed certificate in certificate chain)/,
      );
      expect(topo.behaviours.since(0)).toContain('gateway.internal-hop-mtls');
    });

    it('StreamInactivityTimeout: an idle stream is closed, and the next IM is delivered on a new stream', async () => {
      const mark = topo.partnerLog.mark();
      expect(await imEcho(alice, at('erin'))).toEqual({ delivered: true });
      const idleFrom = performance.now();
      await topo.partnerLog.waitFor(/Outgoing s2s stream partner\.test->contoso\.test closed: stream closed/, {
        since: mark,
        timeoutMs: 10_000,
      });
      expect(performance.now() - idleFrom).toBeGreaterThanOrEqual(1_500);
      const again = topo.partnerLog.mark();
      expect(await imEcho(alice, at('erin'))).toEqual({ delivered: true });
      await s2sStreamFromLog(topo.partnerLog, again, { from: 'partner.test', to: SFB }, 5_000);
      await topo.edge.log.waitFor(/xfed-edge: closing the \w+ stream with partner\.test: no stanza for 2 s \(StreamInactivityTimeout\)/, { timeoutMs: 5_000 });
      expect(topo.behaviours.since(0)).toContain('gateway.stream-inactivity-timeout');
    });

    it('a blocked TCP 23456 keeps the gateway out until the port opens again', async () => {
      await topo.apply({ action: 'internal-hop', port: 'blocked' });
      expect(topo.gateway.attached).toBe(false);
      expect(await imEcho(alice, at('erin'))).toEqual({ delivered: false, condition: 'remote-server-timeout', text: 'Component unavailable' });
      expect(await sfbIm()).toBe(503);
      expect(await topo.deployment.setInternalHop({ port: 'open' })).toMatch(/attached/);
      expect(topo.gateway.attached).toBe(true);
      expect(await imEcho(alice, at('erin'))).toEqual({ delivered: true });
      expect(await sfbIm()).toBe(200);
      expect(topo.behaviours.since(0)).toContain('gateway.internal-hop-port');
    });

    it('an expired or untrusted internal certificate keeps the gateway out until a valid one is back', async () => {
      for (const [certificate, why] of [
        ['expired', /cannot attach to the Edge: .*certificate has expired/],
        ['untrusted', /cannot attach to the Edge: .*(unable to verify|local issuer|self-signed certificate in certificate chain)/],
      ] as const) {
        expect(await topo.deployment.setInternalHop({ certificate })).toMatch(why);
        expect(topo.gateway.attached).toBe(false);
        expect(await imEcho(alice, at('erin'))).toEqual({ delivered: false, condition: 'remote-server-timeout', text: 'Component unavailable' });
        expect(await sfbIm()).toBe(503);
      }
      await topo.apply({ action: 'internal-hop', certificate: 'valid' });
      expect(topo.gateway.attached).toBe(true);
      expect(await imEcho(alice, at('erin'))).toEqual({ delivered: true });
      expect(topo.behaviours.since(0)).toContain('gateway.internal-hop-certificate');
    });
  });
}
