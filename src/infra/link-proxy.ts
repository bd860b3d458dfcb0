import { EventEmitter } from 'node:events';
import net from 'node:net';
import { XfedError } from '../errors.js';
import { withDeadline } from './deadline.js';

export type LinkState = 'up' | 'cut' | 'slow';

/** Bytes the relay holds per direction of one connection before it stops reading the sender. */
const RELAY_BUFFER_MAX = 1024 * 1024;
const UPSTREAM_CONNECT_BOUND_MS = 10_000;

/** A chunk the relay passed on: which connection (numbered from 1), which way, and its bytes. */
export interface LinkData {
  connection: number;
  direction: 'to-upstream' | 'to-client';
  chunk: Buffer;
}

export interface LinkEvent {
  at: number;
  kind: 'connected' | 'refused' | 'closed' | 'upstream-failed';
  remote: string;
  detail?: string;
}

/**
 * A TCP relay on one link of the test network (partner <-> Edge S2S). DNS points peers at it,
 * so the link can be cut (open connections reset, new ones refused), restored, or slowed (every
 * chunk delayed), without touching either server. It only binds the address it is given:
 * loopback, or the host's address on the run's Docker network.
 */
export class LinkProxy extends EventEmitter {
  private state: LinkState = 'up';
  private port = { host: '', port: 0 };
  private delayMs = 0;
  private connections = 0;
  private readonly pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();

  private constructor(
    readonly name: string,
    private readonly server: net.Server,
    private upstream: { host: string; port: number },
  ) {
    super();
  }

  static async start(name: string, listenHost: string, upstream: { host: string; port: number }): Promise<LinkProxy> {
    const server = net.createServer();
    const proxy = new LinkProxy(name, server, upstream);
    server.on('connection', (socket) => proxy.accept(socket));
    await proxy.listen(listenHost, 0);
    const a = server.address();
    if (!a || typeof a === 'string') throw new XfedError(`link proxy ${name} is not listening`);
    proxy.port = { host: a.address, port: a.port };
    return proxy;
  }

  private async listen(host: string, port: number): Promise<void> {
    await withDeadline(
      new Promise<void>((resolve, reject) => {
        this.server.once('error', reject);
        this.server.listen(port, host, () => {
          this.server.off('error', reject);
          resolve();
        });
      }),
      5_000,
      `link proxy ${this.name} to listen on ${host}:${port}`,
    );
  }

  /** Where peers connect (it stays the same across a cut and a restore). */
  get address(): { host: string; port: number } {
    return { ...this.port };
  }

  get current(): { state: LinkState; delayMs: number } {
    return { state: this.state, delayMs: this.delayMs };
  }

  /** Where the relay forwards to (an Edge restarted in a new container has a new address). */
  setUpstream(upstream: { host: string; port: number }): void {
    this.upstream = upstream;
  }

  /** Open connections are reset and the port stops listening, so new ones are refused. */
  /** Returns how many open connections were reset. */
  async cut(): Promise<number> {
    if (this.state === 'cut') return 0;
    this.state = 'cut';
    const reset = this.resetConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    return reset;
  }

  async restore(): Promise<void> {
    const wasCut = this.state === 'cut';
    this.state = 'up';
    this.delayMs = 0;
    if (wasCut) await this.listen(this.port.host, this.port.port);
  }

  slow(delayMs: number): void {
    this.state = 'slow';
    this.delayMs = delayMs;
  }

  /** Drops every open connection, as a network outage or a server restart would. */
  resetConnections(): number {
    const count = this.pairs.size;
    for (const { client, upstream } of this.pairs) {
      client.resetAndDestroy();
      upstream.resetAndDestroy();
    }
    this.pairs.clear();
    return count;
  }

  async stop(): Promise<void> {
    this.resetConnections();
    if (this.server.listening) await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    const remote = `${client.remoteAddress}:${client.remotePort}`;
    if (this.state === 'cut') {
      this.note({ kind: 'refused', remote, detail: 'link cut' });
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(this.upstream);
    const id = ++this.connections;
    const pair = { client, upstream };
    this.pairs.add(pair);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    upstream.once('connect', () => this.note({ kind: 'connected', remote, detail: `${this.upstream.host}:${this.upstream.port}` }));
    // `on`, not `once`: a socket can emit a second error (a reset after a timeout), and an
    // unheard one would end the process.
    let failed = false;
    upstream.on('error', (err) => {
      if (failed) return;
      failed = true;
      this.note({ kind: 'upstream-failed', remote, detail: err.message });
      client.resetAndDestroy();
    });
    client.on('error', () => upstream.destroy());
    // An upstream that neither accepts nor refuses (its packets dropped) holds no client for ever.
    upstream.setTimeout(UPSTREAM_CONNECT_BOUND_MS, () => {
      if (upstream.connecting)
        upstream.destroy(new Error(`no connection to ${this.upstream.host}:${this.upstream.port} within ${UPSTREAM_CONNECT_BOUND_MS} ms`));
    });
    upstream.once('connect', () => upstream.setTimeout(0));
    const end = () => {
      if (!this.pairs.delete(pair)) return;
      this.note({ kind: 'closed', remote });
      client.destroy();
      upstream.destroy();
    };
    client.once('close', end);
    upstream.once('close', end);
    this.relay(client, upstream, id, 'to-upstream');
    this.relay(upstream, client, id, 'to-client');
  }

  /**
   * Every chunk is told as a `data` event (a test reads the bytes on the wire: keep-alives, say).
   * The relay holds at most RELAY_BUFFER_MAX bytes per direction: past it, it stops reading from
   * `from` until `to` has taken them (TCP backpressure reaches the sender), so a peer that sends
   * faster than the other reads, or a slowed link, cannot grow xfed's memory.
   */
  private relay(from: net.Socket, to: net.Socket, connection: number, direction: LinkData['direction']): void {
    let held = 0;
    let unflushed = 0;
    let draining = false;
    // Chunks keep their order under a delay: each waits for the one before it.
    let chain = Promise.resolve();
    const release = (n: number) => {
      held -= n;
      if (held <= RELAY_BUFFER_MAX && from.isPaused() && !from.destroyed) from.resume();
    };
    from.on('data', (chunk: Buffer) => {
      this.emit('data', { connection, direction, chunk } satisfies LinkData);
      held += chunk.length;
      if (held > RELAY_BUFFER_MAX) from.pause();
      const delay = this.state === 'slow' ? this.delayMs : 0;
      chain = chain.then(
        () =>
          new Promise<void>((resolve) => {
            const write = () => {
              const flushed = to.destroyed || to.write(chunk);
              if (flushed && unflushed === 0) release(chunk.length);
              else {
                // Released together once `to` drains: one listener, however many chunks wait.
                unflushed += chunk.length;
                if (!flushed && !draining) {
                  draining = true;
                  to.once('drain', () => {
                    draining = false;
                    const n = unflushed;
                    unflushed = 0;
                    release(n);
                  });
                }
              }
              resolve();
            };
            if (delay > 0) setTimeout(write, delay);
            else write();
          }),
      );
    });
  }

  private note(e: Omit<LinkEvent, 'at'>): void {
    this.emit('link', { at: Date.now(), ...e });
  }
}
