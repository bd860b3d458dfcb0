import dgram from 'node:dgram';
import { EventEmitter, setMaxListeners } from 'node:events';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { XfedError } from '../errors.js';
import { withDeadline } from '../infra/deadline.js';
import {
  SIP_LIMITS,
  SipHeaders,
  SipTooLarge,
  formatVia,
  newBranch,
  newTag,
  parseNameAddr,
  parseSipHeadLeniently,
  parseSipMessage,
  parseVia,
  reasonPhrase,
  serializeSipMessage,
  takeSipFrame,
  type SipMessage,
  type SipRequest,
  type SipResponse,
} from './message.js';

/** The transports between the gateway and the pools: TCP (as SfB's MTLS links) or UDP. */
export type SipTransport = 'udp' | 'tcp';

export interface SipTarget {
  host: string;
  port: number;
  transport: SipTransport;
}

export interface SipTrace {
  at: number;
  hrtime: number;
  direction: 'in' | 'out';
  transport: SipTransport;
  local: string;
  remote: string;
  endpoint: string;
  message: SipMessage;
  /** Set when the message never crossed the network: why it was made up locally. */
  synthetic?: string;
}

export interface IncomingRequest {
  request: SipRequest;
  transport: SipTransport;
  remote: { host: string; port: number };
}

export interface SipResponseInit {
  status: number;
  reason?: string;
  headers?: Record<string, string | string[]>;
  body?: string;
  contentType?: string;
  /** To-tag to add when the request has none; a dialog-creating answer needs to know its tag. */
  toTag?: string;
  /** Runs once the response is on the wire, e.g. a user who answers an IM and then replies. */
  afterSend?: () => void;
}

export type RequestHandler = (req: IncomingRequest) => Promise<SipResponseInit> | SipResponseInit;

/** A datagram or stream frame that is not SIP enough to answer. */
export interface SipMalformed {
  transport: SipTransport;
  remote: string;
  error: string;
  raw: string;
}

// RFC 3261 timer values: T1 the RTT estimate, T2 the cap for non-INVITE retransmits; a server
// transaction remembers its answer for 64*T1 (timer J) to absorb retransmissions.
const T1 = 500;
const T2 = 4_000;
const SERVER_TX_LINGER_MS = 64 * T1;
const HANDLER_BOUND_MS = 64 * T1;
const SOCKET_OP_BOUND_MS = 5_000;
/** A message's bytes must all arrive within this of each other (timer F's 64*T1). */
const PARTIAL_MESSAGE_BOUND_MS = 64 * T1;

interface ClientTx {
  method: string;
  resolve: (res: SipResponse) => void;
  reject: (err: Error) => void;
  provisional: boolean;
  timer?: NodeJS.Timeout;
}

interface Reply {
  response: SipResponse;
  transport: SipTransport;
  remote: { host: string; port: number };
  socket?: net.Socket;
}

const addr = (host: string, port: number) => `${host}:${port}`;
const REQUIRED = ['Via', 'From', 'To', 'Call-ID', 'CSeq'];

/**
 * A SIP endpoint on loopback: UDP and TCP on one port, the non-INVITE client and server
 * transactions of RFC 3261 section 17, and a trace of every message in and out.
 */
export class SipEndpoint extends EventEmitter {
  private readonly clientTxs = new Map<string, ClientTx>();
  private readonly serverTxs = new Map<string, { at: number; reply?: Reply }>();
  private readonly outbound = new Map<string, Promise<net.Socket>>();
  private readonly sockets = new Set<net.Socket>();
  private closed = false;
  /** Aborted by close(), so no handler's bounded wait outlives the endpoint; every request being handled waits on it, so many listeners are normal. */
  private readonly closing = (() => {
    const c = new AbortController();
    setMaxListeners(0, c.signal);
    return c;
  })();

  private constructor(
    readonly name: string,
    private readonly localHost: string,
    private readonly udp: dgram.Socket,
    private readonly tcp: net.Server,
    private readonly onRequest: RequestHandler,
  ) {
    super();
    udp.on('message', (buf, rinfo) => this.receive(buf, 'udp', { host: rinfo.address, port: rinfo.port }));
    udp.on('error', (err) => this.emit('transport-error', err));
    tcp.on('connection', (socket) => this.attach(socket));
    tcp.on('error', (err) => this.emit('transport-error', err));
  }

  /** Binds UDP and TCP on the same port number (a free one unless `port` is given). */
  static async listen(opts: { name: string; host?: '127.0.0.1'; port?: number; onRequest: RequestHandler }): Promise<SipEndpoint> {
    const host = opts.host ?? '127.0.0.1';
    for (let attempt = 1; ; attempt++) {
      const udp = dgram.createSocket('udp4');
      try {
        await withDeadline(
          new Promise<void>((resolve, reject) => {
            udp.once('error', reject);
            udp.bind(opts.port ?? 0, host, () => resolve());
          }),
          SOCKET_OP_BOUND_MS,
          `UDP bind of SIP endpoint ${opts.name}`,
        );
      } catch (err) {
        udp.close();
        throw new XfedError(`SIP endpoint ${opts.name} cannot bind UDP ${addr(host, opts.port ?? 0)}: ${(err as Error).message}`, { cause: err });
      }
      const port = udp.address().port;
      const tcp = net.createServer();
      try {
        await withDeadline(
          new Promise<void>((resolve, reject) => {
            tcp.once('error', reject);
            tcp.listen(port, host, () => resolve());
          }),
          SOCKET_OP_BOUND_MS,
          `TCP listen of SIP endpoint ${opts.name}`,
        );
      } catch (err) {
        udp.close();
        tcp.close();
        // The UDP port was free but its TCP twin is taken: try another pair.
        if (opts.port === undefined && (err as NodeJS.ErrnoException).code === 'EADDRINUSE' && attempt < 20) continue;
        throw new XfedError(`SIP endpoint ${opts.name} cannot listen on TCP ${addr(host, port)}: ${(err as Error).message}`, { cause: err });
      }
      return new SipEndpoint(opts.name, host, udp, tcp, opts.onRequest);
    }
  }

  get host(): string {
    return this.localHost;
  }

  get port(): number {
    return this.udp.address().port;
  }

  target(transport: SipTransport = 'udp'): SipTarget {
    return { host: this.host, port: this.port, transport };
  }

  contactUri(user?: string, transport: SipTransport = 'udp'): string {
    return `sip:${user ? `${user}@` : ''}${addr(this.host, this.port)}${transport === 'tcp' ? ';transport=tcp' : ''}`;
  }

  /**
   * Sends a request as a UAC and resolves with its final response. Adds the top Via (with rport),
   * Max-Forwards when absent, and Content-Length; the caller owns every other header.
   */
  async request(target: SipTarget, req: Omit<SipRequest, 'kind'> | SipRequest, opts?: { timeoutMs?: number }): Promise<SipResponse> {
    if (this.closed) throw new XfedError(`SIP endpoint ${this.name} is closed; cannot send ${req.method}`);
    const headers = req.headers.clone();
    const branch = newBranch();
    const via = { transport: target.transport.toUpperCase(), host: this.host, port: this.port, params: { branch, rport: '' } };
    headers.prepend('Via', formatVia(via));
    if (!headers.has('Max-Forwards')) headers.set('Max-Forwards', '70');
    const msg: SipRequest = { kind: 'request', method: req.method, uri: req.uri, headers, body: req.body };
    const key = `${branch} ${cseqMethod(headers) ?? req.method.toUpperCase()}`;
    const timeoutMs = opts?.timeoutMs ?? 8_000;
    let tx!: ClientTx;
    const final = new Promise<SipResponse>((resolve, reject) => {
      tx = { method: req.method, resolve, reject, provisional: false };
    });
    this.clientTxs.set(key, tx);
    const what = `the final response to ${req.method} ${req.uri} from ${target.transport}:${addr(target.host, target.port)}`;
    // Raced with `final` so that close() ends a request still connecting.
    const sent = this.send(target, msg).then(() => {
      if (target.transport === 'udp') this.retransmit(key, tx, target, msg, T1);
      return final;
    });
    try {
      return await withDeadline(Promise.race([final, sent]), timeoutMs, what);
    } finally {
      clearTimeout(tx.timer);
      this.clientTxs.delete(key);
    }
  }

  /** Closes both listeners and every TCP connection; requests still waiting reject. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closing.abort();
    for (const tx of this.clientTxs.values()) {
      clearTimeout(tx.timer);
      tx.reject(new XfedError(`SIP endpoint ${this.name} closed before ${tx.method} got a final response`));
    }
    this.clientTxs.clear();
    for (const s of this.sockets) s.destroy();
    await withDeadline(
      Promise.all([new Promise<void>((r) => this.udp.close(() => r())), new Promise<void>((r) => this.tcp.close(() => r()))]),
      SOCKET_OP_BOUND_MS,
      `SIP endpoint ${this.name} to close`,
    );
  }

  // Timer E: T1 doubling up to T2; after a provisional response, every T2 (RFC 3261 17.1.2.2).
  private retransmit(key: string, tx: ClientTx, target: SipTarget, msg: SipRequest, interval: number): void {
    tx.timer = setTimeout(() => {
      if (this.clientTxs.get(key) !== tx || this.closed) return;
      void this.send(target, msg).catch((err: Error) => this.emit('transport-error', err));
      this.retransmit(key, tx, target, msg, tx.provisional ? T2 : Math.min(interval * 2, T2));
    }, interval);
  }

  private async send(target: SipTarget, msg: SipMessage, socket?: net.Socket): Promise<void> {
    if (this.closed) return; // late answers of handlers that outlived close()
    const buf = serializeSipMessage(msg);
    const remote = addr(target.host, target.port);
    if (target.transport === 'udp') {
      this.trace('out', 'udp', addr(this.host, this.port), remote, msg);
      this.udp.send(buf, target.port, target.host, (err) => {
        if (err) this.emit('transport-error', err);
      });
      return;
    }
    const conn = socket ?? (await this.connection(target));
    this.trace('out', 'tcp', addr(conn.localAddress ?? this.host, conn.localPort ?? 0), remote, msg);
    conn.write(buf);
  }

  // One outbound connection per target, reused until it closes.
  private connection(target: SipTarget): Promise<net.Socket> {
    const key = addr(target.host, target.port);
    let pending = this.outbound.get(key);
    if (!pending) {
      pending = new Promise<net.Socket>((resolve, reject) => {
        const socket = net.connect({ host: target.host, port: target.port });
        this.attach(socket);
        socket.once('connect', () => resolve(socket));
        socket.once('error', (err) => reject(new XfedError(`SIP TCP connection to ${key} failed: ${err.message}`, { cause: err })));
        socket.once('close', () => {
          if (this.outbound.get(key) === pending) this.outbound.delete(key);
          reject(new XfedError(`SIP TCP connection to ${key} closed`));
        });
      });
      pending.catch(() => undefined);
      this.outbound.set(key, pending);
    }
    return pending;
  }

  // Frames a TCP byte stream by Content-Length (RFC 3261 18.3), within SIP_LIMITS: a message
  // must be whole within the header and body bounds, and within PARTIAL_MESSAGE_BOUND_MS of its
  // first byte (a drip or a stall holds nothing for ever).
  private attach(socket: net.Socket): void {
    this.sockets.add(socket);
    let buffered: Buffer = Buffer.alloc(0);
    let stall: NodeJS.Timeout | undefined;
    const remote = () => ({ host: socket.remoteAddress ?? '?', port: socket.remotePort ?? 0 });
    socket.on('error', (err) => this.emit('transport-error', err));
    socket.on('close', () => {
      clearTimeout(stall);
      this.sockets.delete(socket);
    });
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        let cut: ReturnType<typeof takeSipFrame>;
        try {
          cut = takeSipFrame(buffered);
        } catch (err) {
          // A stream that lost its framing cannot be resynchronised; a request too large to
          // read is still answered when its head can be.
          this.malformed(buffered, 'tcp', remote(), (err as Error).message);
          socket.removeAllListeners('data');
          if (err instanceof SipTooLarge && this.answerTooLarge(buffered, remote(), socket, err.message)) socket.end(() => socket.destroy());
          else socket.destroy();
          return;
        }
        if (!cut) break;
        buffered = cut.rest;
        this.receive(cut.frame, 'tcp', remote(), socket);
      }
      if (buffered.length > SIP_LIMITS.headerBytes + SIP_LIMITS.bodyBytes) {
        this.malformed(buffered, 'tcp', remote(), `no complete SIP message in ${buffered.length} bytes`);
        socket.destroy();
        return;
      }
      clearTimeout(stall);
      stall = undefined;
      if (buffered.some((b) => b !== 0x0d && b !== 0x0a)) {
        stall = setTimeout(() => {
          this.malformed(buffered, 'tcp', remote(), `a SIP message left unfinished for ${PARTIAL_MESSAGE_BOUND_MS} ms`);
          socket.destroy();
        }, PARTIAL_MESSAGE_BOUND_MS);
        stall.unref();
      }
    });
  }

  /** Answers 513 when the head of the message is a request that can be answered; says whether it was. */
  private answerTooLarge(buf: Buffer, remote: { host: string; port: number }, socket: net.Socket, why: string): boolean {
    const head = parseSipHeadLeniently(buf.subarray(0, SIP_LIMITS.headerBytes));
    if (head?.kind !== 'request' || head.method === 'ACK' || !REQUIRED.every((h) => head.headers.has(h)) || !stampVia(head, remote)) return false;
    this.trace('in', 'tcp', this.localOf('tcp', socket), addr(remote.host, remote.port), head);
    this.answer(head, { status: 513, headers: { Warning: `399 ${this.host} "${warningText(why)}"` } }, 'tcp', remote, socket);
    return true;
  }

  private receive(buf: Buffer, transport: SipTransport, remote: { host: string; port: number }, socket?: net.Socket): void {
    let msg: SipMessage;
    try {
      msg = parseSipMessage(buf);
    } catch (err) {
      const head = parseSipHeadLeniently(buf);
      if (head?.kind === 'request' && REQUIRED.every((h) => head.headers.has(h)) && head.method !== 'ACK' && stampVia(head, remote)) {
        this.trace('in', transport, this.localOf(transport, socket), addr(remote.host, remote.port), head);
        const status = err instanceof SipTooLarge ? 513 : 400;
        this.answer(head, { status, headers: { Warning: `399 ${this.host} "${warningText((err as Error).message)}"` } }, transport, remote, socket);
      } else {
        this.malformed(buf, transport, remote, (err as Error).message);
      }
      return;
    }
    this.trace('in', transport, this.localOf(transport, socket), addr(remote.host, remote.port), msg);
    if (msg.kind === 'response') this.onResponse(msg);
    else this.onIncoming(msg, transport, remote, socket).catch((err: unknown) => this.emit('transport-error', err));
  }

  private onResponse(res: SipResponse): void {
    const top = res.headers.get('Via');
    let branch: string | undefined;
    try {
      branch = top ? parseVia(top).params.branch : undefined;
    } catch {
      return;
    }
    const tx = this.clientTxs.get(`${branch} ${cseqMethod(res.headers)}`);
    if (!tx) return; // a stray or late response: traced above, nothing waits for it
    if (res.status < 200) tx.provisional = true;
    else tx.resolve(res);
  }

  private async onIncoming(req: SipRequest, transport: SipTransport, remote: { host: string; port: number }, socket?: net.Socket): Promise<void> {
    const missing = REQUIRED.filter((h) => !req.headers.has(h));
    if (missing.length > 0 || !stampVia(req, remote)) {
      const error = missing.length > 0 ? `missing ${missing.join(', ')}` : 'malformed Via';
      if (req.headers.has('Via') && req.method !== 'ACK' && !missing.includes('CSeq')) {
        this.answer(req, { status: 400, headers: { Warning: `399 ${this.host} "${error}"` } }, transport, remote, socket);
      } else {
        this.emit('malformed', { transport, remote: addr(remote.host, remote.port), error, raw: serializeSipMessage(req).toString('utf8') });
      }
      return;
    }
    if (req.method === 'ACK') return; // never answered (RFC 3261 17.1.1.3)
    const key = serverTxKey(req);
    const now = Date.now();
    // Kept in arrival order: the expired ones are at the front (a full scan per request costs O(n) under load).
    for (const [k, v] of this.serverTxs) {
      if (now - v.at <= SERVER_TX_LINGER_MS) break;
      this.serverTxs.delete(k);
    }
    const known = this.serverTxs.get(key);
    if (known) {
      // A retransmission: resend the answer, or absorb it while the handler still works.
      if (known.reply) this.sendReply({ ...known.reply, socket: socket ?? known.reply.socket });
      return;
    }
    const entry: { at: number; reply?: Reply } = { at: now };
    this.serverTxs.set(key, entry);
    let init: SipResponseInit;
    try {
      const work = Promise.resolve(this.onRequest({ request: req, transport, remote }));
      init = await withDeadline(work, HANDLER_BOUND_MS, `the ${this.name} handler for ${req.method}`, this.closing.signal);
    } catch (err) {
      init = { status: 500, headers: { Warning: `399 ${this.host} "${warningText((err as Error).message)}"` } };
    }
    if (this.closed) return;
    entry.reply = this.answer(req, init, transport, remote, socket);
    try {
      init.afterSend?.();
    } catch (err) {
      this.emit('transport-error', err);
    }
  }

  private answer(req: SipRequest, init: SipResponseInit, transport: SipTransport, remote: { host: string; port: number }, socket?: net.Socket): Reply {
    const reply: Reply = { response: buildResponse(req, init), transport, remote, socket };
    this.sendReply(reply);
    return reply;
  }

  // UDP answers go where the top Via says (received/rport); TCP answers on the same connection.
  private sendReply(reply: Reply): void {
    if (reply.transport === 'tcp') {
      if (reply.socket && !reply.socket.destroyed)
        this.send({ ...reply.remote, transport: 'tcp' }, reply.response, reply.socket).catch((err: unknown) => this.emit('transport-error', err));
      return;
    }
    let dest = reply.remote;
    try {
      const via = parseVia(reply.response.headers.get('Via') ?? '');
      const port = Number(via.params.rport) || via.port || 5060;
      dest = { host: via.params.received || via.host, port };
    } catch {
      // fall back to the source address
    }
    this.send({ ...dest, transport: 'udp' }, reply.response).catch((err: unknown) => this.emit('transport-error', err));
  }

  private localOf(transport: SipTransport, socket?: net.Socket): string {
    return transport === 'tcp' && socket ? addr(socket.localAddress ?? this.host, socket.localPort ?? 0) : addr(this.host, this.port);
  }

  private trace(direction: 'in' | 'out', transport: SipTransport, local: string, remote: string, message: SipMessage): void {
    const t: SipTrace = { at: Date.now(), hrtime: performance.now(), direction, transport, local, remote, endpoint: this.name, message };
    this.emit('trace', t);
  }

  /** Records a message that was made up locally (no route), so traces still tell the story. */
  traceSynthetic(direction: 'in' | 'out', message: SipMessage, why: string): void {
    const t: SipTrace = {
      at: Date.now(),
      hrtime: performance.now(),
      direction,
      transport: 'udp',
      local: addr(this.host, this.port),
      remote: '-',
      endpoint: this.name,
      message,
      synthetic: why,
    };
    this.emit('trace', t);
  }

  private malformed(buf: Buffer, transport: SipTransport, remote: { host: string; port: number }, error: string): void {
    const m: SipMalformed = { transport, remote: addr(remote.host, remote.port), error, raw: buf.subarray(0, 4096).toString('utf8') };
    this.emit('malformed', m);
  }
}

function cseqMethod(headers: SipHeaders): string | undefined {
  return headers.get('CSeq')?.trim().split(/\s+/)[1]?.toUpperCase();
}

function warningText(s: string): string {
  return s.replace(/["\\\r\n]/g, ' ');
}

// RFC 3581: a top Via asking for rport learns the source port; a mismatched host gets received.
function stampVia(req: SipRequest, remote: { host: string; port: number }): boolean {
  try {
    const via = parseVia(req.headers.get('Via') ?? '');
    if ('rport' in via.params) {
      via.params.rport = String(remote.port);
      via.params.received = remote.host;
    } else if (via.host !== remote.host) {
      via.params.received = remote.host;
    }
    req.headers.shift('Via');
    req.headers.prepend('Via', formatVia(via));
    return true;
  } catch {
    return false;
  }
}

// Transactions are matched by branch and method (RFC 3261 17.2.3); old peers without the magic
// cookie by Call-ID, CSeq and From-tag.
function serverTxKey(req: SipRequest): string {
  const method = cseqMethod(req.headers) ?? req.method.toUpperCase();
  const branch = parseVia(req.headers.get('Via') ?? '').params.branch;
  if (branch?.startsWith('z9hG4bK')) return `${branch} ${method}`;
  let fromTag = '';
  try {
    fromTag = parseNameAddr(req.headers.get('From') ?? '').params.tag ?? '';
  } catch {
    // no tag: still unique enough with Call-ID and CSeq
  }
  return `${req.headers.get('Call-ID')} ${req.headers.get('CSeq')} ${fromTag}`;
}

/** RFC 3261 8.2.6: a response copies Via, From, To (plus a tag), Call-ID and CSeq. */
export function buildResponse(req: SipRequest, init: SipResponseInit): SipResponse {
  const headers = new SipHeaders();
  for (const via of req.headers.getAll('Via')) headers.append('Via', via);
  headers.set('From', req.headers.get('From') ?? '');
  let to = req.headers.get('To') ?? '';
  if (init.status > 100 && !hasTag(to)) to = `${to};tag=${init.toTag ?? newTag()}`;
  headers.set('To', to);
  headers.set('Call-ID', req.headers.get('Call-ID') ?? '');
  headers.set('CSeq', req.headers.get('CSeq') ?? '');
  for (const [name, value] of Object.entries(init.headers ?? {})) {
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  const body = init.body ?? '';
  if (init.contentType) headers.set('Content-Type', init.contentType);
  else if (body && !headers.has('Content-Type')) headers.set('Content-Type', 'text/plain');
  return { kind: 'response', status: init.status, reason: init.reason ?? reasonPhrase(init.status), headers, body };
}

function hasTag(nameAddr: string): boolean {
  try {
    return parseNameAddr(nameAddr).params.tag !== undefined;
  } catch {
    return /;\s*tag=/i.test(nameAddr);
  }
}

/** A request with the headers every UAC request needs; From gets a tag when it has none. */
export function buildRequest(o: {
  method: string;
  uri: string;
  from: string;
  to: string;
  callId: string;
  cseq: number;
  contact?: string;
  headers?: Record<string, string | string[] | undefined>;
  body?: string;
  contentType?: string;
}): SipRequest {
  const headers = new SipHeaders();
  headers.set('From', hasTag(o.from) ? o.from : `${o.from};tag=${newTag()}`);
  headers.set('To', o.to);
  headers.set('Call-ID', o.callId);
  headers.set('CSeq', `${o.cseq} ${o.method}`);
  if (o.contact) headers.set('Contact', o.contact);
  for (const [name, value] of Object.entries(o.headers ?? {})) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  const body = o.body ?? '';
  if (o.contentType) headers.set('Content-Type', o.contentType);
  return { kind: 'request', method: o.method, uri: o.uri, headers, body };
}
