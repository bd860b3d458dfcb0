// `kill -9` of `xfed run scenarios/smoke.yaml` again and again, at rotating moments (while its first
// server starts, after its first verdict, after its last), in each runtime: how long from the kill
// until nothing of that run is left (processes, containers, networks, temp directories, marker, a
// results.json still "running"), and what is left when the bound has passed. Prints figures; asserts
// nothing (see README, Benchmarks). Usage: node --import tsx bench/hard-kill.ts [--kills 5] [--runtimes process,container]
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pollUntil } from '../src/infra/deadline.js';
import { percentile } from '../src/report/percentile.js';

const { values } = parseArgs({ options: { kills: { type: 'string', default: '5' }, runtimes: { type: 'string', default: 'process,container' } } });
const BOUND_MS = 20_000;
const root = path.resolve(import.meta.dirname, '..');
const tmp = await mkdtemp(path.join(os.tmpdir(), 'bench-hard-kill-'));
const stateDir = path.join(tmp, 'state');

const sh = (file: string, args: string[]) => {
  try {
    return execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 20_000 });
  } catch {
    return '';
  }
};
const count = (s: string) => s.split('\n').filter(Boolean).length;

function leftovers(owner: string, out: string): Record<string, number> {
  let running = 0;
  try {
    running = (JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as { status: string }).status === 'running' ? 1 : 0;
  } catch {
    // not written yet
  }
  return {
    processes: count(sh('pgrep', ['-f', `prosody -F --config .*/xfed-[^ ]*-${owner.replace('.', '\\.')}-`])),
    containers: count(sh('docker', ['ps', '-aq', '--filter', `label=org.xfed.run=${owner}`])),
    networks: count(sh('docker', ['network', 'ls', '-q', '--filter', `name=xfed-${owner}-`])),
    tempDirs: readdirSync(os.tmpdir()).filter((d) => d.startsWith('xfed-') && d.includes(`-${owner}-`)).length,
    marker: existsSync(path.join(stateDir, `${owner}.json`)) ? 1 : 0,
    resultsRunning: running,
  };
}

const MOMENTS = ['setup', 'first verdict', 'last verdict'] as const;

async function killOnce(runtime: string, moment: (typeof MOMENTS)[number], i: number) {
  const out = path.join(tmp, `${runtime}-${i}`);
  const child = spawn(
    process.execPath,
    [path.join(root, 'bin', 'xfed.js'), 'run', 'scenarios/smoke.yaml', '--runtime', runtime, '--out', out, '--reporter', 'plain'],
    {
      cwd: root,
      env: { ...process.env, XFED_STATE_DIR: stateDir, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const owner = () =>
    existsSync(stateDir)
      ? readdirSync(stateDir)
          .find((n) => n.startsWith(`${child.pid}.`))
          ?.replace(/\.json$/, '')
      : undefined;
  await pollUntil(
    () => {
      if (moment === 'first verdict') return /✓ srv/.test(stdout) || undefined;
      if (moment === 'last verdict') return /im-judy-2019/.test(stdout) || undefined;
      const file = owner();
      const m = file ? (JSON.parse(readFileSync(path.join(stateDir, `${file}.json`), 'utf8')) as { prosody: unknown[]; docker: unknown[] }) : undefined;
      return m && m.prosody.length + m.docker.length > 0 ? true : undefined;
    },
    { timeoutMs: 120_000, intervalMs: 5, what: `the run to reach ${moment}` },
  );
  const id = owner()!;
  child.kill('SIGKILL');
  const killedAt = performance.now();
  await exited;
  const nothing = (l: Record<string, number>) => Object.values(l).every((n) => n === 0);
  const reaped = await pollUntil(() => (nothing(leftovers(id, out)) ? performance.now() - killedAt : undefined), {
    timeoutMs: BOUND_MS,
    intervalMs: 20,
    what: 'nothing left',
  }).catch(() => undefined);
  return { ms: reaped, left: leftovers(id, out) };
}

const kills = Number(values.kills);
console.log(`xfed bench: SIGKILL of xfed run (smoke suite), ${kills} kills per runtime, bound ${BOUND_MS / 1000} s`);
try {
  for (const runtime of values.runtimes.split(',')) {
    const times: number[] = [];
    const total: Record<string, number> = {};
    for (let i = 0; i < kills; i++) {
      const moment = MOMENTS[i % MOMENTS.length]!;
      const { ms, left } = await killOnce(runtime, moment, i);
      for (const [k, n] of Object.entries(left)) total[k] = (total[k] ?? 0) + n;
      if (ms !== undefined) times.push(ms);
      console.log(
        `  ${runtime} kill ${i + 1} at ${moment}: ${ms === undefined ? `NOT clean after ${BOUND_MS} ms: ${JSON.stringify(left)}` : `nothing left after ${ms.toFixed(0)} ms`}`,
      );
    }
    const sum = Object.values(total).reduce((a, b) => a + b, 0);
    const median = times.length ? `${percentile(times, 50)!.toFixed(0)} ms` : 'n/a';
    const max = times.length ? `${Math.max(...times).toFixed(0)} ms` : 'n/a';
    console.log(`${runtime}: ${sum} things left after ${kills} kills ${JSON.stringify(total)}; kill -> nothing left: median ${median}, max ${max}`);
  }
} finally {
  await rm(tmp, { recursive: true, force: true });
}
