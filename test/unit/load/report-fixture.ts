import type { LatencyStats, LoadResults, LoadSecond } from '../../../src/load/results.js';

const latency = (p50: number, p99: number, max: number, count = 1000): LatencyStats => ({
  count,
  min: p50 / 2,
  mean: p50 * 1.1,
  p50,
  p95: (p50 + p99) / 2,
  p99,
  max,
});

export const NO_SAMPLES: LatencyStats = { count: 0, min: 0, mean: 0, p50: 0, p95: 0, p99: 0, max: 0 };

/** A 10 s ramp of 100 users, then 20 s of 50 IMs/s: the series a run of that profile records. */
export function series(opts: { seconds?: number; gapAt?: number } = {}): LoadSecond[] {
  const seconds = opts.seconds ?? 30;
  return Array.from({ length: seconds }, (_, t) => {
    const ramp = t < 10;
    const quiet = t === opts.gapAt;
    return {
      t,
      online: ramp ? (t + 1) * 10 : 100,
      logins: ramp ? 10 : 0,
      sent: ramp ? 0 : 50,
      delivered: ramp || quiet ? 0 : 50,
      errors: t === 20 ? 2 : 0,
      p50: ramp || quiet ? 0 : 12,
      p99: ramp || quiet ? 0 : 40 + t,
      max: ramp || quiet ? 0 : 60 + t,
    };
  });
}

/** A load run that held: every user online, nothing lost. */
export function heldResults(): LoadResults {
  return {
    format: 'xfed-load/1',
    suite: 'smoke',
    target: 'sim',
    runtime: 'process',
    profile: { users: 100, domains: 2, rate: 50, durationMs: 20_000, rampMs: 10_000, presenceChurn: 0, subscribe: true, graceMs: 5000 },
    startedAt: '2026-11-30T04:00:00.000Z',
    endedAt: '2026-11-30T04:00:35.000Z',
    engine: {
      engine: 'xfed',
      logins: { attempted: 100, succeeded: 100, failed: {}, time: latency(8, 30, 45, 100), rateAchieved: 10 },
      subscriptions: { attempted: 100, succeeded: 100, failed: {}, time: latency(20, 60, 90, 100) },
      messages: {
        scheduled: 1000,
        sent: 1000,
        delivered: 1000,
        lost: 0,
        duplicates: 0,
        reordered: 0,
        errors: {},
        rateTarget: 50,
        rateAchieved: 50,
        throughput: 50,
        roundTrip: latency(12, 58, 79),
        sendLag: latency(0.2, 1.5, 3),
      },
      presence: { sent: 0, errors: 0 },
      series: series(),
      generator: { cpuSeconds: 3.24, peakRssBytes: 92_000_000, rssAllOnlineBytes: 88_000_000, processes: 1 },
      notices: [],
    },
    oneWay: latency(6, 30, 41),
    verdict: { held: true, reasons: [] },
  };
}

/** A run that did not hold: logins failed, IMs lost and errors, the rate not reached, a storm with subscriptions that never came back. */
export function failedResults(): LoadResults {
  const held = heldResults();
  return {
    ...held,
    target: 'gateway',
    runtime: 'container',
    profile: { ...held.profile, restart: { what: 'edge', atMs: 5000 }, presenceChurn: 5 },
    engine: {
      ...held.engine,
      logins: { ...held.engine.logins, succeeded: 97, failed: { timeout: 2, 'not-authorized': 1 } },
      messages: {
        ...held.engine.messages,
        sent: 940,
        delivered: 925,
        lost: 15,
        duplicates: 1,
        reordered: 3,
        errors: { 'remote-server-timeout': 12, 'service-unavailable': 3 },
        rateAchieved: 47,
        throughput: 46.25,
        roundTrip: latency(15, 1800, 4100),
      },
      presence: { sent: 100, errors: 2 },
      storm: { what: 'edge', atMs: 5000, subscriptions: 97, back: 90, time: latency(900, 3000, 3500, 90) },
      notices: ['the rate asked (50/s) was not reached: 47/s sent'],
    },
    oneWay: undefined,
    verdict: { held: false, reasons: ['3 of 100 logins failed (timeout 2, not-authorized 1)', '15 IMs lost'] },
  };
}
