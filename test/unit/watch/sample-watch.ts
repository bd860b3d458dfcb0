import { WatchMetrics } from '../../../src/watch/metrics.js';
import { WATCH_FORMAT, type WatchRecord } from '../../../src/watch/records.js';

const T0 = Date.parse('2026-11-30T01:00:00.000Z');
const iso = (s: number) => new Date(T0 + s * 1000).toISOString();

/** A short watch with every kind of record once, as the engine writes them: every metric gets a sample. */
const SAMPLE_WATCH: readonly WatchRecord[] = [
  {
    type: 'start',
    at: iso(0),
    resumed: false,
    format: WATCH_FORMAT,
    suite: 'cutover',
    file: 'scenarios/cutover.yaml',
    target: 'sim',
    checks: [
      { id: 'im-out', kind: 'im', title: 'alice writes to bob', phase: 'after', expected: 'pass' },
      { id: 'presence-in', kind: 'presence', title: "bob sees alice's presence", phase: 'after', expected: 'pass' },
    ],
    intervalMs: 30_000,
    pid: 4242,
    xfed: '0.9.0',
  },
  { type: 'ready', at: iso(2), setupMs: 2_000, runtime: 'process' },
  {
    type: 'round',
    at: iso(3),
    round: 1,
    durationMs: 5_030,
    results: [
      { check: 'im-out', state: 'met', at: iso(3.03), durationMs: 30, latencyMs: 12 },
      { check: 'presence-in', state: 'unmet', at: iso(8.03), durationMs: 5_000, actual: 'no presence' },
    ],
  },
  { type: 'transition', at: iso(3.03), round: 1, check: 'im-out', from: 'unknown', to: 'met' },
  { type: 'transition', at: iso(3.03), round: 1, check: '*', from: 'unknown', to: 'met' },
  { type: 'transition', at: iso(8.03), round: 1, check: 'presence-in', from: 'unknown', to: 'unmet', actual: 'no presence' },
  { type: 'transition', at: iso(8.03), round: 1, check: '*', from: 'met', to: 'unmet', failing: ['presence-in'], first: 'presence-in' },
  {
    type: 'facts',
    at: iso(9),
    edge: 'edge.contoso.test:5269',
    tlsVersion: 'TLSv1.3',
    certificate: { subject: 'CN=edge.contoso.test', notAfter: iso(86_400 * 30), daysLeft: 30, trusted: true, coversBareDomain: false },
  },
  { type: 'mark', at: iso(10), text: 'moved batch 1', source: 'cli' },
  { type: 'hook', at: iso(11), check: 'presence-in', to: 'unmet', exitCode: 0, timedOut: false, durationMs: 80, output: '' },
  { type: 'notice', at: iso(12), text: 'a round took 40 s, longer than the interval' },
];

/** The metrics of SAMPLE_WATCH, scraped at 20 s. */
export function sampleMetrics(): WatchMetrics {
  const metrics = new WatchMetrics({ now: () => T0 + 20_000 });
  for (const record of SAMPLE_WATCH) metrics.ingest(record);
  return metrics;
}
