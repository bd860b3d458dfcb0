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
 * lines and the SIP side's events. At most `limit` items are kept (past it the oldest tenth
 * goes); marks are absolute, so they stay valid when old items are dropped.
 */
export class Inbox<T> {
  private readonly items: T[] = [];
  private dropped = 0;
  /** Positions no claiming wait has taken, in order: a claiming wait looks only at these. */
  private readonly unclaimedAt = new Set<number>();
  private readonly waiters = new Set<Waiter<T>>();

  constructor(private readonly limit = Number.POSITIVE_INFINITY) {}

  push(item: T): void {
    const index = this.mark();
    this.items.push(item);
    let taken = false;
    for (const w of this.waiters) {
      if (index < w.since || (w.claim && taken) || !w.match(item)) continue;
      this.waiters.delete(w);
      taken ||= w.claim;
      w.resolve(item);
    }
    if (!taken) this.unclaimedAt.add(index);
    // Dropped a tenth at a time: shifting a long array at every push would cost a copy per item.
    if (this.items.length > this.limit) this.drop(this.items.length - Math.floor(this.limit * 0.9));
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
    return [...this.unclaimedAt].map((i) => this.items[i - this.dropped]!);
  }

  async waitFor(match: (item: T) => boolean, opts: InboxWait): Promise<T> {
    const since = opts.since ?? 0;
    const claim = opts.claim ?? false;
    const kept = claim ? this.takeKept(match, since) : this.findKept(match, since);
    if (kept.found) return kept.item;
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

  private findKept(match: (item: T) => boolean, since: number): { found: true; item: T } | { found: false } {
    for (let i = Math.max(since, this.dropped); i < this.mark(); i++) {
      const item = this.items[i - this.dropped]!;
      if (match(item)) return { found: true, item };
    }
    return { found: false };
  }

  private takeKept(match: (item: T) => boolean, since: number): { found: true; item: T } | { found: false } {
    for (const i of this.unclaimedAt) {
      const item = this.items[i - this.dropped]!;
      if (i < since || !match(item)) continue;
      this.unclaimedAt.delete(i);
      return { found: true, item };
    }
    return { found: false };
  }

  private drop(n: number): void {
    this.items.splice(0, n);
    this.dropped += n;
    // Positions are kept in ascending order: the dropped ones are at the front.
    for (const i of this.unclaimedAt) {
      if (i >= this.dropped) break;
      this.unclaimedAt.delete(i);
    }
  }
}
