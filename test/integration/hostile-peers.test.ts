import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { Resolver } from 'node:dns/promises';
import net from 'node:net';
import { pollUntil, withDeadline } from '../../src/infra/deadline.js';
import { TestDnsServer } from '../../src/infra/dns.js';
import { LinkProxy, type LinkData } from '../../src/infra/link-proxy.js';
import { SipEndpoint, type SipMalformed } from '../../src/sip/endpoint.js';
import { SipHeaders } from '../../src/sip/message.js';
import { TestCa, type KeyAndCert } from '../../src/infra/pki.js';
import { freePort } from '../../src/infra/ports.js';
import type { RunResults } from '../../src/report/results.js';
import { XmppUser } from '../../src/xmpp/client.js';
import { probeS2s } from '../../src/xmpp/s2s-probe.js';
import { runCli } from '../helpers/cli-process.js';
import { ejabberdMissing, startEjabberd } from '../helpers/ejabberd.js';
import { HOSTILE_CLASSES, startHostilePeer, type HostileClass } from '../helpers/hostile-peer.js';

// What xfed reads from a peer it does not control goes through bounded parsing: each class of
// misbehaving peer ends in a verdict that names what the peer did, within the read's deadline,
// and the peer cannot push more than the bounds (plus the kernel's socket buffers) into xfed.
const PROBE: Record<(typeof HOSTILE_CLASSES)[number], RegExp> = {
  'endless-text': /without completing its stream features \(limit 64 KiB\)/,
  'endless-nesting': /elements nested more than 32 deep/,
  'attribute-flood': /more than 64 attributes in one <stream:features> tag/,
  'billion-laughs': /a DTD \(<!DOCTYPE>\)/,
  'slow-drip': /timed out after 1500 ms waiting for the stream features before STARTTLS \(the peer sent \d+ bytes meanwhile/,
  silence: /timed out after 1500 ms waiting for the stream features before STARTTLS \(the peer sent nothing meanwhile\)/,
  'random-bytes': /invalid UTF-8|not XML|control character/,
  'garbage-after-starttls': /invalid UTF-8|the TLS handshake failed/,
  'silence-after-starttls': /timed out after \d+ ms waiting for the TLS handshake/,
  'reset-during-tls': /the TLS handshake failed: the peer (reset|closed) the connection/,
  'immediate-close': /the peer (closed|reset) the connection/,
  'stream-error': /the stream error host-unknown \("This server does not serve contoso.test"\) before STARTTLS/,
  'invalid-utf8': /invalid UTF-8: bytes that are not UTF-8 near byte \d+ \(c3 28/,
  'invalid-utf8-split': /invalid UTF-8/,
  http: /not XML; the first bytes were 'HTTP\/1\.1 400 Bad Request.*\(an HTTP server\)/,
  'ssh-banner': /the first bytes were 'SSH-2\.0-OpenSSH.*\(an SSH server\)/,
  'tls-client-hello': /\(a TLS handshake: the port speaks TLS at once/,
  'endless-text-after-tls': /without completing its stream features \(limit 64 KiB\)/,
};

// The c2s client says the same through its login failure, except where the stream only stops.
const C2S: Record<(typeof HOSTILE_CLASSES)[number], RegExp> = {
  ...PROBE,
  'slow-drip': /timed out after 1500 ms waiting for login/,
  silence: /timed out after 1500 ms waiting for login/,
  'garbage-after-starttls': /invalid UTF-8|TLS|ECONNRESET|wrong version/i,
  'silence-after-starttls': /timed out after 1500 ms waiting for login/,
  'reset-during-tls': /ECONNRESET|socket disconnected|timed out/,
  'immediate-close': /timed out after 1500 ms waiting for login|closed|ECONNRESET/,
  'stream-error': /host-unknown - This server does not serve contoso.test/,
};

/** A flood stops once xfed closes: what got through is the bound plus the kernel's buffers. */
const FLOODS = new Set<HostileClass>(['endless-text', 'endless-nesting', 'attribute-flood', 'endless-text-after-tls']);
const FLOOD_BOUND = 32 * 1024 * 1024;

let ca: TestCa;
let edgeCert: KeyAndCert;
let partnerCert: KeyAndCert;
beforeAll(async () => {
  ca = await TestCa.create();
  edgeCert = await ca.issue('contoso.test');
  partnerCert = await ca.issue('partner.test');
});

describe('the S2S probe against each class of misbehaving peer', () => {
  for (const kind of HOSTILE_CLASSES) {
    it(`${kind}: a verdict that names it, within the bound`, async () => {
      const peer = await startHostilePeer(kind, { cert: edgeCert });
      try {
        const report = await probeS2s({ ...peer, domain: 'contoso.test', from: 'partner.test', ca: ca.certPem, clientCert: partnerCert, timeoutMs: 1_500 });
        expect(report.error).toMatch(PROBE[kind]);
        expect(report.elapsedMs).toBeLessThan(3 * 1_500 + 500);
        if (FLOODS.has(kind)) expect(await peer.firstClosed).toBeLessThan(FLOOD_BOUND);
      } finally {
        await peer.stop();
      }
    });
  }
});

describe('the c2s client against each class of misbehaving server', () => {
  for (const kind of HOSTILE_CLASSES) {
    it(`${kind}: the login fails with the reason, nothing is thrown`, async () => {
      const peer = await startHostilePeer(kind, { cert: edgeCert });
      try {
        const login = XmppUser.connect({ jid: 'erin@contoso.test', password: 'pw', endpoint: peer, trustPem: ca.certPem, timeoutMs: 1_500 });
        await expect(login).rejects.toThrow(C2S[kind]);
        if (FLOODS.has(kind)) expect(await peer.firstClosed).toBeLessThan(FLOOD_BOUND);
      } finally {
        await peer.stop();
      }
    });
  }
});

describe('SASL EXTERNAL is tried, not only read from the offer (XEP-0178)', () => {
  it('an Edge that offers it and then refuses the certificate: the failure and what the Edge said', async () => {
    const peer = await startHostilePeer('sasl-external-refused', { cert: edgeCert });
    try {
      const report = await probeS2s({ ...peer, domain: 'contoso.test', from: 'partner.test', ca: ca.certPem, clientCert: partnerCert, timeoutMs: 2_000 });
      expect(report).toMatchObject({
        saslMechanisms: ['EXTERNAL'],
        saslExternal: { outcome: 'failure', condition: 'not-authorized', text: 'Certificate not trusted' },
      });
      expect(report.error).toBeUndefined();
    } finally {
      await peer.stop();
    }
  });

  it('an Edge that accepts it: success', async () => {
    const peer = await startHostilePeer('sasl-external-accepted', { cert: edgeCert });
    try {
      const report = await probeS2s({ ...peer, domain: 'contoso.test', from: 'partner.test', ca: ca.certPem, clientCert: partnerCert, timeoutMs: 2_000 });
      expect(report.saslExternal).toEqual({ outcome: 'success' });
    } finally {
      await peer.stop();
    }
  });
});

// ejabberd standing in for an Edge that offers EXTERNAL to any certificate and then verifies it.
const ejabberd = ejabberdMissing();
(ejabberd && !(process.env.XFED_REQUIRE_RUNTIMES ?? '').split(',').includes('ejabberd') ? describe.skip : describe)(
  `SASL EXTERNAL against ejabberd${ejabberd ? ` (skipped: ${ejabberd})` : ''}`,
  () => {
    it('a partner certificate from the CA it trusts is accepted; one from another CA is refused, with its reason', async () => {
      const other = await TestCa.create();
      const ej = await startEjabberd({ domain: 'contoso.test', cert: edgeCert, caPem: ca.certPem });
      try {
        const probe = (clientCert: KeyAndCert) =>
          probeS2s({ ...ej.s2s, domain: 'contoso.test', from: 'partner.test', ca: ca.certPem, clientCert, timeoutMs: 5_000 });
        expect(await probe(partnerCert)).toMatchObject({ saslMechanisms: ['EXTERNAL'], saslExternal: { outcome: 'success' } });
        expect(await probe(await other.issue('partner.test'))).toMatchObject({
          saslMechanisms: ['EXTERNAL'],
          saslExternal: { outcome: 'failure', condition: 'not-authorized', text: expect.stringMatching(/verify/) },
        });
      } finally {
        await ej.stop();
      }
    });
  },
);

describe('xfed run against a hostile Edge', () => {
  let dir: string;
  let dns: TestDnsServer;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hostile-run-'));
    dns = new TestDnsServer();
    await dns.start(0, '127.0.0.1');
    await writeFile(path.join(dir, 'lab-ca.pem'), ca.certPem);
    await writeFile(path.join(dir, 'partner.crt'), partnerCert.certPem);
    await writeFile(path.join(dir, 'partner.key'), partnerCert.keyPem);
  });
  afterAll(async () => {
    await dns.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** A gateway suite whose Edge (pinned, SRV bypassed) is `edge`, and whose second check needs no Edge. */
  const suite = (port: number, listen: number) => `
suite: hostile-edge
partner: { domains: [partner.test], users: [alice] }
target:
  gateway:
    domain: contoso.test
    edge: { host: 127.0.0.1, port: ${port} }
    resolver: { host: 127.0.0.1, port: ${dns.port} }
    ca: lab-ca.pem
    listen: { host: 127.0.0.1, port: ${listen} }
    certificate: { cert: partner.crt, key: partner.key }
    partner: { partnerType: Federated, tlsNegotiation: Required, saslNegotiation: Required, supportDialbackNegotiation: false }
    users: [{ name: xfed.echo, role: echo }]
phases:
  - name: probe
    checks:
      - { id: edge-probe, kind: s2s-probe, timeout: 2s }
      - { id: srv, kind: dns, expect: { dns: nxdomain } }
`;

  const run = async (kind: HostileClass) => {
    const peer = await startHostilePeer(kind, { cert: edgeCert });
    try {
      const file = path.join(dir, `${kind}.yaml`);
      await writeFile(file, suite(peer.port, await freePort('127.0.0.1')));
      const out = path.join(dir, kind);
      const r = await runCli(['run', file, '--runtime', 'process', '--out', out, '--reporter', 'plain', '--assume-done'], { timeoutMs: 120_000 });
      const results = JSON.parse(await readFile(path.join(out, 'results.json'), 'utf8')) as RunResults;
      return { r, checks: results.phases.flatMap((p) => p.checks) };
    } finally {
      await peer.stop();
    }
  };

  for (const [kind, diagnosis] of [
    ['http', /not XML; the first bytes were 'HTTP\/1\.1 400 Bad Request.*\(an HTTP server\)/],
    ['endless-text', /without completing its stream features \(limit 64 KiB\)/],
    [
      'sasl-external-refused',
      /the Edge offered SASL EXTERNAL and then refused the partner's certificate: <failure\/> not-authorized \("Certificate not trusted"\)/,
    ],
  ] as const) {
    it(`${kind}: the probe's verdict names the fault, the run goes on to the next check, exit 1`, async () => {
      const { r, checks } = await run(kind);
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 1, stderr: '' });
      const probe = checks.find((c) => c.id === 'edge-probe')!;
      expect(probe).toMatchObject({ met: false, outcome: { status: 'fail', detail: { s2s: 'refused' } } });
      expect(probe.outcome.text).toMatch(diagnosis);
      expect(checks.find((c) => c.id === 'srv')).toMatchObject({ met: true });
    });
  }
});

/** A DNS query for `name` (type SRV) whose question name is written as given. */
function query(id: number, nameBytes: Buffer): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt16BE(id, 0);
  head.writeUInt16BE(0x0100, 2);
  head.writeUInt16BE(1, 4);
  return Buffer.concat([head, nameBytes, Buffer.from([0x00, 0x21, 0x00, 0x01])]);
}
const label = (name: string) => Buffer.concat([...name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0])]);
/** A name that is one compression pointer to itself (offset 12): a naive parser loops for ever. */
const LOOP = Buffer.from([0xc0, 0x0c]);

describe('the test DNS against hostile clients and a hostile upstream', () => {
  const dns = new TestDnsServer();
  const resolver = new Resolver({ timeout: 2_000, tries: 1 });
  const refused: string[] = [];
  beforeAll(async () => {
    await dns.start();
    dns.on('refused', (why: string) => refused.push(why));
    dns.publishXmppServer('contoso.test', { host: 'edge.contoso.test', address: '127.0.0.1', port: 5269 });
    resolver.setServers([`127.0.0.1:${dns.port}`]);
  });
  afterAll(() => dns.stop());

  it('drops a UDP query whose name points at itself, and answers the next one', async () => {
    const socket = dgram.createSocket('udp4');
    try {
      socket.send(query(7, LOOP), dns.port, '127.0.0.1');
      await pollUntil(() => (refused.some((r) => r.includes('unreadable query')) ? true : undefined), { timeoutMs: 2_000, what: 'the looping query refused' });
      expect(await resolver.resolveSrv('_xmpp-server._tcp.contoso.test')).toHaveLength(1);
    } finally {
      socket.close();
    }
  });

  it('closes a TCP query that loops, or that never completes, and answers the next one', async () => {
    const loop = net.connect(dns.port, '127.0.0.1');
    const q = query(8, LOOP);
    loop.write(Buffer.concat([Buffer.from([0, q.length]), q]));
    await withDeadline(once(loop, 'close'), 2_000, 'the looping TCP query closed');
    const empty = net.connect(dns.port, '127.0.0.1');
    await once(empty, 'connect');
    empty.end(Buffer.from([0x00]));
    await withDeadline(once(empty, 'close'), 6_000, 'a TCP query cut short closed');
    expect(await resolver.resolveSrv('_xmpp-server._tcp.contoso.test')).toHaveLength(1);
  });

  it('relays an upstream reply that loops without parsing it, and keeps answering', async () => {
    const upstream = dgram.createSocket('udp4');
    upstream.on('message', (msg, rinfo) => {
      // The question, echoed as a reply with one answer whose name points at itself.
      const reply = Buffer.concat([msg, LOOP, Buffer.from([0x00, 0x21, 0x00, 0x01, 0, 0, 0, 0, 0x00, 0x00])]);
      reply.writeUInt16BE(0x8180, 2);
      reply.writeUInt16BE(1, 6);
      upstream.send(reply, rinfo.port, rinfo.address);
    });
    await new Promise<void>((r) => upstream.bind(0, '127.0.0.1', () => r()));
    dns.setUpstream({ host: '127.0.0.1', port: upstream.address().port }, 1_000);
    try {
      const socket = dgram.createSocket('udp4');
      const answer = once(socket, 'message');
      socket.send(query(9, label('_xmpp-server._tcp.fabrikam.example')), dns.port, '127.0.0.1');
      const [reply] = (await withDeadline(answer, 2_000, 'the relayed reply')) as [Buffer];
      socket.close();
      expect(reply.readUInt16BE(0)).toBe(9);
      expect(reply.subarray(-12, -10)).toEqual(LOOP);
      expect(await resolver.resolveSrv('_xmpp-server._tcp.contoso.test')).toHaveLength(1);
    } finally {
      dns.setUpstream(undefined);
      upstream.close();
    }
  });
});

describe('the SIP endpoint against floods and garbage', () => {
  let endpoint: SipEndpoint;
  const malformed: SipMalformed[] = [];
  beforeAll(async () => {
    endpoint = await SipEndpoint.listen({ name: 'pool', onRequest: () => ({ status: 200 }) });
    endpoint.on('malformed', (m: SipMalformed) => malformed.push(m));
  });
  afterAll(() => endpoint.close());

  const request = (extra: string[], length: number) =>
    [
      'MESSAGE sip:erin@contoso.test SIP/2.0',
      'Via: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bKflood1',
      'From: <sip:bob@partner.test>;tag=1',
      'To: <sip:erin@contoso.test>',
      'Call-ID: flood@127.0.0.1',
      'CSeq: 1 MESSAGE',
      ...extra,
      `Content-Length: ${length}`,
      '',
      '',
    ].join('\r\n');

  /** Sends `data` over TCP, returns what came back once the endpoint closed the connection. */
  const exchange = async (data: Buffer | string): Promise<string> => {
    const socket = net.connect(endpoint.port, '127.0.0.1');
    let got = '';
    socket.on('data', (d: Buffer) => (got += d.toString()));
    socket.on('error', () => undefined);
    socket.write(data);
    await withDeadline(once(socket, 'close'), 5_000, 'the endpoint to close the connection');
    return got;
  };

  it('a Content-Length of a terabyte: 513 Message Too Large at once, then the connection closes', async () => {
    expect(await exchange(request([], 10 ** 12))).toMatch(
      /^SIP\/2\.0 513 Message Too Large[\s\S]*Warning: 399 127\.0\.0\.1 "Content-Length 1000000000000 \(limit 65536\)"/,
    );
  });

  it('a header flood: the connection closes with the reason', async () => {
    await exchange(
      request(
        Array.from({ length: 5_000 }, (_, i) => `X-Flood-${i}: ${'v'.repeat(20)}`),
        0,
      ),
    );
    expect(malformed.at(-1)?.error).toMatch(/header lines \(limit 256\)|a header block of \d+ bytes|no complete SIP message/);
  });

  it('garbage, HTTP and a TLS ClientHello: the connection closes, and the endpoint answers the next request', async () => {
    for (const garbage of [Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x0a, 0x0d, 0x0a, 0x0d, 0x0a])]) {
      await exchange(garbage);
      expect(malformed.at(-1)?.error).toMatch(/malformed|SIP/);
    }
    const uac = await SipEndpoint.listen({ name: 'uac', onRequest: () => ({ status: 200 }) });
    try {
      const res = await uac.request(endpoint.target('tcp'), {
        method: 'OPTIONS',
        uri: 'sip:erin@contoso.test',
        headers: new SipHeaders([
          ['From', '<sip:bob@partner.test>;tag=2'],
          ['To', '<sip:erin@contoso.test>'],
          ['Call-ID', 'after-garbage@127.0.0.1'],
          ['CSeq', '1 OPTIONS'],
        ]),
        body: '',
      });
      expect(res.status).toBe(200);
    } finally {
      await uac.close();
    }
  });
});

describe('the link relay against a sender that outpaces its reader', () => {
  it('stops reading the sender once it holds its bound: backpressure reaches the flood', async () => {
    let written = 0;
    const floods = new Set<net.Socket>();
    const flood = net.createServer((s) => {
      floods.add(s);
      s.on('error', () => undefined);
      const chunk = Buffer.alloc(64 * 1024, 0x78);
      const pump = () => {
        while (!s.destroyed && written < 256 * 1024 * 1024) {
          written += chunk.length;
          if (!s.write(chunk)) return void s.once('drain', pump);
        }
      };
      pump();
    });
    await new Promise<void>((r) => flood.listen(0, '127.0.0.1', () => r()));
    const relay = await LinkProxy.start('flood', '127.0.0.1', { host: '127.0.0.1', port: (flood.address() as net.AddressInfo).port });
    let relayed = 0;
    relay.on('data', (d: LinkData) => (relayed += d.chunk.length));
    // A client that reads nothing.
    const client = net.connect(relay.address.port, '127.0.0.1');
    client.pause();
    try {
      // No event says "stalled": the relayed count is polled until it stops growing.
      let last = -1;
      let still = 0;
      await pollUntil(
        () => {
          still = relayed === last && relayed > 0 ? still + 1 : 0;
          last = relayed;
          return still >= 10 ? true : undefined;
        },
        { timeoutMs: 20_000, intervalMs: 50, what: 'the relay to stop reading the flood' },
      );
      expect(relayed).toBeLessThan(32 * 1024 * 1024);
      expect(written).toBeLessThan(64 * 1024 * 1024);
    } finally {
      client.destroy();
      await relay.stop();
      floods.forEach((s) => s.destroy());
      await new Promise<void>((r) => flood.close(() => r()));
    }
  });
});
