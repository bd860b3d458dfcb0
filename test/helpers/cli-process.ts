import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { withDeadline } from '../../src/infra/deadline.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface CliRun {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves when stdout shows a line matching `pattern`. */
  waitForOutput(pattern: RegExp, timeoutMs: number): Promise<void>;
  exit(timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Whether this machine can run a command as if it had neither Docker nor Prosody: a private mount
 * namespace hides the Docker socket under a fresh /run, and PATH hides the prosody binary.
 */
export const CAN_HIDE_RUNTIMES = spawnSync('unshare', ['-m', 'sh', '-c', 'mount -t tmpfs none /run'], { stdio: 'ignore', timeout: 10_000 }).status === 0;

export interface CliOptions {
  env?: NodeJS.ProcessEnv;
  script?: string;
  /** Run on a simulated machine without Docker and without Prosody (needs CAN_HIDE_RUNTIMES). */
  withoutRuntimes?: boolean;
}

/** Runs `xfed ...` (or a fixture script through tsx) as a real child process. */
export function startCli(args: string[], opts: CliOptions = {}): CliRun {
  const entry = opts.script ? ['--import', 'tsx', opts.script] : [path.join(ROOT, 'bin', 'xfed.js')];
  const argv = [process.execPath, ...entry, ...args];
  const [file, ...rest] = opts.withoutRuntimes ? ['unshare', '-m', 'sh', '-c', 'mount -t tmpfs none /run && PATH=/nonexistent exec "$@"', 'sh', ...argv] : argv;
  const child = spawn(file!, rest, {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const listeners = new Set<() => void>();
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    for (const l of listeners) l();
  });
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    waitForOutput: (pattern, timeoutMs) => {
      let check: () => void = () => undefined;
      return withDeadline(
        new Promise<void>((resolve, reject) => {
          check = () => pattern.test(out) && resolve();
          listeners.add(check);
          check();
          void exited.then((e) => reject(new Error(`xfed exited (${e.code ?? e.signal}) before printing ${pattern}:\n${out}\n${err}`)));
        }),
        timeoutMs,
        `output matching ${pattern} (so far: ${out.slice(-300)} ${err.slice(-300)})`,
      ).finally(() => listeners.delete(check));
    },
    exit: (timeoutMs) => withDeadline(exited, timeoutMs, 'xfed to exit'),
  };
}

/** Runs a command to completion; one that outlives its bound is killed, and the test fails. */
export async function runCli(args: string[], opts: CliOptions & { timeoutMs?: number } = {}) {
  const run = startCli(args, opts);
  try {
    const { code } = await run.exit(opts.timeoutMs ?? 60_000);
    return { code, stdout: run.stdout(), stderr: run.stderr() };
  } catch (err) {
    // SIGTERM first: xfed tears down what it started; SIGKILL if it does not go.
    run.child.kill('SIGTERM');
    await run.exit(15_000).catch(() => run.child.kill('SIGKILL'));
    throw err;
  }
}
