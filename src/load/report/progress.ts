import { stripVTControlCharacters } from 'node:util';
import pc from 'picocolors';
import { formatMs } from '../../report/format.js';
import type { LoadSecond } from '../results.js';
import { formatClock, formatRate, oneLine } from './format.js';

/** Outside a terminal, one line per this many seconds of the run. */
const PLAIN_EVERY_S = 5;

export interface LoadProgressOptions {
  /** A terminal: one line redrawn in place. */
  live: boolean;
  color: boolean;
  write: (s: string) => void;
  /** The run's users, shown as online/users. */
  users?: number;
}

/**
 * The live progress of `xfed load`. In a terminal (`live`): one line redrawn in place each second
 * (elapsed time, users online, IMs sent and delivered per second, the p99 round trip of that second,
 * the errors so far). Elsewhere (CI, a pipe): one line per 5 s of the run with the rates averaged
 * over those seconds and the worst p99 among them, and every notice on its own line.
 */
export class LoadProgress {
  private errors = 0;
  /** Seconds not yet printed in plain mode. */
  private window: LoadSecond[] = [];
  private drawn = false;
  private readonly k: ReturnType<typeof pc.createColors>;

  constructor(private readonly o: LoadProgressOptions) {
    this.k = pc.createColors(o.color);
  }

  second(s: LoadSecond): void {
    this.errors += s.errors;
    if (this.o.live) {
      this.draw(this.line([s]));
      return;
    }
    this.window.push(s);
    if (s.t - this.window[0]!.t + 1 >= PLAIN_EVERY_S) this.flush();
  }

  notice(text: string): void {
    this.o.write(`${this.o.live && this.drawn ? '\r\x1b[2K' : ''}  ! ${oneLine(text)}\n`);
    this.drawn = false;
  }

  /** Prints the seconds not yet shown (plain), or clears the live line for the summary. */
  end(): void {
    if (this.o.live) {
      if (this.drawn) this.o.write('\r\x1b[2K');
      this.drawn = false;
    } else this.flush();
  }

  private flush(): void {
    if (this.window.length === 0) return;
    this.o.write(`${this.line(this.window)}\n`);
    this.window = [];
  }

  /** One line over these seconds: counts per second averaged, the worst p99. */
  private line(seconds: readonly LoadSecond[]): string {
    const k = this.k;
    const last = seconds.at(-1)!;
    const n = seconds.length;
    const sum = (f: (s: LoadSecond) => number) => seconds.reduce((a, s) => a + f(s), 0);
    // A p99 of 0 with echoes delivered is one the engine does not give per second (Tsung, whose
    // per-second figure is a mean, in p50): that mean is shown, named as such.
    const timed = seconds.filter((s) => s.delivered > 0);
    const p99 = Math.max(0, ...timed.map((s) => s.p99));
    const mean = Math.max(0, ...timed.map((s) => s.p50));
    const latency = p99 > 0 ? `p99 ${formatMs(p99)}` : mean > 0 ? `mean ${formatMs(mean)}` : 'p99 -';
    const online = this.o.users !== undefined ? `${last.online}/${this.o.users}` : String(last.online);
    const errors = this.errors > 0 ? k.red(`errors ${this.errors}`) : `errors ${this.errors}`;
    return [
      `  ${k.bold(formatClock(last.t))}`,
      `online ${online}`,
      `sent ${formatRate(sum((s) => s.sent) / n)}`,
      `delivered ${formatRate(sum((s) => s.delivered) / n)}`,
      latency,
      errors,
    ].join('  ');
  }

  private draw(text: string): void {
    // Cut to the terminal's width: a wrapped line would not be redrawn in place. Colour codes take
    // no columns, so the cut is made on the plain text when there is no room.
    const cols = (process.stdout.columns || 80) - 1;
    const plain = stripVTControlCharacters(text);
    this.o.write(`\r\x1b[2K${plain.length > cols ? plain.slice(0, cols) : text}`);
    this.drawn = true;
  }
}
