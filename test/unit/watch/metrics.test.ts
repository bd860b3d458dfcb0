import { readFileSync } from 'node:fs';
import perfHooks from 'node:perf_hooks';
import { describe, expect, it, jest } from '@jest/globals';
import { WatchMetrics } from '../../../src/watch/metrics.js';
import { OVERALL, WATCH_FORMAT, type CheckState, type ProbeResult, type RecordOf, type WatchedCheck, type WatchRecord } from '../../../src/watch/records.js';
import { Standings } from '../../../src/watch/state.js';
import { parseExposition, valueOf, type Family } from './prometheus-text.js';
import { sampleMetrics } from './sample-watch.js';

const T0 = Date.parse('2026-11-30T01:00:00.000Z');
const iso = (s: number) => new Date(T0 + s * 1000).toISOString();

const CHECKS: WatchedCheck[] = [
  { id: 'im-out', kind: 'im', title: 'alice writes to bob', phase: 'after', expected: 'pass' },
  { id: 'presence-in', kind: 'presence', title: "bob sees alice's presence", phase: 'after', expected: 'pass' },
];
const IM = { check: 'im-out', kind: 'im', phase: 'after' };
const PRESENCE = { check: 'presence-in', kind: 'presence', phase: 'after' };

function startRecord(atS = 0, over: Partial<RecordOf<'start'>> = {}): RecordOf<'start'> {
  return {
    type: 'start',
    at: iso(atS),
    resumed: false,
    format: WATCH_FORMAT,
    suite: 'cutover',
    file: 'scenarios/cutover.yaml',
    target: 'sim',
    checks: CHECKS,
    intervalMs: 30_000,
    pid: 4242,
    xfed: '0.9.0',
    ...over,
  };
}

/** A watch as the engine drives it: a clock, and its Standings turning results into transitions. */
class Harness {
  nowMs = T0;
  readonly metrics = new WatchMetrics({ now: () => this.nowMs });
  readonly standings: Standings;
  private round = 0;

  constructor(initial?: ConstructorParameters<typeof Standings>[0]) {
    this.standings = new Standings(initial);
  }

  at(s: number): this {
    this.nowMs = T0 + s * 1000;
    return this;
  }

  feed(...records: WatchRecord[]): this {
    for (const r of records) this.metrics.ingest(r);
    return this;
  }

  /** One round starting at `atS`, its results ending one after another (`[check, state, durationMs, latencyMs?]`). */
  roundAt(atS: number, ...results: [string, CheckState, number, number?][]): this {
    this.round += 1;
    let t = T0 + atS * 1000;
    const probes: ProbeResult[] = results.map(([check, state, durationMs, latencyMs]) => {
      t += durationMs;
      return { check, state, at: new Date(t).toISOString(), durationMs, ...(latencyMs !== undefined ? { latencyMs } : {}) };
    });
    // In the engine's order: each result's transitions as it is judged, then the round.
    for (const p of probes) this.feed(...this.standings.apply(this.round, p));
    this.feed({ type: 'round', at: iso(atS), round: this.round, durationMs: t - (T0 + atS * 1000), results: probes });
    return this;
  }

  async scrape(): Promise<Map<string, Family>> {
    return parseExposition(await this.metrics.exposition());
  }
}

const OWN_METRICS: [string, Family['type'], string[]][] = [
  ['xfed_check_success', 'gauge', ['check', 'kind', 'phase']],
  ['xfed_check_state', 'gauge', ['check', 'kind', 'phase', 'state']],
  ['xfed_check_state_change_timestamp_seconds', 'gauge', ['check', 'kind', 'phase']],
  ['xfed_check_results_total', 'counter', ['check', 'kind', 'phase', 'state']],
  ['xfed_check_latency_seconds', 'histogram', ['check', 'kind', 'le', 'phase']],
  ['xfed_check_duration_seconds', 'histogram', ['check', 'kind', 'le', 'phase']],
  ['xfed_check_transitions_total', 'counter', ['check', 'kind', 'phase', 'to']],
  ['xfed_check_outage_seconds_total', 'counter', ['check', 'kind', 'phase']],
  ['xfed_federation_up', 'gauge', []],
  ['xfed_federation_state', 'gauge', ['state']],
  ['xfed_federation_state_change_timestamp_seconds', 'gauge', []],
  ['xfed_federation_outages_total', 'counter', []],
  ['xfed_federation_outage_seconds_total', 'counter', []],
  ['xfed_federation_current_outage_seconds', 'gauge', []],
  ['xfed_watch_info', 'gauge', ['suite', 'target', 'version']],
  ['xfed_watch_start_timestamp_seconds', 'gauge', []],
  ['xfed_watch_interval_seconds', 'gauge', []],
  ['xfed_watch_setup_duration_seconds', 'gauge', []],
  ['xfed_watch_rounds_total', 'counter', []],
  ['xfed_watch_round_duration_seconds', 'histogram', ['le']],
  ['xfed_watch_last_round_timestamp_seconds', 'gauge', []],
  ['xfed_watch_marks_total', 'counter', ['source']],
  ['xfed_watch_hook_runs_total', 'counter', ['outcome']],
  ['xfed_watch_hook_duration_seconds', 'histogram', ['le']],
  ['xfed_watch_notices_total', 'counter', []],
  ['xfed_edge_tls_info', 'gauge', ['version']],
  ['xfed_edge_certificate_expiry_timestamp_seconds', 'gauge', []],
  ['xfed_edge_certificate_trusted', 'gauge', []],
  ['xfed_edge_certificate_covers_bare_domain', 'gauge', []],
  ['xfed_edge_probe_success', 'gauge', []],
];

describe('WatchMetrics', () => {
  it('exposes its own metrics with HELP and TYPE before any record, no check series yet, and the process metrics', async () => {
    const m = new WatchMetrics({ now: () => T0 });
    expect(m.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    const families = parseExposition(await m.exposition());
    for (const [name, type] of OWN_METRICS) {
      expect({ name, type: families.get(name)?.type }).toEqual({ name, type });
      expect(families.get(name)!.help.length).toBeGreaterThan(10);
    }
    const own = [...families.keys()].filter((n) => n.startsWith('xfed_'));
    expect(own.sort()).toEqual(OWN_METRICS.map(([n]) => n).sort());
    for (const [name] of OWN_METRICS.filter(([n]) => n.startsWith('xfed_check_') || n.startsWith('xfed_federation_'))) {
      if (name !== 'xfed_federation_outages_total' && name !== 'xfed_federation_outage_seconds_total' && name !== 'xfed_federation_current_outage_seconds') {
        expect({ name, samples: families.get(name)!.samples }).toEqual({ name, samples: [] });
      }
    }
    // Not known yet is absent, not 0: an alert on xfed_federation_up == 0 must not fire before the first round.
    expect(valueOf(families, 'xfed_federation_up')).toBeUndefined();
    expect(valueOf(families, 'xfed_edge_probe_success')).toBeUndefined();
    // The standard, unprefixed names of the Node process dashboards.
    expect(families.get('process_resident_memory_bytes')?.type).toBe('gauge');
    expect(valueOf(families, 'process_resident_memory_bytes')).toBeGreaterThan(1e6);
    expect(valueOf(families, 'process_open_fds')).toBeGreaterThan(2);
    expect(families.get('nodejs_eventloop_lag_seconds')?.type).toBe('gauge');
    expect(families.get('nodejs_gc_duration_seconds')?.type).toBe('histogram');
  });

  it('gives every metric a sample once every kind of record came, with exactly its labels', async () => {
    const families = parseExposition(await sampleMetrics().exposition());
    for (const [name, , labels] of OWN_METRICS) {
      const samples = families.get(name)!.samples;
      expect({ name, some: samples.length > 0 }).toEqual({ name, some: true });
      for (const s of samples) {
        const own = s.name.endsWith('_bucket') ? labels : labels.filter((l) => l !== 'le');
        expect({ name: s.name, labels: Object.keys(s.labels).sort() }).toEqual({ name: s.name, labels: own });
        // NaN and Inf are legal in the format, but none of xfed's own values may be one.
        expect({ name, value: Number.isFinite(s.value) }).toEqual({ name, value: true });
      }
    }
  });

  it('names the watch from its start and zeroes every series of every check, so increase() sees the first result', async () => {
    const h = new Harness().feed(startRecord(0, { suite: 'cutover "night" \\ 2\nsecond line' }));
    const f = await h.scrape();
    expect(valueOf(f, 'xfed_watch_info', { suite: 'cutover "night" \\ 2\nsecond line', target: 'sim', version: '0.9.0' })).toBe(1);
    expect(valueOf(f, 'xfed_watch_start_timestamp_seconds')).toBe(T0 / 1000);
    expect(valueOf(f, 'xfed_watch_interval_seconds')).toBe(30);
    for (const labels of [IM, PRESENCE]) {
      for (const state of ['met', 'unmet', 'error']) {
        expect(valueOf(f, 'xfed_check_results_total', { ...labels, state })).toBe(0);
        expect(valueOf(f, 'xfed_check_transitions_total', { ...labels, to: state })).toBe(0);
      }
      expect(valueOf(f, 'xfed_check_latency_seconds_count', labels)).toBe(0);
      expect(valueOf(f, 'xfed_check_outage_seconds_total', labels)).toBe(0);
      expect(valueOf(f, 'xfed_check_success', labels)).toBeUndefined();
    }
    for (const source of ['cli', 'key', 'page', 'schedule']) expect(valueOf(f, 'xfed_watch_marks_total', { source })).toBe(0);
    for (const outcome of ['ok', 'failed', 'timed_out']) expect(valueOf(f, 'xfed_watch_hook_runs_total', { outcome })).toBe(0);
  });

  it('counts results by state and puts each latency and duration into its buckets', async () => {
    const h = new Harness().feed(startRecord());
    h.roundAt(0, ['im-out', 'met', 120, 42], ['presence-in', 'met', 800]);
    h.roundAt(30, ['im-out', 'met', 3_000, 2_600], ['presence-in', 'unmet', 5_000]);
    const f = await h.scrape();
    expect(valueOf(f, 'xfed_check_results_total', { ...IM, state: 'met' })).toBe(2);
    expect(valueOf(f, 'xfed_check_results_total', { ...PRESENCE, state: 'met' })).toBe(1);
    expect(valueOf(f, 'xfed_check_results_total', { ...PRESENCE, state: 'unmet' })).toBe(1);
    // 42 ms lies in (0.025, 0.05], 2.6 s in (2.5, 5].
    const bucket = (le: string) => valueOf(f, 'xfed_check_latency_seconds_bucket', { ...IM, le });
    expect([bucket('0.025'), bucket('0.05'), bucket('2.5'), bucket('5'), bucket('+Inf')]).toEqual([0, 1, 1, 2, 2]);
    expect(bucket('0.001')).toBe(0);
    expect(bucket('30')).toBe(2);
    expect(valueOf(f, 'xfed_check_latency_seconds_sum', IM)).toBeCloseTo(2.642, 9);
    // A result that measured no latency has a duration and no latency.
    expect(valueOf(f, 'xfed_check_latency_seconds_count', PRESENCE)).toBe(0);
    expect(valueOf(f, 'xfed_check_duration_seconds_count', PRESENCE)).toBe(2);
    expect(valueOf(f, 'xfed_check_duration_seconds_bucket', { ...PRESENCE, le: '1' })).toBe(1);
    expect(valueOf(f, 'xfed_check_duration_seconds_bucket', { ...PRESENCE, le: '5' })).toBe(2);
    expect(valueOf(f, 'xfed_check_duration_seconds_sum', PRESENCE)).toBeCloseTo(5.8, 9);
    expect(valueOf(f, 'xfed_watch_rounds_total')).toBe(2);
    expect(valueOf(f, 'xfed_watch_round_duration_seconds_count')).toBe(2);
    expect(valueOf(f, 'xfed_watch_round_duration_seconds_bucket', { le: '5' })).toBe(1);
    expect(valueOf(f, 'xfed_watch_round_duration_seconds_bucket', { le: '10' })).toBe(2);
    expect(valueOf(f, 'xfed_watch_last_round_timestamp_seconds')).toBe(T0 / 1000 + 38);
    expect(valueOf(f, 'xfed_check_success', IM)).toBe(1);
    expect(valueOf(f, 'xfed_check_success', PRESENCE)).toBe(0);
    expect(['met', 'unmet', 'error'].map((state) => valueOf(f, 'xfed_check_state', { ...PRESENCE, state }))).toEqual([0, 1, 0]);
    expect(valueOf(f, 'xfed_check_state_change_timestamp_seconds', PRESENCE)).toBe(T0 / 1000 + 38);
    expect(valueOf(f, 'xfed_check_state_change_timestamp_seconds', IM)).toBe(T0 / 1000 + 0.12);
  });

  it('grows an ongoing outage between two scrapes without a record, and keeps it once it ended', async () => {
    const h = new Harness().feed(startRecord());
    h.roundAt(0, ['im-out', 'met', 1_000, 10]);
    h.roundAt(30, ['im-out', 'unmet', 5_000]);
    let f = await h.at(40).scrape();
    expect(valueOf(f, 'xfed_check_outage_seconds_total', IM)).toBe(5);
    expect(valueOf(f, 'xfed_federation_outage_seconds_total')).toBe(5);
    expect(valueOf(f, 'xfed_federation_current_outage_seconds')).toBe(5);
    expect(valueOf(f, 'xfed_federation_up')).toBe(0);
    expect(valueOf(f, 'xfed_federation_outages_total')).toBe(1);
    f = await h.at(95).scrape();
    expect(valueOf(f, 'xfed_check_outage_seconds_total', IM)).toBe(60);
    expect(valueOf(f, 'xfed_federation_current_outage_seconds')).toBe(60);
    h.roundAt(120, ['im-out', 'met', 2_000, 1_500]);
    f = await h.at(200).scrape();
    // Unmet from 35 s to 122 s.
    expect(valueOf(f, 'xfed_check_outage_seconds_total', IM)).toBe(87);
    expect(valueOf(f, 'xfed_federation_outage_seconds_total')).toBe(87);
    expect(valueOf(f, 'xfed_federation_current_outage_seconds')).toBe(0);
    expect(valueOf(f, 'xfed_federation_up')).toBe(1);
    expect(valueOf(f, 'xfed_federation_outages_total')).toBe(1);
    expect(valueOf(f, 'xfed_federation_state_change_timestamp_seconds')).toBe(T0 / 1000 + 122);
    // The first result (met) is no change; the outage and the recovery are.
    expect(['met', 'unmet', 'error'].map((to) => valueOf(f, 'xfed_check_transitions_total', { ...IM, to }))).toEqual([1, 1, 0]);
    h.roundAt(150, ['im-out', 'unmet', 1_000]);
    f = await h.at(161).scrape();
    expect(valueOf(f, 'xfed_check_outage_seconds_total', IM)).toBe(97);
    expect(valueOf(f, 'xfed_federation_outages_total')).toBe(2);
  });

  it('never lowers an outage counter when the recovery is recorded after a scrape that counted past it', async () => {
    const h = new Harness().feed(startRecord());
    h.roundAt(0, ['im-out', 'unmet', 1_000]);
    expect(valueOf(await h.at(21).scrape(), 'xfed_check_outage_seconds_total', IM)).toBe(20);
    // The round that ends the outage ended at 16 s, but its record comes after the scrape at 21 s.
    h.roundAt(15, ['im-out', 'met', 1_000, 5]);
    const f = await h.at(30).scrape();
    expect(valueOf(f, 'xfed_check_outage_seconds_total', IM)).toBe(20);
    expect(valueOf(f, 'xfed_federation_outage_seconds_total')).toBe(20);
    h.roundAt(40, ['im-out', 'unmet', 1_000]);
    // 15 s (1..16) before, then 41..51: 25 s, more than the 20 already said.
    expect(valueOf(await h.at(51).scrape(), 'xfed_check_outage_seconds_total', IM)).toBe(25);
  });

  it('counts a check that could not be judged neither as up nor as an outage', async () => {
    const h = new Harness().feed(startRecord());
    h.roundAt(0, ['im-out', 'unmet', 1_000], ['presence-in', 'met', 1_000]);
    h.roundAt(30, ['im-out', 'error', 1_000], ['presence-in', 'met', 1_000]);
    const f = await h.at(300).scrape();
    expect(valueOf(f, 'xfed_check_outage_seconds_total', IM)).toBe(30);
    expect(valueOf(f, 'xfed_check_success', IM)).toBe(0);
    expect(['met', 'unmet', 'error'].map((state) => valueOf(f, 'xfed_check_state', { ...IM, state }))).toEqual([0, 0, 1]);
    expect(['met', 'unmet', 'error'].map((state) => valueOf(f, 'xfed_federation_state', { state }))).toEqual([0, 0, 1]);
    expect(valueOf(f, 'xfed_federation_up')).toBe(0);
    expect(valueOf(f, 'xfed_federation_current_outage_seconds')).toBe(0);
    expect(valueOf(f, 'xfed_federation_outage_seconds_total')).toBe(30);
    expect(valueOf(f, 'xfed_check_results_total', { ...IM, state: 'error' })).toBe(1);
    // A first result that fails is a change (an outage from the first round); a first met one is not.
    expect(['met', 'unmet', 'error'].map((to) => valueOf(f, 'xfed_check_transitions_total', { ...IM, to }))).toEqual([0, 1, 1]);
    expect(['met', 'unmet', 'error'].map((to) => valueOf(f, 'xfed_check_transitions_total', { ...PRESENCE, to }))).toEqual([0, 0, 0]);
  });

  it("takes a resumed watch's standings from a part: states since the log's times, the outage counted from this process's start", async () => {
    const standings = {
      'im-out': { state: 'unmet' as const, since: iso(40) },
      'presence-in': { state: 'met' as const, since: iso(10) },
      [OVERALL]: { state: 'unmet' as const, since: iso(40) },
    };
    const h = new Harness(standings);
    const start = startRecord(100, { resumed: true });
    h.feed(start, { type: 'part', at: iso(100), part: 3, start, standings, round: 7 });
    let f = await h.at(110).scrape();
    expect(valueOf(f, 'xfed_check_success', IM)).toBe(0);
    expect(valueOf(f, 'xfed_check_state_change_timestamp_seconds', IM)).toBe(T0 / 1000 + 40);
    expect(valueOf(f, 'xfed_check_success', PRESENCE)).toBe(1);
    expect(valueOf(f, 'xfed_check_outage_seconds_total', IM)).toBe(10);
    expect(valueOf(f, 'xfed_federation_outage_seconds_total')).toBe(10);
    expect(valueOf(f, 'xfed_federation_current_outage_seconds')).toBe(70);
    // This process counts from 0: the earlier watch's outage is not one of its transitions.
    expect(valueOf(f, 'xfed_federation_outages_total')).toBe(0);
    // The same standings again (the head of the next part) change nothing; the first round changes no state.
    h.roundAt(110, ['im-out', 'unmet', 1_000], ['presence-in', 'met', 1_000]);
    h.feed({ type: 'part', at: iso(115), part: 4, start, standings: { ...standings, 'im-out': { state: 'met', since: iso(1) } }, round: 8 });
    f = await h.at(130).scrape();
    expect(valueOf(f, 'xfed_check_outage_seconds_total', IM)).toBe(30);
    expect(valueOf(f, 'xfed_check_transitions_total', { ...IM, to: 'unmet' })).toBe(0);
  });

  it('learns the states of a resumed watch given no standings from its first round, which changes nothing and so has no transition', async () => {
    const h = new Harness({
      'im-out': { state: 'unmet', since: iso(40) },
      'presence-in': { state: 'met', since: iso(10) },
      [OVERALL]: { state: 'unmet', since: iso(40) },
    });
    h.feed(startRecord(100, { resumed: true }));
    expect(valueOf(await h.at(101).scrape(), 'xfed_federation_up')).toBeUndefined();
    h.roundAt(110, ['im-out', 'unmet', 1_000], ['presence-in', 'met', 1_000]);
    const f = await h.at(122).scrape();
    expect(f.get('xfed_check_transitions_total')!.samples.every((s) => s.value === 0)).toBe(true);
    expect(valueOf(f, 'xfed_check_success', IM)).toBe(0);
    expect(valueOf(f, 'xfed_federation_up')).toBe(0);
    expect(valueOf(f, 'xfed_federation_state', { state: 'unmet' })).toBe(1);
    expect(valueOf(f, 'xfed_federation_outages_total')).toBe(0);
    // Known from the end of that round (112 s) on, not from the earlier watch's 40 s.
    expect(valueOf(f, 'xfed_federation_outage_seconds_total')).toBe(10);
    expect(valueOf(f, 'xfed_check_outage_seconds_total', IM)).toBe(11);
  });

  it('shows the probe facts, each record replacing the last: TLS version as info, certificate expiry, trust, probe success', async () => {
    const notAfter = '2027-02-01T00:00:00.000Z';
    const h = new Harness().feed(startRecord(), {
      type: 'facts',
      at: iso(1),
      tlsVersion: 'TLSv1.2',
      certificate: { subject: 'CN=edge', notAfter, daysLeft: 62, trusted: true, coversBareDomain: false },
    });
    let f = await h.scrape();
    expect(f.get('xfed_edge_tls_info')!.samples).toEqual([{ name: 'xfed_edge_tls_info', labels: { version: 'TLSv1.2' }, value: 1 }]);
    expect(valueOf(f, 'xfed_edge_certificate_expiry_timestamp_seconds')).toBe(Date.parse(notAfter) / 1000);
    expect(valueOf(f, 'xfed_edge_certificate_trusted')).toBe(1);
    expect(valueOf(f, 'xfed_edge_certificate_covers_bare_domain')).toBe(0);
    expect(valueOf(f, 'xfed_edge_probe_success')).toBe(1);
    // A peer's odd version string is not a label value.
    h.feed({ type: 'facts', at: iso(2), tlsVersion: 'TLSv1.3 "or so" and a long tail' });
    f = await h.scrape();
    expect(f.get('xfed_edge_tls_info')!.samples.map((s) => s.labels)).toEqual([{ version: 'other' }]);
    h.feed({ type: 'facts', at: iso(3), error: 'no STARTTLS offered' });
    f = await h.scrape();
    expect(valueOf(f, 'xfed_edge_probe_success')).toBe(0);
    expect(f.get('xfed_edge_tls_info')!.samples).toEqual([]);
    for (const name of ['xfed_edge_certificate_expiry_timestamp_seconds', 'xfed_edge_certificate_trusted', 'xfed_edge_certificate_covers_bare_domain']) {
      expect({ name, samples: f.get(name)!.samples }).toEqual({ name, samples: [] });
    }
  });

  it('counts marks by source, hook runs by outcome, notices; the setup time of the last start of the target', async () => {
    const h = new Harness().feed(
      startRecord(),
      { type: 'ready', at: iso(1), setupMs: 4_000, runtime: 'process' },
      { type: 'ready', at: iso(90), setupMs: 2_500, runtime: 'process' },
    );
    for (const source of ['cli', 'cli', 'key', 'schedule'] as const) h.feed({ type: 'mark', at: iso(5), text: 'moved batch 1', source });
    const hook = { type: 'hook', at: iso(6), check: 'im-out', to: 'unmet', signal: undefined, output: '' } as const;
    h.feed(
      { ...hook, exitCode: 0, timedOut: false, durationMs: 40 },
      { ...hook, exitCode: 3, timedOut: false, durationMs: 70 },
      { ...hook, exitCode: null, signal: 'SIGKILL', timedOut: true, durationMs: 10_000 },
      { ...hook, exitCode: null, signal: 'SIGTERM', timedOut: false, durationMs: 20 },
      { type: 'notice', at: iso(7), text: 'alice@partner.test dropped' },
    );
    const f = await h.scrape();
    expect(['cli', 'key', 'page', 'schedule'].map((source) => valueOf(f, 'xfed_watch_marks_total', { source }))).toEqual([2, 1, 0, 1]);
    expect(['ok', 'failed', 'timed_out'].map((outcome) => valueOf(f, 'xfed_watch_hook_runs_total', { outcome }))).toEqual([1, 2, 1]);
    expect(valueOf(f, 'xfed_watch_hook_duration_seconds_count')).toBe(4);
    expect(valueOf(f, 'xfed_watch_hook_duration_seconds_bucket', { le: '0.05' })).toBe(2);
    expect(valueOf(f, 'xfed_watch_hook_duration_seconds_bucket', { le: '10' })).toBe(4);
    expect(valueOf(f, 'xfed_watch_notices_total')).toBe(1);
    expect(valueOf(f, 'xfed_watch_setup_duration_seconds')).toBe(2.5);
  });

  it('stops every ongoing count at the stop record', async () => {
    const h = new Harness().feed(startRecord());
    h.roundAt(0, ['im-out', 'unmet', 1_000]);
    h.feed({ type: 'stop', at: iso(61), reason: 'SIGINT', rounds: 1 });
    const f = await h.at(3_600).scrape();
    expect(valueOf(f, 'xfed_check_outage_seconds_total', IM)).toBe(60);
    expect(valueOf(f, 'xfed_federation_current_outage_seconds')).toBe(60);
  });

  it('leaves out what a broken record says instead of throwing: times that do not parse, durations that are not numbers', async () => {
    const h = new Harness().feed(startRecord()).at(50);
    h.feed({
      type: 'round',
      at: 'yesterday',
      round: 1,
      durationMs: Number.NaN,
      results: [{ check: 'im-out', state: 'unmet', at: 'soon', durationMs: -5, latencyMs: Number.POSITIVE_INFINITY }],
    });
    // A result of a check the start did not name has its series, with no kind or phase.
    h.feed({ type: 'round', at: iso(60), round: 2, durationMs: 10, results: [{ check: 'stray', state: 'met', at: iso(60), durationMs: 10 }] });
    const f = await h.at(80).scrape();
    expect(valueOf(f, 'xfed_check_results_total', { ...IM, state: 'unmet' })).toBe(1);
    expect(valueOf(f, 'xfed_check_duration_seconds_count', IM)).toBe(0);
    expect(valueOf(f, 'xfed_check_latency_seconds_count', IM)).toBe(0);
    expect(valueOf(f, 'xfed_watch_round_duration_seconds_count')).toBe(1);
    // A time that does not parse is the time it was taken.
    expect(valueOf(f, 'xfed_check_outage_seconds_total', IM)).toBe(30);
    expect(valueOf(f, 'xfed_check_results_total', { check: 'stray', kind: '', phase: '', state: 'met' })).toBe(1);
  });

  it('keeps two watches in one process apart, and starts the process metrics once however many are made', async () => {
    const a = new Harness().feed(startRecord());
    a.roundAt(0, ['im-out', 'met', 100, 10]);
    const monitor = jest.spyOn(perfHooks, 'monitorEventLoopDelay');
    try {
      const others = Array.from({ length: 20 }, () => new WatchMetrics());
      const b = others[0]!;
      const fb = parseExposition(await b.exposition());
      expect(fb.get('xfed_check_results_total')!.samples).toEqual([]);
      expect(valueOf(fb, 'process_resident_memory_bytes')).toBeGreaterThan(1e6);
      expect(monitor).not.toHaveBeenCalled();
    } finally {
      monitor.mockRestore();
    }
    expect(valueOf(await a.scrape(), 'xfed_check_results_total', { ...IM, state: 'met' })).toBe(1);
  });
});

describe('docs/watch-metrics.md', () => {
  it('has a row for every metric of xfed_ a watch exposes, with its type, and no other', async () => {
    const doc = readFileSync(new URL('../../../docs/watch-metrics.md', import.meta.url), 'utf8');
    const rows = [...doc.matchAll(/^\| `(xfed_\w+)` \| (\w+) \|/gm)].map(([, name, type]) => [name, type]);
    const families = parseExposition(await sampleMetrics().exposition());
    const exposed = [...families.values()].filter((f) => f.name.startsWith('xfed_')).map((f) => [f.name, f.type]);
    expect(rows.sort()).toEqual(exposed.sort());
  });
});

describe('the strict reader of the text format the tests use', () => {
  it.each([
    ['a sample before its TYPE', 'x_total 1\n'],
    ['a family split in two', '# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\n# TYPE a gauge\n'],
    ['a repeated series', '# TYPE a gauge\na{x="1"} 1\na{x="1"} 2\n'],
    ['an escape labels do not allow', '# TYPE a gauge\na{x="\\t"} 1\n'],
    ['a value that is not a float', '# TYPE a gauge\na 1,5\n'],
    ['a negative counter', '# TYPE a_total counter\na_total -1\n'],
    ['buckets that are not cumulative', '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n'],
    ['a +Inf bucket that is not the count', '# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 2\n'],
    ['no line feed at the end', '# TYPE a gauge\na 1'],
  ])('refuses %s', (_, text) => {
    expect(() => parseExposition(text)).toThrow();
  });

  it('reads escaped label values and HELP text back', () => {
    const f = parseExposition('# HELP a says \\\\ and\\nmore\n# TYPE a gauge\na{x="q\\"\\\\\\n",y="2",} 1.5e3\n');
    expect(f.get('a')).toEqual({ name: 'a', type: 'gauge', help: 'says \\ and\nmore', samples: [{ name: 'a', labels: { x: 'q"\\\n', y: '2' }, value: 1500 }] });
  });
});
