import { withDeadline } from '../../src/infra/deadline.js';

/** Items pushed by events, taken by predicate; a take waits (bounded) for one that has not come yet. */
export class Inbox<T> {
  private items: T[] = [];
  private waiters: Array<{ pred: (t: T) => boolean; resolve: (t: T) => void }> = [];

  push(item: T): void {
    const i = this.waiters.findIndex((w) => w.pred(item));
    if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(item);
    else this.items.push(item);
  }

  async next(pred: (t: T) => boolean, what: string, ms = 5_000): Promise<T> {
    const i = this.items.findIndex(pred);
    if (i >= 0) return this.items.splice(i, 1)[0]!;
    let waiter!: { pred: (t: T) => boolean; resolve: (t: T) => void };
    const p = new Promise<T>((resolve) => {
      waiter = { pred, resolve };
      this.waiters.push(waiter);
    });
    try {
      return await withDeadline(p, ms, what);
    } finally {
      this.waiters = this.waiters.filter((w) => w !== waiter);
    }
  }

  /** What has arrived and matches, without waiting. */
  peek(pred: (t: T) => boolean): T[] {
    return this.items.filter(pred);
  }
}
