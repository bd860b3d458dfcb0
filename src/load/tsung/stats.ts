import { Latencies } from '../stats.js';
import type { LatencyStats } from '../results.js';

/** A sample statistic of one dump of tsung.log: this interval's count and mean, the run's max and min so far, and its count and mean so far. */
export interface TsungSample {
  readonly count: number;
  readonly mean: number;
  readonly max: number;
  readonly min: number;
  readonly totalMean: number;
  readonly totalCount: number;
}

/** A counter of one dump: this interval's count and the total so far. */
export interface TsungCounter {
  readonly count: number;
  readonly total: number;
}

/** One dump of tsung.log (`# stats: dump at <epoch s>` and its `stats:` lines). */
export interface TsungDump {
  readonly at: number;
  readonly samples: ReadonlyMap<string, TsungSample>;
  readonly counters: ReadonlyMap<string, TsungCounter>;
  /** Sessions running now (Tsung's `users` line). */
  readonly users: number;
}

const DUMP = /^# stats: dump at (\d+)/;
const STAT = /^stats: (\S+) (.*)$/;

/**
 * Reads tsung.log (the text backend): one dump per interval, each a list of `stats:` lines. A
 * sample line has 7 numbers (`count mean stddev max min mean_total count_total`), a counter 2
 * (`count total`), the `users` line 2 (`now max`). Per-node OS figures (`{cpu,"node"}`) are left
 * out: xfed measures the nodes from /proc. A dump cut off at the end of the file is kept as far
 * as it goes; Tsung repeats its last dump at the end, which does not change the totals.
 */
export function parseTsungLog(text: string): TsungDump[] {
  const dumps: TsungDump[] = [];
  let cur: { at: number; samples: Map<string, TsungSample>; counters: Map<string, TsungCounter>; users: number } | undefined;
  for (const line of text.split('\n')) {
    const d = DUMP.exec(line);
    if (d) {
      cur = { at: Number(d[1]), samples: new Map(), counters: new Map(), users: 0 };
      dumps.push(cur);
      continue;
    }
    const m = STAT.exec(line);
    if (!m || !cur) continue;
    const name = m[1]!;
    if (name.startsWith('{')) continue;
    const nums = m[2]!.trim().split(/\s+/).map(Number);
    if (nums.some((x) => !Number.isFinite(x))) continue;
    if (name === 'users') cur.users = nums[0] ?? 0;
    else if (nums.length >= 7) {
      // Tsung's totals are those before this interval: the interval is added here.
      const [count, mean, , max, min, before, beforeCount] = nums as [number, number, number, number, number, number, number];
      const totalCount = beforeCount + count;
      const totalMean = totalCount > 0 ? (before * beforeCount + mean * count) / totalCount : 0;
      cur.samples.set(name, { count, mean, max, min, totalMean, totalCount });
    } else if (nums.length === 2) cur.counters.set(name, { count: nums[0]!, total: nums[1]! });
  }
  return dumps;
}

/** The run's totals: for each statistic, its total in the last dump that has it. */
export function totalsOf(dumps: readonly TsungDump[]): { samples: Map<string, TsungSample>; counters: Map<string, number> } {
  const samples = new Map<string, TsungSample>();
  const counters = new Map<string, number>();
  for (const d of dumps) {
    for (const [k, v] of d.samples) samples.set(k, v);
    for (const [k, v] of d.counters) counters.set(k, v.total);
  }
  return { samples, counters };
}

const SAMPLE = /\{sample,([a-z_][a-z0-9_]*),\s*(\[[^\]]*\]|-?[\d.]+(?:e[-+]?\d+)?)\}/g;

/**
 * Every value of the named samples in tsung-fullstats.log (the `fullstats` backend writes each
 * sample as an Erlang term, `{sample,name,Value}` or `{sample,name,[V1,V2,...]}`), into HDR
 * histograms: Tsung's own log has the mean and max only, these give the percentiles.
 */
export function samplesOf(fullstats: string, names: readonly string[]): Map<string, Latencies> {
  const out = new Map(names.map((n) => [n, new Latencies()] as const));
  for (const m of fullstats.matchAll(SAMPLE)) {
    const h = out.get(m[1]!);
    if (!h) continue;
    const raw = m[2]!;
    const values = raw.startsWith('[') ? raw.slice(1, -1).split(',') : [raw];
    for (const v of values) {
      const x = Number(v.trim());
      if (v.trim() !== '' && Number.isFinite(x)) h.record(x);
    }
  }
  return out;
}

/** Tsung's own figures of a sample (mean, min, max; no percentiles) when the full samples are missing. */
export function latencyFromSample(s: TsungSample | undefined): LatencyStats {
  if (!s || s.totalCount === 0) return { count: 0, min: 0, mean: 0, p50: 0, p95: 0, p99: 0, max: 0 };
  return { count: s.totalCount, min: s.min, mean: s.totalMean, p50: 0, p95: 0, p99: 0, max: s.max };
}
