import { Inbox } from './inbox.js';

/** A server log as it grows: marks, and waits on lines to come, without copying it. */
export interface LogView {
  /** A position in the log: what is written next is at `mark()`. */
  mark(): number;
  since(mark: number): string[];
  /** The first line from `since` on that matches, already there or still to come, within the deadline. */
  waitFor(pattern: RegExp, opts: { timeoutMs: number; what?: string; since?: number }): Promise<string>;
}

/**
 * Collects a server's output as lines (from a pipe or a container log stream) so tests, startup
 * checks and checks can read them and wait on them. Keeps the newest `limit` lines; marks stay
 * absolute, so a wait from a mark never sees a line twice or misses one.
 */
export class LineLog implements LogView {
  private readonly lines: Inbox<string>;
  private partial = '';
  private readonly listeners = new Set<(line: string) => void>();

  // 5,000 lines: what a check or a diagnosis reads is seconds old, and a watch's servers log for hours.
  constructor(limit = 5_000) {
    this.lines = new Inbox(limit);
  }

  write(chunk: string | Buffer): void {
    const text = this.partial + chunk.toString();
    const parts = text.split(/\r?\n/);
    this.partial = parts.pop() ?? '';
    for (const line of parts) this.add(line);
  }

  /** Flushes a trailing line without a newline (at process exit). */
  end(): void {
    if (this.partial) this.add(this.partial);
    this.partial = '';
  }

  all(): string[] {
    return this.lines.since();
  }

  mark(): number {
    return this.lines.mark();
  }

  since(mark: number): string[] {
    return this.lines.since(mark);
  }

  onLine(listener: (line: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The first line from `since` on (default: any kept) matching `pattern`, already seen or still to come. */
  waitFor(pattern: RegExp, opts: { timeoutMs: number; what?: string; since?: number }): Promise<string> {
    return this.lines.waitFor((l) => pattern.test(l), {
      timeoutMs: opts.timeoutMs,
      what: opts.what ?? `a log line matching ${pattern}`,
      ...(opts.since !== undefined ? { since: opts.since } : {}),
    });
  }

  private add(line: string): void {
    this.lines.push(line);
    for (const l of this.listeners) l(line);
  }
}
