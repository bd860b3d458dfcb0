import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { withDeadline } from '../../src/infra/deadline.js';
import type { EngineEvents } from '../../src/load/engine.js';
import type { LoadProfile } from '../../src/load/profile.js';
import { LOAD_FORMAT, type LoadResults, type LoadSecond } from '../../src/load/results.js';
import { openLoadTarget, type LoadSession } from '../../src/load/run.js';
import { xfedEngine } from '../../src/load/xfed-engine/index.js';
import { ROOT, startCli } from '../helpers/cli-process.js';
import { ejabberdGate } from '../helpers/ejabberd-gate.js';
import { labSuite, startLab, type Lab } from '../helpers/gateway-lab.js';
import { describeRuntime } from '../helpers/support.js';

const SMOKE = path.join(ROOT, 'scenarios', 'smoke.yaml');

const profile = (o: Partial<LoadProfile> = {}): LoadProfile => ({
  users: 30,
  domains: 2,
  rate: 50,
  durationMs: 3000,
  rampMs: 1000,
  presenceChurn: 5,
  subscribe: true,
  graceMs: 3000,
  ...o,
});

/** Runs a profile on the session, collecting what the engine said. */
async function run(session: LoadSession, p: LoadProfile): Promise<{ results: LoadResults; seconds: LoadSecond[]; notices: string[] }> {
  const seconds: LoadSecond[] = [];
  const notices: string[] = [];
  const events: EngineEvents = { second: (s) => seconds.push(s), notice: (t) => notices.push(t) };
  const results = await session.run(p, xfedEngine(), events, new AbortController().signal);
  return { results, seconds, notices };
}

/** The figures every load.json has, whatever the run did. */
function expectWellFormed(r: LoadResults, p: LoadProfile): void {
  expect(r.format).toBe(LOAD_FORMAT);
  expect(r.profile).toEqual(p);
  expect(Date.parse(r.endedAt)).toBeGreaterThanOrEqual(Date.parse(r.startedAt));
  expect(r.engine.engine).toBe('xfed');
  expect(r.engine.series.length).toBeGreaterThan(0);
  expect(r.engine.generator.processes).toBe(1);
  expect(r.engine.generator.cpuSeconds).toBeGreaterThan(0);
  expect(r.engine.generator.peakRssBytes).toBeGreaterThan(10 * 1024 * 1024);
  const m = r.engine.messages;
  expect(m.sent).toBe(m.delivered + m.lost + Object.values(m.errors).reduce((a, b) => a + b, 0));
}

describeRuntime('process', 'xfed load against the simulation', () => {
  let session: LoadSession;

  beforeAll(async () => {
    session = await openLoadTarget(SMOKE, { users: 30, domains: 2 }, { runtime: 'process', sfbUsers: 5 });
  });
  afterAll(async () => {
    await session?.close();
  });

  it('holds 30 users on 2 domains at 50 IMs/s with presence churn: nothing lost, one-way figures from the SIP side', async () => {
    const p = profile();
    const { results: r, seconds } = await run(session, p);
    expectWellFormed(r, p);
    expect(r.verdict).toEqual({ held: true, reasons: [] });
    expect(r.target).toBe('sim');
    expect(r.runtime).toBe('process');
    const e = r.engine;
    expect(e.logins).toMatchObject({ attempted: 30, succeeded: 30, failed: {} });
    expect(e.logins.time.count).toBe(30);
    expect(e.subscriptions).toMatchObject({ attempted: 30, succeeded: 30, failed: {} });
    expect(e.messages).toMatchObject({ scheduled: 150, sent: 150, delivered: 150, lost: 0, duplicates: 0, errors: {} });
    expect(e.messages.roundTrip.count).toBe(150);
    expect(e.presence.sent).toBe(15);
    // Every IM reached an SfB echo user on the SIP side; one way is shorter than the round trip.
    expect(r.oneWay?.count).toBe(150);
    expect(r.oneWay!.p50).toBeLessThanOrEqual(e.messages.roundTrip.p50);
    expect(seconds.reduce((a, s) => a + s.delivered, 0)).toBe(150);
    expect(seconds.at(-1)!.online).toBe(30);
  });

  it('times the presence storm after the gateway restarted under load: every subscription back', async () => {
    // The session's second run: its users subscribed in the first, which their rosters say.
    const p = profile({ users: 20, domains: 2, rate: 20, presenceChurn: 0, restart: { what: 'gateway', atMs: 1000 } });
    const { results: r, notices } = await run(session, p);
    expectWellFormed(r, p);
    expect(r.engine.subscriptions).toMatchObject({ attempted: 0, succeeded: 0 });
    expect(notices).toContain('20 users were subscribed to the contact already (an earlier run on this target): not timed again');
    expect(notices).toContain('restarting the gateway under load');
    const storm = r.engine.storm!;
    expect(storm).toMatchObject({ what: 'gateway', atMs: 1000, subscriptions: 20, back: 20 });
    expect(storm.allBackMs).toBeGreaterThan(0);
    expect(storm.time.count).toBe(20);
    expect(storm.time.max).toBeLessThanOrEqual(storm.allBackMs! + 1);
  });

  it('says when the machine cannot generate the rate, with the rate it reached', async () => {
    const p = profile({ users: 5, domains: 1, rate: 1e6, durationMs: 100, presenceChurn: 0, subscribe: false, graceMs: 500 });
    const { results: r, notices } = await run(session, p);
    expectWellFormed(r, p);
    const m = r.engine.messages;
    expect(m.scheduled).toBe(100_000);
    expect(m.sent).toBeLessThan(m.scheduled);
    expect(m.rateAchieved).toBeLessThan(p.rate * 0.95);
    const notice = notices.find((n) => n.startsWith('the generator reached'));
    expect(notice).toMatch(
      /^the generator reached [\d.]+ IMs\/s of the 1000000\/s asked \(\d+ of 100000 IMs not sent; send lag p99 [\d.]+ ms\): this machine cannot generate that rate$/,
    );
    expect(r.engine.notices).toContain(notice);
    expect(r.verdict.held).toBe(false);
    expect(r.verdict.reasons).toContain(`the rate reached was ${m.rateAchieved}/s of the 1000000/s asked`);
  });
});

describeRuntime('container', 'xfed load against the simulation', () => {
  it('holds a short load with the Prosody pair in containers', async () => {
    const session = await openLoadTarget(SMOKE, { users: 10, domains: 2 }, { runtime: 'container', sfbUsers: 2 });
    try {
      const p = profile({ users: 10, rate: 20, durationMs: 2000, presenceChurn: 2 });
      const { results: r } = await run(session, p);
      expectWellFormed(r, p);
      expect(r.runtime).toBe('container');
      expect(r.verdict).toEqual({ held: true, reasons: [] });
      expect(r.oneWay?.count).toBe(40);
    } finally {
      await session.close();
    }
  });
});

const ejabberd = ejabberdGate('xfed load against a lab Edge (ejabberd)');

describe(
  "xfed load against a lab's Edge",
  ejabberd.tests(() => {
    let lab: Lab;
    beforeAll(async () => {
      ejabberd.check();
      lab = await startLab();
    }, 120_000);
    afterAll(async () => {
      await lab?.stop();
    });

    it("writes to the lab's echo user through its real Edge: nothing lost, no one-way figures (xfed sees no SIP side there)", async () => {
      const file = path.join(lab.dir, 'load-lab.yaml');
      await writeFile(
        file,
        labSuite(lab, {
          name: 'load-lab',
          users: `      - { name: xfed.echo, role: echo }
      - { name: xfed.watch, role: accept }
`,
          phases: `  - name: verify
    checks:
      - { id: ping-domain, kind: ping, from: alice, timeout: 2s }
`,
        }),
      );
      const session = await openLoadTarget(file, { users: 10, domains: 1 }, { runtime: 'process' });
      try {
        const p = profile({ users: 10, domains: 1, rate: 20, durationMs: 2000, presenceChurn: 2 });
        const { results: r } = await run(session, p);
        expectWellFormed(r, p);
        expect(r.target).toBe('gateway');
        expect(r.verdict).toEqual({ held: true, reasons: [] });
        expect(r.engine.subscriptions).toMatchObject({ attempted: 10, succeeded: 10 });
        expect(r.engine.messages).toMatchObject({ sent: 40, delivered: 40, lost: 0 });
        expect(r.oneWay).toBeUndefined();
        // A lab's Edge cannot be restarted by xfed: said before anything runs.
        await expect(session.run({ ...p, restart: { what: 'edge', atMs: 500 } }, xfedEngine(), {}, new AbortController().signal)).rejects.toThrow(
          "--restart edge: xfed cannot restart a lab's Edge",
        );
      } finally {
        await session.close();
      }
    });
  }),
);

describe('xfed load on the command line', () => {
  let out: string;
  beforeAll(async () => {
    out = await mkdtemp(path.join(os.tmpdir(), 'load-cli-'));
  });
  afterAll(async () => {
    await rm(out, { recursive: true, force: true });
  });

  it('names an open files limit too low for N connections, with the fix, and exits 2 before starting anything', async () => {
    const child = spawn(
      'prlimit',
      ['--nofile=64:64', process.execPath, path.join(ROOT, 'bin', 'xfed.js'), 'load', SMOKE, '--users', '30', '--rate', '50/s', '--duration', '3s'],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await withDeadline(new Promise<number | null>((resolve) => child.once('exit', resolve)), 30_000, 'xfed load to exit');
    expect(code).toBe(2);
    expect(stderr).toMatch(
      /^xfed: the open files limit \(RLIMIT_NOFILE\) is 64, and 30 users need at least 286 .*ulimit -n 4096.*LimitNOFILE=4096.*--ulimit nofile=4096:4096\n$/,
    );
  });

  it('on Ctrl-C stops the generator, tears down, and still writes load.json and report.html (exit 130)', async () => {
    const dir = path.join(out, 'interrupted');
    const cli = startCli(['load', SMOKE, '--users', '6', '--rate', '10/s', '--duration', '60s', '--ramp', '1s', '--runtime', 'process', '--out', dir], {
      env: { CI: '1' },
    });
    // The plain progress prints a line every 5 s of the run: the IMs are under way by then.
    await cli.waitForOutput(/online 6\/6/, 40_000);
    cli.child.kill('SIGINT');
    const { code } = await cli.exit(30_000);
    expect({ code, stderr: cli.stderr() }).toEqual({ code: 130, stderr: '' });
    const r = JSON.parse(await readFile(path.join(dir, 'load.json'), 'utf8')) as LoadResults;
    expect(r.verdict.held).toBe(false);
    expect(r.verdict.reasons[0]).toBe('interrupted (SIGINT)');
    expect(r.engine.logins.succeeded).toBe(6);
    expect(r.engine.messages.sent).toBeGreaterThan(0);
    expect(cli.stdout()).toContain('report.html');
    await expect(readFile(path.join(dir, 'report.html'), 'utf8')).resolves.toContain('<html');
  });
});
