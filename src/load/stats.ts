import { build, type Histogram } from 'hdr-histogram-js';
import type { LatencyStats } from './results.js';

/** Below this share of the rate asked, the rate counts as not reached (the run's verdict, the generator's notice). */
export const RATE_TOLERANCE = 0.95;

/**
 * Every IM of a load run carries its sequence number and the time it was due (epoch ms) in its
 * body, so whoever sees it (the echo, the SfB user's MESSAGE on the SIP side) can time it from
 * the schedule, not from when the generator got round to sending it.
 */
const STAMP = /^xfed-load (\d+) (\d+)$/;

export function stamp(seq: number, dueMs: number): string {
  return `xfed-load ${seq} ${Math.round(dueMs)}`;
}

/** When the IM with this body was due (epoch ms); undefined when it is not a load IM. */
export function stampOf(body: string): number | undefined {
  const m = STAMP.exec(body.trim());
  return m ? Number(m[2]) : undefined;
}

/** The sequence number of a load IM's body; undefined when it is not one. */
export function seqOf(body: string): number | undefined {
  const m = STAMP.exec(body.trim());
  return m ? Number(m[1]) : undefined;
}

/** Latency samples in an HDR histogram (3 significant digits), recorded in microseconds, read in ms. */
export class Latencies {
  private readonly h: Histogram = build({ numberOfSignificantValueDigits: 3 });

  record(ms: number): void {
    this.h.recordValue(Math.max(0, Math.round(ms * 1000)));
  }

  get count(): number {
    return this.h.totalCount;
  }

  /** The figures so far; zeros when there were no samples. */
  stats(): LatencyStats {
    const h = this.h;
    if (h.totalCount === 0) return { count: 0, min: 0, mean: 0, p50: 0, p95: 0, p99: 0, max: 0 };
    // The histogram keeps 3 significant digits; more in the figures would be noise.
    const ms = (us: number) => Number((us / 1000).toPrecision(3));
    return {
      count: h.totalCount,
      min: ms(h.minNonZeroValue === Number.MAX_SAFE_INTEGER ? 0 : Math.min(h.minNonZeroValue, h.maxValue)),
      mean: ms(h.mean),
      // A percentile is its bucket's highest equivalent value, which can pass the largest sample.
      p50: ms(Math.min(h.getValueAtPercentile(50), h.maxValue)),
      p95: ms(Math.min(h.getValueAtPercentile(95), h.maxValue)),
      p99: ms(Math.min(h.getValueAtPercentile(99), h.maxValue)),
      max: ms(h.maxValue),
    };
  }

  reset(): void {
    this.h.reset();
  }
}

/** What an echo was, for the accounting. */
export type EchoOutcome =
  | { kind: 'delivered'; latencyMs: number; reordered: boolean }
  | { kind: 'duplicate' }
  /** Not an IM of this run (or from before it). */
  | { kind: 'unknown' };

interface Pending {
  due: number;
  /** The user+contact pair it went on, for the order within that pair. */
  pair: number;
}

/**
 * The accounting of a run's IMs: what was sent, what came back, what came back twice or out of
 * order (per user+contact, by sequence number), and what never came back. Memory is one entry
 * per IM in flight and one number per pair, never the stanzas.
 */
export class DeliveryLedger {
  private readonly pending = new Map<number, Pending>();
  /** Sequence numbers delivered; kept to tell a duplicate from an unknown IM. */
  private readonly done = new Set<number>();
  /** Per pair, the highest sequence number echoed so far. */
  private readonly highest = new Map<number, number>();
  sent = 0;
  delivered = 0;
  duplicates = 0;
  reordered = 0;
  /** Sent, then answered with a stanza error: not awaited any more, not counted lost. */
  failed = 0;

  send(seq: number, pair: number, dueMs: number): void {
    this.pending.set(seq, { due: dueMs, pair });
    this.sent++;
  }

  echo(seq: number, atMs: number): EchoOutcome {
    const p = this.pending.get(seq);
    if (!p) {
      if (!this.done.has(seq)) return { kind: 'unknown' };
      this.duplicates++;
      return { kind: 'duplicate' };
    }
    this.pending.delete(seq);
    this.done.add(seq);
    this.delivered++;
    const top = this.highest.get(p.pair) ?? -1;
    const reordered = seq < top;
    if (reordered) this.reordered++;
    else this.highest.set(p.pair, seq);
    return { kind: 'delivered', latencyMs: atMs - p.due, reordered };
  }

  /** An IM answered with an error: it will not be echoed. */
  error(seq: number): boolean {
    const had = this.pending.delete(seq);
    if (had) {
      this.done.add(seq);
      this.failed++;
    }
    return had;
  }

  /** IMs sent and neither echoed nor answered with an error. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** At the end: whatever is still in flight is lost. */
  get lost(): number {
    return this.pending.size;
  }
}

/**
 * The open model's schedule: IM i is due at t0 + i / rate, whatever happened to the ones before.
 * `due(now)` says how many are due by now, so a late timer sends all of them at once.
 */
export class OpenSchedule {
  constructor(
    private readonly t0: number,
    private readonly ratePerS: number,
    private readonly total: number,
  ) {}

  /** When IM i is due (epoch ms). */
  dueAt(i: number): number {
    return this.t0 + (i * 1000) / this.ratePerS;
  }

  /** How many IMs are due by `now` (never more than the total). */
  dueBy(now: number): number {
    if (now < this.t0) return 0;
    return Math.min(this.total, Math.floor(((now - this.t0) * this.ratePerS) / 1000) + 1);
  }
}

/** How many IMs a profile schedules: `rate` per second for `durationMs`. */
export function scheduledCount(rate: number, durationMs: number): number {
  return Math.max(0, Math.floor((rate * durationMs) / 1000));
}

/** Counts by key (`not-authorized`, `remote-server-timeout`, ...), as the results keep them. */
export function countBy(into: Record<string, number>, key: string): void {
  into[key] = (into[key] ?? 0) + 1;
}
