// Time to verdict of the bundled suites in each runtime: median of several runs, with the setup
// time and the per-check overhead (a check's duration beyond the protocol latency it measured).
// Prints figures; asserts nothing.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { probeRuntimes } from '../src/prosody/runtime-choice.js';
import type { RuntimeKind } from '../src/prosody/types.js';
import { percentile } from '../src/report/percentile.js';
import type { RunResults } from '../src/report/results.js';
import { fileReporters } from '../src/report/files.js';
import { runSuite } from '../src/runner/run-suite.js';
import { loadSuite } from '../src/scenario/loader.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' }, runtime: { type: 'string', multiple: true } } });
const runs = Number(values.runs);
const median = (xs: number[]) => percentile(xs, 50)!;
const f = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);

const probe = await probeRuntimes();
const runtimes =
  (values.runtime as RuntimeKind[] | undefined) ??
  (['process', 'container'] as RuntimeKind[]).filter((k) => (k === 'process' ? probe.prosody.available : probe.docker.available));

console.log(`xfed bench: time to verdict of the bundled suites (median of ${runs} runs)`);
for (const runtime of runtimes) {
  for (const name of ['smoke', 'sfb2019-cutover']) {
    const { suite } = await loadSuite(path.join('scenarios', `${name}.yaml`));
    const all: RunResults[] = [];
    for (let i = 0; i < runs; i++) {
      const out = await mkdtemp(path.join(os.tmpdir(), 'xfed-bench-'));
      try {
        all.push(await runSuite(suite, { runtime, reporters: fileReporters(out) }));
      } finally {
        await rm(out, { recursive: true, force: true });
      }
    }
    const checks = all[0]!.summary.checks;
    const unmet = all.reduce((n, r) => n + r.summary.unmet, 0);
    const overhead = all.flatMap((r) => r.phases.flatMap((p) => p.checks.filter((c) => c.latencyMs !== undefined).map((c) => c.durationMs - c.latencyMs!)));
    const perCheck = all.map((r) => (r.durationMs - r.setupMs) / Math.max(1, r.summary.checks));
    console.log(
      `  ${runtime.padEnd(9)} ${name.padEnd(16)} ${String(checks).padStart(3)} checks  verdict ${f(median(all.map((r) => r.durationMs))).padStart(9)}` +
        `  setup ${f(median(all.map((r) => r.setupMs))).padStart(9)}  per check ${f(median(perCheck)).padStart(8)}` +
        `  overhead beyond latency ${f(median(overhead))}${unmet ? `  (${unmet} unmet!)` : ''}`,
    );
  }
}
