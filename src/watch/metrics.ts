import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { OVERALL, type CheckState, type RecordOf, type WatchRecord, type WatchStart } from './records.js';

/**
 * The watch's Prometheus metrics (docs/watch-metrics.md), fed by its records only, so the endpoint
 * says what the log keeps. Counters count what this process saw: a resumed watch is a new process
 * and its counters start again at 0, which `rate()` and `increase()` take as a reset. Names follow
 * https://prometheus.io/docs/practices/naming/ (base units, `_total`, `_info`, `_timestamp_seconds`).
 */

const STATES: readonly CheckState[] = ['met', 'unmet', 'error'];
const MARK_SOURCES: readonly RecordOf<'mark'>['source'][] = ['cli', 'key', 'page', 'schedule'];
const HOOK_OUTCOMES = ['ok', 'failed', 'timed_out'] as const;
const CHECK_LABELS = ['check', 'kind', 'phase'] as const;

// An IM's round trip over loopback takes a millisecond, one through a lab Edge up to a check's
// timeout (5 s by default, longer when a suite says so).
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30];
// A check also opens sessions and waits for what must not arrive (no-delivery waits 4 timeouts).
const CHECK_DURATION_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120];
const ROUND_DURATION_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600];
const HOOK_DURATION_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

// A TLS version as Node names it (`TLSv1.3`); anything else from a peer is not a label value.
const TLS_VERSION = /^[A-Za-z0-9._-]{1,16}$/;

type CheckLabels = Record<(typeof CHECK_LABELS)[number], string>;

let processRegistry: Registry | undefined;

/**
 * The process's own metrics (RSS, descriptors, event loop lag, GC), one set per process: each call
 * of prom-client's collectDefaultMetrics starts an event loop delay monitor and a GC observer that
 * nothing stops, so one per WatchMetrics would pile up in a process that makes many.
 */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/** A check's (or the federation's) state as the records tell it, and the outage time this process saw. */
class Standing {
  state: CheckState | undefined;
  /** When it entered its state (ms), which for a resumed watch may be before this process began. */
  since = 0;
  private outageCountedFrom = 0;
  private outageDoneMs = 0;
  private outageReported = 0;

  /** `countFrom`: when this process began to count the outage, if the state is unmet. */
  enter(state: CheckState, at: number, since = at, countFrom = since): void {
    if (state === this.state) return;
    if (this.state === 'unmet') this.outageDoneMs += Math.max(0, at - this.outageCountedFrom);
    this.state = state;
    this.since = since;
    if (state === 'unmet') this.outageCountedFrom = countFrom;
  }

  /**
   * Seconds of outage, the ongoing one up to `now` included. Never less than the last answer: a
   * scrape after a recovery's time but before its record would otherwise count a little more than
   * the record then says, and a counter that goes back reads as a reset.
   */
  outageSeconds(now: number): number {
    const ongoing = this.state === 'unmet' ? Math.max(0, now - this.outageCountedFrom) : 0;
    this.outageReported = Math.max(this.outageReported, (this.outageDoneMs + ongoing) / 1000);
    return this.outageReported;
  }

  currentOutageSeconds(now: number): number {
    return this.state === 'unmet' ? Math.max(0, now - this.since) / 1000 : 0;
  }
}

interface WatchedSeries {
  labels: CheckLabels;
  standing: Standing;
}

export interface WatchMetricsOptions {
  /** The clock (ms since the epoch) for what grows between records: ongoing outages. */
  now?: () => number;
}

export class WatchMetrics {
  /** The Content-Type of `exposition()`: Prometheus' text format 0.0.4. */
  readonly contentType: string;
  private readonly registry = new Registry();
  private readonly exposed: Registry;
  private readonly clock: () => number;
  private readonly checks = new Map<string, WatchedSeries>();
  private readonly overall = new Standing();
  private watchStartedAt: number | undefined;
  private stoppedAt: number | undefined;
  private resumed = false;

  private readonly checkResults: Counter<string>;
  private readonly checkLatency: Histogram<string>;
  private readonly checkDuration: Histogram<string>;
  private readonly checkTransitions: Counter<string>;
  private readonly federationOutages: Counter<string>;
  private readonly watchInfo: Gauge<string>;
  private readonly watchStart: Gauge<string>;
  private readonly watchInterval: Gauge<string>;
  private readonly setupDuration: Gauge<string>;
  private readonly rounds: Counter<string>;
  private readonly roundDuration: Histogram<string>;
  private readonly lastRound: Gauge<string>;
  private readonly marks: Counter<string>;
  private readonly hookRuns: Counter<string>;
  private readonly hookDuration: Histogram<string>;
  private readonly notices: Counter<string>;
  private readonly tlsInfo: Gauge<string>;
  private readonly certificateExpiry: Gauge<string>;
  private readonly certificateTrusted: Gauge<string>;
  private readonly certificateCoversDomain: Gauge<string>;
  private readonly probeSuccess: Gauge<string>;

  constructor(options: WatchMetricsOptions = {}) {
    this.clock = options.now ?? Date.now;
    this.contentType = this.registry.contentType;
    const registers = [this.registry];
    const checks = this.checks;
    const overall = this.overall;
    const now = () => this.now();
    const perCheck = [...CHECK_LABELS];

    new Gauge({
      name: 'xfed_check_success',
      help: 'Whether the check met its expectation in its last result (1) or not (0: unmet, or it could not be judged).',
      labelNames: perCheck,
      registers,
      collect() {
        this.reset();
        for (const { labels, standing } of checks.values()) if (standing.state) this.set(labels, standing.state === 'met' ? 1 : 0);
      },
    });
    new Gauge({
      name: 'xfed_check_state',
      help: "The check's current state: 1 for the state it is in (met, unmet, error), 0 for the others.",
      labelNames: [...perCheck, 'state'],
      registers,
      collect() {
        this.reset();
        for (const { labels, standing } of checks.values()) {
          if (standing.state) for (const state of STATES) this.set({ ...labels, state }, standing.state === state ? 1 : 0);
        }
      },
    });
    new Gauge({
      name: 'xfed_check_state_change_timestamp_seconds',
      help: 'When the check entered its current state (Unix time).',
      labelNames: perCheck,
      registers,
      collect() {
        this.reset();
        for (const { labels, standing } of checks.values()) if (standing.state) this.set(labels, standing.since / 1000);
      },
    });
    this.checkResults = new Counter({
      name: 'xfed_check_results_total',
      help: 'Results of the check, by state.',
      labelNames: [...perCheck, 'state'],
      registers,
    });
    this.checkLatency = new Histogram({
      name: 'xfed_check_latency_seconds',
      help: 'The protocol latency the check measured (an IM round trip, a ping), in the results that measured one.',
      labelNames: perCheck,
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.checkDuration = new Histogram({
      name: 'xfed_check_duration_seconds',
      help: 'How long the check took, whatever its result.',
      labelNames: perCheck,
      buckets: CHECK_DURATION_BUCKETS,
      registers,
    });
    this.checkTransitions = new Counter({
      name: 'xfed_check_transitions_total',
      help: "Changes of the check's state, by the state it changed to (a first result that is met is none).",
      labelNames: [...perCheck, 'to'],
      registers,
    });
    new Counter({
      name: 'xfed_check_outage_seconds_total',
      help: 'Seconds the check was unmet while this process watched, the ongoing outage included.',
      labelNames: perCheck,
      registers,
      collect() {
        this.reset();
        for (const { labels, standing } of checks.values()) this.inc(labels, standing.outageSeconds(now()));
      },
    });

    new Gauge({
      name: 'xfed_federation_up',
      help: 'Whether every watched check is met (1) or not (0: one is unmet, or one could not be judged).',
      registers,
      collect() {
        if (overall.state) this.set(overall.state === 'met' ? 1 : 0);
        else this.remove();
      },
    });
    new Gauge({
      name: 'xfed_federation_state',
      help: "The federation's current state: unmet while any check is unmet, error while none is and one could not be judged, met otherwise.",
      labelNames: ['state'],
      registers,
      collect() {
        this.reset();
        if (overall.state) for (const state of STATES) this.set({ state }, overall.state === state ? 1 : 0);
      },
    });
    new Gauge({
      name: 'xfed_federation_state_change_timestamp_seconds',
      help: 'When the federation entered its current state (Unix time).',
      registers,
      collect() {
        if (overall.state) this.set(overall.since / 1000);
        else this.remove();
      },
    });
    this.federationOutages = new Counter({ name: 'xfed_federation_outages_total', help: 'Outages of the federation: changes into unmet.', registers });
    new Counter({
      name: 'xfed_federation_outage_seconds_total',
      help: 'Seconds the federation was unmet while this process watched, the ongoing outage included.',
      registers,
      collect() {
        this.reset();
        this.inc(overall.outageSeconds(now()));
      },
    });
    new Gauge({
      name: 'xfed_federation_current_outage_seconds',
      help: 'How long the federation has been unmet, 0 when it is not.',
      registers,
      collect() {
        this.set(overall.currentOutageSeconds(now()));
      },
    });

    this.watchInfo = new Gauge({
      name: 'xfed_watch_info',
      help: 'The watch: its suite, target and xfed version (always 1).',
      labelNames: ['suite', 'target', 'version'],
      registers,
    });
    this.watchStart = new Gauge({ name: 'xfed_watch_start_timestamp_seconds', help: 'When the watch began (Unix time).', registers });
    this.watchInterval = new Gauge({ name: 'xfed_watch_interval_seconds', help: 'The time from the start of one round to the start of the next.', registers });
    this.setupDuration = new Gauge({
      name: 'xfed_watch_setup_duration_seconds',
      help: 'How long the target took to come up, the last time it did.',
      registers,
    });
    this.rounds = new Counter({ name: 'xfed_watch_rounds_total', help: 'Rounds run: every watched check once.', registers });
    this.roundDuration = new Histogram({
      name: 'xfed_watch_round_duration_seconds',
      help: 'How long a round took.',
      buckets: ROUND_DURATION_BUCKETS,
      registers,
    });
    this.lastRound = new Gauge({ name: 'xfed_watch_last_round_timestamp_seconds', help: 'When the last round ended (Unix time).', registers });
    this.marks = new Counter({
      name: 'xfed_watch_marks_total',
      help: "Operators' marks and scheduled steps, by where they came from.",
      labelNames: ['source'],
      registers,
    });
    this.hookRuns = new Counter({ name: 'xfed_watch_hook_runs_total', help: 'Runs of the --on-change hook, by outcome.', labelNames: ['outcome'], registers });
    this.hookDuration = new Histogram({
      name: 'xfed_watch_hook_duration_seconds',
      help: 'How long a run of the --on-change hook took.',
      buckets: HOOK_DURATION_BUCKETS,
      registers,
    });
    this.notices = new Counter({
      name: 'xfed_watch_notices_total',
      help: 'What the watch or the target said outside any check (a long round, a dropped session).',
      registers,
    });

    this.tlsInfo = new Gauge({
      name: 'xfed_edge_tls_info',
      help: 'The TLS version the Edge negotiated on its S2S port (always 1).',
      labelNames: ['version'],
      registers,
    });
    this.certificateExpiry = new Gauge({
      name: 'xfed_edge_certificate_expiry_timestamp_seconds',
      help: "When the Edge's certificate expires (Unix time).",
      registers,
    });
    this.certificateTrusted = new Gauge({
      name: 'xfed_edge_certificate_trusted',
      help: "Whether the partner trusts the Edge's certificate (1) or not (0).",
      registers,
    });
    this.certificateCoversDomain = new Gauge({
      name: 'xfed_edge_certificate_covers_bare_domain',
      help: "Whether the Edge's certificate names the bare SfB domain the partner connects to (1) or not (0).",
      registers,
    });
    this.probeSuccess = new Gauge({
      name: 'xfed_edge_probe_success',
      help: "Whether the last probe of the Edge's S2S port got its facts (1) or failed (0).",
      registers,
    });
    for (const gauge of [
      this.watchStart,
      this.watchInterval,
      this.setupDuration,
      this.lastRound,
      this.certificateExpiry,
      this.certificateTrusted,
      this.certificateCoversDomain,
      this.probeSuccess,
    ]) {
      gauge.remove();
    }
    for (const source of MARK_SOURCES) this.marks.inc({ source }, 0);
    for (const outcome of HOOK_OUTCOMES) this.hookRuns.inc({ outcome }, 0);

    this.exposed = Registry.merge([this.registry, processMetrics()]);
  }

  /** The metrics in Prometheus' text format, for GET /metrics. */
  exposition(): Promise<string> {
    return this.exposed.metrics();
  }

  /**
   * Takes one record of the watch. Feed the records of this process only, in order: replaying an
   * earlier watch's log would count its results again as this process's.
   */
  ingest(record: WatchRecord): void {
    switch (record.type) {
      case 'start':
        this.resumed = record.resumed;
        this.declare(record, this.time(record.at));
        break;
      case 'part':
        this.resume(record);
        break;
      case 'ready':
        this.setSeconds(this.setupDuration, record.setupMs);
        break;
      case 'round':
        this.addRound(record);
        break;
      case 'transition':
        this.addTransition(record);
        break;
      case 'mark':
        this.marks.inc({ source: MARK_SOURCES.includes(record.source) ? record.source : 'other' });
        break;
      case 'facts':
        this.setFacts(record);
        break;
      case 'hook':
        this.hookRuns.inc({ outcome: record.timedOut ? 'timed_out' : record.exitCode === 0 ? 'ok' : 'failed' });
        this.observeSeconds(this.hookDuration, undefined, record.durationMs);
        break;
      case 'notice':
        this.notices.inc();
        break;
      case 'stop':
        // Nothing grows after the watch ended: a scrape while it shuts down counts up to the stop.
        this.stoppedAt = this.time(record.at);
        break;
    }
  }

  private now(): number {
    return this.stoppedAt ?? this.clock();
  }

  /** A record's time in ms; a time that does not parse is now (a record's time is never trusted into NaN). */
  private time(iso: string): number {
    const ms = Date.parse(iso);
    return Number.isNaN(ms) ? this.now() : ms;
  }

  private declare(start: WatchStart, at: number): void {
    this.watchStartedAt = at;
    this.watchInfo.reset();
    this.watchInfo.set({ suite: start.suite, target: start.target, version: start.xfed }, 1);
    this.watchStart.set(at / 1000);
    this.setSeconds(this.watchInterval, start.intervalMs);
    // Every series a check will have starts at 0, so increase() sees its first result and transition.
    for (const check of start.checks) this.series(check.id, check.kind, check.phase);
  }

  /**
   * A part's head: the standings of the log so far. Fed by the watch itself to a resumed process, it
   * gives the states its log already knew (an outage still under way is counted from this process's
   * start); for a watch that already knows them it changes nothing.
   */
  private resume(part: RecordOf<'part'>): void {
    if (this.watchStartedAt === undefined) this.declare(part.start, this.time(part.at));
    const countFrom = this.watchStartedAt ?? this.time(part.at);
    for (const [check, standing] of Object.entries(part.standings)) {
      // A check the watch no longer repeats is not one of its series.
      const target = check === OVERALL ? this.overall : this.checks.get(check)?.standing;
      if (!target || target.state !== undefined) continue;
      const since = this.time(standing.since);
      target.enter(standing.state, since, since, Math.max(since, countFrom));
    }
  }

  private addRound(round: RecordOf<'round'>): void {
    this.rounds.inc();
    this.observeSeconds(this.roundDuration, undefined, round.durationMs);
    const ended = this.time(round.at) + (Number.isFinite(round.durationMs) ? round.durationMs : 0);
    this.lastRound.set(ended / 1000);
    for (const result of round.results) {
      const { labels, standing } = this.series(result.check);
      this.checkResults.inc({ ...labels, state: result.state });
      this.observeSeconds(this.checkDuration, labels, result.durationMs);
      if (result.latencyMs !== undefined) this.observeSeconds(this.checkLatency, labels, result.latencyMs);
      standing.enter(result.state, this.time(result.at));
    }
    // A resumed watch that was not given its log's standings learns the federation's state from
    // the checks', by the watch's rule (Standings): no transition says it while nothing changes.
    const states = [...this.checks.values()].map((c) => c.standing.state);
    if (this.resumed && this.overall.state === undefined && states.length > 0 && !states.includes(undefined)) {
      this.overall.enter(states.includes('unmet') ? 'unmet' : states.includes('error') ? 'error' : 'met', ended);
    }
  }

  private addTransition(t: RecordOf<'transition'>): void {
    const at = this.time(t.at);
    if (t.check === OVERALL) {
      if (t.to === 'unmet' && this.overall.state !== 'unmet') this.federationOutages.inc();
      this.overall.enter(t.to, at);
      return;
    }
    const { labels, standing } = this.series(t.check);
    // A check's first result being met is no change (as for the hooks); a first failure is one.
    if (!(t.from === 'unknown' && t.to === 'met')) this.checkTransitions.inc({ ...labels, to: t.to });
    standing.enter(t.to, at);
  }

  private setFacts(facts: RecordOf<'facts'>): void {
    // Each facts record is the whole of what the probe learned: what it does not say is not known.
    this.tlsInfo.reset();
    if (facts.tlsVersion) this.tlsInfo.set({ version: TLS_VERSION.test(facts.tlsVersion) ? facts.tlsVersion : 'other' }, 1);
    const cert = facts.certificate;
    const expiry = cert ? Date.parse(cert.notAfter) : NaN;
    if (Number.isNaN(expiry)) this.certificateExpiry.remove();
    else this.certificateExpiry.set(expiry / 1000);
    if (cert) {
      this.certificateTrusted.set(cert.trusted ? 1 : 0);
      this.certificateCoversDomain.set(cert.coversBareDomain ? 1 : 0);
    } else {
      this.certificateTrusted.remove();
      this.certificateCoversDomain.remove();
    }
    this.probeSuccess.set(facts.error === undefined ? 1 : 0);
  }

  /**
   * A check's series, made with every label set at 0 the first time. A check the start did not name
   * (a record from another watch) has no kind or phase: its labels are empty rather than invented.
   */
  private series(check: string, kind = '', phase = ''): WatchedSeries {
    const known = this.checks.get(check);
    if (known && (kind === '' || (known.labels.kind === kind && known.labels.phase === phase))) return known;
    const labels: CheckLabels = { check, kind, phase };
    if (known) this.forget(known.labels);
    const series = { labels, standing: known?.standing ?? new Standing() };
    this.checks.set(check, series);
    for (const state of STATES) {
      this.checkResults.inc({ ...labels, state }, 0);
      this.checkTransitions.inc({ ...labels, to: state }, 0);
    }
    this.checkLatency.zero(labels);
    this.checkDuration.zero(labels);
    return series;
  }

  /** Drops a check's event series when a later start gives it other labels. */
  private forget(labels: CheckLabels): void {
    for (const state of STATES) {
      this.checkResults.remove({ ...labels, state });
      this.checkTransitions.remove({ ...labels, to: state });
    }
    this.checkLatency.remove(labels);
    this.checkDuration.remove(labels);
  }

  private setSeconds(gauge: Gauge<string>, ms: number): void {
    if (Number.isFinite(ms)) gauge.set(ms / 1000);
  }

  /** Observes a duration; one that is not a number of ms (a broken record) is left out, not thrown. */
  private observeSeconds(histogram: Histogram<string>, labels: CheckLabels | undefined, ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    if (labels) histogram.observe(labels, ms / 1000);
    else histogram.observe(ms / 1000);
  }
}
