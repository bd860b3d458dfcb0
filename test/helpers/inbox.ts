import { Inbox as KeptItems } from '../../src/infra/inbox.js';

/** xfed's Inbox with the two shorthands tests use: take the next match, and look at what nobody took. */
export class Inbox<T> extends KeptItems<T> {
  /** Takes the first match, kept or still to come, within `ms`. */
  next(pred: (t: T) => boolean, what: string, ms = 5_000): Promise<T> {
    return this.waitFor(pred, { timeoutMs: ms, what, claim: true });
  }

  /** What has arrived, matches, and was not taken, without waiting. */
  peek(pred: (t: T) => boolean): T[] {
    return this.unclaimed().filter(pred);
  }
}
