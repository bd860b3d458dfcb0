import { describe, expect, it } from '@jest/globals';
import { verdictOf } from '../../../src/load/run.js';
import type { LoadProfile } from '../../../src/load/profile.js';
import type { EngineResult } from '../../../src/load/results.js';
import { DeliveryLedger, Latencies, OpenSchedule, scheduledCount, seqOf, stamp, stampOf } from '../../../src/load/stats.js';
import { xfedEngine } from '../../../src/load/xfed-engine/index.js';
import { costFrom } from '../../../src/load/xfed-engine/parent.js';

describe('the stamp in each IM body', () => {
  it('carries the sequence number and the due time, read back by the engine', () => {
    const body = stamp(42, 1_764_470_000_123.4);
    expect(body).toBe('xfed-load 42 1764470000123');
    expect(stampOf(body)).toBe(1_764_470_000_123);
    expect(seqOf(body)).toBe(42);
    expect(xfedEngine().stampOf(body)).toBe(1_764_470_000_123);
  });

  it('is undefined for any other body', () => {
    for (const body of ['hello', 'xfed-load 1', 'xfed-load x 2', 'xfed-load 1 2 3', 'say xfed-load 1 2']) {
      expect(stampOf(body)).toBeUndefined();
      expect(seqOf(body)).toBeUndefined();
    }
  });
});

describe('the delivery ledger', () => {
  it('times each echo from its due time, and counts what never came back as lost', () => {
    const l = new DeliveryLedger();
    l.send(0, 7, 1000);
    l.send(1, 7, 1010);
    l.send(2, 8, 1020);
    expect(l.echo(0, 1050)).toEqual({ kind: 'delivered', latencyMs: 50, reordered: false });
    expect(l.echo(2, 1100)).toEqual({ kind: 'delivered', latencyMs: 80, reordered: false });
    expect([l.sent, l.delivered, l.lost]).toEqual([3, 2, 1]);
  });

  it('counts a second echo of the same IM as a duplicate, and an IM it never sent as unknown', () => {
    const l = new DeliveryLedger();
    l.send(5, 1, 0);
    l.echo(5, 10);
    expect(l.echo(5, 20)).toEqual({ kind: 'duplicate' });
    expect(l.echo(6, 20)).toEqual({ kind: 'unknown' });
    expect([l.delivered, l.duplicates, l.lost]).toEqual([1, 1, 0]);
  });

  it('counts an echo that overtakes an earlier IM of the same user and contact as reordered, not across pairs', () => {
    const l = new DeliveryLedger();
    for (const [seq, pair] of [
      [0, 1],
      [1, 2],
      [2, 1],
      [3, 1],
    ] as const)
      l.send(seq, pair, seq);
    l.echo(2, 10);
    // Pair 2's IM came after pair 1's IM 0 was sent: not a reorder.
    expect(l.echo(1, 11)).toMatchObject({ reordered: false });
    expect(l.echo(0, 12)).toMatchObject({ kind: 'delivered', reordered: true });
    expect(l.echo(3, 13)).toMatchObject({ reordered: false });
    expect(l.reordered).toBe(1);
  });

  it('stops awaiting an IM answered with an error, once', () => {
    const l = new DeliveryLedger();
    l.send(1, 1, 0);
    expect(l.error(1)).toBe(true);
    expect(l.error(1)).toBe(false);
    expect([l.failed, l.lost, l.inFlight]).toEqual([1, 0, 0]);
  });
});

describe('the open schedule', () => {
  it('makes IM i due at t0 + i / rate, whatever was sent before', () => {
    const s = new OpenSchedule(10_000, 200, 600);
    expect(s.dueAt(0)).toBe(10_000);
    expect(s.dueAt(200)).toBe(11_000);
    expect(s.dueBy(9_999)).toBe(0);
    expect(s.dueBy(10_000)).toBe(1);
    expect(s.dueBy(10_500)).toBe(101);
    // A timer that fires late finds everything due since: the rate holds, the lag shows.
    expect(s.dueBy(12_000)).toBe(401);
    expect(s.dueBy(60_000)).toBe(600);
  });

  it('schedules rate x duration IMs', () => {
    expect(scheduledCount(200, 30_000)).toBe(6000);
    expect(scheduledCount(0.5, 3000)).toBe(1);
  });
});

describe('latencies', () => {
  it('has zeros without samples, and percentiles to 3 significant digits', () => {
    const l = new Latencies();
    expect(l.stats()).toEqual({ count: 0, min: 0, mean: 0, p50: 0, p95: 0, p99: 0, max: 0 });
    for (let i = 1; i <= 100; i++) l.record(i);
    const s = l.stats();
    expect(s).toMatchObject({ count: 100, min: 1, p50: 50, p95: 95, p99: 99, max: 100 });
    expect(s.mean).toBeCloseTo(50.5, 1);
  });

  it('keeps sub-millisecond samples, and counts a negative one (a clock step) as zero', () => {
    const l = new Latencies();
    l.record(0.25);
    l.record(-3);
    expect(l.stats()).toMatchObject({ count: 2, max: 0.25 });
  });
});

describe("the generator's cost from /proc", () => {
  it('reads CPU ticks after the command, whatever the command contains, and VmRSS and VmHWM', () => {
    const stat = '4242 (node (load) x) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 11 0 100 1000000 2000';
    const status = 'Name:\tnode\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\n';
    expect(costFrom(stat, status)).toEqual({ cpuSeconds: 3, rssBytes: 102400 * 1024, peakRssBytes: 204800 * 1024 });
  });
});

const profile: LoadProfile = { users: 10, domains: 1, rate: 50, durationMs: 3000, rampMs: 1000, presenceChurn: 0, subscribe: true, graceMs: 5000 };
const none = { count: 0, min: 0, mean: 0, p50: 0, p95: 0, p99: 0, max: 0 };
const result = (o: Partial<EngineResult> = {}): EngineResult => ({
  engine: 'xfed',
  logins: { attempted: 10, succeeded: 10, failed: {}, time: none, rateAchieved: 10 },
  subscriptions: { attempted: 10, succeeded: 10, failed: {}, time: none },
  messages: {
    scheduled: 150,
    sent: 150,
    delivered: 150,
    lost: 0,
    duplicates: 0,
    reordered: 0,
    errors: {},
    rateTarget: 50,
    rateAchieved: 50,
    throughput: 50,
    roundTrip: none,
    sendLag: none,
  },
  presence: { sent: 0, errors: 0 },
  series: [],
  generator: { cpuSeconds: 1, peakRssBytes: 1, processes: 1 },
  notices: [],
  ...o,
});

describe('the verdict', () => {
  it('holds with every login, nothing lost, no errors and the rate reached', () => {
    expect(verdictOf(profile, result())).toEqual({ held: true, reasons: [] });
  });

  it('gives every reason it does not hold', () => {
    const r = result({
      logins: { attempted: 10, succeeded: 8, failed: { timeout: 2 }, time: none, rateAchieved: 8 },
      messages: { ...result().messages, sent: 100, delivered: 97, lost: 2, errors: { 'remote-server-timeout': 1 }, rateAchieved: 33.3 },
      storm: { what: 'gateway', atMs: 1000, subscriptions: 8, back: 7, time: none },
    });
    expect(verdictOf(profile, r, 'SIGINT').reasons).toEqual([
      'interrupted (SIGINT)',
      '2 of 10 users did not log in (timeout: 2)',
      '2 of 100 IMs lost (no echo within the grace time)',
      '1 IM answered with an error (remote-server-timeout: 1)',
      'the rate reached was 33.3/s of the 50/s asked',
      "1 of 8 subscriptions did not get the contact's presence back after the gateway restart",
    ]);
  });
});
