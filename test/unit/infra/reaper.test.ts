import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { identify, isRunning, ownerId, parseOwnerId } from '../../../src/infra/reaper/liveness.js';
import { markResultsKilled, sweepLeftovers } from '../../../src/infra/reaper/leftovers.js';
import { listMarkers, recordDir, recordResults, thisOwner, type OwnerMarker } from '../../../src/infra/reaper/marker.js';

let tmp: string;
const savedStateDir = process.env.XFED_STATE_DIR;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'reaper-unit-'));
  process.env.XFED_STATE_DIR = path.join(tmp, 'state');
});
afterAll(async () => {
  if (savedStateDir === undefined) delete process.env.XFED_STATE_DIR;
  else process.env.XFED_STATE_DIR = savedStateDir;
  await rm(tmp, { recursive: true, force: true });
});

/** The PID of a process that has exited (and been reaped). */
async function exitedPid(): Promise<number> {
  const child = spawn('true');
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

function writeMarker(owner: OwnerMarker['owner'], lists: Partial<OwnerMarker> = {}): string {
  const dir = process.env.XFED_STATE_DIR!;
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${ownerId(owner)}.json`);
  const marker: OwnerMarker = { format: 'xfed-owner/1', owner, command: 'test', createdAt: '', processes: [], dirs: [], docker: [], results: [], ...lists };
  writeFileSync(file, JSON.stringify(marker));
  return file;
}

describe('liveness: a PID plus its start time', () => {
  it('knows this process, and not this PID with another start time', () => {
    const me = identify(process.pid)!;
    expect(me.pid).toBe(process.pid);
    expect(me.startTime).toBeGreaterThan(0);
    expect(isRunning(me)).toBe(true);
    // A reused PID: same number, later start.
    expect(isRunning({ ...me, startTime: me.startTime + 1 })).toBe(false);
    // Another boot: the same PID and start time name another process.
    expect(isRunning({ ...me, bootId: 'another-boot' })).toBe(false);
  });

  it('an exited process is gone', async () => {
    const pid = await exitedPid();
    expect(identify(pid)).toBeUndefined();
    expect(isRunning({ pid, startTime: 1 })).toBe(false);
  });

  it('owner ids round-trip, and anything else is not one', () => {
    expect(parseOwnerId(ownerId({ pid: 4711, startTime: 123456 }))).toEqual({ pid: 4711, startTime: 123456 });
    for (const bad of ['4711', '4711.', 'a.b', '1.2.3', '']) expect(parseOwnerId(bad)).toBeUndefined();
  });
});

describe('markResultsKilled', () => {
  const file = () => path.join(tmp, 'results.json');

  it('turns a running results file into a killed one, keeping what it measured', async () => {
    writeFileSync(file(), JSON.stringify({ format: 'xfed-results/1', status: 'running', summary: { checks: 3 } }));
    expect(await markResultsKilled(file(), 'gone')).toBe(true);
    expect(JSON.parse(readFileSync(file(), 'utf8'))).toEqual({ format: 'xfed-results/1', status: 'killed', reason: 'gone', summary: { checks: 3 } });
  });

  it('leaves a finished, missing or unreadable file as it is', async () => {
    for (const content of [JSON.stringify({ status: 'complete' }), JSON.stringify({ status: 'interrupted', reason: 'SIGINT' }), '{ half']) {
      writeFileSync(file(), content);
      expect(await markResultsKilled(file(), 'gone')).toBe(false);
      expect(readFileSync(file(), 'utf8')).toBe(content);
    }
    expect(await markResultsKilled(path.join(tmp, 'absent.json'), 'gone')).toBe(false);
  });
});

describe('sweepLeftovers', () => {
  it("lists a dead owner's directory, results and marker, removes them in order, and asks Docker only when the marker recorded containers", async () => {
    const dead = { pid: await exitedPid(), startTime: 1 };
    const owner = ownerId(dead);
    const dir = await mkdtemp(path.join(os.tmpdir(), `xfed-unit-${owner}-`));
    const unlisted = await mkdtemp(path.join(os.tmpdir(), `xfed-other-${owner}-`));
    const results = path.join(tmp, 'dead-results.json');
    writeFileSync(results, JSON.stringify({ status: 'running' }));
    const marker = writeMarker(dead, { dirs: [dir], results: [results] });

    // Docker is out of reach here: had the sweep asked it, it would say so.
    const savedPath = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      const listed = await sweepLeftovers({ owner, docker: 'if-recorded', by: 'a test', remove: false });
      expect(listed.dockerProblem).toBeUndefined();
      expect(listed.leftovers.map((l) => `${l.kind} ${l.what}`).sort()).toEqual(
        [`directory directory ${dir}`, `directory directory ${unlisted}`, `marker marker ${marker}`, `results results ${results} (running -> killed)`].sort(),
      );
      expect([existsSync(dir), existsSync(marker)]).toEqual([true, true]);

      const swept = await sweepLeftovers({ owner, docker: 'if-recorded', by: 'a test' });
      expect(swept.leftovers).toHaveLength(4);
      expect([existsSync(dir), existsSync(unlisted), existsSync(marker)]).toEqual([false, false, false]);
      expect(JSON.parse(readFileSync(results, 'utf8'))).toMatchObject({ status: 'killed', reason: expect.stringMatching(/marked by a test$/) });

      writeMarker(dead, { docker: ['xfed-net'] });
      expect((await sweepLeftovers({ owner, docker: 'if-recorded', by: 'a test', remove: false })).dockerProblem).toMatch(/docker command is not installed/);
    } finally {
      process.env.PATH = savedPath;
      await rm(dir, { recursive: true, force: true });
      await rm(unlisted, { recursive: true, force: true });
    }
  });

  it("never lists a live owner's things, nor the owner it is told to leave out", async () => {
    const me = identify(process.pid)!;
    const dir = await mkdtemp(path.join(os.tmpdir(), `xfed-unit-${ownerId(me)}-`));
    const marker = writeMarker(me, { dirs: [dir] });
    const dead = { pid: await exitedPid(), startTime: 1 };
    const deadMarker = writeMarker(dead);
    try {
      const mine = await sweepLeftovers({ owner: ownerId(me), docker: 'if-recorded', by: 'a test', remove: false });
      expect(mine.leftovers).toEqual([]);
      const except = await sweepLeftovers({ owner: ownerId(dead), except: ownerId(dead), docker: 'if-recorded', by: 'a test', remove: false });
      expect(except.leftovers).toEqual([]);
      expect(listMarkers().map((m) => m.file)).toEqual(expect.arrayContaining([marker, deadMarker]));
    } finally {
      await rm(dir, { recursive: true, force: true });
      await rm(marker, { force: true });
      await rm(deadMarker, { force: true });
    }
  });
});

describe("this process's marker", () => {
  it('a results file alone starts no marker; it joins the marker of the first resource, and both are forgotten when released', async () => {
    const saved = process.env.XFED_NO_WATCHDOG;
    process.env.XFED_NO_WATCHDOG = '1';
    const file = path.join(process.env.XFED_STATE_DIR!, `${thisOwner().owner}.json`);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'reaper-unit-dir-'));
    try {
      const forgetResults = recordResults(path.join(tmp, 'run', 'results.json'));
      expect(existsSync(file)).toBe(false);
      const forgetDir = recordDir(dir);
      const marker = JSON.parse(readFileSync(file, 'utf8')) as OwnerMarker;
      expect(marker).toMatchObject({ owner: identify(process.pid), dirs: [dir], results: [path.join(tmp, 'run', 'results.json')], processes: [], docker: [] });
      forgetDir();
      forgetResults();
      forgetDir();
      expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ dirs: [], results: [] });
    } finally {
      if (saved === undefined) delete process.env.XFED_NO_WATCHDOG;
      else process.env.XFED_NO_WATCHDOG = saved;
      // A marker without a watchdog would keep later test files of this worker from starting one.
      await rm(file, { force: true });
      await rm(dir, { recursive: true, force: true });
    }
  });
});
