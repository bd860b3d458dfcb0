import { percentile } from './percentile.js';
import type { CheckResult, RunResults, Summary } from './results.js';

/** One side of a compared check. */
export interface CheckSide {
  met: boolean;
  error?: string;
  notPossible?: string;
  /** The check did not run in this run, and why. */
  skipped?: string;
  expected: string;
  actual: string;
  durationMs: number;
  latencyMs?: number;
}

/** A check matched by phase + id; `base` or `next` is missing when only one run has it. */
export interface ComparedCheck {
  phase: string;
  id: string;
  title: string;
  kind: string;
  base?: CheckSide;
  next?: CheckSide;
}

export interface LatencyChange {
  phase: string;
  id: string;
  title: string;
  baseMs: number;
  nextMs: number;
  deltaMs: number;
  /** Undefined when the base latency was 0. */
  deltaPct?: number;
}

/** A statistic in both runs; missing where a run measured no latency at all. */
export interface LatencyStat {
  base?: number;
  next?: number;
  deltaMs?: number;
  deltaPct?: number;
}

export interface RunInfo {
  suite: string;
  file: string;
  target: RunResults['target'];
  runtime: RunResults['runtime'];
  startedAt: string;
  status: RunResults['status'];
  durationMs: number;
  summary: Summary;
}

export interface Comparison {
  base: RunInfo;
  next: RunInfo;
  /** Met in base, unmet (or not runnable) in next. */
  regressed: ComparedCheck[];
  fixed: ComparedCheck[];
  stillFailing: ComparedCheck[];
  /** Met in both. */
  stillMet: ComparedCheck[];
  /** Not run in one run or both (filtered out, or the run stopped before it): neither a regression nor a fix. */
  notRun: ComparedCheck[];
  /** Only in next. */
  new: ComparedCheck[];
  /** Only in base. */
  gone: ComparedCheck[];
  latency: {
    /** Checks with a latency in both runs, in the next run's order. */
    checks: LatencyChange[];
    /** How many latencies each run measured (all its checks, matched or not). */
    samples: { base: number; next: number };
    p50: LatencyStat;
    p95: LatencyStat;
  };
  /** Why the two runs may not compare like for like (other suite, target, an unfinished run). */
  notes: string[];
  hasRegression: boolean;
}

const key = (c: CheckResult): string => `${c.phase}\u0000${c.id}`;

/** Compares two runs check by check (matched by phase + id) and by latency. */
export function compareResults(base: RunResults, next: RunResults): Comparison {
  const baseChecks = new Map(allChecks(base).map((c) => [key(c), c]));
  const nextChecks = new Map(allChecks(next).map((c) => [key(c), c]));
  const c: Comparison = {
    base: info(base),
    next: info(next),
    regressed: [],
    fixed: [],
    stillFailing: [],
    stillMet: [],
    notRun: [],
    new: [],
    gone: [],
    latency: { checks: [], samples: { base: 0, next: 0 }, p50: {}, p95: {} },
    notes: notes(base, next),
    hasRegression: false,
  };
  for (const [k, n] of nextChecks) {
    const b = baseChecks.get(k);
    const compared: ComparedCheck = { phase: n.phase, id: n.id, title: n.title, kind: n.kind, next: side(n) };
    if (!b) {
      c.new.push(compared);
      continue;
    }
    compared.base = side(b);
    if (b.skipped !== undefined || n.skipped !== undefined) c.notRun.push(compared);
    else if (b.met) (n.met ? c.stillMet : c.regressed).push(compared);
    else (n.met ? c.fixed : c.stillFailing).push(compared);
    if (b.latencyMs !== undefined && n.latencyMs !== undefined) {
      c.latency.checks.push({ phase: n.phase, id: n.id, title: n.title, baseMs: b.latencyMs, nextMs: n.latencyMs, ...delta(b.latencyMs, n.latencyMs) });
    }
  }
  for (const [k, b] of baseChecks) {
    if (!nextChecks.has(k)) c.gone.push({ phase: b.phase, id: b.id, title: b.title, kind: b.kind, base: side(b) });
  }
  const latencies = (r: RunResults) => allChecks(r).flatMap((x) => (x.latencyMs === undefined ? [] : [x.latencyMs]));
  const bl = latencies(base);
  const nl = latencies(next);
  c.latency.samples = { base: bl.length, next: nl.length };
  c.latency.p50 = stat(percentile(bl, 50), percentile(nl, 50));
  c.latency.p95 = stat(percentile(bl, 95), percentile(nl, 95));
  c.hasRegression = c.regressed.length > 0;
  return c;
}

function allChecks(r: RunResults): CheckResult[] {
  return r.phases.flatMap((p) => p.checks.map((c) => (c.phase === p.name ? c : { ...c, phase: p.name })));
}

function side(c: CheckResult): CheckSide {
  const s: CheckSide = { met: c.met, expected: c.expected, actual: c.actual, durationMs: c.durationMs };
  if (c.error !== undefined) s.error = c.error;
  if (c.notPossible !== undefined) s.notPossible = c.notPossible;
  if (c.skipped !== undefined) s.skipped = c.skipped;
  if (c.latencyMs !== undefined) s.latencyMs = c.latencyMs;
  return s;
}

function delta(base: number, next: number): { deltaMs: number; deltaPct?: number } {
  const deltaMs = next - base;
  return base === 0 ? { deltaMs } : { deltaMs, deltaPct: (deltaMs / base) * 100 };
}

function stat(base: number | undefined, next: number | undefined): LatencyStat {
  if (base === undefined || next === undefined) return { base, next };
  return { base, next, ...delta(base, next) };
}

function info(r: RunResults): RunInfo {
  return {
    suite: r.suite.name,
    file: r.suite.file,
    target: r.target,
    runtime: r.runtime,
    startedAt: r.startedAt,
    status: r.status,
    durationMs: r.durationMs,
    summary: r.summary,
  };
}

function notes(base: RunResults, next: RunResults): string[] {
  const out: string[] = [];
  if (base.suite.name !== next.suite.name) out.push(`the runs are of different suites: ${base.suite.name} and ${next.suite.name}`);
  if (base.target !== next.target || base.runtime !== next.runtime) {
    out.push(`base ran on ${base.target}/${base.runtime}, next on ${next.target}/${next.runtime}: latencies may not compare`);
  }
  for (const [which, r] of [
    ['base', base],
    ['next', next],
  ] as const) {
    if (r.status !== 'complete')
      out.push(
        `the ${which} run is ${r.status}${r.reason ? ` (${r.reason})` : ''}: checks it did not reach count as not run (or ${which === 'base' ? 'new' : 'gone'}, in files that do not list them)`,
      );
  }
  return out;
}
