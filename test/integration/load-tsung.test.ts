import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { EnvironmentError } from '../../src/errors.js';
import type { LoadProfile } from '../../src/load/profile.js';
import type { LoadSecond } from '../../src/load/results.js';
import { openLoadTarget, type LoadSession } from '../../src/load/run.js';
import { tsungEngine } from '../../src/load/tsung/engine.js';
import { ROOT } from '../helpers/cli-process.js';
import { describeRuntime } from '../helpers/support.js';
import { describeWithTool } from '../helpers/tool-gate.js';

const SMOKE = path.join(ROOT, 'scenarios', 'smoke.yaml');

const profile: LoadProfile = {
  users: 20,
  domains: 2,
  rate: 10,
  durationMs: 3000,
  rampMs: 2000,
  presenceChurn: 2,
  subscribe: true,
  graceMs: 2000,
};

/** Processes still running with a Tsung run's home under `dir` (every Erlang node and epmd of a run inherits it). */
async function processesWithHome(dir: string): Promise<number[]> {
  const pids: number[] = [];
  for (const e of (await readdir('/proc')).filter((x) => /^\d+$/.test(x))) {
    const env = await readFile(`/proc/${e}/environ`, 'utf8').catch(() => '');
    if (env.split('\0').some((v) => v.startsWith(`HOME=${dir}/`))) pids.push(Number(e));
  }
  return pids;
}

describeRuntime('process', 'xfed load --engine tsung', () =>
  describeWithTool('tsung', 'on Tsung', () => {
    let session: LoadSession;

    beforeAll(async () => {
      session = await openLoadTarget(SMOKE, { users: profile.users, domains: profile.domains }, { runtime: 'process', sfbUsers: 4 });
    });
    afterAll(async () => {
      await session?.close();
    });

    it("runs the profile on Tsung's controller and two client nodes on loopback addresses, and reads its figures back", async () => {
      const seconds: LoadSecond[] = [];
      let steady = 0;
      const r = await session.run(
        profile,
        tsungEngine({ hosts: ['127.0.0.2', '127.0.0.3'] }),
        { second: (s) => seconds.push(s), steady: () => steady++ },
        new AbortController().signal,
      );
      const e = r.engine;
      expect(e.engine).toBe('tsung');
      expect(r.verdict).toEqual({ held: true, reasons: [] });
      expect(e.logins).toMatchObject({ attempted: 20, succeeded: 20, failed: {} });
      expect(e.logins.time.count).toBe(20);
      expect(e.subscriptions).toMatchObject({ attempted: 20, succeeded: 20, failed: {} });
      // 10 IMs/s for 3 s, 2 presence changes/s for 3 s.
      expect(e.messages).toMatchObject({ scheduled: 30, sent: 30, delivered: 30, lost: 0 });
      expect(e.presence.sent).toBe(6);
      const rt = e.messages.roundTrip;
      expect(rt.count).toBe(30);
      expect(rt.p50).toBeGreaterThan(0);
      expect(rt.p99).toBeGreaterThanOrEqual(rt.p50);
      expect(rt.max).toBeGreaterThanOrEqual(rt.p99);
      expect(e.messages.sendLag.count).toBe(36);
      // The run timed every IM on the SIP side from Tsung's stamp: the one way is shorter than the round trip.
      expect(r.oneWay?.count).toBe(30);
      expect(r.oneWay!.p50).toBeLessThanOrEqual(rt.p50);
      expect(steady).toBe(1);
      expect(seconds.length).toBeGreaterThan(3);
      expect(seconds.reduce((a, s) => a + s.sent, 0)).toBe(30);
      expect(Math.max(...seconds.map((s) => s.online))).toBe(20);
      // The controller and both client nodes, measured from /proc.
      expect(e.generator.processes).toBe(3);
      expect(e.generator.cpuSeconds).toBeGreaterThan(0);
      expect(e.generator.peakRssBytes).toBeGreaterThan(3 * 20 * 1024 * 1024);
      expect(e.notices.join('\n')).toMatch(/cannot tell duplicates or reordering/);
      // Nothing of the run is left: not the nodes, not epmd.
      expect(await processesWithHome(path.join(session.plan.workDir, 'tsung'))).toEqual([]);
    });

    it('stops Tsung, its nodes and epmd when the run is aborted, and still returns what it measured', async () => {
      const stop = new AbortController();
      // The users subscribed in the first run; a second subscribe would get no answer (RFC 6121 3.1.3 leaves it to the server).
      const long = { ...profile, subscribe: false, presenceChurn: 0, durationMs: 60_000 };
      const r = await session.run(long, tsungEngine({ hosts: ['127.0.0.2', '127.0.0.3'] }), { steady: () => stop.abort() }, stop.signal);
      expect(r.engine.logins.succeeded).toBe(20);
      expect(r.engine.messages.sent).toBeGreaterThan(0);
      expect(r.engine.messages.sent).toBeLessThan(r.engine.messages.scheduled);
      // Its own figures, not the first run's (Tsung names its log directory by the minute).
      expect(r.engine.presence.sent).toBe(0);
      expect(r.engine.notices).toContain('stopped early: the figures are those of the part that ran');
      expect(r.verdict.held).toBe(false);
      expect(await processesWithHome(path.join(session.plan.workDir, 'tsung'))).toEqual([]);
    });

    it('refuses a client host that is not this machine, in one line, before starting anything', async () => {
      const err = await session.run(profile, tsungEngine({ hosts: ['127.0.0.2', '192.0.2.7'] }), {}, new AbortController().signal).catch((x: unknown) => x);
      expect(err).toBeInstanceOf(EnvironmentError);
      expect((err as Error).message).toBe(
        "--tsung-hosts 192.0.2.7: resolves to 192.0.2.7, not a loopback address; xfed starts Tsung's client nodes on this machine only (127.0.0.0/8)",
      );
    });

    it('says in one line why Tsung failed, from its output, and leaves nothing behind', async () => {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'xfed-fake-tsung-'));
      try {
        // Tsung's own words when its controller refuses a scenario.
        const fake = path.join(dir, 'tsung');
        await writeFile(fake, '#!/bin/sh\necho "Starting Tsung"\necho "Config Error, aborting ! {{case_clause,bad},[]}"\nexit 1\n');
        await chmod(fake, 0o755);
        const err = await session.run(profile, tsungEngine({ tsungPath: fake }), {}, new AbortController().signal).catch((x: unknown) => x);
        expect(err).toBeInstanceOf(EnvironmentError);
        expect((err as Error).message).toBe('tsung failed (exit 1): Config Error, aborting ! {{case_clause,bad},[]}');
        expect(await processesWithHome(path.join(session.plan.workDir, 'tsung'))).toEqual([]);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }),
);
