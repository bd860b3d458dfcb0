import { client, xml, type Client } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { Socket } from 'node:net';
import { XfedError } from '../errors.js';
import { withDeadline } from '../infra/deadline.js';
import { Inbox } from '../infra/inbox.js';
import type { Endpoint } from '../infra/endpoint.js';
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
}

export type StanzaMatcher = (stanza: Element) => boolean;

/**
 * A logged-in XMPP user over @xmpp/client. Keeps every stanza it receives; `waitFor` takes the
 * first one (already received and not yet taken, or still to come) that matches, within a deadline.
 */
export class XmppUser implements AsyncDisposable {
  private readonly inbox = new Inbox<ReceivedStanza>();
  /** Aborted at stop(): pending waits end at once instead of holding their timers. */
  private readonly stopped = new AbortController();

  private constructor(
    private readonly xmpp: Client,
    readonly jid: string,
    private readonly untrust: () => void,
  ) {
    xmpp.on('stanza', (stanza: Element) => this.inbox.push({ at: Date.now(), stanza }));
    // Every pending wait listens on this signal; many concurrent waits are normal, not a leak.
    setMaxListeners(0, this.stopped.signal);
  }

  static async connect(opts: ConnectOptions): Promise<XmppUser> {
    const [local, domain] = opts.jid.split('@') as [string, string];
    // Empty: the system's roots only (a real server with a publicly issued certificate).
    const untrust = opts.trustPem ? trustTestCa(domain, opts.trustPem) : () => undefined;
    const xmpp = client({
      service: `xmpp://${opts.endpoint.host}:${opts.endpoint.port}`,
      domain,
      username: local,
      password: opts.password,
      resource: opts.resource ?? `xfed-${randomUUID().slice(0, 8)}`,
    });
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
    const timeoutMs = opts.timeoutMs ?? 10_000;
    try {
      const address = await withDeadline(xmpp.start(), timeoutMs, `login of ${opts.jid} on ${opts.endpoint.host}:${opts.endpoint.port}`);
      const user = new XmppUser(xmpp, address.toString(), untrust);
      if (opts.available) {
        await withDeadline(xmpp.iqCaller.get(xml('query', { xmlns: 'jabber:iq:roster' })), timeoutMs, `roster of ${opts.jid}`);
        await xmpp.send(xml('presence'));
      }
      return user;
    } catch (err) {
      untrust();
      await xmpp.stop().catch(() => undefined);
      const reason = lastError && lastError !== err ? `${(err as Error).message} (${lastError.message})` : (err as Error).message;
      throw new XfedError(`cannot log in as ${opts.jid}: ${reason}`);
    }
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
  received(): ReceivedStanza[] {
    return this.inbox.since();
  }

  async send(stanza: Element): Promise<void> {
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
    return this.inbox.waitFor((r) => match(r.stanza), {
      timeoutMs,
      what: `${what} at ${this.bare}`,
      signal: signal ? AbortSignal.any([signal, this.stopped.signal]) : this.stopped.signal,
      claim: true,
    });
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

export function bareOf(jid: string | undefined): string | undefined {
  return jid?.split('/')[0];
}

const STANZAS_NS = 'urn:ietf:params:xml:ns:xmpp-stanzas';

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
