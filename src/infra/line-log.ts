import { withDeadline } from './deadline.js';

/**
 * Collects a server's output as lines (from a pipe or a container log stream) so tests and
 * startup checks can read and wait on them. Keeps the newest `limit` lines.
 */
export class LineLog {
  private readonly lines: string[] = [];
  private partial = '';
  private readonly listeners = new Set<(line: string) => void>();

  constructor(private readonly limit = 50_000) {}

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
    return [...this.lines];
  }

  onLine(listener: (line: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves with the first line (already seen or future) matching `pattern`. */
  async waitFor(pattern: RegExp, timeoutMs: number, what = `a log line matching ${pattern}`): Promise<string> {
    const seen = this.lines.find((l) => pattern.test(l));
    if (seen !== undefined) return seen;
    let off: (() => void) | undefined;
    try {
      return await withDeadline(
        new Promise<string>((resolve) => {
          off = this.onLine((line) => {
            if (pattern.test(line)) resolve(line);
          });
        }),
        timeoutMs,
        what,
      );
    } finally {
      off?.();
    }
  }

  private add(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.limit) this.lines.splice(0, this.lines.length - this.limit);
    for (const l of this.listeners) l(line);
  }
}
