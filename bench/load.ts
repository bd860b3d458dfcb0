// Side by side: Tsung (Debian's tsung) and xfed's own load generator against the same Prosody pair
// (the simulation: the partner Prosody, the simulated Edge Prosody, the gateway and SIP echo users,
// started once), with the same work: users log in, then send IMs at an open-model rate to echo
// users across S2S. Each engine runs at stepped rates until a step loses an IM, errs, falls short
// of the rate or has its p99 round trip above the bound; the table gives the highest rate each held,
// the p99 there, the login rate, and the generator's CPU and memory; then each holds 1,000 users
// online (goal: at most 500 MB). Prints figures; asserts nothing (see README, Benchmarks).
import { parseArgs } from 'node:util';
import { XfedError } from '../src/errors.js';
import { parseDuration, parseRate } from '../src/infra/duration.js';
import { onSignal } from '../src/infra/signals.js';
import type { EngineEvents, LoadEngine } from '../src/load/engine.js';
import type { LoadProfile } from '../src/load/profile.js';
import { formatBytes, formatCounts, formatRate } from '../src/load/report/format.js';
import type { LoadResults } from '../src/load/results.js';
import { openLoadTarget } from '../src/load/run.js';
import type { RuntimeChoice } from '../src/prosody/types.js';
import { formatMs } from '../src/report/format.js';

const { values } = parseArgs({
  options: {
    suite: { type: 'string', default: 'scenarios/smoke.yaml' },
    runtime: { type: 'string', default: 'process' },
    users: { type: 'string', default: '200' },
    duration: { type: 'string', default: '20s' },
    ramp: { type: 'string', default: '5s' },
    bound: { type: 'string', default: '1s' },
    grace: { type: 'string', default: '5s' },
    rates: { type: 'string', default: '50,100,200,400,800,1600,3200' },
    engines: { type: 'string', default: 'tsung,xfed' },
    concurrent: { type: 'string', default: '1000' },
    'concurrent-ramp': { type: 'string', default: '5s' },
  },
});

/** How long a step's backlog may take to drain before the next step starts anyway. */
const DRAIN_TIMEOUT_MS = 120_000;

interface Step {
  rate: number;
  results: LoadResults;
  held: boolean;
}
interface EngineRow {
  name: string;
  steps: Step[];
  concurrent?: LoadResults | undefined;
}

async function main(): Promise<void> {
  const users = whole(values.users, '--users', 1);
  const concurrent = whole(values.concurrent, '--concurrent', 0);
  const durationMs = parseDuration(values.duration, '--duration');
  const rampMs = parseDuration(values.ramp, '--ramp');
  const boundMs = parseDuration(values.bound, '--bound');
  const graceMs = parseDuration(values.grace, '--grace');
  const concurrentRampMs = parseDuration(values['concurrent-ramp'], '--concurrent-ramp');
  const rates = values.rates.split(',').map((r) => parseRate(r, '--rates'));
  const engines = await Promise.all(values.engines.split(',').map((name) => engineNamed(name.trim())));
  const runtime = values.runtime as RuntimeChoice;

  const stop = new AbortController();
  const unlisten = onSignal(() => stop.abort());
  const base: Omit<LoadProfile, 'users' | 'rate'> = { domains: 1, durationMs, rampMs, presenceChurn: 0, subscribe: false, graceMs };
  console.log(
    `xfed bench: load generators side by side (the simulation, ${runtime} runtime, suite ${values.suite}): ${users} users logging in over ${formatMs(rampMs)}, ` +
      `IMs to SIP echo users across S2S for ${formatMs(durationMs)} per step, p99 bound ${formatMs(boundMs)}`,
  );
  const setupStarted = performance.now();
  const session = await openLoadTarget(values.suite, { users: Math.max(users, concurrent), domains: 1 }, { runtime, notice: (t) => console.log(`  ! ${t}`) });
  const table: EngineRow[] = [];
  try {
    console.log(
      `  target up in ${formatMs(performance.now() - setupStarted)}: ${session.plan.users.length} partner users, ${session.plan.contacts.length} SfB echo users`,
    );
    // A step the target could not keep up with leaves IMs queued in it; the next step, of the other
    // engine, would pay for them. Before each step an IM of the suite's own user goes through the
    // same path to an echo user and back (the target's barrier): once it is back, the queue is gone.
    const probe = session.suite.partner.users[0]!;
    const drain = async () => {
      const started = performance.now();
      try {
        await session.target.barrier(await session.target.partnerUser(probe), DRAIN_TIMEOUT_MS);
        const ms = performance.now() - started;
        if (ms > 1000) console.log(`        the target caught up in ${formatMs(ms)}`);
      } catch (err) {
        console.log(`        the target did not catch up: ${err instanceof Error ? err.message : String(err)}`);
      } finally {
        session.target.flow.forget();
      }
    };
    const rows = engines.map((engine) => ({ engine, row: { name: engine.name, steps: [] } as EngineRow }));
    table.push(...rows.map((r) => r.row));
    // The engines take turns at each rate, so a change in the machine's other load over the
    // benchmark's minutes falls on both alike; an engine leaves the steps at its first rate not held.
    let active = rows;
    for (const rate of rates) {
      const next: typeof rows = [];
      for (const { engine, row } of active) {
        if (stop.signal.aborted) break;
        await drain();
        const results = await session.run({ ...base, users, rate }, engine, events(engine), stop.signal).catch(failed(engine, rate));
        if (!results) continue;
        const held = results.verdict.held && results.engine.messages.roundTrip.p99 <= boundMs;
        row.steps.push({ rate, results, held });
        console.log(`  ${engine.name.padEnd(5)} ${stepLine(results)}  ${held ? 'held' : `not held: ${whyNot(results, boundMs)}`}`);
        if (held) next.push({ engine, row });
      }
      active = next;
    }
    for (const { engine, row } of rows) {
      if (concurrent === 0 || stop.signal.aborted) break;
      // A rate low enough for any generator: this run is about the memory of N sessions and the login rate.
      const profile = { ...base, users: concurrent, rate: Math.max(1, concurrent / 20), rampMs: concurrentRampMs, durationMs: 10_000 };
      await drain();
      row.concurrent = await session.run(profile, engine, events(engine), stop.signal).catch(failed(engine, profile.rate));
      if (!row.concurrent) continue;
      const c = row.concurrent.engine;
      console.log(
        `  ${engine.name.padEnd(5)} ${concurrent} users: ${c.logins.succeeded}/${concurrent} logged in at ${formatRate(c.logins.rateAchieved)} (${formatRate(concurrent / (concurrentRampMs / 1000))} asked${c.logins.succeeded < concurrent ? `; failed: ${formatCounts(c.logins.failed) || 'no reason given'}` : ''}), ` +
          `RSS with all online ${c.generator.rssAllOnlineBytes !== undefined ? formatBytes(c.generator.rssAllOnlineBytes) : '-'}, peak ${formatBytes(c.generator.peakRssBytes)}`,
      );
    }
  } finally {
    unlisten();
    await session.close();
  }
  printTable(table, { boundMs, concurrent, concurrentRampMs });
}

const events = (engine: LoadEngine): EngineEvents => ({ notice: (text) => console.log(`        ${engine.name}: ${text}`) });

/** An engine that broke ends its own steps, not the benchmark: the other engine still runs against the same target. */
const failed = (engine: LoadEngine, rate: number) => (err: unknown) => {
  console.log(`  ${engine.name.padEnd(5)} ${formatRate(rate).padStart(7)}: the engine failed: ${err instanceof Error ? err.message : String(err)}`);
  return undefined;
};

function stepLine(r: LoadResults): string {
  const m = r.engine.messages;
  const g = r.engine.generator;
  return [
    `${formatRate(m.rateTarget).padStart(7)}: sent ${formatRate(m.rateAchieved)}, delivered ${formatRate(m.throughput)}`,
    `lost ${m.lost}, p99 ${formatMs(m.roundTrip.p99)}, send lag p99 ${formatMs(m.sendLag.p99)}`,
    `logins ${formatRate(r.engine.logins.rateAchieved)}, CPU ${g.cpuSeconds.toFixed(1)} s, peak RSS ${formatBytes(g.peakRssBytes)}`,
  ].join('; ');
}

function whyNot(r: LoadResults, boundMs: number): string {
  const reasons = [...r.verdict.reasons];
  const p99 = r.engine.messages.roundTrip.p99;
  if (p99 > boundMs) reasons.push(`p99 ${Math.round(p99)} ms above the bound of ${boundMs} ms`);
  return reasons.join('; ');
}

function printTable(rows: EngineRow[], o: { boundMs: number; concurrent: number; concurrentRampMs: number }): void {
  const header = ['engine', 'highest rate held', `p99 there`, 'login rate', 'CPU (that step)', 'peak RSS (that step)'];
  if (o.concurrent > 0) header.push(`RSS, ${o.concurrent} users online`);
  const lines = rows.map((row) => {
    const best = row.steps.filter((s) => s.held).at(-1);
    const g = best?.results.engine.generator;
    const c = row.concurrent?.engine;
    // The login rate of the many-user run (all at once over a short ramp) when there was one.
    const logins = c ?? best?.results.engine;
    const cells = [
      row.name,
      best ? formatRate(best.rate) : `none (${formatRate(row.steps[0]?.rate ?? 0)} failed)`,
      best ? formatMs(best.results.engine.messages.roundTrip.p99) : '-',
      logins
        ? `${formatRate(logins.logins.rateAchieved)}${logins.logins.succeeded < logins.logins.attempted ? ` (${logins.logins.succeeded}/${logins.logins.attempted} logged in)` : ''}`
        : '-',
      g ? `${g.cpuSeconds.toFixed(1)} s` : '-',
      g ? formatBytes(g.peakRssBytes) : '-',
    ];
    if (o.concurrent > 0)
      cells.push(
        c
          ? `${c.generator.rssAllOnlineBytes !== undefined ? formatBytes(c.generator.rssAllOnlineBytes) : '-'} (${c.logins.succeeded}/${o.concurrent} online${withinGoal(c, o.concurrent) ? ', within 500 MB' : ''})`
          : '-',
      );
    return cells;
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const format = (cells: string[]) => `  ${cells.map((c, i) => c.padEnd(widths[i]!)).join('  ')}`.trimEnd();
  console.log('');
  console.log(`Highest rate held: no IM lost, no error, the rate reached and p99 round trip at most ${formatMs(o.boundMs)}.`);
  if (o.concurrent > 0) console.log(`Login rate: logins completed per second when ${o.concurrent} users log in over ${formatMs(o.concurrentRampMs)}.`);
  console.log(format(header));
  for (const l of lines) console.log(format(l));
  const held = (name: string) =>
    rows
      .find((r) => r.name === name)
      ?.steps.filter((s) => s.held)
      .at(-1)?.rate ?? 0;
  if (rows.some((r) => r.name === 'xfed') && rows.some((r) => r.name === 'tsung'))
    console.log(
      `  goal, xfed sustains at least Tsung's rate: ${held('xfed') >= held('tsung') ? 'met' : 'not met'} (${formatRate(held('xfed'))} vs ${formatRate(held('tsung'))})`,
    );
  const x = rows.find((r) => r.name === 'xfed')?.concurrent?.engine;
  if (x) console.log(`  goal, ${o.concurrent} users online in at most 500 MB (xfed): ${withinGoal(x, o.concurrent) ? 'met' : 'not met'}`);
}

/** Every user online, and the generator's memory then at most 500 MB (the issue's goal for 1,000 users). */
function withinGoal(e: LoadResults['engine'], users: number): boolean {
  return e.logins.succeeded === users && e.generator.rssAllOnlineBytes !== undefined && e.generator.rssAllOnlineBytes <= 500e6;
}

async function engineNamed(name: string): Promise<LoadEngine> {
  if (name === 'xfed') return (await import('../src/load/xfed-engine/index.js')).xfedEngine();
  if (name === 'tsung') return (await import('../src/load/tsung/engine.js')).tsungEngine({});
  throw new XfedError(`--engines ${name}: expected xfed, tsung or both (xfed,tsung)`);
}

function whole(text: string, option: string, min: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min) throw new XfedError(`${option} ${text}: expected a whole number of at least ${min}`);
  return n;
}

try {
  await main();
} catch (err) {
  if (!(err instanceof XfedError)) throw err;
  console.error(`xfed bench: ${err.message}`);
  process.exitCode = 2;
}
