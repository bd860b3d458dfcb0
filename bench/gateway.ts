// The gateway target against a second real XMPP server: ejabberd standing in for a lab's legacy
// Edge (test/integration/gateway-lab.ts, on loopback). Time to verdict of
// scenarios/real-gateway.example.yaml filled in for that lab (median of several runs), then the IM
// round trip partner -> Edge -> echo user -> partner, message after message and with a window in
// flight. Prints figures; asserts nothing. Skipped, with the reason, where ejabberd is missing.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { probeRuntimes } from '../src/prosody/runtime-choice.js';
import type { RuntimeKind } from '../src/prosody/types.js';
import { percentile } from '../src/report/percentile.js';
import { fileReporters } from '../src/report/files.js';
import { runSuite } from '../src/runner/run-suite.js';
import { loadSuite } from '../src/scenario/loader.js';
import { LabTarget } from '../src/targets/lab/lab-target.js';
import { ejabberdMissing } from '../test/helpers/ejabberd.js';
import { SFB_DOMAIN, startLab } from '../test/helpers/gateway-lab.js';
import { measureRoundTrips } from './round-trips.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    messages: { type: 'string', default: '1000' },
    window: { type: 'string', default: '20' },
    runtime: { type: 'string', multiple: true },
  },
});
const missing = ejabberdMissing();
if (missing) {
  console.log(`xfed bench: gateway target skipped: ${missing}`);
  process.exit(0);
}
const runs = Number(values.runs);
const total = Number(values.messages);
const window = Number(values.window);
const probe = await probeRuntimes();
const runtimes =
  (values.runtime as RuntimeKind[] | undefined) ??
  (['process', 'container'] as RuntimeKind[]).filter((k) => (k === 'process' ? probe.prosody.available : probe.docker.available));
const f = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(2)} ms`);
const p = (xs: number[], q: number) => percentile(xs, q)!;

const lab = await startLab();
try {
  const { file, vars } = await lab.fillExample();
  const { suite } = await loadSuite(file, { vars: [vars] });
  console.log(`xfed bench: the gateway target against ejabberd (time to verdict: median of ${runs} runs; round trip over ${total} messages)`);
  for (const runtime of runtimes) {
    const verdicts: number[] = [];
    const setups: number[] = [];
    let unmet = 0;
    for (let i = 0; i < runs; i++) {
      const out = await mkdtemp(path.join(os.tmpdir(), 'xfed-bench-'));
      try {
        const r = await runSuite(suite, { runtime, reporters: fileReporters(out), assumeDone: true });
        verdicts.push(r.durationMs);
        setups.push(r.setupMs);
        unmet += r.summary.unmet;
      } finally {
        await rm(out, { recursive: true, force: true });
      }
    }
    console.log(
      `  ${runtime.padEnd(9)} real-gateway example  14 checks  verdict ${f(p(verdicts, 50)).padStart(9)}  setup ${f(p(setups, 50)).padStart(9)}${unmet ? `  (${unmet} unmet!)` : ''}`,
    );

    if (suite.target.kind !== 'gateway') throw new Error('the example is a gateway suite');
    const target = await LabTarget.start(suite, suite.target.gateway, { runtime });
    try {
      const alice = await target.partnerUser('alice');
      const { firstMs: first, rtts, sequentialPerS, pipelinedPerS } = await measureRoundTrips(alice, `xfed.echo@${SFB_DOMAIN}`, total, window);
      console.log(
        `  ${runtime.padEnd(9)} IM round trip via the Edge and its echo user: first (new S2S both ways) ${f(first)}, ` +
          `p50 ${f(p(rtts, 50))} p90 ${f(p(rtts, 90))} p99 ${f(p(rtts, 99))} max ${f(Math.max(...rtts))}; ` +
          `${sequentialPerS.toFixed(0)}/s one at a time, ${pipelinedPerS.toFixed(0)}/s with ${window} in flight`,
      );
    } finally {
      await target.stop();
    }
  }
} finally {
  await lab.stop();
}
