import dns2 from 'dns2';
import dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import net from 'node:net';

const { Packet } = dns2;

export interface SrvRecord {
  priority: number;
  weight: number;
  port: number;
  target: string;
}

export interface DnsQueryLog {
  at: number;
  name: string;
  type: string;
  answers: number;
  /** The rcode's name, or its number for the ones without a name here. */
  rcode: 'NOERROR' | 'NXDOMAIN' | 'SERVFAIL' | `${number}`;
  /** Set when the name was not in the local zone and the upstream answered (or failed to). */
  forwarded?: boolean;
}

/** A server of an XMPP domain: the host name its SRV record names, the address of that host, its port. */
export interface XmppServerTarget {
  host: string;
  address: string;
  port: number;
}

/** A resolver to forward names outside the local zone to. */
export interface DnsUpstream {
  host: string;
  port: number;
}

interface Question {
  name: string;
  type: number;
  class: number;
}
interface Header {
  aa: number;
  ra: number;
  rcode: number;
}
interface Response {
  header: Header;
  answers: Array<Record<string, unknown>>;
  authorities: Array<Record<string, unknown>>;
}
/** What dns2 hands the handlers: a parsed Packet, which encodes itself again. */
interface Request {
  header: { id: number };
  questions: Question[];
  toBuffer(): Buffer;
}
interface ReplyHeader {
  id: number;
  qr: number;
  tc: number;
  rcode: number;
  ancount: number;
}
/** An upstream reply: its bytes, relayed unchanged, and the header fields read from them. */
interface Reply {
  bytes: Buffer;
  header: ReplyHeader;
}

const RCODE_SERVFAIL = 2;
const RCODE_NXDOMAIN = 3;
const RCODE_NAMES = new Map<number, DnsQueryLog['rcode']>([
  [0, 'NOERROR'],
  [RCODE_SERVFAIL, 'SERVFAIL'],
  [RCODE_NXDOMAIN, 'NXDOMAIN'],
]);
const DEFAULT_UPSTREAM_TIMEOUT_MS = 3_000;
/** A TCP client gets this long to send its whole query. */
const TCP_QUERY_BOUND_MS = 5_000;
/** The UDP payload every client takes; dns2 re-encodes a query's EDNS OPT with this size too. */
const UDP_PAYLOAD_MIN = 512;
/** A DNS message over TCP is at most its 2-byte length prefix plus 65535 bytes (RFC 1035 4.2.2). */
const TCP_MESSAGE_MAX = 2 + 0xffff;
const TYPE_NAMES = new Map<number, string>(Object.entries(Packet.TYPE).map(([k, v]) => [v as number, k]));

/**
 * The test DNS zone: A and SRV records of the test domains, served over UDP and TCP on loopback,
 * so Prosody resolves federation peers the real way (SRV first, then A). Records can be changed
 * while servers run (a later migration step repoints or removes an SRV record).
 */
export class TestDnsServer extends EventEmitter {
  private readonly a = new Map<string, string[]>();
  private readonly srv = new Map<string, SrvRecord[]>();
  private udp: ReturnType<typeof dns2.createUDPServer> | undefined;
  private tcp: ReturnType<typeof dns2.createTCPServer> | undefined;
  private boundPort = 0;
  private boundHost = '127.0.0.1';
  private forwardTo: (DnsUpstream & { timeoutMs: number }) | undefined;

  get port(): number {
    return this.boundPort;
  }
  /** Loopback, or the host's address on a Docker network xfed created (for its containers). */
  get host(): string {
    return this.boundHost;
  }
  get upstream(): DnsUpstream | undefined {
    return this.forwardTo && { host: this.forwardTo.host, port: this.forwardTo.port };
  }

  /**
   * Names outside the local zone go to `upstream` (undefined: answered NXDOMAIN again), its answer
   * relayed unchanged; local names still win, so one record can be pinned over the upstream's.
   * Each upstream query is bounded by `timeoutMs`; a timeout or error is answered SERVFAIL.
   */
  setUpstream(upstream: DnsUpstream | undefined, timeoutMs = DEFAULT_UPSTREAM_TIMEOUT_MS): void {
    this.forwardTo = upstream && { host: upstream.host, port: upstream.port, timeoutMs };
  }

  setA(name: string, addresses: string[]): void {
    this.a.set(norm(name), addresses);
  }

  setSrv(name: string, records: SrvRecord[]): void {
    for (const r of records) {
      for (const field of ['priority', 'weight', 'port'] as const) {
        // RFC 2782: each is a 16-bit unsigned integer; dns2 would encode anything else silently wrong.
        if (!Number.isInteger(r[field]) || r[field] < 0 || r[field] > 65535) throw new RangeError(`SRV ${name}: ${field} ${r[field]} is not in 0-65535`);
      }
    }
    this.srv.set(
      norm(name),
      records.map((r) => ({ ...r, target: norm(r.target) })),
    );
  }

  remove(name: string): void {
    this.a.delete(norm(name));
    this.srv.delete(norm(name));
  }

  /** Publishes what a federating XMPP domain needs: `_xmpp-server._tcp` SRV and the target's A. */
  publishXmppServer(domain: string, target: XmppServerTarget): void {
    this.publishXmppServers(domain, [{ ...target, priority: 0 }]);
  }

  /**
   * A domain served by several servers: one `_xmpp-server._tcp` SRV record each, with its
   * priority (RFC 2782: the lowest is tried first, the next when it cannot be reached), and each
   * target's A record. The records replace the domain's; none removes its SRV record.
   */
  publishXmppServers(domain: string, targets: Array<XmppServerTarget & { priority: number }>): void {
    const name = `_xmpp-server._tcp.${domain}`;
    if (targets.length === 0) {
      this.srv.delete(norm(name));
      return;
    }
    this.setSrv(
      name,
      targets.map((t) => ({ priority: t.priority, weight: 5, port: t.port, target: t.host })),
    );
    for (const t of targets) this.setA(t.host, [t.address]);
  }

  records(): { a: Record<string, string[]>; srv: Record<string, SrvRecord[]> } {
    return { a: Object.fromEntries(this.a), srv: Object.fromEntries(this.srv) };
  }

  /**
   * Binds UDP and TCP on the same port number. With port 0 the OS picks a free UDP port whose TCP
   * twin may be taken (by any connection's local port), so that case retries with a new pick.
   */
  async start(port = 0, host = '127.0.0.1'): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.bind(port, host);
        return;
      } catch (err) {
        if (port !== 0 || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 20) throw err;
      }
    }
  }

  private async bind(port: number, host: string): Promise<void> {
    this.boundHost = host;
    // One handler per transport: a query that came over TCP is forwarded over TCP.
    const handler = (viaTcp: boolean) => (request: unknown, send: (r: never) => unknown) => {
      void this.respond(request as Request, viaTcp)
        .then((response) => send(response as never))
        .catch((err: Error) => this.refused(err.message));
    };
    const udp = dns2.createUDPServer({ type: 'udp4' });
    udp.on('request', handler(false));
    udp.on('requestError', (err: Error) => this.refused(err.message));
    // Only what dns2 parses without looping reaches it (isSafeQuery); the rest is dropped.
    const [parse] = udp.listeners('message') as Array<(msg: Buffer, rinfo: dgram.RemoteInfo) => void>;
    udp.removeAllListeners('message');
    udp.on('message', (msg: Buffer, rinfo: dgram.RemoteInfo) =>
      isSafeQuery(msg) ? parse!(msg, rinfo) : this.refused(`an unreadable query from ${rinfo.address}`),
    );
    await udp.listen(port, this.host);
    this.udp = udp;
    // TCP on the same port number: resolvers retry over TCP when an answer is truncated.
    const tcp = dns2.createTCPServer(handler(true) as never);
    tcp.on('requestError', (err: Error) => this.refused(err.message));
    // dns2 reads a TCP query until the length its prefix says, for as long as the client waits,
    // and parses it unchecked: the query is read here, bounded in size and time, and checked.
    const [handle] = tcp.listeners('connection') as Array<(socket: net.Socket) => void>;
    tcp.removeAllListeners('connection');
    tcp.on('connection', (socket: net.Socket) => this.acceptTcp(socket, handle!));
    const udpPort = udp.address().port;
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(udpPort, this.host, () => resolve());
      });
    } catch (err) {
      this.udp = undefined;
      await new Promise<void>((resolve) => udp.close(() => resolve()));
      throw err;
    }
    this.tcp = tcp;
    this.boundPort = udpPort;
  }

  async stop(): Promise<void> {
    const { udp, tcp } = this;
    this.udp = undefined;
    this.tcp = undefined;
    if (udp) await new Promise<void>((resolve) => udp.close(() => resolve()));
    if (tcp) await new Promise<void>((resolve) => tcp.close(() => resolve()));
  }

  /** A query that could not be answered: told to listeners (`refused`), never thrown. */
  private refused(why: string): void {
    this.emit('refused', why);
  }

  private acceptTcp(socket: net.Socket, handle: (socket: net.Socket) => void): void {
    socket.on('error', () => socket.destroy());
    socket.setTimeout(TCP_QUERY_BOUND_MS, () => {
      this.refused(`no whole TCP query from ${socket.remoteAddress} in ${TCP_QUERY_BOUND_MS} ms`);
      socket.destroy();
    });
    let received = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk.subarray(0, TCP_MESSAGE_MAX - received.length)]);
      if (received.length < 2 || received.length < 2 + received.readUInt16BE(0)) return;
      socket.off('data', onData);
      socket.pause();
      const query = received.subarray(2, 2 + received.readUInt16BE(0));
      if (!isSafeQuery(query)) {
        this.refused(`an unreadable TCP query from ${socket.remoteAddress}`);
        socket.destroy();
        return;
      }
      // dns2 reads the query again from the stream: it is handed back unread.
      socket.unshift(received.subarray(0, 2 + query.length));
      handle(socket);
    };
    socket.on('data', onData);
  }

  private isLocal(name: string): boolean {
    return this.a.has(norm(name)) || this.srv.has(norm(name));
  }

  private async respond(request: Request, viaTcp: boolean): Promise<Response | Buffer> {
    const upstream = this.forwardTo;
    if (!upstream || request.questions.length === 0 || request.questions.some((q) => this.isLocal(q.name))) {
      return this.answer(request);
    }
    return this.forward(request, upstream, viaTcp);
  }

  private async forward(request: Request, upstream: DnsUpstream & { timeoutMs: number }, viaTcp: boolean): Promise<Buffer> {
    const query = request.toBuffer();
    let reply: Reply | undefined;
    try {
      reply = viaTcp ? await queryTcp(query, upstream) : await queryUdp(query, upstream);
      if (!viaTcp && reply.header.tc) {
        // dns2 re-encodes the client's EDNS size as 512, so a larger answer is truncated over UDP.
        // The TCP answer is relayed when it fits 512 bytes; else the truncated one, and the client
        // retries over TCP itself (forwarded over TCP).
        const full = await queryTcp(query, upstream);
        if (full.bytes.length <= UDP_PAYLOAD_MIN) reply = full;
      }
    } catch {
      reply = undefined;
    }
    let bytes: Buffer;
    if (reply) {
      bytes = reply.bytes;
    } else {
      const response = Packet.createResponseFromRequest(request as never) as unknown as Response & Request;
      response.header.ra = 1;
      response.header.rcode = RCODE_SERVFAIL;
      bytes = response.toBuffer();
    }
    const rcode = reply?.header.rcode ?? RCODE_SERVFAIL;
    for (const q of request.questions) {
      const entry: DnsQueryLog = {
        at: Date.now(),
        name: norm(q.name),
        type: TYPE_NAMES.get(q.type) ?? String(q.type),
        answers: reply?.header.ancount ?? 0,
        rcode: RCODE_NAMES.get(rcode) ?? `${rcode}`,
        forwarded: true,
      };
      this.emit('query', entry);
    }
    return bytes;
  }

  private answer(request: { questions: Question[] }): Response {
    const response = Packet.createResponseFromRequest(request as never) as unknown as Response;
    response.header.aa = 1;
    response.header.ra = 1;
    // TTL 0 throughout: migration steps change records live and no resolver may hold the old ones.
    for (const q of request.questions) {
      const name = norm(q.name);
      const known = this.isLocal(name);
      if (q.type === Packet.TYPE.A || q.type === Packet.TYPE.ANY) {
        for (const address of this.a.get(name) ?? []) {
          response.answers.push({ name: q.name, type: Packet.TYPE.A, class: Packet.CLASS.IN, ttl: 0, address });
        }
      }
      if (q.type === Packet.TYPE.SRV || q.type === Packet.TYPE.ANY) {
        for (const r of this.srv.get(name) ?? []) {
          response.answers.push({ name: q.name, type: Packet.TYPE.SRV, class: Packet.CLASS.IN, ttl: 0, ...r });
        }
      }
      if (!known) response.header.rcode = RCODE_NXDOMAIN;
      // An SOA with TTL and minimum 0 beside every negative answer (RFC 2308): resolvers then keep
      // no NXDOMAIN or no-data in cache, so a record restored by a later step is seen at once.
      if (response.answers.length === 0) {
        response.authorities.push({
          name: 'test',
          type: Packet.TYPE.SOA,
          class: Packet.CLASS.IN,
          ttl: 0,
          primary: 'ns.xfed.test',
          admin: 'hostmaster.xfed.test',
          serial: 1,
          refresh: 60,
          retry: 60,
          expiration: 60,
          minimum: 0,
        });
      }
      const entry: DnsQueryLog = {
        at: Date.now(),
        name,
        type: TYPE_NAMES.get(q.type) ?? String(q.type),
        answers: response.answers.length,
        rcode: known ? 'NOERROR' : 'NXDOMAIN',
      };
      this.emit('query', entry);
    }
    return response;
  }
}

function norm(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/**
 * The header of `bytes` when they are a reply to query `id`, else undefined. Only the fixed
 * 12-byte header is read (RFC 1035 4.1.1): the reply is relayed unchanged, and dns2's full parser
 * follows compression pointers without a bound, so a reply whose pointer points at itself from an
 * upstream xfed does not control would hang the process.
 */
function readReply(bytes: Buffer, id: number): Reply | undefined {
  if (bytes.length < 12) return undefined;
  const flags = bytes.readUInt16BE(2);
  const header: ReplyHeader = { id: bytes.readUInt16BE(0), qr: flags >> 15, tc: (flags >> 9) & 1, rcode: flags & 0xf, ancount: bytes.readUInt16BE(6) };
  return header.qr === 1 && header.id === id ? { bytes, header } : undefined;
}

/**
 * Whether dns2 can parse `bytes` as a query without looping: a plain query (no answer or authority
 * records; additional records only EDNS's OPT, whose name is the root) whose question names
 * compress only backwards (RFC 1035 4.1.4). dns2's parser follows any pointer, and a client on
 * the test network could send one that points at itself.
 */
function isSafeQuery(bytes: Buffer): boolean {
  if (bytes.length < 12 || bytes.length > 0xffff) return false;
  const qd = bytes.readUInt16BE(4);
  if (bytes.readUInt16BE(6) !== 0 || bytes.readUInt16BE(8) !== 0 || qd === 0 || qd > 16) return false;
  let at = 12;
  const name = (): boolean => {
    const start = at;
    for (;;) {
      if (at >= bytes.length) return false;
      const len = bytes[at]!;
      if (len === 0) {
        at += 1;
        return true;
      }
      if ((len & 0xc0) === 0xc0) {
        if (at + 1 >= bytes.length) return false;
        const target = ((len & 0x3f) << 8) | bytes[at + 1]!;
        at += 2;
        // Backwards, into an earlier name: dns2 then reads a name that ends.
        return target < start;
      }
      if ((len & 0xc0) !== 0) return false;
      at += 1 + len;
    }
  };
  for (let i = 0; i < qd; i++) {
    if (!name()) return false;
    at += 4;
  }
  for (let i = bytes.readUInt16BE(10); i > 0; i--) {
    if (bytes[at] !== 0 || at + 11 > bytes.length || bytes.readUInt16BE(at + 1) !== 41) return false;
    at += 11 + bytes.readUInt16BE(at + 9);
  }
  return at <= bytes.length;
}

/** Runs `start` until it settles or `timeoutMs` passes; `cleanup` runs either way. */
function bounded<T>(timeoutMs: number, cleanup: () => void, start: (resolve: (value: T) => void, reject: (err: Error) => void) => void): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return new Promise<T>((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`upstream DNS: no answer in ${timeoutMs} ms`)), timeoutMs);
    start(resolve, reject);
  }).finally(() => {
    clearTimeout(timer);
    cleanup();
  });
}

/** One query over a fresh UDP socket. Datagrams that are no reply to this query are ignored. */
function queryUdp(query: Buffer, to: DnsUpstream & { timeoutMs: number }): Promise<Reply> {
  const socket = dgram.createSocket('udp4');
  const close = () => {
    try {
      socket.close();
    } catch {
      // Already closed.
    }
  };
  return bounded<Reply>(to.timeoutMs, close, (resolve, reject) => {
    socket.on('error', reject);
    socket.on('message', (msg: Buffer) => {
      const reply = readReply(msg, query.readUInt16BE(0));
      if (reply) resolve(reply);
    });
    // Connected: only the upstream's datagrams arrive, and an ICMP refusal surfaces as an error.
    socket.connect(to.port, to.host, () => socket.send(query, (err) => err && reject(err)));
  });
}

/** One query over a fresh TCP connection, each message framed by its 2-byte length. */
function queryTcp(query: Buffer, to: DnsUpstream & { timeoutMs: number }): Promise<Reply> {
  const socket = net.connect(to.port, to.host);
  return bounded<Reply>(
    to.timeoutMs,
    () => socket.destroy(),
    (resolve, reject) => {
      let received = Buffer.alloc(0);
      socket.on('error', reject);
      socket.on('close', () => reject(new Error('upstream DNS closed the connection without an answer')));
      socket.on('data', (chunk: Buffer) => {
        // One message is all that is read: never more than its largest size is kept.
        received = Buffer.concat([received, chunk.subarray(0, TCP_MESSAGE_MAX - received.length)]);
        if (received.length < 2 || received.length < 2 + received.readUInt16BE(0)) return;
        const reply = readReply(received.subarray(2, 2 + received.readUInt16BE(0)), query.readUInt16BE(0));
        if (reply) resolve(reply);
        else reject(new Error('upstream DNS answered with a different id'));
      });
      const length = Buffer.alloc(2);
      length.writeUInt16BE(query.length);
      socket.write(Buffer.concat([length, query]));
    },
  );
}
