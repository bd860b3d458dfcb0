import { XfedError } from '../errors.js';
import { errorCondition, stanza, stanzaError, xml, type Element, type XmppUser } from './client.js';

export interface ImOutcome {
  delivered: boolean;
  /** Milliseconds from send to delivery (or to the error). */
  ms: number;
  /** The delivered message, or the error stanza the sender got back. */
  stanza: Element;
  /** Stanza error condition when not delivered. */
  error?: string;
  errorText?: string;
}

/**
 * Sends one chat message and waits for whichever comes first: its delivery to `to`, or a stanza
 * error for it at `from`. Both are protocol events; the deadline only bounds a silent loss.
 */
export async function sendIm(from: XmppUser, to: XmppUser, body: string, timeoutMs = 5_000): Promise<ImOutcome> {
  const id = `xfed-${Math.random().toString(36).slice(2, 10)}`;
  const started = performance.now();
  // The wait that loses the race is cancelled, so it neither holds a timer nor takes a stanza.
  const done = new AbortController();
  const delivered = to.waitFor((s) => stanza.message(from.bare)(s) && s.attrs.id === id, timeoutMs, `message ${id} from ${from.bare}`, done.signal);
  const bounced = from.waitFor((s) => s.is('message') && s.attrs.type === 'error' && s.attrs.id === id, timeoutMs, `an error for message ${id}`, done.signal);
  delivered.catch(() => undefined);
  bounced.catch(() => undefined);
  let first;
  try {
    await from.sendMessage(to.bare, body, { id });
    first = await Promise.race([delivered.then((r) => ({ ok: true, r })), bounced.then((r) => ({ ok: false, r }))]);
  } finally {
    done.abort();
  }
  const ms = performance.now() - started;
  if (first.ok) return { delivered: true, ms, stanza: first.r.stanza };
  const error = errorCondition(first.r.stanza);
  const errorText = stanzaError(first.r.stanza).text;
  return { delivered: false, ms, stanza: first.r.stanza, ...(error ? { error } : {}), ...(errorText ? { errorText } : {}) };
}

export interface SubscriptionOutcome {
  /** Milliseconds from `subscribe` to the `subscribed` at the subscriber. */
  ms: number;
  /** The contact's presence as the subscriber then saw it. */
  presence: Element;
}

/**
 * `watcher` subscribes to `contact`'s presence; `contact` approves; resolves when the watcher has
 * both `subscribed` and the contact's available presence (RFC 6121 3.1). Both users must be
 * available (roster fetched, initial presence sent).
 */
export async function subscribeAndApprove(watcher: XmppUser, contact: XmppUser, timeoutMs = 5_000): Promise<SubscriptionOutcome> {
  const started = performance.now();
  const done = new AbortController();
  const request = contact.waitFor(stanza.presence('subscribe', watcher.bare), timeoutMs, `a subscription request from ${watcher.bare}`, done.signal);
  const approved = watcher.waitFor(stanza.presence('subscribed', contact.bare), timeoutMs, `'subscribed' from ${contact.bare}`, done.signal);
  const available = watcher.waitFor(stanza.presence(undefined, contact.bare), timeoutMs, `available presence of ${contact.bare}`, done.signal);
  const failure = watcher.waitFor(stanza.error('presence'), timeoutMs, 'a presence error', done.signal);
  for (const p of [request, approved, available, failure]) p.catch(() => undefined);

  const outcome = Promise.race([
    (async () => {
      await request;
      await contact.send(xml('presence', { to: watcher.bare, type: 'subscribed' }));
      await approved;
      const ms = performance.now() - started;
      return { ms, presence: (await available).stanza };
    })(),
    failure.then((f) => {
      throw new XfedError(`presence subscription ${watcher.bare} -> ${contact.bare} failed: ${errorCondition(f.stanza) ?? 'error'}`);
    }),
  ]);
  outcome.catch(() => undefined);
  try {
    await watcher.send(xml('presence', { to: contact.bare, type: 'subscribe' }));
    return await outcome;
  } finally {
    done.abort();
  }
}
