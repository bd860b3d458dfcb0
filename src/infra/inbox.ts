import { withDeadline } from './deadline.js';

export interface InboxWait {
  timeoutMs: number;
  /** What is awaited, for the timeout's message: `the echo of erin@contoso.test`. */
  what: string;
  /** Ends the wait early (its owner no longer needs the answer). */
  signal?: AbortSignal;
  /** Only items from this mark on count (default: every item kept). */
  since?: number;
  /**
   * Take the item: a claimed item answers no later claiming wait, so two waits for "the next
   * message" get two messages. Without it a wait only looks.
   */
  claim?: boolean;
}

interface Waiter<T> {
  match: (item: T) => boolean;
  since: number;
  claim: boolean;
  resolve: (item: T) => void;
}

/**
 * Keeps what arrived, in order, and lets callers wait for the first match (already there or still
 * to come) within a deadline: the one waiting primitive behind a user's stanzas, a server's log
 * lines and the SIP side's events. Marks are absolute, so they stay valid when old items are
 * dropped past `limit`.
 */
export class Inbox<T> {
  private readonly items: T[] = [];
  private dropped = 0;
  private readonly claimed = new Set<number>();
  private readonly waiters = new Set<Waiter<T>>();

  constructor(private readonly limit = Number.POSITIVE_INFINITY) {}

  push(item: T): void {
    const index = this.mark();
    this.items.push(item);
    if (this.items.length > this.limit) this.drop(this.items.length - this.limit);
    let taken = false;
    for (const w of this.waiters) {
      if (index < w.since || (w.claim && taken) || !w.match(item)) continue;
      this.waiters.delete(w);
      if (w.claim) {
        taken = true;
        this.claimed.add(index);
      }
      w.resolve(item);
    }
  }

  /** The position after the newest item: what arrives next is at `mark()`. */
  mark(): number {
    return this.dropped + this.items.length;
  }

  /** The items kept from `mark` on (default: all kept), in order. */
  since(mark = 0): T[] {
    return this.items.slice(Math.max(0, mark - this.dropped));
  }

  /** What arrived and no claiming wait has taken, in order. */
  unclaimed(): T[] {
    return this.items.filter((_, i) => !this.claimed.has(i + this.dropped));
  }

  async waitFor(match: (item: T) => boolean, opts: InboxWait): Promise<T> {
    const since = opts.since ?? 0;
    const claim = opts.claim ?? false;
    for (let i = Math.max(since, this.dropped); i < this.mark(); i++) {
      const item = this.items[i - this.dropped]!;
      if ((claim && this.claimed.has(i)) || !match(item)) continue;
      if (claim) this.claimed.add(i);
      return item;
    }
    let waiter: Waiter<T> | undefined;
    try {
      return await withDeadline(
        new Promise<T>((resolve) => {
          waiter = { match, since, claim, resolve };
          this.waiters.add(waiter);
        }),
        opts.timeoutMs,
        opts.what,
        opts.signal,
      );
    } finally {
      if (waiter) this.waiters.delete(waiter);
    }
  }

  private drop(n: number): void {
    this.items.splice(0, n);
    this.dropped += n;
    for (const i of this.claimed) if (i < this.dropped) this.claimed.delete(i);
  }
}
