import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pollUntil, withDeadline } from '../../src/infra/deadline.js';
import { ROOT } from '../helpers/cli-process.js';

/** The watchdog's bound after a hard kill, as in hard-kill.test.ts. */
const REAPER_BOUND_MS = 20_000;

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'watch-hooks-'));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

/** PIDs of live processes whose environment names this owner: a hook's shell and what it started. */
function processesOf(owner: string): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
        if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return false;
        return readFileSync(`/proc/${p}/environ`, 'latin1').split('\0').includes(`XFED_OWNER_RUN=${owner}`);
      } catch {
        return false;
      }
    })
    .map(Number);
}

// A watch (any process using TransitionHooks) killed with SIGKILL while a hook runs.
const WATCH = `
const { TransitionHooks } = await import(${JSON.stringify(path.join(ROOT, 'src', 'watch', 'hooks.ts'))});
const hooks = new TransitionHooks({ command: 'sleep 600 & wait', timeoutMs: 600_000, onRan: () => undefined });
hooks.run({ type: 'transition', at: new Date().toISOString(), round: 1, check: '*', from: 'met', to: 'unmet' }, { suite: 'hard-kill' });
console.log('HOOK RUNNING');
`;

describe('--on-change hooks after a hard kill of the watch', () => {
  it("the watchdog ends the running hook and what it started, within the reaper's bound", async () => {
    const stateDir = path.join(tmp, 'state');
    // With its watchdog, whatever the environment of the tests says.
    const env: NodeJS.ProcessEnv = { ...process.env, XFED_STATE_DIR: stateDir };
    delete env.XFED_NO_WATCHDOG;
    const watch = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', WATCH], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    watch.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    watch.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    let owner: string | undefined;
    try {
      await pollUntil(() => (out.includes('HOOK RUNNING') ? true : undefined), { timeoutMs: 30_000, intervalMs: 20, what: `the hook to start: ${out}` });
      const marker = readdirSync(stateDir).find((n) => n.startsWith(`${watch.pid}.`) && n.endsWith('.json'));
      owner = marker!.slice(0, -'.json'.length);
      const listed = JSON.parse(readFileSync(path.join(stateDir, marker!), 'utf8')) as { processes: Array<{ label: string }>; watchdog?: unknown };
      expect(listed.processes.map((p) => p.label)).toEqual(['hook: sleep 600 & wait']);
      expect(listed.watchdog).toBeDefined();
      // The shell and its sleep.
      await pollUntil(() => (processesOf(owner!).length >= 2 ? true : undefined), { timeoutMs: 10_000, what: 'the hook to start its sleep' });

      const exited = new Promise((resolve) => watch.once('exit', resolve));
      watch.kill('SIGKILL');
      await withDeadline(exited, 10_000, 'the watch to die');
      const killedAt = Date.now();
      await pollUntil(() => (processesOf(owner!).length === 0 ? true : undefined), {
        timeoutMs: REAPER_BOUND_MS,
        intervalMs: 50,
        what: `the hook's processes to go: ${processesOf(owner).join(', ')}`,
      });
      process.stderr.write(`hook of a killed watch: nothing left after ${Date.now() - killedAt} ms\n`);
    } finally {
      if (watch.exitCode === null && watch.signalCode === null) watch.kill('SIGKILL');
      // What the watchdog missed (a failed test) is still this test's to end.
      for (const pid of owner ? processesOf(owner) : []) process.kill(pid, 'SIGKILL');
    }
  });
});
