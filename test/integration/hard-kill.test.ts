import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pollUntil } from '../../src/infra/deadline.js';
import { identify } from '../../src/infra/reaper/liveness.js';
import { recordDir, type OwnerMarker } from '../../src/infra/reaper/marker.js';
import { ROOT, runCli, startCli } from '../helpers/cli-process.js';
import { RUNTIMES, describeRuntime } from '../helpers/support.js';

/**
 * `kill -9` of `xfed run` at several moments, in both runtimes: within the reaper's bound nothing
 * of that run is left (processes, containers, networks, temp directories, listening ports, its
 * marker), and its results.json says `killed`. Everything is counted by the killed run's owner id,
 * as other runs may be going on the same machine.
 */
const REAPER_BOUND_MS = 20_000;

let tmp: string;
let stateDir: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'hard-kill-'));
  stateDir = path.join(tmp, 'state');
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

const sh = (file: string, args: string[]) => {
  try {
    return execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 20_000 });
  } catch {
    return '';
  }
};
const lines = (s: string) => s.split('\n').filter(Boolean);
const escape = (s: string) => s.replace(/\./g, '\\.');

/** The marker of the run with this PID, once it exists. */
function markerOf(pid: number): { owner: string; marker: OwnerMarker } | undefined {
  const name = existsSync(stateDir) ? readdirSync(stateDir).find((n) => n.startsWith(`${pid}.`) && n.endsWith('.json')) : undefined;
  if (!name) return undefined;
  try {
    return { owner: name.slice(0, -'.json'.length), marker: JSON.parse(readFileSync(path.join(stateDir, name), 'utf8')) as OwnerMarker };
  } catch {
    return undefined;
  }
}

/** TCP and UDP ports the run's processes listen on, and the host ports of its containers. */
function listeningPorts(pids: number[], owner: string): number[] {
  const ports = new Set<number>();
  for (const line of lines(sh('ss', ['-Hltunp']))) {
    if (pids.some((pid) => line.includes(`pid=${pid},`))) ports.add(Number(/:(\d+)\s/.exec(line.split(/\s+/)[4] + ' ')?.[1]));
  }
  for (const line of lines(sh('docker', ['ps', '--filter', `label=org.xfed.run=${owner}`, '--format', '{{.Ports}}']))) {
    for (const m of line.matchAll(/:(\d+)->/g)) ports.add(Number(m[1]));
  }
  return [...ports].filter((p) => p > 0);
}

function stillListening(ports: number[]): number[] {
  const open = new Set(lines(sh('ss', ['-Hltun'])).map((l) => Number(/:(\d+)$/.exec(l.split(/\s+/)[4] ?? '')?.[1])));
  return ports.filter((p) => open.has(p));
}

/** What the run with this owner id left, counted from the outside. */
function leftoversOf(owner: string, ports: number[]) {
  return {
    prosodyProcesses: lines(sh('pgrep', ['-f', `prosody -F --config .*/xfed-[^ ]*-${escape(owner)}-`])).length,
    containers: lines(sh('docker', ['ps', '-aq', '--filter', `label=org.xfed.run=${owner}`])).length,
    networks: lines(sh('docker', ['network', 'ls', '-q', '--filter', `name=xfed-${owner}-`])).length,
    tempDirs: readdirSync(os.tmpdir()).filter((d) => d.startsWith('xfed-') && d.includes(`-${owner}-`)).length,
    listeningPorts: stillListening(ports).length,
    marker: existsSync(path.join(stateDir, `${owner}.json`)) ? 1 : 0,
  };
}
const NOTHING = { prosodyProcesses: 0, containers: 0, networks: 0, tempDirs: 0, listeningPorts: 0, marker: 0 };

const resultsStatus = (out: string): string | undefined => {
  try {
    return (JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as { status: string }).status;
  } catch {
    return undefined;
  }
};

interface Moment {
  name: string;
  /** Resolves once the run is at that moment. */
  reached(run: ReturnType<typeof startCli>): Promise<void>;
}

const MOMENTS: Moment[] = [
  {
    name: 'during target setup (its first server is starting)',
    reached: (run) =>
      pollUntil(
        () => {
          const m = markerOf(run.child.pid!)?.marker;
          return m && m.processes.length + m.docker.length > 0 ? true : undefined;
        },
        { timeoutMs: 60_000, what: 'the run to start its first server' },
      ).then(() => undefined),
  },
  { name: 'mid-check (after the first verdict)', reached: (run) => run.waitForOutput(/✓ srv/, 120_000) },
  { name: 'during teardown (after the last verdict)', reached: (run) => run.waitForOutput(/im-judy-2019/, 120_000) },
];

/**
 * Kills `run` with SIGKILL and waits, within the reaper's bound, until nothing of it is left; returns
 * the time that took.
 */
async function killAndAwaitNothingLeft(run: ReturnType<typeof startCli>, label: string, out?: string): Promise<void> {
  const { owner, marker } = markerOf(run.child.pid!)!;
  const ports = listeningPorts([run.child.pid!, ...marker.processes.map((p) => p.pid)], owner);
  run.child.kill('SIGKILL');
  const killedAt = Date.now();
  expect((await run.exit(10_000)).signal).toBe('SIGKILL');
  const left = await pollUntil(
    () => {
      const now = leftoversOf(owner, ports);
      const status = out ? resultsStatus(out) : undefined;
      return JSON.stringify(now) === JSON.stringify(NOTHING) && status !== 'running' ? now : undefined;
    },
    { timeoutMs: REAPER_BOUND_MS, intervalMs: 50, what: `the leftovers of ${owner} to go: ${JSON.stringify(leftoversOf(owner, ports))}` },
  );
  process.stderr.write(`hard kill ${label}: nothing left after ${Date.now() - killedAt} ms (${ports.length} ports had been open)\n`);
  expect(left).toEqual(NOTHING);
}

for (const kind of RUNTIMES) {
  describeRuntime(kind, 'xfed run killed with SIGKILL', () => {
    for (const moment of MOMENTS) {
      it(`${moment.name}: nothing of the run is left within ${REAPER_BOUND_MS / 1000} s, and results.json says killed`, async () => {
        const out = path.join(tmp, `${kind}-${MOMENTS.indexOf(moment)}`);
        const run = startCli(['run', 'scenarios/smoke.yaml', '--runtime', kind, '--out', out, '--reporter', 'plain'], {
          env: { XFED_STATE_DIR: stateDir },
        });
        try {
          await moment.reached(run);
        } catch (err) {
          run.child.kill('SIGKILL');
          throw err;
        }
        await killAndAwaitNothingLeft(run, `[${kind}] ${moment.name}`, out);
        // The run's results.json exists from its start on: the reaper marked it, unless the run
        // had written its end already (a kill late in teardown).
        const results = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as { status: string; reason?: string };
        if (MOMENTS.indexOf(moment) < 2 || results.status !== 'complete') {
          expect(results).toMatchObject({ status: 'killed', reason: expect.stringMatching(/ended without finishing the run .*marked by the run's watchdog/) });
        }
      });
    }

    it('a library user (a script that started a partner through the API): nothing is left either', async () => {
      const run = startCli([kind], { script: path.join(ROOT, 'test', 'fixtures', 'serve-until-killed.ts'), env: { XFED_STATE_DIR: stateDir } });
      await run.waitForOutput(/READY/, 120_000);
      await killAndAwaitNothingLeft(run, `[${kind}] library user`);
    });
  });
}

/** PIDs of processes whose environment names this owner (what xfed started, and their children). */
function processesWithOwner(owner: string): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/environ`, 'latin1').split('\0').includes(`XFED_OWNER_RUN=${owner}`);
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('a hook command of a run step', () => {
  it('killed with xfed: the command and what it started are gone within the bound', async () => {
    const suite = path.join(tmp, 'hook.yaml');
    // The hook starts a child of its own and blocks; only the reaper can end them after the kill.
    writeFileSync(
      suite,
      `suite: hook-kill
partner: { domains: [partner.test], users: [alice] }
target:
  sim:
    domain: contoso.test
    users: [{ name: erin, pool: legacy, behaviour: echo, xmppAccess: true }]
phases:
  - name: p
    steps:
      - { action: run, command: "sleep 600 & wait", timeout: 10m }
    checks:
      - { id: ping, kind: ping, from: alice }
`,
    );
    const run = startCli(['run', suite, '--runtime', 'process', '--out', path.join(tmp, 'hook-out'), '--reporter', 'plain'], {
      env: { XFED_STATE_DIR: stateDir },
    });
    const { owner } = await pollUntil(
      () => {
        const found = markerOf(run.child.pid!);
        return found?.marker.processes.some((p) => p.label.startsWith('hook: ')) ? found : undefined;
      },
      { timeoutMs: 60_000, what: 'the hook command to start' },
    ).catch((err: Error) => {
      run.child.kill('SIGKILL');
      throw err;
    });
    // The shell and its sleep carry the owner id.
    expect(processesWithOwner(owner).length).toBeGreaterThanOrEqual(2);
    await killAndAwaitNothingLeft(run, '[process] hook command');
    await pollUntil(() => (processesWithOwner(owner).length === 0 ? true : undefined), {
      timeoutMs: REAPER_BOUND_MS,
      what: `the hook's processes to go: ${processesWithOwner(owner).join(', ')}`,
    });
  });
});

describe('under Jest (ts-jest)', () => {
  it('the first thing a test starts brings the marker and a watchdog holding a pipe to the test process', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'hard-kill-recorded-'));
    const forget = recordDir(dir);
    try {
      const watchdogs = readdirSync('/proc')
        .filter((p) => /^\d+$/.test(p))
        .map((p) =>
          sh('cat', [`/proc/${p}/cmdline`])
            .split('\0')
            .join(' '),
        )
        .filter((cmd) => /reaper\/watchdog\.(ts|js) /.test(cmd) && cmd.includes(`/${process.pid}.`));
      expect(watchdogs).toHaveLength(1);
    } finally {
      forget();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('xfed clean', () => {
  /** A process that exited: its PID with a start time no live process has. */
  const deadOwner = async () => {
    const child = spawn('true');
    await new Promise((resolve) => child.once('exit', resolve));
    return { pid: child.pid!, startTime: 1 };
  };
  /** A process that looks like a Prosody leftover (it runs until killed); detached so it outlives nobody's group. */
  const lookalike = (env: Record<string, string> = {}) => {
    const child = spawn('sleep', ['600'], { detached: true, stdio: 'ignore', env: { ...process.env, ...env } });
    child.unref();
    return identify(child.pid!)!;
  };
  const writeMarker = (m: Partial<OwnerMarker> & { owner: OwnerMarker['owner'] }) => {
    mkdirSync(stateDir, { recursive: true });
    const marker: OwnerMarker = {
      format: 'xfed-owner/1',
      command: 'test',
      createdAt: new Date().toISOString(),
      processes: [],
      dirs: [],
      docker: [],
      results: [],
      ...m,
    };
    const file = path.join(stateDir, `${m.owner.pid}.${m.owner.startTime}.json`);
    writeFileSync(file, JSON.stringify(marker));
    return file;
  };
  const running = (id: { pid: number; startTime: number }) => identify(id.pid)?.startTime === id.startTime;

  it("removes a dead run's leftovers (by marker, and without one), marks its results killed, and leaves a live run's alone", async () => {
    const dead = await deadOwner();
    const deadId = `${dead.pid}.${dead.startTime}`;
    const listed = lookalike();
    const unlisted = lookalike({ XFED_OWNER_RUN: deadId });
    const deadDir = await mkdtemp(path.join(os.tmpdir(), `xfed-clean-${deadId}-`));
    const resultsDir = path.join(tmp, 'clean-results');
    mkdirSync(resultsDir, { recursive: true });
    const results = path.join(resultsDir, 'results.json');
    writeFileSync(results, JSON.stringify({ format: 'xfed-results/1', status: 'running', phases: [] }));
    const deadMarker = writeMarker({ owner: dead, processes: [{ ...listed, label: 'partner.test' }], results: [results] });

    // A live owner (this test process) with its own things: never touched.
    const live = identify(process.pid)!;
    const liveChild = lookalike();
    const liveDir = await mkdtemp(path.join(os.tmpdir(), `xfed-clean-${live.pid}.${live.startTime}-`));
    const liveMarker = writeMarker({ owner: live, processes: [{ ...liveChild, label: 'live' }], dirs: [liveDir] });
    try {
      const env = { XFED_STATE_DIR: stateDir };
      // What carries the dead owner's id without a marker (the unlisted process, the directory) is
      // found by any xfed process's sweep: another run starting meanwhile may take it first. Each
      // one still there after a listing was there during it, and must be in it.
      const things = [
        { line: `remove process ${listed.pid} (prosody partner.test)`, there: () => running(listed) },
        { line: `remove process ${unlisted.pid} (sleep 600)`, there: () => running(unlisted) },
        { line: `remove directory ${deadDir}`, there: () => existsSync(deadDir) },
        { line: `mark results ${results} (running -> killed)`, there: () => JSON.parse(readFileSync(results, 'utf8')).status === 'running' },
        { line: `remove marker ${deadMarker}`, there: () => existsSync(deadMarker) },
      ];
      const dry = await runCli(['clean', '--dry-run'], { env });
      expect(dry.code).toBe(0);
      const listedByDry = things.filter((t) => t.there());
      expect(listedByDry.map((t) => t.line)).toEqual(expect.arrayContaining([things[0]!.line, things[3]!.line, things[4]!.line]));
      for (const t of listedByDry) expect(dry.stdout).toContain(`would ${t.line}`);
      expect(dry.stdout).not.toContain(`process ${liveChild.pid} `);
      expect(dry.stdout).not.toContain(liveDir);

      const clean = await runCli(['clean'], { env });
      expect(clean.code).toBe(0);
      for (const t of listedByDry) {
        expect(clean.stdout).toContain(t.line.startsWith('mark') ? `marked ${t.line.slice('mark '.length)}` : `removed ${t.line.slice('remove '.length)}`);
      }
      expect(things.filter((t) => t.there()).map((t) => t.line)).toEqual([]);
      expect(JSON.parse(readFileSync(results, 'utf8'))).toMatchObject({ status: 'killed', reason: expect.stringMatching(/marked by xfed clean/) });
      expect([running(liveChild), existsSync(liveDir), existsSync(liveMarker)]).toEqual([true, true, true]);

      const again = await runCli(['clean', '--dry-run'], { env });
      expect(again.stdout).not.toContain(deadId);
    } finally {
      for (const p of [listed, unlisted, liveChild]) if (running(p)) process.kill(p.pid, 'SIGKILL');
      await rm(deadDir, { recursive: true, force: true });
      await rm(liveDir, { recursive: true, force: true });
      await rm(liveMarker, { force: true });
    }
  });

  describeRuntime('container', 'xfed clean and Docker', () => {
    it("removes a dead run's labelled container and its network, without any marker", async () => {
      const dead = await deadOwner();
      const deadId = `${dead.pid}.${dead.startTime}`;
      const image = process.env.XFED_BASE_IMAGE ?? 'local/debian:bookworm';
      const network = `xfed-${deadId}-0badc0de`;
      const container = `xfed-clean-test-${deadId}`;
      sh('docker', ['network', 'create', network]);
      sh('docker', ['create', '--name', container, '--label', `org.xfed.run=${deadId}`, image, 'true']);
      try {
        const r = await runCli(['clean'], { env: { XFED_STATE_DIR: stateDir } });
        expect(r.code).toBe(0);
        expect(r.stdout).toContain(`removed container ${container}`);
        expect(r.stdout).toContain(`removed network ${network}`);
        expect(lines(sh('docker', ['ps', '-aq', '--filter', `name=${container}`]))).toEqual([]);
        expect(lines(sh('docker', ['network', 'ls', '-q', '--filter', `name=${network}`]))).toEqual([]);
      } finally {
        sh('docker', ['rm', '-f', container]);
        sh('docker', ['network', 'rm', network]);
      }
    });
  });

  it('without Docker it says so in one line, cleans the rest, and exits 0', async () => {
    const r = await runCli(['clean', '--dry-run'], { env: { XFED_STATE_DIR: stateDir, PATH: '/nonexistent' } });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^xfed clean: containers and networks not checked: Docker does not answer \(the docker command is not installed\)\n$/);
  });
});
