import { renderLadder } from '../../report/ladder.js';
import type { FlowEvent } from '../../targets/flow.js';
import { OVERALL, type CheckState, type EdgeFacts, type ProbeResult, type RecordOf, type WatchRecord, type WatchStart } from '../records.js';

/**
 * What the timeline page draws, built from a watch's records: compact and bounded whatever the
 * watch's length (4 h at 1 s with 20 checks is 288k results), because the live page fetches it
 * every two seconds and `xfed timeline` embeds it in one file. Times are ms since the epoch.
 */
export interface TimelineData {
  format: typeof TIMELINE_FORMAT;
  /** The watch's settings (of its latest start); absent until a start or part record came. */
  settings?: WatchStart;
  /** The first part of the log these records came from, when it was not the first (the rest is not here). */
  beginsAtPart?: number;
  range: { from: number; to: number };
  /** The last round's number. */
  rounds: number;
  /** When the watch ended, when its last record says so. */
  stopped?: { at: number; reason: string; rounds: number };
  /** The overall lane (check `*`) first, then one per check in the suite's order. */
  lanes: TimelineLane[];
  /** Times the watch was not running, between a record and the `start` that resumed the log. */
  gaps: { from: number; to: number }[];
  marks: { at: number; text: string; source: string }[];
  facts: ({ at: number } & EdgeFacts)[];
  notices: { at: number; text: string }[];
  hooks: { at: number; check: string; to: CheckState; exitCode: number | null; signal?: string; timedOut: boolean; durationMs: number; output: string }[];
  /** How many of each list's middle entries were left out to keep the data bounded (the first and the latest are kept). */
  omitted: { marks: number; facts: number; notices: number; hooks: number };
}

export interface TimelineLane {
  check: string;
  title: string;
  kind?: string;
  phase?: string;
  expected?: string;
  /** The state at the end of the data (`unknown`: not measured since the last gap or stop). */
  state: CheckState | 'unknown';
  /** The last state measured, also when the watch stopped or paused since. */
  last?: CheckState;
  /**
   * Run-length states. A `mixed` span stands for many short ones of a flapping check (when there
   * were too many to draw one by one): `mix` holds the ms spent in each state inside it.
   */
  spans: TimelineSpan[];
  /** Latency per bucket of `width` ms: [bucket start, min, max, average, samples]. */
  latency: { width: number; points: [number, number, number, number, number][] };
  outages: TimelineOutage[];
  /** Outages between the first and the latest ones that were left out (all are in `stats`). */
  outagesOmitted: number;
  stats: {
    /** Time in each state, ms (the state holds from one result to the next). */
    ms: Record<CheckState, number>;
    results: Record<CheckState, number>;
    outages: number;
    downMs: number;
    longestMs: number;
  };
  /** Time met / (met + unmet); error and unknown time count neither way. Null before any of either. */
  availability: number | null;
}

export interface TimelineSpan {
  from: number;
  to: number;
  state: CheckState | 'mixed';
  mix?: Record<CheckState, number>;
}

/** A time the check (or the federation, `*`) was unmet. */
export interface TimelineOutage {
  id: string;
  check: string;
  from: number;
  /** When it left `unmet` (to `met`, or to `error`: it could no longer be judged). */
  to?: number;
  recoveredTo?: CheckState;
  /** Without `to`: still unmet at the end of the data, or the watch stopped or paused while it was. */
  open?: 'ongoing' | 'stopped' | 'gap';
  /** Its length, or for an open one its length so far. */
  ms: number;
  round?: number;
  actual?: string;
  diagnosis?: string;
  /** For the overall lane: the checks that were unmet, and the first of them. */
  failing?: string[];
  first?: string;
  /** The id whose ladder shows this outage's evidence (the first failing check's, for the overall lane). */
  evidence?: string;
}

export const TIMELINE_FORMAT = 'xfed-timeline/1';

const LIMITS = {
  /** Latency buckets per lane: past it the buckets double in width. */
  latencyBuckets: 1500,
  /** Spans per lane: past it short spans merge into mixed ones. */
  spans: 2000,
  /** Outages kept per lane: the first ones and the latest ones. */
  outagesFirst: 100,
  outagesLatest: 400,
  marks: [500, 1500],
  facts: [50, 200],
  notices: [100, 300],
  hooks: [100, 300],
  /** Characters kept of a text from the log (an actual, a diagnosis, a mark, a hook's output). */
  text: 2000,
} as const;

/** Evidence kept for the ladders, by the size of its wire text: past it, the oldest goes first. */
const DEFAULT_EVIDENCE_BUDGET = 32 * 1024 * 1024;

const FIRST_LATENCY_WIDTH = 1000;

const clip = (s: string | undefined): string | undefined => (s === undefined || s.length <= LIMITS.text ? s : `${s.slice(0, LIMITS.text)}…`);

/** The first `head` and the latest `tail` items of a list that may grow without end. */
class Kept<T> {
  private readonly first: T[] = [];
  private latest: T[] = [];
  omitted = 0;

  constructor(
    private readonly head: number,
    private readonly tail: number,
  ) {}

  /** Told of the items that drop out of the middle. */
  onDrop?: (items: T[]) => void;

  push(item: T): void {
    if (this.first.length < this.head) {
      this.first.push(item);
      return;
    }
    this.latest.push(item);
    if (this.latest.length <= this.tail * 2) return;
    // Dropped in halves, so a long watch costs one copy per `tail` pushes.
    const dropped = this.latest.slice(0, this.latest.length - this.tail);
    this.latest = this.latest.slice(-this.tail);
    this.omitted += dropped.length;
    this.onDrop?.(dropped);
  }

  all(): T[] {
    return [...this.first, ...this.latest];
  }
}

interface Bucket {
  k: number;
  min: number;
  max: number;
  sum: number;
  n: number;
}

/** Latency as min/max/sum per time bucket; the buckets double in width to stay under the limit. */
class LatencySeries {
  width = FIRST_LATENCY_WIDTH;
  private buckets: Bucket[] = [];

  add(t: number, ms: number): void {
    const k = Math.floor(t / this.width);
    let i = this.buckets.length - 1;
    // Results come in time order; a clock step back finds its bucket further left.
    while (i >= 0 && this.buckets[i]!.k > k) i--;
    const b = this.buckets[i];
    if (b && b.k === k) {
      b.min = Math.min(b.min, ms);
      b.max = Math.max(b.max, ms);
      b.sum += ms;
      b.n++;
    } else {
      this.buckets.splice(i + 1, 0, { k, min: ms, max: ms, sum: ms, n: 1 });
    }
    while (this.buckets.length > LIMITS.latencyBuckets) this.coarsen();
  }

  private coarsen(): void {
    this.width *= 2;
    const merged: Bucket[] = [];
    for (const b of this.buckets) {
      const k = Math.floor(b.k / 2);
      const last = merged.at(-1);
      if (last && last.k === k) {
        last.min = Math.min(last.min, b.min);
        last.max = Math.max(last.max, b.max);
        last.sum += b.sum;
        last.n += b.n;
      } else merged.push({ ...b, k });
    }
    this.buckets = merged;
  }

  toJSON(): TimelineLane['latency'] {
    const r = (x: number) => Math.round(x * 10) / 10;
    return { width: this.width, points: this.buckets.map((b) => [b.k * this.width, r(b.min), r(b.max), r(b.sum / b.n), b.n]) };
  }
}

const zero = (): Record<CheckState, number> => ({ met: 0, unmet: 0, error: 0 });

/** One lane's state over time, its outages and its latency. */
class Lane {
  state: CheckState | 'unknown' = 'unknown';
  last: CheckState | undefined;
  since = 0;
  readonly spans: TimelineSpan[] = [];
  readonly latency = new LatencySeries();
  readonly outages = new Kept<TimelineOutage>(LIMITS.outagesFirst, LIMITS.outagesLatest);
  open: TimelineOutage | undefined;
  readonly ms = zero();
  readonly results = zero();
  count = 0;
  downMs = 0;
  longestMs = 0;

  constructor(
    readonly check: string,
    public info: { title: string; kind?: string; phase?: string; expected?: string },
  ) {}

  /** Ends the current span at `t`. */
  close(t: number): void {
    if (this.state === 'unknown') return;
    const to = Math.max(t, this.since);
    this.ms[this.state] += to - this.since;
    this.pushSpan({ from: this.since, to, state: this.state });
  }

  enter(state: CheckState, t: number): void {
    this.close(t);
    this.state = state;
    this.last = state;
    this.since = Math.max(t, this.spans.at(-1)?.to ?? t);
  }

  /** The watch stopped or paused: nothing is known until the next result. */
  cut(t: number, why: 'stopped' | 'gap'): void {
    this.close(t);
    this.state = 'unknown';
    if (this.open) this.endOutage(t, undefined, why);
  }

  endOutage(t: number, to: CheckState | undefined, open?: 'stopped' | 'gap'): void {
    const o = this.open!;
    o.ms = Math.max(0, t - o.from);
    if (open) o.open = open;
    else {
      delete o.open;
      o.to = t;
      if (to) o.recoveredTo = to;
    }
    this.downMs += o.ms;
    this.longestMs = Math.max(this.longestMs, o.ms);
    this.open = undefined;
  }

  private pushSpan(s: TimelineSpan): void {
    if (s.to <= s.from) return;
    const last = this.spans.at(-1);
    if (last && last.state === s.state && last.to === s.from && s.state !== 'mixed') last.to = s.to;
    else this.spans.push(s);
    if (this.spans.length > LIMITS.spans) this.compact();
  }

  /**
   * Merges runs shorter than a width into mixed spans, doubling the width until half the limit
   * is left; long runs (the outages that matter) stay exact.
   */
  private compact(): void {
    const range = this.spans.at(-1)!.to - this.spans[0]!.from;
    let width = Math.max(1, range / (LIMITS.spans / 4));
    let spans = this.spans;
    do {
      spans = mergeShort(spans, width);
      width *= 2;
    } while (spans.length > LIMITS.spans / 2);
    this.spans.splice(0, this.spans.length, ...spans);
  }

  toJSON(end: number): TimelineLane {
    const spans = [...this.spans];
    const ms = { ...this.ms };
    if (this.state !== 'unknown' && end > this.since) {
      spans.push({ from: this.since, to: end, state: this.state });
      ms[this.state] += end - this.since;
    }
    let { downMs, longestMs } = this;
    if (this.open) {
      this.open.ms = Math.max(0, end - this.open.from);
      downMs += this.open.ms;
      longestMs = Math.max(longestMs, this.open.ms);
    }
    const judged = ms.met + ms.unmet;
    return {
      check: this.check,
      ...this.info,
      state: this.state,
      ...(this.last ? { last: this.last } : {}),
      spans,
      latency: this.latency.toJSON(),
      outages: this.outages.all().map((o) => ({ ...o })),
      outagesOmitted: this.outages.omitted,
      stats: { ms, results: { ...this.results }, outages: this.count, downMs, longestMs },
      availability: judged > 0 ? ms.met / judged : null,
    };
  }
}

function mergeShort(spans: readonly TimelineSpan[], width: number): TimelineSpan[] {
  const out: TimelineSpan[] = [];
  let acc: TimelineSpan | undefined;
  const flush = () => {
    if (acc) out.push(acc);
    acc = undefined;
  };
  for (const s of spans) {
    if (s.state !== 'mixed' && s.to - s.from >= width) {
      flush();
      out.push(s);
      continue;
    }
    // Never across a gap: unknown time stays unknown.
    if (acc && acc.to !== s.from) flush();
    const mix = s.mix ?? { ...zero(), [s.state]: s.to - s.from };
    if (!acc) acc = { from: s.from, to: s.to, state: 'mixed', mix: { ...mix } };
    else {
      acc.to = s.to;
      for (const k of ['met', 'unmet', 'error'] as const) acc.mix![k] += mix[k];
    }
    if (acc.to - acc.from >= width) flush();
  }
  flush();
  return out;
}

const OVERALL_TITLE = 'federation (all checks)';

/**
 * Reads a watch's records, one by one as a live watch writes them or as `xfed timeline LOG`
 * reads them back (every part of a rotated log in order, or a later part alone), and keeps what
 * the timeline page needs. Evidence (the message flows of the transitions) stays here, apart
 * from the data, and is rendered as a ladder on demand (`evidence(id)`).
 */
export class TimelineModel {
  private settings: WatchStart | undefined;
  private beginsAtPart: number | undefined;
  private readonly lanes = new Map<string, Lane>();
  private first = Number.NaN;
  private lastAt = Number.NaN;
  private round = 0;
  private stopped: TimelineData['stopped'];
  private readonly gaps: TimelineData['gaps'] = [];
  private readonly marks = new Kept<TimelineData['marks'][number]>(...LIMITS.marks);
  private readonly facts = new Kept<TimelineData['facts'][number]>(...LIMITS.facts);
  private readonly notices = new Kept<TimelineData['notices'][number]>(...LIMITS.notices);
  private readonly hooks = new Kept<TimelineData['hooks'][number]>(...LIMITS.hooks);
  private readonly outagesById = new Map<string, TimelineOutage>();
  private readonly evidenceById = new Map<string, { events: FlowEvent[]; bytes: number }>();
  private evidenceBytes = 0;
  private evidenceDropped = 0;
  private nextId = 1;
  /** Records left out: an unknown type, or a time that is not a time. */
  ignored = 0;

  constructor(private readonly opts: { evidenceBudgetBytes?: number } = {}) {
    this.lane(OVERALL);
  }

  ingest(r: WatchRecord): void {
    const at = Date.parse(r.at);
    if (!Number.isFinite(at)) {
      this.ignored++;
      return;
    }
    const isFirst = Number.isNaN(this.first);
    switch (r.type) {
      case 'start':
        if (!isFirst) this.resume(at);
        this.configure(r);
        if (!isFirst || r.resumed) this.notices.push({ at, text: `watch ${isFirst ? 'started (continuing an earlier log)' : 'resumed'}` });
        break;
      case 'part':
        if (isFirst) this.beginAtPart(r, at);
        else this.configure(r.start);
        break;
      case 'ready':
        this.notices.push({ at, text: `target ready (${r.runtime}, setup ${(r.setupMs / 1000).toFixed(1)} s)` });
        break;
      case 'round':
        this.round = Math.max(this.round, r.round);
        this.onRound(r);
        break;
      case 'transition':
        this.round = Math.max(this.round, r.round);
        this.onTransition(r, at);
        break;
      case 'mark':
        this.marks.push({ at, text: clip(r.text) ?? '', source: r.source });
        break;
      case 'facts': {
        const { type: _t, at: _a, ...facts } = r;
        this.facts.push({ at, ...facts });
        break;
      }
      case 'hook': {
        const { type: _t, at: _a, output, ...hook } = r;
        this.hooks.push({ at, ...hook, output: output.length > 512 ? `…${output.slice(-512)}` : output });
        break;
      }
      case 'notice':
        this.notices.push({ at, text: clip(r.text) ?? '' });
        break;
      case 'stop':
        this.stopped = { at, reason: r.reason, rounds: r.rounds };
        for (const lane of this.lanes.values()) lane.cut(at, 'stopped');
        this.notices.push({ at, text: `watch stopped: ${r.reason} (${r.rounds} rounds)` });
        break;
      default:
        this.ignored++;
        return;
    }
    if (isFirst) this.first = at;
    this.lastAt = Number.isNaN(this.lastAt) ? at : Math.max(this.lastAt, at);
  }

  /** A ladder (HTML) of an outage's evidence, or undefined for an id no outage has. */
  evidence(id: string): string | undefined {
    const outage = this.outagesById.get(id);
    if (!outage) return undefined;
    const source = outage.check === OVERALL ? this.firstFailing(outage) : outage;
    const held = source && this.evidenceById.get(source.id);
    if (held) return renderLadder(held.events);
    const why =
      source?.round === undefined && outage.round === undefined
        ? 'This outage began before the records read here (in an earlier part of the log): its evidence is not in them.'
        : !source
          ? 'Its first failing check has no outage in these records.'
          : this.evidenceDropped > 0
            ? 'Its evidence was let go to bound memory; <code>xfed timeline LOG</code> on the log shows it.'
            : 'No evidence was recorded with this outage.';
    return `<p class="muted">${why}</p>`;
  }

  /** Every outage's ladder that is held, by id: what a static page embeds. */
  ladders(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const id of this.evidenceById.keys()) out[id] = this.evidence(id)!;
    return out;
  }

  toJSON(): TimelineData {
    const end = Number.isNaN(this.lastAt) ? 0 : this.lastAt;
    const lanes = [...this.lanes.values()].map((l) => l.toJSON(end));
    for (const lane of lanes) {
      for (const o of lane.outages) {
        const source = o.check === OVERALL ? this.firstFailing(o) : o;
        if (source && this.evidenceById.has(source.id)) o.evidence = source.id;
      }
    }
    const from = Math.min(Number.isNaN(this.first) ? end : this.first, ...lanes.flatMap((l) => (l.spans[0] ? [l.spans[0].from] : [])));
    return {
      format: TIMELINE_FORMAT,
      ...(this.settings ? { settings: this.settings } : {}),
      ...(this.beginsAtPart !== undefined ? { beginsAtPart: this.beginsAtPart } : {}),
      range: { from, to: end },
      rounds: this.round,
      ...(this.stopped ? { stopped: this.stopped } : {}),
      lanes,
      gaps: [...this.gaps],
      marks: this.marks.all(),
      facts: this.facts.all(),
      notices: this.notices.all(),
      hooks: this.hooks.all(),
      omitted: { marks: this.marks.omitted, facts: this.facts.omitted, notices: this.notices.omitted, hooks: this.hooks.omitted },
    };
  }

  private lane(check: string): Lane {
    let lane = this.lanes.get(check);
    if (!lane) {
      lane = new Lane(check, { title: check === OVERALL ? OVERALL_TITLE : check });
      lane.outages.onDrop = (dropped) => dropped.forEach((o) => this.forget(o.id));
      this.lanes.set(check, lane);
    }
    return lane;
  }

  private configure(start: WatchStart): void {
    const { checks } = start;
    this.settings = start;
    for (const c of checks) {
      this.lane(c.id).info = { title: c.title, kind: c.kind, phase: c.phase, expected: c.expected };
    }
  }

  /** A later part read alone: the standings say where every check stood, and since when. */
  private beginAtPart(r: RecordOf<'part'>, at: number): void {
    this.beginsAtPart = r.part;
    this.configure(r.start);
    for (const [check, standing] of Object.entries(r.standings)) {
      const since = Date.parse(standing.since);
      const lane = this.lane(check);
      lane.enter(standing.state, Number.isFinite(since) ? Math.min(since, at) : at);
      if (standing.state === 'unmet') this.openOutage(lane, lane.since, {});
    }
  }

  /** The time since the last record is a gap: nothing is known of it. */
  private resume(at: number): void {
    const from = this.lastAt;
    for (const lane of this.lanes.values()) lane.cut(from, 'gap');
    if (at > from) this.gaps.push({ from, to: at });
    this.stopped = undefined;
  }

  private onRound(r: RecordOf<'round'>): void {
    for (const result of r.results) {
      const at = Date.parse(result.at);
      const lane = this.lane(result.check);
      if (!Number.isFinite(at)) continue;
      // A result ends after its round began: the last thing known before a gap.
      this.lastAt = Math.max(this.lastAt, at);
      lane.results[result.state]++;
      if (typeof result.latencyMs === 'number' && Number.isFinite(result.latencyMs) && result.latencyMs >= 0) lane.latency.add(at, result.latencyMs);
      // Without a transition (a log continued across a resume keeps its standings): the result says it.
      if (lane.state === 'unknown') {
        lane.enter(result.state, at);
        if (result.state === 'unmet') this.openOutage(lane, at, { round: r.round, ...(result.actual ? { actual: result.actual } : {}) });
      }
    }
    const overall = this.lane(OVERALL);
    if (overall.state === 'unknown' && r.results.length > 0) this.inferOverall(overall, r);
  }

  private inferOverall(overall: Lane, r: RecordOf<'round'>): void {
    const at = Math.min(...r.results.map((x: ProbeResult) => Date.parse(x.at)).filter(Number.isFinite));
    if (!Number.isFinite(at)) return;
    const failing = r.results.filter((x) => x.state === 'unmet').map((x) => x.check);
    // As the watch judges it (state.ts): unmet while any check is, in error while one could not be judged.
    const state: CheckState = failing.length > 0 ? 'unmet' : r.results.some((x) => x.state === 'error') ? 'error' : 'met';
    overall.enter(state, at);
    if (state === 'unmet') this.openOutage(overall, at, { round: r.round, failing, first: failing[0]! });
  }

  private onTransition(r: RecordOf<'transition'>, at: number): void {
    const lane = this.lane(r.check);
    const details = {
      round: r.round,
      ...(r.actual !== undefined ? { actual: clip(r.actual)! } : {}),
      ...(r.diagnosis !== undefined ? { diagnosis: clip(r.diagnosis)! } : {}),
      ...(r.failing ? { failing: r.failing } : {}),
      ...(r.first !== undefined ? { first: r.first } : {}),
    };
    if (lane.state === r.to) {
      // Already inferred from this round's results: the transition brings the details.
      if (lane.open && r.to === 'unmet') {
        Object.assign(lane.open, details);
        if (r.evidence) this.keepEvidence(lane.open.id, r.evidence);
      }
      return;
    }
    if (lane.open) lane.endOutage(at, r.to);
    lane.enter(r.to, at);
    if (r.to === 'unmet') {
      const outage = this.openOutage(lane, lane.since, details);
      if (r.evidence) this.keepEvidence(outage.id, r.evidence);
    }
  }

  private openOutage(lane: Lane, from: number, details: Partial<TimelineOutage>): TimelineOutage {
    const outage: TimelineOutage = { id: `o${this.nextId++}`, check: lane.check, from, open: 'ongoing', ms: 0, ...details };
    lane.open = outage;
    lane.count++;
    lane.outages.push(outage);
    this.outagesById.set(outage.id, outage);
    return outage;
  }

  /** The outage of the overall one's first failing check that began in the same round (or was running then). */
  private firstFailing(o: TimelineOutage): TimelineOutage | undefined {
    const lane = o.first !== undefined ? this.lanes.get(o.first) : undefined;
    if (!lane) return undefined;
    const outages = lane.outages.all();
    return (
      outages.find((x) => x.round !== undefined && x.round === o.round) ??
      outages.findLast((x) => x.from <= o.from && (x.to === undefined ? x.open === 'ongoing' || x.from + x.ms >= o.from : x.to >= o.from))
    );
  }

  private keepEvidence(id: string, events: FlowEvent[]): void {
    const bytes = events.reduce((n, e) => n + e.wire.length + e.label.length + 64, 0);
    const old = this.evidenceById.get(id);
    if (old) this.evidenceBytes -= old.bytes;
    this.evidenceById.set(id, { events, bytes });
    this.evidenceBytes += bytes;
    const budget = this.opts.evidenceBudgetBytes ?? DEFAULT_EVIDENCE_BUDGET;
    for (const [oldest, held] of this.evidenceById) {
      if (this.evidenceBytes <= budget || oldest === id) break;
      this.evidenceById.delete(oldest);
      this.evidenceBytes -= held.bytes;
      this.evidenceDropped++;
    }
  }

  private forget(id: string): void {
    this.outagesById.delete(id);
    const held = this.evidenceById.get(id);
    if (held) {
      this.evidenceBytes -= held.bytes;
      this.evidenceById.delete(id);
    }
  }
}
