// Round-trip time partner -> Edge -> gateway -> SIP user (echo) -> gateway -> Edge -> partner,
// over the real simulated legacy side, message after message; then the same with a window of
// messages in flight, for throughput. Prints figures; asserts nothing (see README, Benchmarks).
import { parseArgs } from 'node:util';
import { percentile as nearestRank } from '../src/report/percentile.js';
import { SimTopology } from '../src/targets/sim/sim-topology.js';
import type { RuntimeChoice } from '../src/partner/types.js';

const percentile = (values: number[], p: number) => nearestRank(values, p)!;

const { values } = parseArgs({
  options: {
    runtime: { type: 'string', default: 'process' },
    messages: { type: 'string', default: '1000' },
    window: { type: 'string', default: '20' },
    transport: { type: 'string', default: 'tcp' },
  },
});
const total = Number(values.messages);
const window = Number(values.window);

const setupStarted = performance.now();
const topo = await SimTopology.start({
  runtime: values.runtime as RuntimeChoice,
  partner: { domains: ['partner.test'], users: ['alice'], logLevel: 'warn' },
  sfb: { domain: 'contoso.test', users: [{ name: 'erin', pool: 'legacy', behaviour: 'echo' }], partnerProfile: { partnerType: 'Federated' }, sipTransport: values.transport as 'tcp' | 'udp' },
});
try {
  const setupMs = performance.now() - setupStarted;
  const alice = await topo.partnerUser('alice');
  const echoOf = (body: string) => (s: import('ltx').Element) => s.is('message') && s.getChildText('body') === body;
  const roundTrip = async (i: number) => {
    const body = `rtt ${i}`;
    const started = performance.now();
    await alice.sendMessage('erin@contoso.test', body);
    await alice.waitFor(echoOf(body), 10_000, `the echo of message ${i}`);
    return performance.now() - started;
  };
  // Warm-up: the first message also sets up both S2S streams.
  const first = await roundTrip(-1);
  for (let i = 0; i < 50; i++) await roundTrip(-2 - i);

  const rtts: number[] = [];
  const sequentialStarted = performance.now();
  for (let i = 0; i < total; i++) rtts.push(await roundTrip(i));
  const sequentialS = (performance.now() - sequentialStarted) / 1000;
  rtts.sort((a, b) => a - b);

  const pipelinedStarted = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: window }, async () => {
      while (next < total) await roundTrip(total + next++);
    }),
  );
  const pipelinedS = (performance.now() - pipelinedStarted) / 1000;

  const f = (n: number) => n.toFixed(2);
  console.log(`xfed bench: IM round trip partner -> gateway -> SIP user -> partner (${topo.kind} runtime, SIP over ${values.transport})`);
  console.log(`  setup (partner, Edge, gateway, pools):   ${f(setupMs)} ms`);
  console.log(`  first message (new S2S streams):          ${f(first)} ms`);
  console.log(`  ${total} messages one at a time:  p50 ${f(percentile(rtts, 50))} ms  p90 ${f(percentile(rtts, 90))} ms  p99 ${f(percentile(rtts, 99))} ms  max ${f(rtts.at(-1)!)} ms  (${f(total / sequentialS)} round trips/s)`);
  console.log(`  ${total} messages, ${window} in flight:  ${f(total / pipelinedS)} round trips/s`);
} finally {
  await topo.stop();
}
