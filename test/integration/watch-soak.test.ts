import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setInterval as every } from 'node:timers/promises';
import { ROOT } from '../helpers/cli-process.js';
import { SoakedWatch, formatSamples, formatSummary, summarize, type SoakSample } from '../helpers/soak.js';
import { describeRuntime } from '../helpers/support.js';

// The short soak: the smoke suite (every kind of check, one of them failing every round) every
// 100 ms (rounds then run back to back, about 9 a second) for about 80 s.
// bench/watch-soak.ts runs the same at 1 s for half an hour.
/** Rounds before the measured window: startup, compiled code and the first sessions settle by then. */
const WARMUP_ROUNDS = 300;
/** A machine that cannot run WARMUP_ROUNDS in this time is too slow for the soak to say anything. */
const WARMUP_BOUND_S = 180;
const MEASURED_S = 40;
const SAMPLE_EVERY_S = 4;
/**
 * Heap after a full GC, per 1000 rounds in the measured window. It is not zero in a clean watch:
 * bounded buffers (a user's last 500 stanzas, the last 5,000 lines of each Prosody log, the last
 * 2,000 SIP events, the behaviour log, the timeline's latency buckets) fill over the first
 * thousand rounds or so. Clean runs measured 3.9 and 4.5 MiB since those buffers were made
 * smaller (6.8 to 8.6 MiB before); a watch that kept every round record eight times over (about
 * 8 KB a round, the size of keeping every result with its message flow) measured 17 MiB on top of
 * the larger buffers. At 8 MiB, a leak of about 4 KB a round or more fails: 55 MiB over four hours
 * at a 1 s interval.
 */
const HEAP_SLOPE_LIMIT = 8 * 1024 * 1024;
/** Descriptors open at the moment of a sample vary by what the round is doing (an S2S probe, an IM). */
const FD_SLACK = 4;

/** The largest value of a series in the first and in the last third of the samples. */
function thirds(samples: SoakSample[], key: 'fds' | 'sockets' | 'prosodyFds' | 'prosodySockets') {
  const n = Math.max(1, Math.floor(samples.length / 3));
  const max = (xs: SoakSample[]) => Math.max(...xs.map((s) => s[key]));
  return { early: max(samples.slice(0, n)), late: max(samples.slice(-n)) };
}

describeRuntime('process', 'xfed watch soak', () => {
  let dir: string;
  let watch: SoakedWatch | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'watch-soak-'));
  });
  afterAll(async () => {
    // A failed assertion leaves the watch running: it is stopped here, killed after a bound.
    await watch?.stop(20_000);
    await rm(dir, { recursive: true, force: true });
  });

  it(
    'keeps heap, descriptors and sockets flat over hundreds of rounds, and ends on SIGINT with nothing left behind',
    async () => {
      watch = await SoakedWatch.start({ suite: path.join(ROOT, 'scenarios', 'smoke.yaml'), interval: '100ms', out: path.join(dir, 'watch') });
      const samples: SoakSample[] = [await watch.sample()];
      let warmupS: number | undefined;
      for await (const _ of every(SAMPLE_EVERY_S * 1000)) {
        const s = await watch.sample();
        samples.push(s);
        if (warmupS === undefined && s.rounds >= WARMUP_ROUNDS) warmupS = s.t;
        if (warmupS !== undefined ? s.t >= warmupS + MEASURED_S : s.t >= WARMUP_BOUND_S) break;
      }
      const stop = await watch.stop(30_000);
      const stdout = watch.stdout();
      watch = undefined;
      expect({ roundsInWarmupBound: samples.at(-1)!.rounds >= WARMUP_ROUNDS }).toEqual({ roundsInWarmupBound: true });
      const summary = summarize(samples, warmupS!);
      // Printed so a failure shows its figures.
      process.stdout.write(`${formatSamples(samples)}\n${formatSummary(summary, warmupS!)}\n`);

      expect(stop).toEqual({ code: 130, signal: null, killed: false, leftBehind: [] });
      expect(stdout).toMatch(/^watch of smoke: /m);

      const measured = samples.filter((s) => s.t >= warmupS!);
      const rounds = measured.at(-1)!.rounds - measured[0]!.rounds;
      // Enough rounds for a slope per round: about 400 at 4 rounds a second.
      expect(rounds).toBeGreaterThan(150);
      const heap = summary.find((s) => s.series === 'heapAfterGcBytes')!;
      expect(heap.per1000Rounds).toBeLessThan(HEAP_SLOPE_LIMIT);

      const grown = (['fds', 'sockets', 'prosodyFds', 'prosodySockets'] as const)
        .map((key) => ({ key, ...thirds(measured, key) }))
        .filter((g) => g.late > g.early + FD_SLACK);
      expect(grown).toEqual([]);
      expect(new Set(measured.map((s) => s.prosodyCount))).toEqual(new Set([2]));
    },
    // Startup and the warm-up take about a minute at 4 rounds a second; on a slow machine, more.
    (WARMUP_BOUND_S + MEASURED_S + 60) * 1000,
  );
});
