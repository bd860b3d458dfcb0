import { spawn } from 'node:child_process';
import readline from 'node:readline';
import { XfedError } from '../errors.js';
import { withDeadline } from '../infra/deadline.js';
import { durationMs, type Step } from '../scenario/schema.js';

export type OperatorStep = Extract<Step, { action: 'manual' | 'run' }>;

export interface OperatorOptions {
  /** Treat manual steps as done without asking (non-interactive runs). */
  assumeDone?: boolean;
  /** Where the operator answers; a manual step needs a terminal unless assumeDone. */
  input?: NodeJS.ReadStream;
  output?: NodeJS.WriteStream;
}

const OUTPUT_LIMIT = 4096;

export const isOperatorStep = (step: Step): step is OperatorStep => step.action === 'manual' || step.action === 'run';

/** Runs a `manual` or `run` step; resolves with what to record, rejects with a one-line reason. */
export async function runOperatorStep(step: OperatorStep, opts: OperatorOptions): Promise<{ description: string; output: string }> {
  return step.action === 'manual' ? manual(step, opts) : hook(step);
}

async function manual(step: Extract<OperatorStep, { action: 'manual' }>, opts: OperatorOptions): Promise<{ description: string; output: string }> {
  const description = `manual: ${step.instruction}`;
  if (opts.assumeDone) return { description, output: 'assumed done (--assume-done)' };
  const input = opts.input ?? process.stdin;
  const output = opts.output ?? process.stdout;
  if (!input.isTTY) throw new XfedError(`manual step "${step.instruction}" needs an operator: run in a terminal, or pass --assume-done once it is done`);
  const rl = readline.createInterface({ input, output });
  try {
    const started = Date.now();
    await withDeadline(
      new Promise<void>((resolve) => rl.question(`\n  >> ${step.instruction}\n     press Enter when it is done: `, () => resolve())),
      step.timeout !== undefined ? durationMs(step.timeout) : 30 * 60_000,
      `the operator to do "${step.instruction}"`,
    );
    return { description, output: `confirmed by the operator after ${Math.round((Date.now() - started) / 1000)} s` };
  } finally {
    rl.close();
  }
}

async function hook(step: Extract<OperatorStep, { action: 'run' }>): Promise<{ description: string; output: string }> {
  const description = `run: ${step.command}`;
  const timeoutMs = step.timeout !== undefined ? durationMs(step.timeout) : 60_000;
  // Its own process group, so a timeout ends the whole command, not only the shell.
  const child = spawn('sh', ['-c', step.command], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
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
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
    throw new XfedError(`${(err as Error).message}${out ? `; its last output: ${lastLine(out)}` : ''}`);
  }
  if (result.code !== 0) throw new XfedError(`the command "${step.command}" exited with ${result.code ?? result.signal}${out ? `: ${lastLine(out)}` : ''}`);
  return { description, output: out };
}

const lastLine = (s: string) => s.trim().split('\n').at(-1) ?? '';
