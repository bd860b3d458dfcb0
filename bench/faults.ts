// Time to verdict per fault: how long a check takes to end in a verdict when the simulated side
// breaks under it (the Edge killed, the gateway's component crashed, the link cut in the middle
// of a stanza, the test DNS stopped by a step or dying on its own, the partner's Prosody killed),
// and whose failure it is. Each fault is injected `--runs` times; medians are printed. Asserts
// nothing (see README, Benchmarks).
import { parseArgs } from 'node:util';
import { Check } from '../src/checks/index.js';
import type { LinkData } from '../src/infra/link-proxy.js';
import type { RuntimeChoice } from '../src/prosody/types.js';
import { percentile } from '../src/report/percentile.js';
import { runCheck } from '../src/runner/run-check.js';
import { resolvePartnerProfile } from '../src/sfb/partner-profile.js';
import { SimTopology } from '../src/targets/sim/sim-topology.js';
import type { TargetSetup } from '../src/targets/target.js';

const { values } = parseArgs({ options: { runtime: { type: 'string', default: 'process' }, runs: { type: 'string', default: '3' } } });
const runs = Number(values.runs);

const start = () =>
  SimTopology.start({
    runtime: values.runtime as RuntimeChoice,
    partner: { domains: ['partner.test'], users: ['alice'], logLevel: 'warn' },
    sfb: {
      domain: 'contoso.test',
      users: [{ name: 'erin', pool: 'legacy', behaviour: 'echo', xmppAccess: true }],
      partnerProfile: { partnerType: 'Federated' },
    },
  });
const setup: TargetSetup = {
  partner: { domains: ['partner.test'], users: ['alice'] },
  sfbDomain: 'contoso.test',
  partnerProfile: resolvePartnerProfile({ domain: 'partner.test', partnerType: 'Federated' }),
  echoUser: 'erin',
  baseDir: '.',
};

interface Fault {
  name: string;
  /** Breaks the topology; resolves once the fault is in place (or arms it for the check). */
  inject(topo: SimTopology): Promise<void>;
  /** Repairs it, so the next run starts from a working federation. */
  repair(topo: SimTopology): Promise<void>;
  check?: Record<string, unknown>;
}

const FAULTS: Fault[] = [
  {
    name: 'kill-edge (SIGKILL), IM after it',
    inject: (t) => t.apply({ action: 'kill-edge' }).then(() => undefined),
    repair: (t) => t.apply({ action: 'restart-edge' }).then(() => undefined),
  },
  {
    name: 'kill-component, IM after it',
    inject: (t) => t.apply({ action: 'kill-component' }).then(() => undefined),
    repair: (t) => t.apply({ action: 'gateway', state: 'started' }).then(() => undefined),
  },
  {
    name: 'network cut mid-stanza (100 kB IM)',
    check: { size: 100_000 },
    inject: async (t) => {
      const relay = t.links.relay(t.links.xmppPool);
      let chunks = 0;
      const onData = (d: LinkData) => {
        if (d.direction !== 'to-upstream' || d.chunk.length < 1_000 || ++chunks !== 2) return;
        relay.off('data', onData);
        relay.resetConnections();
        void t.apply({ action: 'network', state: 'cut' });
      };
      relay.on('data', onData);
    },
    repair: (t) => t.apply({ action: 'network', state: 'restored' }).then(() => undefined),
  },
  {
    name: 'stop-dns step, new stream',
    check: { timeout: '8s' },
    inject: async (t) => {
      await t.apply({ action: 'stop-dns' });
      await t.renewS2s();
    },
    repair: async (t) => {
      await t.apply({ action: 'start-dns' });
      await t.renewS2s();
    },
  },
  {
    name: 'test DNS dies (no step), new stream',
    check: { timeout: '8s' },
    inject: async (t) => {
      await t.dns.stop();
      await t.renewS2s();
    },
    repair: async (t) => {
      await t.dns.start(t.resolver.port, t.resolver.host);
      await t.renewS2s();
    },
  },
];

const rows: string[] = [];
const topo = await start();
try {
  for (const fault of FAULTS) {
    const times: number[] = [];
    const verdicts = new Set<string>();
    for (let i = 0; i < runs; i++) {
      await fault.inject(topo);
      const check = Check.parse({ id: `bench-${i}`, kind: 'im', from: 'alice', to: 'erin', ...fault.check });
      const r = await runCheck(topo, setup, 'bench', check, check.id);
      times.push(r.durationMs);
      verdicts.add(r.met ? 'met' : `${r.failure} (${r.actual.split(' (')[0]})`);
      await fault.repair(topo);
    }
    rows.push(row(fault.name, times, verdicts));
  }
} finally {
  await topo.stop();
}
// The partner's own Prosody killed ends a topology: one per run.
{
  const times: number[] = [];
  const verdicts = new Set<string>();
  for (let i = 0; i < runs; i++) {
    const t = await start();
    try {
      await t.partnerUser('alice');
      await t.partner.kill();
      const r = await runCheck(t, setup, 'bench', Check.parse({ id: 'bench', kind: 'im', from: 'alice', to: 'erin' }), 'bench');
      times.push(r.durationMs);
      verdicts.add(`${r.failure} (${r.harnessFault ?? r.actual})`);
    } finally {
      await t.stop();
    }
  }
  rows.push(row("partner's Prosody killed (SIGKILL)", times, verdicts));
}

console.log(`xfed bench: time to verdict per fault (${values.runtime} runtime, ${runs} runs each, check timeout 5 s unless said)`);
for (const r of rows) console.log(r);

function row(name: string, times: number[], verdicts: Set<string>): string {
  const ms = (n: number) => `${Math.round(n)} ms`.padStart(8);
  return `  ${name.padEnd(40)} median ${ms(percentile(times, 50)!)}  min ${ms(Math.min(...times))}  max ${ms(Math.max(...times))}  ${[...verdicts].join('; ')}`;
}
