import { Packet, UDPServer, type Question, type Resource } from 'dns2';
import dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { XfedError } from '../errors.js';
import { holderOfPort } from './port-holder.js';

export interface SrvRecord {
  priority: number;
  weight: number;
  port: number;
  target: string;
}

export interface DnsQueryLog {
  at: number;
  name: string;
  /** The type's name (`SRV`, `A`), `TYPE<n>` for one dns2 has no name for (RFC 3597). */
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

const RCODE_NAMES = new Map<number, DnsQueryLog['rcode']>([
  [Packet.RCODE.NOERROR, 'NOERROR'],
  [Packet.RCODE.SERVFAIL, 'SERVFAIL'],
  [Packet.RCODE.NXDOMAIN, 'NXDOMAIN'],
]);
const DEFAULT_UPSTREAM_TIMEOUT_MS = 3_000;
/** A TCP client gets this long to send a whole query from its first byte, and to send its next one. */
const TCP_QUERY_BOUND_MS = 5_000;
/** Queries of one TCP connection answered at once; past it, the connection is not read until one is answered. */
const TCP_PIPELINE_MAX = 16;
/** The UDP payload every client takes (RFC 1035 4.2.1); an EDNS client names a larger one (RFC 6891 6.2.5). */
const UDP_PAYLOAD_MIN = 512;
/** The UDP payload size this server names in its OPT record: DNS Flag Day 2020's, which fits every path's MTU. */
const EDNS_PAYLOAD = 1232;
/** A DNS message over TCP is at most its 2-byte length prefix plus 65535 bytes (RFC 1035 4.2.2). */
const TCP_MESSAGE_MAX = 2 + 0xffff;

/**
 * A message encoded without name compression. dns2 3 compresses every name it writes, the target
 * inside an SRV record too, which RFC 2782 forbids (RFC 3597 4: only RFC 1035's types compress
 * names in their data) and c-ares 1.34.7+, Node 24's resolver, rejects (`querySrv EBADRESP`).
 * Compression is optional (RFC 1035 4.1.4): each part is encoded on a writer of its own, so no
 * name points at another. dns2's UDP server still fits it to the client's payload size (TC=1).
 */
class UncompressedPacket extends Packet {
  override toBuffer(): Buffer {
    const header = new Packet.Header({
      ...this.header,
      qdcount: this.questions.length,
      ancount: this.answers.length,
      nscount: this.authorities.length,
      arcount: this.additionals.length,
    });
    const records = [...this.answers, ...this.authorities, ...this.additionals];
    return Buffer.concat([header.toBuffer(), ...this.questions.map((q) => Packet.Question.encode(q)), ...records.map((r) => Packet.Resource.encode(r))]);
  }
}

/** dns2's UDP server, handed only the datagrams isSafeQuery passes; the rest are dropped. */
class CheckedUdpServer extends UDPServer {
  override handle(data: Buffer, rinfo: dgram.RemoteInfo): void {
    if (isSafeQuery(data)) super.handle(data, rinfo);
    else this.emit('requestError', new Error(`an unreadable query from ${rinfo.address}`));
  }
}

/**
 * The test DNS zone: A and SRV records of the test domains, served over UDP and TCP on loopback,
 * so Prosody resolves federation peers the real way (SRV first, then A). Records can be changed
 * while servers run (a later migration step repoints or removes an SRV record).
 */
export class TestDnsServer extends EventEmitter {
  private readonly a = new Map<string, string[]>();
  private readonly srv = new Map<string, SrvRecord[]>();
  private udp: CheckedUdpServer | undefined;
  private tcp: net.Server | undefined;
  private readonly connections = new Set<net.Socket>();
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
        const inUse = (err as NodeJS.ErrnoException).code === 'EADDRINUSE';
        // A port given (start-dns after stop-dns: the same address again) that another program took meanwhile.
        if (inUse && port !== 0) {
          const holder = holderOfPort(port);
          throw new XfedError(`the test DNS cannot listen on ${host}:${port} again: the port is taken${holder ? ` by ${holder}` : ' by another program'}`);
        }
        if (!inUse || attempt >= 20) throw err;
      }
    }
  }

  private async bind(port: number, host: string): Promise<void> {
    this.boundHost = host;
    const udp = new CheckedUdpServer({ type: 'udp4' });
    udp.on('request', (request, send) => {
      void this.respond(request, false)
        .then((response) => send(response))
        .catch((err: Error) => this.refused(err.message));
    });
    udp.on('requestError', (err: Error) => this.refused(err.message));
    await udp.listen(port, this.host);
    this.udp = udp;
    // TCP on the same port number: resolvers retry over TCP when an answer is truncated. Not dns2's
    // TCP server: it parses every query of a connection unchecked, however long its client takes.
    const tcp = net.createServer({ allowHalfOpen: true }, (socket) => this.serveTcp(socket));
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
    for (const socket of this.connections) socket.destroy();
    if (udp) await new Promise<void>((resolve) => udp.close(() => resolve()));
    if (tcp) await new Promise<void>((resolve) => tcp.close(() => resolve()));
  }

  /** A query that could not be answered: told to listeners (`refused`), never thrown. */
  private refused(why: string): void {
    this.emit('refused', why);
  }

  /**
   * One TCP connection: each query, framed by its 2-byte length (RFC 1035 4.2.2), is checked like a
   * UDP one and answered; a client may send the next before its answer comes (RFC 7766 6.2.1.1).
   * A query must be whole within TCP_QUERY_BOUND_MS of its first byte, and a connection that waits
   * that long for its next query is closed.
   */
  private serveTcp(socket: net.Socket): void {
    this.connections.add(socket);
    let received: Buffer = Buffer.alloc(0);
    let inFlight = 0;
    let clientDone = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const whole = () => received.length >= 2 && received.length >= 2 + received.readUInt16BE(0);
    const stopClock = () => {
      clearTimeout(timer);
      timer = undefined;
    };
    // The clock runs while the client owes something: the rest of a query, or (all answered) a next one.
    const clock = (restart: boolean) => {
      const waiting = received.length > 0 ? !whole() : inFlight === 0 && !clientDone;
      if (!waiting) return stopClock();
      if (timer && !restart) return;
      stopClock();
      timer = setTimeout(() => {
        if (received.length > 0) this.refused(`no whole TCP query from ${socket.remoteAddress} in ${TCP_QUERY_BOUND_MS} ms`);
        socket.destroy();
      }, TCP_QUERY_BOUND_MS);
    };
    /** Starts answering the whole queries received, as many as the pipeline takes; true when it took one. */
    const take = (): boolean => {
      let took = false;
      while (!socket.destroyed && inFlight < TCP_PIPELINE_MAX && whole()) {
        const query = received.subarray(2, 2 + received.readUInt16BE(0));
        received = received.subarray(2 + query.length);
        took = true;
        if (!isSafeQuery(query)) {
          this.refused(`an unreadable TCP query from ${socket.remoteAddress}`);
          socket.destroy();
          return took;
        }
        inFlight++;
        void Promise.resolve(query)
          .then((bytes) => this.respond(Packet.parse(bytes), true))
          .then((response) => {
            const bytes = Buffer.isBuffer(response) ? response : response.toBuffer();
            const length = Buffer.alloc(2);
            length.writeUInt16BE(bytes.length);
            if (!socket.destroyed) socket.write(Buffer.concat([length, bytes]));
          })
          .catch((err: Error) => this.refused(err.message))
          .finally(() => {
            inFlight--;
            settle(take());
          });
      }
      return took;
    };
    const settle = (restart: boolean) => {
      if (socket.destroyed) return;
      if (inFlight >= TCP_PIPELINE_MAX) socket.pause();
      else socket.resume();
      if (clientDone && inFlight === 0 && received.length === 0) socket.end();
      else clock(restart);
    };
    socket.on('data', (chunk: Buffer) => {
      // A new query starts in this chunk when none was partly received: its clock starts now.
      const fresh = received.length === 0;
      received = fresh ? chunk : Buffer.concat([received, chunk]);
      const took = take();
      settle(fresh || (took && received.length > 0));
    });
    socket.on('end', () => {
      clientDone = true;
      if (received.length > 0 && !whole()) {
        this.refused(`a TCP query from ${socket.remoteAddress} cut short`);
        socket.destroy();
      } else settle(false);
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      stopClock();
      this.connections.delete(socket);
    });
    clock(true);
  }

  private isLocal(name: string): boolean {
    return this.a.has(norm(name)) || this.srv.has(norm(name));
  }

  private async respond(request: Packet, viaTcp: boolean): Promise<Packet | Buffer> {
    if (request.errors.length > 0) {
      // dns2 parsed only part of it (a name over 255 octets, a question cut short): FORMERR.
      this.refused(`a malformed query: ${request.errors[0]!.message}`);
      const response = responseTo(request);
      response.header.rcode = Packet.RCODE.FORMERR;
      return response;
    }
    const upstream = this.forwardTo;
    if (!upstream || request.questions.length === 0 || request.questions.some((q) => this.isLocal(q.name))) {
      return this.answer(request);
    }
    return this.forward(request, upstream, viaTcp);
  }

  private async forward(request: Packet, upstream: DnsUpstream & { timeoutMs: number }, viaTcp: boolean): Promise<Buffer> {
    // dns2 encodes the query again: with the client's EDNS payload size, without EDNS options it has
    // no codec for (cookies), which the upstream then answers without.
    const query = request.toBuffer();
    let reply: Reply | undefined;
    try {
      reply = viaTcp ? await queryTcp(query, upstream) : await queryUdp(query, upstream);
      if (!viaTcp && reply.header.tc) {
        // The TCP answer is relayed when it fits the client's UDP payload (an upstream may truncate
        // more than it must); else the truncated one, and the client asks again over TCP.
        const full = await queryTcp(query, upstream);
        if (full.bytes.length <= udpPayloadLimit(request)) reply = full;
      }
    } catch {
      reply = undefined;
    }
    let bytes: Buffer;
    if (reply) {
      bytes = reply.bytes;
    } else {
      const response = responseTo(request);
      response.header.rcode = Packet.RCODE.SERVFAIL;
      bytes = response.toBuffer();
    }
    const rcode = reply?.header.rcode ?? Packet.RCODE.SERVFAIL;
    for (const q of request.questions) {
      const entry: DnsQueryLog = {
        at: Date.now(),
        name: norm(q.name),
        type: Packet.typeName(q.type),
        answers: reply?.header.ancount ?? 0,
        rcode: RCODE_NAMES.get(rcode) ?? `${rcode}`,
        forwarded: true,
      };
      this.emit('query', entry);
    }
    return bytes;
  }

  private answer(request: Packet): Packet {
    const response = responseTo(request);
    response.header.aa = 1;
    // TTL 0 throughout: migration steps change records live and no resolver may hold the old ones.
    const record = (q: Question, data: Partial<Resource>) => Packet.createResourceFromQuestion(q, { class: Packet.CLASS.IN, ttl: 0, ...data });
    for (const q of request.questions) {
      const name = norm(q.name);
      const known = this.isLocal(name);
      if (q.type === Packet.TYPE.A || q.type === Packet.TYPE.ANY) {
        for (const address of this.a.get(name) ?? []) response.answers.push(record(q, { type: Packet.TYPE.A, address }));
      }
      if (q.type === Packet.TYPE.SRV || q.type === Packet.TYPE.ANY) {
        for (const r of this.srv.get(name) ?? []) response.answers.push(record(q, { type: Packet.TYPE.SRV, ...r }));
      }
      if (!known) response.header.rcode = Packet.RCODE.NXDOMAIN;
      // An SOA with TTL and minimum 0 beside every negative answer (RFC 2308): resolvers then keep
      // no NXDOMAIN or no-data in cache, so a record restored by a later step is seen at once. Its
      // owner is the name's top-level domain, a zone the name is in.
      if (response.answers.length === 0) {
        response.authorities.push(
          record(q, {
            name: name.split('.').at(-1) ?? '',
            type: Packet.TYPE.SOA,
            primary: 'ns.xfed.test',
            admin: 'hostmaster.xfed.test',
            serial: 1,
            refresh: 60,
            retry: 60,
            expiration: 60,
            minimum: 0,
          }),
        );
      }
      const entry: DnsQueryLog = {
        at: Date.now(),
        name,
        type: Packet.typeName(q.type),
        answers: response.answers.length,
        rcode: known ? 'NOERROR' : 'NXDOMAIN',
      };
      this.emit('query', entry);
    }
    return response;
  }
}

/**
 * The response to `request`, without records yet: its id, opcode, RD and question; RA set (names
 * outside the zone are forwarded); and an OPT record when the query had one (RFC 6891 7).
 */
function responseTo(request: Packet): UncompressedPacket {
  const response = new UncompressedPacket();
  response.header = new Packet.Header({ id: request.header.id, opcode: request.header.opcode, qr: 1, rd: request.header.rd, ra: 1 });
  response.questions = request.questions.slice();
  if (request.additionals.some((r) => r.type === Packet.TYPE.EDNS)) {
    response.additionals.push(Packet.Resource.EDNS([], { udpPayloadSize: EDNS_PAYLOAD }));
  }
  return response;
}

/** The largest UDP answer `request`'s client takes: its OPT record's payload size, at least 512 (RFC 6891 6.2.3). */
function udpPayloadLimit(request: Packet): number {
  const opt = request.additionals.find((r) => r.type === Packet.TYPE.EDNS);
  return Math.max(opt?.class ?? 0, UDP_PAYLOAD_MIN);
}

function norm(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/**
 * The header of `bytes` when they are a reply to query `id`, else undefined. Only the fixed
 * 12-byte header is read (RFC 1035 4.1.1): the reply is relayed unchanged, so nothing more of an
 * upstream xfed does not control is parsed (see isSafeQuery for what a crafted message costs dns2).
 */
function readReply(bytes: Buffer, id: number): Reply | undefined {
  if (bytes.length < 12) return undefined;
  const flags = bytes.readUInt16BE(2);
  const header: ReplyHeader = { id: bytes.readUInt16BE(0), qr: flags >> 15, tc: (flags >> 9) & 1, rcode: flags & 0xf, ancount: bytes.readUInt16BE(6) };
  return header.qr === 1 && header.id === id ? { bytes, header } : undefined;
}

/**
 * Whether `bytes` are a plain query that dns2 parses in bounded time: at most 16 questions, no
 * answer or authority records, additional records only EDNS's OPT (whose name is the root), and
 * question names that compress only backwards into the question section (RFC 1035 4.1.4). dns2 3
 * stops at a pointer cycle, but follows chains of pointers: 64 KiB of questions that each point at
 * the one before cost it about 0.35 s of the event loop, and a client can send them again and again.
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
        // Backwards, past the header, into an earlier name: a chain no longer than the questions.
        return target >= 12 && target < start;
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
