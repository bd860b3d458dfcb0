import { formatMs } from '../report/format.js';
import { percentile } from '../report/percentile.js';
import { OVERALL, type CheckState, type WatchedCheck, type WatchRecord } from './records.js';

export interface Outage {
  check: string;
  from: string;
  /** When it ended; absent while it goes on (at the end of the log). */
  to?: string;
  ms: number;
  /** What the first failing result saw. */
  actual?: string;
  /** For the whole federation: the check that failed first. */
  first?: string;
}

export interface CheckSummary {
  id: string;
  title: string;
  /** Met time over judged (met + unmet) time; undefined before any judged result. */
  availability?: number;
  results: Record<CheckState, number>;
  latencyP50?: number;
  latencyP95?: number;
  outages: Outage[];
  /** Time in each state, ms (gaps between watches excluded). */
  time: Record<CheckState, number>;
}

export interface WatchSummary {
  suite: string;
  from?: string;
  to?: string;
  /** Watched time, gaps excluded. */
  watchedMs: number;
  rounds: number;
  /** The federation as a whole: unmet while any check is. */
  overall: CheckSummary;
  checks: CheckSummary[];
  marks: number;
  /** Times the log shows no watch (between a watch that ended and one that resumed it). */
  gaps: { from: string; to: string }[];
  stopReason?: string;
}

interface Track {
  state?: CheckState;
  since?: number;
  summary: CheckSummary;
  latencies: number[];
  /** Latencies seen, of which `latencies` keeps a sample. */
  seen?: number;
  open?: Outage;
}

/**
 * The summary of a watch, from its records as they come (the live watch's end) or read back
 * (`xfed timeline`): per check and for the federation, its outages and their lengths and its
 * availability over the watched time. A state holds from its transition to the next; the time
 * between a watch's last record and the start of the watch that resumed it is a gap, counted nowhere.
 */
export class SummaryBuilder {
  private readonly tracks = new Map<string, Track>();
  private suite = '';
  private first: number | undefined;
  private last: number | undefined;
  private watched = 0;
  private rounds = 0;
  private marks = 0;
  private readonly gaps: { from: string; to: string }[] = [];
  private stopReason: string | undefined;
  private checks: WatchedCheck[] = [];

  ingest(r: WatchRecord): void {
    const at = Date.parse(r.at);
    if (r.type === 'start' || r.type === 'part') {
      const start = r.type === 'start' ? r : r.start;
      this.suite = start.suite;
      this.checks = start.checks;
      for (const c of start.checks) this.track(c.id, c.title);
      if (r.type === 'start' && r.resumed && this.last !== undefined) {
        // What happened between the watch that ended and this one is unknown: close every state there.
        this.closeStates(this.last);
        if (at > this.last) this.gaps.push({ from: new Date(this.last).toISOString(), to: r.at });
        for (const t of this.tracks.values()) if (t.state) t.since = at;
      }
      if (r.type === 'part') {
        for (const [check, standing] of Object.entries(r.standings)) {
          const t = this.track(check);
          if (!t.state) {
            t.state = standing.state;
            t.since = Math.max(Date.parse(standing.since), at);
          }
        }
      }
      this.stopReason = undefined;
    }
    // A part's head repeats what is known; it observes nothing (and may be written at a resumed start, after the gap).
    if (r.type !== 'part') this.see(at, r.type === 'start' && r.resumed);
    if (r.type === 'round') {
      this.rounds++;
      for (const result of r.results) {
        const t = this.track(result.check);
        t.summary.results[result.state]++;
        if (result.latencyMs !== undefined && result.state === 'met') sample(t, result.latencyMs);
      }
    } else if (r.type === 'transition') {
      const t = this.track(r.check);
      if (t.state !== undefined && t.since !== undefined) t.summary.time[t.state] += Math.max(0, at - t.since);
      if (t.open) {
        t.open.to = r.at;
        t.open.ms = r.outageMs ?? Math.max(0, at - Date.parse(t.open.from));
        t.open = undefined;
      }
      if (r.to === 'unmet') {
        t.open = { check: r.check, from: r.at, ms: 0, ...(r.actual ? { actual: r.actual } : {}), ...(r.first ? { first: r.first } : {}) };
        t.summary.outages.push(t.open);
      }
      t.state = r.to;
      t.since = at;
    } else if (r.type === 'mark') this.marks++;
    else if (r.type === 'stop') this.stopReason = r.reason;
  }

  result(): WatchSummary {
    const end = this.last ?? 0;
    const finish = (t: Track): CheckSummary => {
      const time = { ...t.summary.time };
      if (t.state !== undefined && t.since !== undefined) time[t.state] += Math.max(0, end - t.since);
      const outages = t.summary.outages.map((o) => (o.to ? { ...o } : { ...o, ms: Math.max(0, end - Date.parse(o.from)) }));
      const judged = time.met + time.unmet;
      return {
        ...t.summary,
        time,
        outages,
        ...(judged > 0 ? { availability: time.met / judged } : {}),
        ...(t.latencies.length > 0 ? { latencyP50: percentile(t.latencies, 50)!, latencyP95: percentile(t.latencies, 95)! } : {}),
      };
    };
    const overall = this.track(OVERALL, 'the federation (every check)');
    const ids = this.checks.map((c) => c.id);
    const checks = [...this.tracks].filter(([id]) => id !== OVERALL).sort(([a], [b]) => order(ids, a) - order(ids, b));
    return {
      suite: this.suite,
      ...(this.first !== undefined ? { from: new Date(this.first).toISOString() } : {}),
      ...(this.last !== undefined ? { to: new Date(this.last).toISOString() } : {}),
      watchedMs: this.watched,
      rounds: this.rounds,
      overall: finish(overall),
      checks: checks.map(([, t]) => finish(t)),
      marks: this.marks,
      gaps: this.gaps,
      ...(this.stopReason ? { stopReason: this.stopReason } : {}),
    };
  }

  private see(at: number, resumed: boolean): void {
    if (this.first === undefined) this.first = at;
    if (this.last !== undefined && !resumed) this.watched += Math.max(0, at - this.last);
    this.last = this.last === undefined ? at : Math.max(this.last, at);
  }

  private closeStates(at: number): void {
    for (const t of this.tracks.values()) {
      if (t.state !== undefined && t.since !== undefined) t.summary.time[t.state] += Math.max(0, at - t.since);
      t.since = undefined;
    }
  }

  private track(id: string, title?: string): Track {
    let t = this.tracks.get(id);
    if (!t) {
      t = {
        summary: { id, title: title ?? id, results: { met: 0, unmet: 0, error: 0 }, outages: [], time: { met: 0, unmet: 0, error: 0 } },
        latencies: [],
      };
      this.tracks.set(id, t);
    } else if (title) t.summary.title = title;
    return t;
  }
}

/** Latencies kept per check for the percentiles: past it, a uniform sample (reservoir) of all seen, so a watch of days stays flat. */
const LATENCY_SAMPLES = 20_000;

function sample(t: Track, latencyMs: number): void {
  t.seen = (t.seen ?? 0) + 1;
  if (t.latencies.length < LATENCY_SAMPLES) t.latencies.push(latencyMs);
  else {
    const i = Math.floor(Math.random() * t.seen);
    if (i < LATENCY_SAMPLES) t.latencies[i] = latencyMs;
  }
}

const order = (ids: readonly string[], id: string) => {
  const i = ids.indexOf(id);
  return i < 0 ? ids.length : i;
};

export function summarize(records: Iterable<WatchRecord>): WatchSummary {
  const b = new SummaryBuilder();
  for (const r of records) b.ingest(r);
  return b.result();
}

// Rounded down, as the timeline's page does: 99.996 % is no 100.00 %, and both show the same figure.
const pct = (a: number | undefined) => (a === undefined ? '   -   ' : `${(a === 1 ? '100' : (Math.floor(a * 10000) / 100).toFixed(2)).padStart(6)}%`);

/** The summary as the terminal prints it when a watch stops, and `xfed timeline` after it. */
export function formatWatchSummary(s: WatchSummary, o: { paint?: (state: CheckState | 'muted', text: string) => string } = {}): string {
  const paint = o.paint ?? ((_: string, text: string) => text);
  const lines: string[] = [];
  const span = s.from && s.to ? `${s.from.replace('T', ' ').slice(0, 19)} to ${s.to.replace('T', ' ').slice(0, 19)} UTC` : 'nothing watched';
  lines.push(
    `watch of ${s.suite}: ${span}, ${formatMs(s.watchedMs)} watched, ${s.rounds} round${s.rounds === 1 ? '' : 's'}${s.stopReason ? `, ended: ${s.stopReason}` : ''}`,
  );
  const outages = s.overall.outages;
  const down = outages.reduce((sum, o) => sum + o.ms, 0);
  lines.push(
    `  federation: ${pct(s.overall.availability).trim()} available, ${outages.length} outage${outages.length === 1 ? '' : 's'}${outages.length ? ` (${formatMs(down)} in all)` : ''}`,
  );
  for (const o of outages) lines.push(paint('unmet', `    ${outageLine(o)}${o.first ? `; first failing: ${o.first}` : ''}`));
  if (s.gaps.length > 0)
    lines.push(
      paint('muted', `  not watched: ${s.gaps.map((g) => `${g.from.slice(11, 19)}-${g.to.slice(11, 19)}`).join(', ')} (between a watch and its --resume)`),
    );
  const width = Math.max(8, ...s.checks.map((c) => c.id.length));
  lines.push(paint('muted', `  ${'check'.padEnd(width)}  avail.   met unmet error  outages  down      p50 latency`));
  for (const c of s.checks) {
    const downMs = c.outages.reduce((sum, o) => sum + o.ms, 0);
    const state: CheckState = c.outages.some((o) => !o.to)
      ? 'unmet'
      : c.results.error > 0 && c.results.unmet === 0
        ? 'error'
        : c.outages.length
          ? 'unmet'
          : 'met';
    const row = `  ${c.id.padEnd(width)}  ${pct(c.availability)} ${String(c.results.met).padStart(5)} ${String(c.results.unmet).padStart(5)} ${String(c.results.error).padStart(5)}  ${String(c.outages.length).padStart(7)}  ${(downMs ? formatMs(downMs) : '-').padEnd(8)}  ${c.latencyP50 !== undefined ? formatMs(c.latencyP50) : '-'}`;
    lines.push(paint(state, row));
    for (const o of c.outages) lines.push(paint('muted', `    ${outageLine(o)}${o.actual ? `: ${o.actual}` : ''}`));
  }
  if (s.marks > 0) lines.push(paint('muted', `  ${s.marks} operator mark${s.marks === 1 ? '' : 's'}`));
  return lines.join('\n');
}

function outageLine(o: Outage): string {
  const t = (iso: string) => iso.slice(11, 19);
  return `${t(o.from)} - ${o.to ? t(o.to) : 'still down'}  ${formatMs(o.ms)}`;
}
