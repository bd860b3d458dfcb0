// A lab user xfed drives, through Edge restarts: ejabberd standing in for a TLS-1.2-only Edge
// (test/helpers/gateway-lab.ts). For each restart: from the restart command to xfed saying the
// session dropped, from the Edge listening again to the user logged in again, and from the drop
// to the user back. Medians over --restarts. Prints figures; asserts nothing. Skipped, with the
// reason, where ejabberd is missing.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Inbox } from '../src/infra/inbox.js';
import { percentile } from '../src/report/percentile.js';
import { parseSuite } from '../src/scenario/loader.js';
import { startTarget } from '../src/targets/index.js';
import { ejabberdMissing } from '../test/helpers/ejabberd.js';
import { labSuite, startLab } from '../test/helpers/gateway-lab.js';

const { values } = parseArgs({ options: { restarts: { type: 'string', default: '5' } } });
const missing = ejabberdMissing();
if (missing) {
  console.log(`xfed bench: lab reconnect skipped: ${missing}`);
  process.exit(0);
}
const restarts = Number(values.restarts);
const f = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const median = (xs: number[]) => percentile(xs, 50)!;

const lab = await startLab({ tls12Only: true });
process.env.XFED_BENCH_ERIN_PASSWORD = lab.register('erin');
try {
  const { suite } = parseSuite(
    labSuite(lab, {
      name: 'lab-reconnect',
      partnerUsers: ['alice'],
      users: `      - { name: erin, role: accept, login: { passwordEnv: XFED_BENCH_ERIN_PASSWORD, c2s: { host: 127.0.0.1, port: ${lab.edge.c2s.port} } } }`,
      phases: '  - { name: p, checks: [{ id: ping, kind: ping, from: alice }] }\n',
    }),
    path.join(lab.dir, 'bench.yaml'),
  );
  const events = new Inbox<{ at: number; line: string }>();
  const target = await startTarget(suite, { runtime: 'process', notice: (line) => events.push({ at: performance.now(), line }) });
  const detect: number[] = [];
  const afterListening: number[] = [];
  const down: number[] = [];
  const tries: number[] = [];
  try {
    for (let i = 0; i < restarts; i++) {
      const mark = events.mark();
      let listening = 0;
      const off = lab.edge.log.onLine((l) => {
        if (/Start accepting TCP connections at 127\.0\.0\.1:\d+ for ejabberd_c2s/.test(l)) listening = performance.now();
      });
      const started = performance.now();
      await lab.edge.restart();
      off();
      const dropped = await events.waitFor((e) => e.line.includes('dropped'), { since: mark, timeoutMs: 30_000, what: 'the drop' });
      const back = await events.waitFor((e) => e.line.includes('logged in again'), { since: mark, timeoutMs: 70_000, what: 'erin back' });
      const attempts = /attempt (\d+)/.exec(back.line)![1]!;
      tries.push(Number(attempts));
      detect.push(dropped.at - started);
      // The log line can be missed (ejabberd's log is read as it comes): no figure then, rather than a wrong one.
      if (listening > 0) afterListening.push(back.at - listening);
      down.push(back.at - dropped.at);
    }
  } finally {
    await target.stop();
  }
  console.log(`xfed bench: a driven lab user through ${restarts} restarts of a TLS-1.2-only ejabberd Edge (medians)`);
  console.log(`  restart command -> drop said          ${f(median(detect))}  (all: ${detect.map(f).join(', ')})`);
  console.log(
    `  Edge listening again -> logged in     ${f(median(afterListening))}  (all: ${afterListening.map(f).join(', ')}${afterListening.length < restarts ? `; listening not seen ${restarts - afterListening.length}x` : ''})`,
  );
  console.log(`  drop -> logged in again (downtime)    ${f(median(down))}  (all: ${down.map(f).join(', ')})`);
  console.log(`  attempts per reconnection             ${median(tries)}  (all: ${tries.join(', ')})`);
} finally {
  delete process.env.XFED_BENCH_ERIN_PASSWORD;
  await lab.stop();
}
