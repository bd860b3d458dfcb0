import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Packet } from 'dns2';
import dgram from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import net from 'node:net';
import { withDeadline } from '../../../src/infra/deadline.js';
import { TestDnsServer, type DnsQueryLog } from '../../../src/infra/dns.js';

/** An SRV record as Node's resolver returns it (Node 24 adds `type: 'SRV'`, older ones do not). */
const srv = (name: string, port: number, priority: number, weight = 5) => expect.objectContaining({ name, port, priority, weight });

/** A query for `name`; with `edns`, an OPT record naming that UDP payload size. */
function query(id: number, name: string, type: number, edns?: number): Packet {
  const q = new Packet();
  q.header.id = id;
  q.header.rd = 1;
  q.questions.push(new Packet.Question(name, type, Packet.CLASS.IN));
  if (edns) q.additionals.push(Packet.Resource.EDNS([], { udpPayloadSize: edns }));
  return q;
}

/** Sends one datagram and returns the first one that comes back; bounded by 2 s. */
async function udpExchange(port: number, bytes: Buffer): Promise<Buffer> {
  const socket = dgram.createSocket('udp4');
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error('no UDP answer in 2 s')), 2_000);
      socket.on('message', (msg: Buffer) => resolve(msg));
      socket.send(bytes, port, '127.0.0.1');
    });
  } finally {
    clearTimeout(timer);
    socket.close();
  }
}

/** The labels of `name` as written without compression. */
const literal = (name: string) => Buffer.concat([...name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0])]);

describe('TestDnsServer (real UDP and TCP on loopback)', () => {
  const dns = new TestDnsServer();
  const resolver = new Resolver({ timeout: 2_000, tries: 1 });
  const queries: DnsQueryLog[] = [];

  beforeAll(async () => {
    await dns.start();
    dns.on('query', (q: DnsQueryLog) => queries.push(q));
    resolver.setServers([`127.0.0.1:${dns.port}`]);
  });
  afterAll(() => dns.stop());

  it('serves the SRV and A records of an XMPP server', async () => {
    dns.publishXmppServer('partner.test', { host: 'xmpp.partner.test', address: '127.0.0.1', port: 5269 });
    expect(await resolver.resolveSrv('_xmpp-server._tcp.partner.test')).toEqual([srv('xmpp.partner.test', 5269, 0)]);
    expect(await resolver.resolve4('xmpp.partner.test')).toEqual(['127.0.0.1']);
    expect(queries.at(-1)).toMatchObject({ name: 'xmpp.partner.test', type: 'A', rcode: 'NOERROR', answers: 1 });
  });

  it('answers NXDOMAIN for unknown names', async () => {
    await expect(resolver.resolveSrv('_xmpp-server._tcp.nowhere.test')).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });

  it('changes records live: repoint, then remove', async () => {
    dns.setSrv('_xmpp-server._tcp.contoso.test', [{ priority: 0, weight: 5, port: 5269, target: 'legacy-edge.contoso.test' }]);
    expect((await resolver.resolveSrv('_xmpp-server._tcp.contoso.test'))[0]!.name).toBe('legacy-edge.contoso.test');
    dns.setSrv('_xmpp-server._tcp.contoso.test', [{ priority: 0, weight: 5, port: 5269, target: 'edge2019.contoso.test' }]);
    expect((await resolver.resolveSrv('_xmpp-server._tcp.contoso.test'))[0]!.name).toBe('edge2019.contoso.test');
    dns.remove('_xmpp-server._tcp.contoso.test');
    await expect(resolver.resolveSrv('_xmpp-server._tcp.contoso.test')).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });

  it('serves one SRV record per server of a domain, each with its priority, and each target its A record', async () => {
    dns.publishXmppServers('pools.test', [
      { host: 'edge-a.pools.test', address: '127.0.0.1', port: 5301, priority: 10 },
      { host: 'edge-b.pools.test', address: '127.0.0.2', port: 5302, priority: 20 },
    ]);
    const records = await resolver.resolveSrv('_xmpp-server._tcp.pools.test');
    expect([...records].sort((a, b) => a.priority - b.priority)).toEqual([srv('edge-a.pools.test', 5301, 10), srv('edge-b.pools.test', 5302, 20)]);
    expect(await resolver.resolve4('edge-b.pools.test')).toEqual(['127.0.0.2']);
    // Republished without edge-a: its SRV record goes, the rest stays as given.
    dns.publishXmppServers('pools.test', [{ host: 'edge-b.pools.test', address: '127.0.0.2', port: 5302, priority: 5 }]);
    expect(await resolver.resolveSrv('_xmpp-server._tcp.pools.test')).toEqual([srv('edge-b.pools.test', 5302, 5)]);
    dns.publishXmppServers('pools.test', []);
    await expect(resolver.resolveSrv('_xmpp-server._tcp.pools.test')).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });

  it('refuses an SRV priority, weight or port outside 16 bits', () => {
    expect(() => dns.setSrv('_xmpp-server._tcp.bad.test', [{ priority: 65536, weight: 5, port: 5269, target: 'x.bad.test' }])).toThrow(
      /priority 65536 is not in 0-65535/,
    );
    expect(() => dns.publishXmppServers('bad.test', [{ host: 'x.bad.test', address: '127.0.0.1', port: 5269, priority: -1 }])).toThrow(/priority -1/);
    expect(dns.records().srv['_xmpp-server._tcp.bad.test']).toBeUndefined();
    expect(dns.records().a['x.bad.test']).toBeUndefined();
  });

  it('started again on its address after another program took the port, says so in one line naming the holder', async () => {
    const own = new TestDnsServer();
    await own.start();
    const port = own.port;
    await own.stop();
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', () => resolve()));
    try {
      await expect(own.start(port, '127.0.0.1')).rejects.toThrow(
        new RegExp(`^the test DNS cannot listen on 127\\.0\\.0\\.1:${port} again: the port is taken by node \\(pid ${process.pid}\\)$`),
      );
    } finally {
      await new Promise<void>((resolve) => squatter.close(() => resolve()));
      await own.stop();
    }
  });

  it('listens on loopback only', () => {
    expect(dns.host).toBe('127.0.0.1');
  });

  it('writes an SRV target whole, without name compression (RFC 2782), the same over UDP and TCP', async () => {
    dns.publishXmppServer('wire.test', { host: 'xmpp.wire.test', address: '127.0.0.1', port: 5269 });
    const q = query(11, '_xmpp-server._tcp.wire.test', Packet.TYPE.SRV).toBuffer();
    const viaUdp = await udpExchange(dns.port, q);
    const [viaTcp] = await tcpExchange(dns.port, [q]);
    expect(viaTcp).toEqual(viaUdp);
    // Priority 0, weight 5, port 5269, then the target's labels in full, not a pointer into the question.
    expect(viaUdp.includes(Buffer.concat([Buffer.from([0, 0, 0, 5, 0x14, 0x95]), literal('xmpp.wire.test')]))).toBe(true);
    expect(Packet.parse(viaUdp)).toMatchObject({
      header: { id: 11, qr: 1, aa: 1, rcode: 0 },
      answers: [{ target: 'xmpp.wire.test', port: 5269, ttl: 0 }],
      errors: [],
    });
  });

  it('answers no data, with an SOA of TTL 0, for a type a known name has no record of', async () => {
    dns.publishXmppServer('nodata.test', { host: 'xmpp.nodata.test', address: '127.0.0.1', port: 5269 });
    await expect(resolver.resolve6('xmpp.nodata.test')).rejects.toMatchObject({ code: 'ENODATA' });
    await expect(resolver.resolve4('_xmpp-server._tcp.nodata.test')).rejects.toMatchObject({ code: 'ENODATA' });
    const reply = Packet.parse(await udpExchange(dns.port, query(12, 'xmpp.nodata.test', Packet.TYPE.AAAA).toBuffer()));
    expect(reply).toMatchObject({ header: { rcode: 0 }, answers: [], authorities: [{ name: 'test', type: Packet.TYPE.SOA, ttl: 0, minimum: 0 }] });
    expect(queries.at(-1)).toMatchObject({ name: 'xmpp.nodata.test', type: 'AAAA', rcode: 'NOERROR', answers: 0 });
  });

  it('truncates over UDP an answer larger than the client takes (TC), and gives it whole over TCP', async () => {
    const name = '_xmpp-server._tcp.big.test';
    dns.publishXmppServers(
      'big.test',
      Array.from({ length: 24 }, (_, i) => ({ host: `edge${i}.big.test`, address: '127.0.0.1', port: 5300 + i, priority: i })),
    );
    // Without EDNS a client takes 512 bytes: the header and the question come, with TC set.
    const small = Packet.parse(await udpExchange(dns.port, query(13, name, Packet.TYPE.SRV).toBuffer()));
    expect(small).toMatchObject({ header: { id: 13, tc: 1 }, questions: [{ name }], answers: [], errors: [] });
    // An EDNS client that takes 4096 gets all of it, and an OPT record (RFC 6891 7).
    const large = Packet.parse(await udpExchange(dns.port, query(14, name, Packet.TYPE.SRV, 4096).toBuffer()));
    expect(large.header.tc).toBe(0);
    expect(large.answers).toHaveLength(24);
    expect(large.additionals).toEqual([expect.objectContaining({ type: Packet.TYPE.EDNS, class: 1232 })]);
    // Node's resolver takes less, so asks again over TCP.
    expect(await resolver.resolveSrv(name)).toHaveLength(24);
    expect((await tcpQuery(dns.port, name, Packet.TYPE.SRV)).answers).toHaveLength(24);
  });

  it('answers the queries pipelined on one TCP connection, each by its id', async () => {
    dns.publishXmppServer('pipe.test', { host: 'xmpp.pipe.test', address: '127.0.0.3', port: 5269 });
    const answers = (
      await tcpExchange(dns.port, [query(21, '_xmpp-server._tcp.pipe.test', Packet.TYPE.SRV).toBuffer(), query(22, 'xmpp.pipe.test', Packet.TYPE.A).toBuffer()])
    ).map((a) => Packet.parse(a));
    expect(answers.find((a) => a.header.id === 21)?.answers).toEqual([expect.objectContaining({ target: 'xmpp.pipe.test' })]);
    expect(answers.find((a) => a.header.id === 22)?.answers).toEqual([expect.objectContaining({ address: '127.0.0.3' })]);
  });

  it('answers FORMERR to a query dns2 reads only in part, and closes a TCP connection at an unreadable query', async () => {
    const refused: string[] = [];
    dns.on('refused', (why: string) => refused.push(why));
    // A name of 321 octets (RFC 1035 allows 255): its labels are well formed, the name is not.
    const long = Buffer.concat([
      Buffer.from([0, 31, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]),
      ...Array.from({ length: 5 }, () => Buffer.from([63, ...Buffer.alloc(63, 0x61)])),
      Buffer.from([0, 0, 1, 0, 1]),
    ]);
    expect(Packet.parse(await udpExchange(dns.port, long)).header).toMatchObject({ id: 31, qr: 1, rcode: Packet.RCODE.FORMERR });
    expect(refused).toEqual([expect.stringMatching(/^a malformed query: .*255/)]);
    // A query that carries an answer record is no plain query: the connection ends unanswered.
    const withAnswer = query(32, 'xmpp.pipe.test', Packet.TYPE.A);
    withAnswer.answers.push(new Packet.Resource({ name: 'xmpp.pipe.test', type: Packet.TYPE.A, class: Packet.CLASS.IN, ttl: 0, address: '127.0.0.1' }));
    await expect(tcpExchange(dns.port, [withAnswer.toBuffer()])).rejects.toThrow('the connection closed after 0 of 1 answers');
    expect(refused.at(-1)).toMatch(/^an unreadable TCP query from 127\.0\.0\.1/);
  });
});

/** Sends `messages` at once over one TCP connection (2-byte length framing) and returns as many answers; bounded by 2 s. */
async function tcpExchange(port: number, messages: Buffer[]): Promise<Buffer[]> {
  const socket = net.connect(port, '127.0.0.1');
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await new Promise<Buffer[]>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`not ${messages.length} TCP answers in 2 s`)), 2_000);
      const answers: Buffer[] = [];
      let received = Buffer.alloc(0);
      socket.on('error', reject);
      socket.on('close', () => reject(new Error(`the connection closed after ${answers.length} of ${messages.length} answers`)));
      socket.on('data', (chunk: Buffer) => {
        received = Buffer.concat([received, chunk]);
        while (received.length >= 2 && received.length >= 2 + received.readUInt16BE(0)) {
          answers.push(received.subarray(2, 2 + received.readUInt16BE(0)));
          received = received.subarray(2 + answers.at(-1)!.length);
        }
        if (answers.length === messages.length) resolve(answers);
      });
      socket.write(Buffer.concat(messages.flatMap((m) => [Buffer.from([m.length >> 8, m.length & 0xff]), m])));
    });
  } finally {
    clearTimeout(timer);
    socket.destroy();
  }
}

/** One query over TCP, its answer parsed. */
async function tcpQuery(port: number, name: string, type: number): Promise<Packet> {
  const [answer] = await tcpExchange(port, [query(4242, name, type).toBuffer()]);
  const parsed = Packet.parse(answer!);
  expect(parsed.header.id).toBe(4242);
  return parsed;
}

/**
 * A hand-made upstream on one UDP and TCP port: `udpReply` answers each UDP query (undefined: stays
 * silent); over TCP it answers with `tcpReply` or accepts and stays silent.
 */
async function rawUpstream(
  udpReply?: (query: Packet) => Packet,
  tcpReply?: (query: Packet) => Packet,
): Promise<{ port: number; udpQueries: number; tcpConnections: number; close(): Promise<void> }> {
  for (let attempt = 1; ; attempt++) {
    const udp = dgram.createSocket('udp4');
    const sockets = new Set<net.Socket>();
    const tcp = net.createServer((socket) => {
      state.tcpConnections++;
      sockets.add(socket);
      socket.on('error', () => {});
      if (!tcpReply) return;
      let received = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        received = Buffer.concat([received, chunk]);
        if (received.length < 2 || received.length < 2 + received.readUInt16BE(0)) return;
        const answer = tcpReply(Packet.parse(received.subarray(2))).toBuffer();
        const length = Buffer.alloc(2);
        length.writeUInt16BE(answer.length);
        socket.end(Buffer.concat([length, answer]));
      });
    });
    const state = {
      port: 0,
      udpQueries: 0,
      tcpConnections: 0,
      close: async () => {
        for (const socket of sockets) socket.destroy();
        await new Promise<void>((resolve) => udp.close(() => resolve()));
        await new Promise<void>((resolve) => tcp.close(() => resolve()));
      },
    };
    udp.on('message', (msg: Buffer, rinfo: dgram.RemoteInfo) => {
      state.udpQueries++;
      if (udpReply) udp.send(udpReply(Packet.parse(msg)).toBuffer(), rinfo.port, rinfo.address);
    });
    await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', () => resolve()));
    state.port = udp.address().port;
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(state.port, '127.0.0.1', () => resolve());
      });
      return state;
    } catch (err) {
      await new Promise<void>((resolve) => udp.close(() => resolve()));
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 20) throw err;
    }
  }
}

describe('TestDnsServer forwarding to an upstream (real UDP and TCP on loopback)', () => {
  let upstream: TestDnsServer;
  let dns: TestDnsServer;
  let raw: Awaited<ReturnType<typeof rawUpstream>> | undefined;
  const resolver = new Resolver({ timeout: 2_000, tries: 1 });
  let queries: DnsQueryLog[];

  beforeEach(async () => {
    upstream = new TestDnsServer();
    dns = new TestDnsServer();
    queries = [];
    await upstream.start();
    await dns.start();
    upstream.publishXmppServer('far.test', { host: 'xmpp.far.test', address: '127.0.0.9', port: 5270 });
    dns.setUpstream({ host: '127.0.0.1', port: upstream.port });
    dns.on('query', (q: DnsQueryLog) => queries.push(q));
    resolver.setServers([`127.0.0.1:${dns.port}`]);
  });
  afterEach(async () => {
    await dns.stop();
    await upstream.stop();
    await raw?.close();
    raw = undefined;
  });

  it('forwards names outside the local zone over UDP: SRV and A', async () => {
    expect(dns.upstream).toEqual({ host: '127.0.0.1', port: upstream.port });
    expect(await resolver.resolveSrv('_xmpp-server._tcp.far.test')).toEqual([srv('xmpp.far.test', 5270, 0)]);
    expect(await resolver.resolve4('xmpp.far.test')).toEqual(['127.0.0.9']);
    expect(queries).toEqual([
      expect.objectContaining({ name: '_xmpp-server._tcp.far.test', type: 'SRV', rcode: 'NOERROR', answers: 1, forwarded: true }),
      expect.objectContaining({ name: 'xmpp.far.test', type: 'A', rcode: 'NOERROR', answers: 1, forwarded: true }),
    ]);
  });

  it('forwards a query that came over TCP', async () => {
    const srv = await tcpQuery(dns.port, '_xmpp-server._tcp.far.test', Packet.TYPE.SRV);
    expect(srv.header.rcode).toBe(0);
    expect(srv.answers).toEqual([expect.objectContaining({ target: 'xmpp.far.test', port: 5270, priority: 0, weight: 5 })]);
    const a = await tcpQuery(dns.port, 'xmpp.far.test', Packet.TYPE.A);
    expect(a.answers).toEqual([expect.objectContaining({ address: '127.0.0.9' })]);
    expect(queries.map((q) => q.forwarded)).toEqual([true, true]);
  });

  it('answers names of the local zone itself, over the upstream', async () => {
    dns.setSrv('_xmpp-server._tcp.far.test', [{ priority: 0, weight: 5, port: 5269, target: 'pinned.far.test' }]);
    expect(await resolver.resolveSrv('_xmpp-server._tcp.far.test')).toEqual([srv('pinned.far.test', 5269, 0)]);
    expect(queries.at(-1)).not.toHaveProperty('forwarded');
    // Other names still come from the upstream.
    expect(await resolver.resolve4('xmpp.far.test')).toEqual(['127.0.0.9']);
  });

  it("relays the upstream's NXDOMAIN", async () => {
    await expect(resolver.resolveSrv('_xmpp-server._tcp.nowhere.test')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    expect(queries.at(-1)).toMatchObject({ rcode: 'NXDOMAIN', answers: 0, forwarded: true });
  });

  it('answers SERVFAIL within the bound when the upstream stays silent, over UDP and TCP', async () => {
    raw = await rawUpstream();
    dns.setUpstream({ host: '127.0.0.1', port: raw.port }, 300);
    const started = Date.now();
    await expect(resolver.resolve4('xmpp.far.test')).rejects.toMatchObject({ code: 'ESERVFAIL' });
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(raw.udpQueries).toBe(1);
    const viaTcp = await tcpQuery(dns.port, 'xmpp.far.test', Packet.TYPE.A);
    expect(viaTcp.header.rcode).toBe(2);
    expect(raw.tcpConnections).toBe(1);
    expect(raw.udpQueries).toBe(1);
    expect(queries.map((q) => q.rcode)).toEqual(['SERVFAIL', 'SERVFAIL']);
  });

  it('ignores an upstream reply with another id, then answers SERVFAIL', async () => {
    raw = await rawUpstream((query) => {
      const response = Packet.createResponseFromRequest(query);
      response.header.id = (query.header.id + 1) % 65_536;
      return response;
    });
    dns.setUpstream({ host: '127.0.0.1', port: raw.port }, 300);
    await expect(resolver.resolve4('xmpp.far.test')).rejects.toMatchObject({ code: 'ESERVFAIL' });
    expect(raw.udpQueries).toBe(1);
  });

  it('asks the upstream over TCP when its UDP answer is truncated', async () => {
    raw = await rawUpstream(
      (query) => {
        const response = Packet.createResponseFromRequest(query);
        response.header.tc = 1;
        return response;
      },
      (query) => {
        const response = Packet.createResponseFromRequest(query);
        response.answers.push(new Packet.Resource({ name: 'xmpp.far.test', type: Packet.TYPE.A, class: Packet.CLASS.IN, ttl: 0, address: '127.0.0.8' }));
        return response;
      },
    );
    dns.setUpstream({ host: '127.0.0.1', port: raw.port });
    expect(await resolver.resolve4('xmpp.far.test')).toEqual(['127.0.0.8']);
    expect(raw.tcpConnections).toBe(1);
  });

  it("asks the upstream with the client's EDNS payload size", async () => {
    const asked: Packet[] = [];
    raw = await rawUpstream((q) => {
      asked.push(q);
      return Packet.createResponseFromRequest(q);
    });
    dns.setUpstream({ host: '127.0.0.1', port: raw.port });
    expect(Packet.parse(await udpExchange(dns.port, query(41, 'xmpp.far.test', Packet.TYPE.A, 4096).toBuffer())).header.id).toBe(41);
    expect(asked.map((q) => q.additionals)).toEqual([[expect.objectContaining({ type: Packet.TYPE.EDNS, class: 4096 })]]);
  });

  it('stops at once while a client holds a TCP connection open', async () => {
    const idle = net.connect(dns.port, '127.0.0.1');
    await new Promise((resolve) => idle.once('connect', resolve));
    const closed = new Promise((resolve) => idle.once('close', resolve));
    await withDeadline(dns.stop(), 1_000, 'the DNS server to stop');
    await withDeadline(closed, 1_000, 'the connection to close');
  });

  it('answers NXDOMAIN again once the upstream is unset', async () => {
    dns.setUpstream(undefined);
    expect(dns.upstream).toBeUndefined();
    await expect(resolver.resolveSrv('_xmpp-server._tcp.far.test')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    expect(queries.at(-1)).toMatchObject({ rcode: 'NXDOMAIN' });
    expect(queries.at(-1)).not.toHaveProperty('forwarded');
  });
});
