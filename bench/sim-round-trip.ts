// Round-trip time partner -> Edge -> gateway -> SIP user (echo) -> gateway -> Edge -> partner,
// over the real simulated legacy side, message after message; then the same with a window of
// messages in flight, for throughput. Prints figures; asserts nothing (see README, Benchmarks).
import { parseArgs } from 'node:util';
import { percentile as nearestRank } from '../src/report/percentile.js';
import { SimTopology } from '../src/targets/sim/sim-topology.js';
import type { RuntimeChoice } from '../src/prosody/types.js';
import { measureRoundTrips } from './round-trips.js';

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
  sfb: {
    domain: 'contoso.test',
    users: [{ name: 'erin', pool: 'legacy', behaviour: 'echo', xmppAccess: true }],
    partnerProfile: { partnerType: 'Federated' },
    sipTransport: values.transport as 'tcp' | 'udp',
  },
});
try {
  const setupMs = performance.now() - setupStarted;
  const alice = await topo.partnerUser('alice');
  const { firstMs: first, rtts, sequentialPerS, pipelinedPerS } = await measureRoundTrips(alice, 'erin@contoso.test', total, window);

  const f = (n: number) => n.toFixed(2);
  console.log(`xfed bench: IM round trip partner -> gateway -> SIP user -> partner (${topo.runtime} runtime, SIP over ${values.transport})`);
  console.log(`  setup (partner, Edge, gateway, pools):   ${f(setupMs)} ms`);
  console.log(`  first message (new S2S streams):          ${f(first)} ms`);
  console.log(
    `  ${total} messages one at a time:  p50 ${f(percentile(rtts, 50))} ms  p90 ${f(percentile(rtts, 90))} ms  p99 ${f(percentile(rtts, 99))} ms  max ${f(rtts.at(-1)!)} ms  (${f(sequentialPerS)} round trips/s)`,
  );
  console.log(`  ${total} messages, ${window} in flight:  ${f(pipelinedPerS)} round trips/s`);
} finally {
  await topo.stop();
}
