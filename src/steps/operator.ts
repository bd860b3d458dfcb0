import { spawn } from 'node:child_process';
import readline from 'node:readline';
import { z } from 'zod';
import { XfedError } from '../errors.js';
import { withDeadline } from '../infra/deadline.js';
import { Duration, durationMs } from '../infra/format.js';
import { OWNER_ENV, recordProcess, thisOwner } from '../infra/reaper/marker.js';
import { onSignal } from '../infra/signals.js';
import { defineStep } from './step.js';

const OUTPUT_LIMIT = 4096;

/** Something an operator does by hand (Move-CsUser on the lab): xfed waits for Enter in a terminal. */
export const manualStep = defineStep({
  action: 'manual',
  fields: { instruction: z.string().min(1), timeout: Duration.optional().describe('How long to wait for the operator (default 30m)') },
  description: 'Something an operator does by hand (Move-CsUser on the lab): xfed waits for Enter in a terminal',
  appliesTo: 'any',
  selfBounded: true,
  describe: (step) => `manual: ${step.instruction}`,
  async apply(step, { operator }) {
    if (operator.assumeDone) return 'assumed done (--assume-done)';
    const input = operator.input ?? process.stdin;
    const output = operator.output ?? process.stdout;
    if (!input.isTTY) throw new XfedError(`manual step "${step.instruction}" needs an operator: run in a terminal, or pass --assume-done once it is done`);
    const rl = readline.createInterface({ input, output });
    try {
      const started = Date.now();
      await withDeadline(
        new Promise<void>((resolve) => rl.question(`\n  >> ${step.instruction}\n     press Enter when it is done: `, () => resolve())),
        step.timeout !== undefined ? durationMs(step.timeout) : 30 * 60_000,
        `the operator to do "${step.instruction}"`,
      );
      return `confirmed by the operator after ${Math.round((Date.now() - started) / 1000)} s`;
    } finally {
      rl.close();
    }
  },
});

/** A hook command (sh -c), e.g. a remote PowerShell call: its output is recorded, a non-zero exit fails the step. */
export const runStep = defineStep({
  action: 'run',
  fields: { command: z.string().min(1), timeout: Duration.optional().describe('Default 60s') },
  description: 'A hook command (sh -c), e.g. a remote PowerShell call; its output is recorded, a non-zero exit fails the step',
  appliesTo: 'any',
  selfBounded: true,
  describe: (step) => `run: ${step.command}`,
  async apply(step) {
    const timeoutMs = step.timeout !== undefined ? durationMs(step.timeout) : 60_000;
    // Its own process group, so a timeout ends the whole command, not only the shell.
    // The owner id in its environment (inherited by whatever it starts) lets the reaper find the
    // command and its children after a hard kill of xfed.
    const child = spawn('sh', ['-c', step.command], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      env: { ...process.env, [OWNER_ENV]: thisOwner().owner },
    });
    const forget = child.pid !== undefined ? recordProcess(child.pid, `hook: ${step.command}`) : () => undefined;
    const signalGroup = (signal: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, signal);
      } catch {
        // already gone
      }
    };
    // Ctrl-C reaches only the terminal's process group, and this command has its own: xfed ends it
    // as it tears down (one that ignores SIGTERM is left to the reaper, which has its record).
    const unlisten = onSignal(() => signalGroup('SIGTERM'));
    let out = '';
    const collect = (d: Buffer) => {
      out = (out + d.toString('utf8')).slice(-OUTPUT_LIMIT);
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, signal) => resolve({ code, signal }));
    });
    let result: { code: number | null; signal: NodeJS.Signals | null };
    try {
      result = await withDeadline(exited, timeoutMs, `the command "${step.command}"`);
    } catch (err) {
      signalGroup('SIGKILL');
      throw new XfedError(`${(err as Error).message}${out ? `; its last output: ${lastLine(out)}` : ''}`);
    } finally {
      unlisten();
      forget();
    }
    if (result.code !== 0) throw new XfedError(`the command "${step.command}" exited with ${result.code ?? result.signal}${out ? `: ${lastLine(out)}` : ''}`);
    return out;
  },
});

const lastLine = (s: string) => s.trim().split('\n').at(-1) ?? '';
