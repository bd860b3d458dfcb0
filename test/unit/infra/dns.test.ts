import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import dns2 from 'dns2';
import dgram from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import net from 'node:net';
import { TestDnsServer, type DnsQueryLog } from '../../../src/infra/dns.js';

interface TestPacket {
  header: { id: number; qr: number; tc: number; rd: number; rcode: number };
  questions: Array<{ name: string; type: number; class: number }>;
  answers: Array<Record<string, unknown>>;
  toBuffer(): Buffer;
}
// @types/dns2 lacks the constructor's and parse's shapes.
const Packet = dns2.Packet as unknown as {
  new (): TestPacket;
  parse(bytes: Buffer): TestPacket;
  createResponseFromRequest(request: TestPacket): TestPacket;
  TYPE: typeof dns2.Packet.TYPE;
  CLASS: typeof dns2.Packet.CLASS;
};

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
    expect(await resolver.resolveSrv('_xmpp-server._tcp.partner.test')).toEqual([{ name: 'xmpp.partner.test', port: 5269, priority: 0, weight: 5 }]);
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
    expect([...records].sort((a, b) => a.priority - b.priority)).toEqual([
      { name: 'edge-a.pools.test', port: 5301, priority: 10, weight: 5 },
      { name: 'edge-b.pools.test', port: 5302, priority: 20, weight: 5 },
    ]);
    expect(await resolver.resolve4('edge-b.pools.test')).toEqual(['127.0.0.2']);
    // Republished without edge-a: its SRV record goes, the rest stays as given.
    dns.publishXmppServers('pools.test', [{ host: 'edge-b.pools.test', address: '127.0.0.2', port: 5302, priority: 5 }]);
    expect(await resolver.resolveSrv('_xmpp-server._tcp.pools.test')).toEqual([{ name: 'edge-b.pools.test', port: 5302, priority: 5, weight: 5 }]);
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

  it('listens on loopback only', () => {
    expect(dns.host).toBe('127.0.0.1');
  });
});

/** Sends one query over TCP (2-byte length framing) and parses the answer; bounded by 2 s. */
async function tcpQuery(port: number, name: string, type: number): Promise<TestPacket> {
  const query = new Packet();
  query.header.id = 4242;
  query.header.rd = 1;
  query.questions.push({ name, type, class: Packet.CLASS.IN });
  const bytes = query.toBuffer();
  const socket = net.connect(port, '127.0.0.1');
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const answer = await new Promise<Buffer>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error('no TCP answer in 2 s')), 2_000);
      let received = Buffer.alloc(0);
      socket.on('error', reject);
      socket.on('data', (chunk: Buffer) => {
        received = Buffer.concat([received, chunk]);
        if (received.length >= 2 && received.length >= 2 + received.readUInt16BE(0)) resolve(received.subarray(2));
      });
      const length = Buffer.alloc(2);
      length.writeUInt16BE(bytes.length);
      socket.write(Buffer.concat([length, bytes]));
    });
    const parsed = Packet.parse(answer);
    expect(parsed.header.id).toBe(4242);
    return parsed;
  } finally {
    clearTimeout(timer);
    socket.destroy();
  }
}

/**
 * A hand-made upstream on one UDP and TCP port: `udpReply` answers each UDP query (undefined: stays
 * silent); over TCP it answers with `tcpReply` or accepts and stays silent.
 */
async function rawUpstream(
  udpReply?: (query: TestPacket) => TestPacket,
  tcpReply?: (query: TestPacket) => TestPacket,
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
    expect(await resolver.resolveSrv('_xmpp-server._tcp.far.test')).toEqual([{ name: 'xmpp.far.test', port: 5270, priority: 0, weight: 5 }]);
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
    expect(await resolver.resolveSrv('_xmpp-server._tcp.far.test')).toEqual([{ name: 'pinned.far.test', port: 5269, priority: 0, weight: 5 }]);
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
        response.answers.push({ name: 'xmpp.far.test', type: Packet.TYPE.A, class: Packet.CLASS.IN, ttl: 0, address: '127.0.0.8' });
        return response;
      },
    );
    dns.setUpstream({ host: '127.0.0.1', port: raw.port });
    expect(await resolver.resolve4('xmpp.far.test')).toEqual(['127.0.0.8']);
    expect(raw.tcpConnections).toBe(1);
  });

  it('answers NXDOMAIN again once the upstream is unset', async () => {
    dns.setUpstream(undefined);
    expect(dns.upstream).toBeUndefined();
    await expect(resolver.resolveSrv('_xmpp-server._tcp.far.test')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    expect(queries.at(-1)).toMatchObject({ rcode: 'NXDOMAIN' });
    expect(queries.at(-1)).not.toHaveProperty('forwarded');
  });
});
