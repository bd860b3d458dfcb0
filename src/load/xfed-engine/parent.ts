import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { XfedError } from '../../errors.js';
import { withDeadline } from '../../infra/deadline.js';
import { TeardownStack } from '../../infra/teardown.js';
import type { EngineEvents } from '../engine.js';
import type { LoadPlan } from '../profile.js';
import type { EngineResult } from '../results.js';
import type { ChildResult, FromChild, ToChild } from './protocol.js';

/** Once the child was told to stop, how long its report may take before it is killed. */
const REPORT_TIMEOUT_MS = 10_000;
/** After its report, how long the child may take to close its sessions and exit. */
const EXIT_TIMEOUT_MS = 10_000;
/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in these ticks. */
const CLOCK_TICKS = 100;

/**
 * The generator child: `child.js` beside this file in dist/, or `child.ts` through tsx when xfed
 * runs from its sources (bin/xfed.js chooses the same way; tests run the sources).
 */
function childEntry(): { file: string; execArgv: string[] } {
  const self = fileURLToPath(import.meta.url);
  const dir = path.dirname(self);
  if (self.endsWith('.js')) return { file: path.join(dir, 'child.js'), execArgv: [] };
  const tsx = path.join(path.dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist', 'loader.mjs');
  return { file: path.join(dir, 'child.ts'), execArgv: ['--import', pathToFileURL(tsx).href] };
}

/** The CPU seconds and resident memory of a process, from /proc (Linux); undefined once it is gone. */
function processCost(pid: number): { cpuSeconds: number; rssBytes: number; peakRssBytes: number } | undefined {
  try {
    return costFrom(readFileSync(`/proc/${pid}/stat`, 'utf8'), readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** utime and stime of /proc/<pid>/stat (fields 14 and 15, after the command in parentheses), VmRSS and VmHWM of status. */
export function costFrom(stat: string, status: string): { cpuSeconds: number; rssBytes: number; peakRssBytes: number } {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return { cpuSeconds: ticks / CLOCK_TICKS, rssBytes: kb('VmRSS'), peakRssBytes: kb('VmHWM') };
}

/**
 * Runs the plan in a child process and relays what it says; the child's CPU and memory are read
 * from /proc while it runs. Aborting `signal` asks the child to stop and report; the child is
 * killed at teardown whatever happens, and exits by itself when this process goes.
 */
export async function runInChild(plan: LoadPlan, events: EngineEvents, signal: AbortSignal): Promise<EngineResult> {
  const stack = new TeardownStack('xfed load generator');
  const { file, execArgv } = childEntry();
  const child: ChildProcess = fork(file, [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const tell = (m: ToChild) => {
    if (child.connected) child.send(m);
  };
  let cost = { cpuSeconds: 0, peakRssBytes: 0 };
  let rssAllOnline: number | undefined;
  const sample = () => {
    const c = child.pid ? processCost(child.pid) : undefined;
    if (c) cost = { cpuSeconds: c.cpuSeconds, peakRssBytes: Math.max(cost.peakRssBytes, c.peakRssBytes, c.rssBytes) };
    return c;
  };
  const sampler = setInterval(sample, 1000);
  let settle!: { resolve: (r: ChildResult) => void; reject: (e: Error) => void };
  const reported = new Promise<ChildResult>((resolve, reject) => (settle = { resolve, reject }));
  reported.catch(() => undefined);
  stack.defer('the load generator process', async () => {
    clearInterval(sampler);
    if (child.exitCode === null && child.signalCode === null) {
      // Asked to stop first, so that it reports what it measured; killed if it does not go.
      tell({ type: 'abort' });
      await withDeadline(reported, REPORT_TIMEOUT_MS, 'the load generator to report').catch(() => undefined);
      await withDeadline(exited, EXIT_TIMEOUT_MS, 'the load generator to exit').catch(() => void child.kill('SIGKILL'));
    }
  });
  child.on('message', (m: FromChild) => {
    switch (m.type) {
      case 'second':
        sample();
        return events.second?.(m.second);
      case 'notice':
        return events.notice?.(m.text);
      case 'steady':
        return events.steady?.();
      case 'all-online':
        rssAllOnline = sample()?.rssBytes;
        return;
      case 'restart': {
        const restart = events.restart ? events.restart(m.what) : Promise.reject(new Error('this run cannot restart anything'));
        void restart.then(
          () => tell({ type: 'restarted' }),
          (err: Error) => tell({ type: 'restarted', error: err.message.split('\n')[0]! }),
        );
        return;
      }
      case 'result':
        // Read before the child exits: its peak memory is in /proc only while it runs.
        sample();
        return settle.resolve(m.result);
      case 'failed':
        return settle.reject(new Error(`the load generator failed: ${m.error}`));
    }
  });
  // Its own stderr (inherited) said why just above.
  child.once('exit', (code, sig) => settle.reject(new XfedError(`the load generator exited (${sig ?? `code ${code}`}) before it reported`)));
  const onAbort = () => tell({ type: 'abort' });
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    tell({ type: 'start', plan });
    if (signal.aborted) onAbort();
    const result = await reported;
    await withDeadline(exited, EXIT_TIMEOUT_MS, 'the load generator to exit').catch(() => void child.kill('SIGKILL'));
    return {
      ...result,
      generator: {
        cpuSeconds: Math.round(cost.cpuSeconds * 100) / 100,
        peakRssBytes: cost.peakRssBytes,
        ...(rssAllOnline ? { rssAllOnlineBytes: rssAllOnline } : {}),
        processes: 1,
      },
    };
  } finally {
    signal.removeEventListener('abort', onAbort);
    await stack.close();
  }
}
