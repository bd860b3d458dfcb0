import type { Client } from '@xmpp/client';
import xml from '@xmpp/xml';
import type { Element } from '@xmpp/xml';
import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { setTimeout as pause } from 'node:timers/promises';
import type { Socket } from 'node:net';
import { XfedError } from '../errors.js';
import { withDeadline } from '../infra/deadline.js';
import { Inbox } from '../infra/inbox.js';
import type { Endpoint } from '../infra/endpoint.js';
import { readBounded } from './bounded-transport.js';
import { STANZAS_NS } from './stanza-errors.js';
import { trustTestCa } from './trust.js';

export { xml };
export type { Element };

export interface ReceivedStanza {
  at: number;
  stanza: Element;
}

export interface ConnectOptions {
  /** Bare JID of the account. */
  jid: string;
  password: string;
  /** Where to connect (the server's c2s endpoint as seen from here). */
  endpoint: Endpoint;
  /** PEM certificates that the client trusts for this server (the test CA or a self-signed cert). */
  trustPem: string;
  resource?: string;
  /** Fetch the roster and send initial presence, so Prosody routes presence and subscriptions here. */
  available?: boolean;
  timeoutMs?: number;
  /** What a failed login names, as the suite wrote it: the endpoint, the CA file, where the password came from. */
  names?: { endpoint?: string; ca?: string; password?: string };
  /** Log in again when the session drops (a restarted server), within these bounds; without it a drop ends the session. */
  reconnect?: ReconnectPolicy;
}

/**
 * Bounds of logging in again after a drop. @xmpp/client's own reconnect module would retry every
 * second for ever, behind a test's back; this one says what happened and gives up in time.
 */
export interface ReconnectPolicy {
  attempts: number;
  /** Pause before the first attempt; it doubles after each failed one, up to `maxDelayMs`. */
  firstDelayMs: number;
  maxDelayMs: number;
  /** Bound on one attempt: a server that accepts the connection while it starts may not answer yet. */
  attemptMs: number;
  /** Bound on the whole reconnection, pauses included. */
  totalMs: number;
}

/** What happened to a session after its login: it dropped, came back, or was given up. */
export type SessionEvent =
  | { kind: 'dropped'; at: number; reason: string }
  | { kind: 'reconnected'; at: number; attempts: number; downMs: number }
  | { kind: 'lost'; at: number; attempts: number; reason: string };

/** A wait or a send of a user whose session dropped: the verdict of a check that needed it. */
export class SessionDropped extends XfedError {}

const ROSTER_NS = 'jabber:iq:roster';

export type StanzaMatcher = (stanza: Element) => boolean;

/**
 * A logged-in XMPP user over @xmpp/client. Keeps every stanza it receives; `waitFor` takes the
 * first one (already received and not yet taken, or still to come) that matches, within a deadline.
 */
export class XmppUser implements AsyncDisposable {
  // Bounded: a session that lives for hours (a watch) receives presence no check takes.
  private readonly inbox = new Inbox<ReceivedStanza>(2_000);
  /** Aborted at stop(): pending waits end at once instead of holding their timers. */
  private readonly stopped = new AbortController();
  /** Set while the session is down: since when, and why its stream ended. */
  private down: SessionDropped | undefined;
  private lastError: Error | undefined;
  private readonly dropWatchers = new Set<(err: SessionDropped) => void>();
  private readonly sessionListeners = new Set<(e: SessionEvent) => void>();
  /** The last presence broadcast (no `to`), sent again after a reconnect. */
  private broadcast: Element | undefined;

  private constructor(
    private readonly xmpp: Client,
    readonly jid: string,
    private readonly untrust: () => void,
    private readonly opts: ConnectOptions,
  ) {
    xmpp.on('stanza', (stanza: Element) => this.inbox.push({ at: Date.now(), stanza }));
    // Every pending wait listens on this signal; many concurrent waits are normal, not a leak.
    setMaxListeners(0, this.stopped.signal);
    xmpp.on('error', (err: Error) => {
      this.lastError = err;
    });
    // Only what went wrong in the session that drops says why it dropped.
    xmpp.on('online', () => {
      this.lastError = undefined;
    });
    xmpp.on('disconnect', () => {
      if (!this.stopped.signal.aborted && !this.down) void this.recover();
    });
  }

  static async connect(opts: ConnectOptions): Promise<XmppUser> {
    const [local, domain] = opts.jid.split('@') as [string, string];
    // Empty: the system's roots only (a real server with a publicly issued certificate).
    const untrust = opts.trustPem ? trustTestCa(domain, opts.trustPem) : () => undefined;
    // Loaded here, not at the top: `xfed validate` and `--help` never open a session.
    const { client } = await import('@xmpp/client');
    const xmpp = client({
      service: `xmpp://${opts.endpoint.host}:${opts.endpoint.port}`,
      domain,
      username: local,
      password: opts.password,
      resource: opts.resource ?? `xfed-${randomUUID().slice(0, 8)}`,
    });
    // A server xfed does not control (a lab's Edge) is read through bounds (bounded-xml.ts).
    readBounded(xmpp);
    // The reconnect module would retry forever behind a test's back.
    xmpp.reconnect.stop();
    let lastError: Error | undefined;
    xmpp.on('error', (err: Error) => {
      lastError = err;
    });
    xmpp.on('connect', () => {
      // 40 ms stalls come from Nagle plus delayed ACK.
      // At 'connect' the socket is still the plain TCP one; the option stays on it under TLS.
      (xmpp as unknown as { socket?: Socket }).socket?.setNoDelay?.(true);
    });
    answerRosterPushes(xmpp, opts.jid);
    const timeoutMs = opts.timeoutMs ?? 10_000;
    const endpoint = opts.names?.endpoint ?? `${opts.endpoint.host}:${opts.endpoint.port}`;
    try {
      const address = await withDeadline(xmpp.start(), timeoutMs, `login of ${opts.jid} on ${endpoint}`);
      const user = new XmppUser(xmpp, address.toString(), untrust, opts);
      if (opts.available) await user.announce(timeoutMs);
      return user;
    } catch (err) {
      untrust();
      await xmpp.stop().catch(() => undefined);
      throw new XfedError(
        `cannot log in as ${opts.jid} on ${endpoint}${opts.names?.ca ? ` (ca: ${opts.names.ca})` : ''}: ${loginFailure(err, lastError, opts)}`,
      );
    }
  }

  /** Why the session is down, while it is (dropped and not, or not yet, logged in again). */
  get dropped(): SessionDropped | undefined {
    return this.down;
  }

  /** Follows the session: drops, reconnections, and a session given up. */
  onSession(listener: (e: SessionEvent) => void): () => void {
    this.sessionListeners.add(listener);
    return () => this.sessionListeners.delete(listener);
  }

  /** Fetches the roster and sends presence, so the server routes presence and subscriptions here. */
  private async announce(timeoutMs: number): Promise<void> {
    await withDeadline(this.xmpp.iqCaller.get(xml('query', { xmlns: ROSTER_NS })), timeoutMs, `roster of ${this.bare}`);
    await this.xmpp.send(this.broadcast ?? xml('presence'));
  }

  /**
   * The stream ended without stop(): every wait in flight fails with the reason, then the user logs
   * in again within the policy's bounds and sends its presence again, or the session is given up.
   */
  private async recover(): Promise<void> {
    const at = Date.now();
    const reason = streamEnd(this.lastError);
    const dropped = new SessionDropped(`the session of ${this.bare} dropped at ${new Date(at).toISOString()}: ${reason}`);
    this.down = dropped;
    for (const watcher of this.dropWatchers) watcher(dropped);
    this.tell({ kind: 'dropped', at, reason });
    const policy = this.opts.reconnect;
    if (!policy) return;
    const started = performance.now();
    const left = () => policy.totalMs - (performance.now() - started);
    let delay = policy.firstDelayMs;
    let attempts = 0;
    let last = reason;
    while (attempts < policy.attempts && left() > 0 && !this.stopped.signal.aborted) {
      // The backoff's pacing between attempts, not a wait for an event; stop() ends it.
      const ok = await pause(Math.min(delay, left()), undefined, { signal: this.stopped.signal }).then(
        () => true,
        () => false,
      );
      if (!ok || left() <= 0) break;
      attempts++;
      delay = Math.min(delay * 2, policy.maxDelayMs);
      this.lastError = undefined;
      try {
        await withDeadline(this.relogin(), Math.min(policy.attemptMs, left()), `the login of ${this.bare} again`, this.stopped.signal);
        this.down = undefined;
        this.tell({ kind: 'reconnected', at: Date.now(), attempts, downMs: Date.now() - at });
        return;
      } catch (err) {
        const reported = this.lastError as Error | undefined;
        last = reported && reported !== err ? `${(err as Error).message} (${reported.message})` : (err as Error).message;
        // A socket still connecting or open is dropped, so the next attempt starts clean; with an
        // error, so that a connect still pending settles. After STARTTLS it is @xmpp/tls's
        // wrapper, whose `socket` is the TLS socket.
        const socket = (this.xmpp as unknown as { socket?: (Socket & { socket?: Socket | null }) | null }).socket;
        (typeof socket?.destroy === 'function' ? socket : socket?.socket)?.destroy(new Error(`attempt ${attempts} ended`));
      }
    }
    if (this.stopped.signal.aborted) return;
    this.down = new SessionDropped(`${dropped.message}; not logged in again after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${last}`);
    this.tell({ kind: 'lost', at: Date.now(), attempts, reason: last });
  }

  private async relogin(): Promise<void> {
    const { service, domain, lang } = this.xmpp.options as { service: string; domain: string; lang?: string };
    let settle: { online: () => void; error: (err: Error) => void } | undefined;
    const online = new Promise<void>((resolve, reject) => {
      settle = { online: () => resolve(), error: reject };
      this.xmpp.on('online', settle.online);
      this.xmpp.on('error', settle.error);
    });
    online.catch(() => undefined);
    try {
      await this.xmpp.connect(service);
      await this.xmpp.open({ domain, lang });
      await online;
    } finally {
      this.xmpp.off('online', settle!.online);
      this.xmpp.off('error', settle!.error);
    }
    if (this.opts.available) await this.announce(this.opts.timeoutMs ?? 10_000);
  }

  private tell(e: SessionEvent): void {
    for (const listener of this.sessionListeners) listener(e);
  }

  /** Calls `listener` for every stanza this user sends or receives (for message ladders). */
  onTraffic(listener: (direction: 'in' | 'out', stanza: Element) => void): () => void {
    const out = (el: Element) => {
      if (el.is('message') || el.is('presence') || el.is('iq')) listener('out', el);
    };
    const inbound = (el: Element) => listener('in', el);
    this.xmpp.on('send', out);
    this.xmpp.on('stanza', inbound);
    return () => {
      this.xmpp.off('send', out);
      this.xmpp.off('stanza', inbound);
    };
  }

  /**
   * Answers matching stanzas the moment they arrive, before any later stanza is handled (as a
   * client that replies in order does). Replies skip @xmpp/client's asynchronous middleware,
   * which would let its automatic ping answer overtake them.
   */
  respondOnArrival(match: StanzaMatcher, reply: (stanza: Element) => Element | undefined): () => void {
    const listener = (el: Element) => {
      if (!match(el)) return;
      const answer = reply(el);
      if (answer) void (this.xmpp as unknown as { write(s: string): Promise<void> }).write(answer.toString());
    };
    this.xmpp.on('element', listener);
    return () => this.xmpp.off('element', listener);
  }

  get bare(): string {
    return this.jid.split('/')[0]!;
  }

  /** Everything received so far, in order. */
  /**
   * A position in what this user receives: what arrives next is at `mark()`. Absolute, so it stays
   * right when the oldest stanzas are dropped (a session keeps its newest 2,000).
   */
  mark(): number {
    return this.inbox.mark();
  }

  /** The stanzas received from `since` (a `mark()`) on, or every one kept; oldest first. */
  received(since?: number): ReceivedStanza[] {
    return this.inbox.since(since);
  }

  async send(stanza: Element): Promise<void> {
    if (this.down) throw this.down;
    if (stanza.is('presence') && stanza.attrs.to === undefined && stanza.attrs.type !== 'probe') this.broadcast = stanza;
    await this.xmpp.send(stanza);
  }

  /** Sends a chat message and returns its id. */
  async sendMessage(to: string, body: string, attrs: Record<string, string> = {}): Promise<string> {
    const id = attrs.id ?? randomUUID();
    await this.send(xml('message', { type: 'chat', to, id, ...attrs }, xml('body', {}, body)));
    return id;
  }

  async sendPresence(attrs: Record<string, string> = {}, ...children: Element[]): Promise<void> {
    await this.send(xml('presence', attrs, ...children));
  }

  /** Sends an IQ and waits for its result; an error reply rejects with the stanza error. */
  async iq(type: 'get' | 'set', to: string | undefined, child: Element, timeoutMs = 5_000): Promise<Element> {
    if (this.down) throw this.down;
    return this.xmpp.iqCaller.request(xml('iq', { type, ...(to ? { to } : {}) }, child), timeoutMs);
  }

  /** XEP-0199 ping; resolves with the round-trip time in ms. */
  async ping(to: string, timeoutMs = 5_000): Promise<number> {
    const started = performance.now();
    await this.iq('get', to, xml('ping', { xmlns: 'urn:xmpp:ping' }), timeoutMs);
    return performance.now() - started;
  }

  /** The first stanza (received earlier and not yet taken, or still to come) that matches; it is taken. */
  waitFor(match: StanzaMatcher, timeoutMs: number, what = 'a matching stanza', signal?: AbortSignal): Promise<ReceivedStanza> {
    // A session that drops ends the wait with the reason: its check's verdict says so.
    if (this.down) return Promise.reject(this.down);
    const dropped = new AbortController();
    const watcher = (err: SessionDropped) => dropped.abort(err);
    this.dropWatchers.add(watcher);
    return this.inbox
      .waitFor((r) => match(r.stanza), {
        timeoutMs,
        what: `${what} at ${this.bare}`,
        signal: AbortSignal.any([...(signal ? [signal] : []), this.stopped.signal, dropped.signal]),
        claim: true,
      })
      .catch((err: unknown) => {
        throw dropped.signal.aborted ? (dropped.signal.reason as SessionDropped) : err;
      })
      .finally(() => this.dropWatchers.delete(watcher));
  }

  async stop(): Promise<void> {
    this.untrust();
    this.stopped.abort();
    await withDeadline(this.xmpp.stop(), 5_000, `logout of ${this.jid}`).catch(() => undefined);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/** Matchers for the common cases. */
export const stanza = {
  message: (from?: string) => (s: Element) => s.is('message') && s.attrs.type !== 'error' && (from === undefined || bareOf(s.attrs.from) === from),
  error: (kind?: 'message' | 'presence' | 'iq') => (s: Element) => (kind ? s.is(kind) : true) && s.attrs.type === 'error',
  presence: (type: string | undefined, from?: string) => (s: Element) =>
    s.is('presence') && s.attrs.type === type && (from === undefined || bareOf(s.attrs.from) === from),
};

/**
 * RFC 6121 section 2.1.6: a client acknowledges a roster push with an empty result, and ignores
 * (here: refuses) one whose `from` is neither absent nor the user's own bare JID or domain.
 */
function answerRosterPushes(xmpp: Client, jid: string): void {
  const own = new Set([jid.toLowerCase(), jid.split('@').pop()!.toLowerCase()]);
  xmpp.iqCallee.set(ROSTER_NS, 'query', (ctx: { stanza: Element }) => {
    const from = ctx.stanza.attrs.from as string | undefined;
    return from === undefined || own.has(from.toLowerCase()) ? true : xml('error', { type: 'cancel' }, xml('service-unavailable', { xmlns: STANZAS_NS }));
  });
}

/** Why a login failed, with the fix where the reason points at one. */
function loginFailure(err: unknown, lastError: Error | undefined, opts: ConnectOptions): string {
  const sasl = [err, lastError].find((e): e is Error & { condition: string; text?: string } => (e as Error | undefined)?.name === 'SASLError');
  if (sasl) {
    const hint = sasl.condition === 'not-authorized' && opts.names?.password ? `: check the password in ${opts.names.password}` : '';
    return `${sasl.condition}${sasl.text ? ` (${sasl.text})` : ''}${hint}`;
  }
  const message = (err as Error).message;
  return lastError && lastError !== err ? `${message} (${lastError.message})` : message;
}

/** Why a stream ended, from the last error it reported. */
function streamEnd(err: Error | undefined): string {
  if (!err) return 'the server closed the stream';
  const xmppError = err as Error & { condition?: string; text?: string };
  if (err.name === 'StreamError') return `stream error ${xmppError.condition}${xmppError.text ? ` (${xmppError.text})` : ''}`;
  return (err as NodeJS.ErrnoException).code ?? err.message;
}

export function bareOf(jid: string | undefined): string | undefined {
  return jid?.split('/')[0];
}

/** The defined condition of a stanza error (`service-unavailable`, ...), or undefined. */
export function errorCondition(s: Element): string | undefined {
  const error = s.getChild('error');
  return error
    ?.getChildElements()
    .find((c) => c.attrs.xmlns === STANZAS_NS && c.getName() !== 'text')
    ?.getName();
}

/** The condition and text of a stanza error (`undefined-condition` when it names none). */
export function stanzaError(s: Element): { condition: string; text?: string } {
  const text = s.getChild('error')?.getChildText('text', STANZAS_NS) ?? undefined;
  return { condition: errorCondition(s) ?? 'undefined-condition', ...(text ? { text } : {}) };
}
