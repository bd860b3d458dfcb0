import { spawn, type ChildProcess } from 'node:child_process';
import { withDeadline } from '../infra/deadline.js';
import { guardOnExit } from '../infra/exit-guard.js';
import { OWNER_ENV, recordProcess, thisOwner } from '../infra/reaper/marker.js';
import { formatMs } from '../report/format.js';
import { OVERALL, type RecordOf } from './records.js';

type Transition = RecordOf<'transition'>;
type HookRecord = RecordOf<'hook'>;

/** What a hook keeps of its output: the end, where the error usually is. */
const OUTPUT_LIMIT = 2048;
/** Longest value of one variable: an `actual` quoting a peer's bytes must not make the environment too big to start a process. */
const VALUE_LIMIT = 2000;
const DEFAULT_MAX_PENDING = 100;
const DEFAULT_KILL_GRACE_MS = 2_000;

export interface TransitionHooksOptions {
  /** The `--on-change` command line, run by `/bin/sh -c`. */
  command: string;
  /** How long one hook may run; then SIGTERM to its process group, and SIGKILL `killGraceMs` later. */
  timeoutMs: number;
  /** The environment the hook's variables are added to (default: this process's). */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Each hook's result, in the order of the transitions, once it ended. */
  onRan: (record: HookRecord) => void;
  /** When hooks fall behind the transitions (the oldest waiting ones are dropped), and when they caught up. */
  onNotice?: (text: string) => void;
  /** How many transitions may wait for their hook (default 100); beyond, the oldest waiting one is dropped. */
  maxPending?: number;
  killGraceMs?: number;
}

/** What a hook is told beside the transition. */
export interface HookContext {
  suite: string;
  /** The check's title (for `*`, the federation as a whole by default). */
  title?: string;
  /** The watch's log file. */
  logFile?: string;
  /** The live page. */
  pageUrl?: string;
  /** The checks unmet after the round, for a single check's transition (the `*` transition carries its own). */
  failing?: readonly string[];
  first?: string;
}

interface Running {
  /** Ends it now (SIGTERM to its group, SIGKILL after the grace), when the watch closes. */
  stop(): void;
  done: Promise<void>;
}

/**
 * `--on-change CMD`: one command per transition, with the transition in its environment (for a
 * Teams or Slack webhook script). Hooks run one at a time in the order of the transitions, beside
 * the rounds and never in their way; each is bounded in time together with whatever it started,
 * and a flapping check cannot pile them up: at most `maxPending` wait, the oldest are dropped.
 */
export class TransitionHooks {
  private readonly pending: Array<{ transition: Transition; context: HookContext }> = [];
  private running: Running | undefined;
  private busy = false;
  private idle: Promise<void> = Promise.resolve();
  private closed = false;
  private droppedSinceCaughtUp = 0;
  private droppedTotal = 0;
  private readonly maxPending: number;
  private readonly killGraceMs: number;

  constructor(private readonly options: TransitionHooksOptions) {
    this.maxPending = options.maxPending ?? DEFAULT_MAX_PENDING;
    this.killGraceMs = options.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
  }

  /** Transitions that got no hook because too many were waiting. */
  get dropped(): number {
    return this.droppedTotal;
  }

  /** Queues the hook of `transition`; returns at once (the first hook of an idle queue starts here). */
  run(transition: Transition, context: HookContext): void {
    if (this.closed) return;
    this.pending.push({ transition, context });
    if (this.pending.length > this.maxPending) {
      this.pending.shift();
      this.droppedTotal++;
      if (this.droppedSinceCaughtUp++ === 0) {
        this.options.onNotice?.(
          `--on-change: ${this.maxPending} transitions wait for their hook (the command takes longer than the transitions come); the oldest waiting ones are dropped until it catches up`,
        );
      }
    }
    if (!this.busy) {
      this.busy = true;
      this.idle = this.drain();
    }
  }

  /**
   * Ends the hooks: the waiting ones are dropped, the running one may finish within `graceMs` and
   * is then ended like one that timed out (its record still goes to `onRan`).
   */
  async close(graceMs: number): Promise<{ dropped: number; killed: boolean }> {
    this.closed = true;
    const dropped = this.pending.splice(0).length;
    const running = this.running;
    let killed = false;
    if (running) {
      try {
        await withDeadline(running.done, graceMs, 'the running --on-change hook');
      } catch {
        killed = true;
        running.stop();
      }
    }
    await this.idle;
    return { dropped, killed };
  }

  private async drain(): Promise<void> {
    try {
      for (let next = this.pending.shift(); next; next = this.pending.shift()) {
        const record = await this.hook(next.transition, next.context);
        try {
          this.options.onRan(record);
        } catch {
          // The watch's own writer failed: it says so itself; the next hooks still run.
        }
      }
      if (this.droppedSinceCaughtUp > 0 && !this.closed) {
        this.options.onNotice?.(`--on-change caught up: ${this.droppedSinceCaughtUp} transitions got no hook (dropped while ${this.maxPending} were waiting)`);
      }
      this.droppedSinceCaughtUp = 0;
    } finally {
      // No await between the last look at the queue and here: a transition queued meanwhile starts a new drain.
      this.busy = false;
    }
  }

  private hook(transition: Transition, context: HookContext): Promise<HookRecord> {
    const startedAt = Date.now();
    const record = (r: { exitCode: number | null; signal?: string | null; timedOut: boolean; output: string }): HookRecord => ({
      type: 'hook',
      at: new Date(startedAt).toISOString(),
      check: transition.check,
      to: transition.to,
      exitCode: r.exitCode,
      ...(r.signal ? { signal: r.signal } : {}),
      timedOut: r.timedOut,
      durationMs: Date.now() - startedAt,
      output: r.output,
    });
    let child: ChildProcess;
    try {
      // Its own process group (a new session), so a bound ends the command and all it started, and
      // a Ctrl-C meant for xfed does not reach it: the watch ends it in order.
      child = spawn('/bin/sh', ['-c', this.options.command], {
        cwd: this.options.cwd,
        env: hookEnvironment(transition, context, this.options.env ?? process.env),
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
    } catch (err) {
      // E2BIG and the like are thrown, not emitted.
      return Promise.resolve(record({ exitCode: null, timedOut: false, output: `could not start /bin/sh: ${(err as Error).message}` }));
    }
    let stop!: () => void;
    const stopped = new Promise<'stopped'>((resolve) => (stop = () => resolve('stopped')));
    const done = this.supervise(child, stopped).then((r) => record(r));
    this.running = { stop, done: done.then(() => undefined) };
    return done.finally(() => (this.running = undefined));
  }

  private async supervise(
    child: ChildProcess,
    stopped: Promise<'stopped'>,
  ): Promise<{ exitCode: number | null; signal: string | null; timedOut: boolean; output: string }> {
    const tail = new OutputTail(OUTPUT_LIMIT);
    child.stdout!.on('data', (chunk: Buffer) => tail.push(chunk));
    child.stderr!.on('data', (chunk: Buffer) => tail.push(chunk));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    // 'close': the shell exited and every process holding its output let go of it.
    const ended = new Promise<'ended' | { error: Error }>((resolve) => {
      child.once('close', () => resolve('ended'));
      child.once('error', (error) => resolve({ error }));
    });
    const notStarted = (outcome: 'ended' | { error: Error }) =>
      `could not start /bin/sh in ${this.options.cwd ?? process.cwd()}: ${outcome === 'ended' ? 'no process' : outcome.error.message}`;
    const pgid = child.pid;
    if (pgid === undefined) return { exitCode: null, signal: null, timedOut: false, output: notStarted(await ended) };
    // Listed in the owner marker, its environment naming this process: after a hard kill of xfed
    // its watchdog ends the hook and what it started (docs/architecture.md, "Hard kills").
    const forget = recordHook(pgid, `hook: ${this.options.command}`);
    const unguard = guardOnExit(() => signalGroup(pgid, 'SIGKILL'));
    try {
      const outcome = await withDeadline(Promise.race([ended, stopped]), this.options.timeoutMs, 'the --on-change hook').catch(() => 'timed out' as const);
      if (outcome === 'timed out' || outcome === 'stopped') {
        signalGroup(pgid, 'SIGTERM');
        await within(ended, this.killGraceMs);
      }
      // Whatever of its group is left: a job it put in the background, one that ignored SIGTERM.
      signalGroup(pgid, 'SIGKILL');
      if (!(await within(ended, this.killGraceMs))) {
        // A descendant that left the group (setsid) still holds the output: stop reading it.
        child.stdout!.destroy();
        child.stderr!.destroy();
      }
      const exit = await withDeadline(exited, this.killGraceMs, 'the --on-change shell to exit').catch(() => ({ code: null, signal: null }));
      const output = typeof outcome === 'object' ? `${notStarted(outcome)}\n${tail.text()}` : tail.text();
      return { exitCode: exit.code, signal: exit.signal, timedOut: outcome === 'timed out', output };
    } finally {
      unguard();
      forget();
    }
  }
}

/** The marker entry of a hook; one that cannot be written (a full disk) leaves the hook bounded all the same, only unlisted. */
function recordHook(pid: number, label: string): () => void {
  try {
    const forget = recordProcess(pid, label);
    return () => {
      try {
        forget();
      } catch {
        // The watchdog finds it gone.
      }
    };
  } catch {
    return () => undefined;
  }
}

async function within(work: Promise<unknown>, ms: number): Promise<boolean> {
  return withDeadline(work, ms, 'the --on-change hook to end').then(
    () => true,
    () => false,
  );
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // The group is gone already.
  }
}

/** The last `limit` bytes of a stream, held in at most twice that much memory whatever it prints. */
class OutputTail {
  private tail = Buffer.alloc(0);
  private cut = false;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    const joined = Buffer.concat([this.tail, chunk.subarray(-this.limit)]);
    this.cut ||= joined.length > this.limit || chunk.length > this.limit;
    this.tail = joined.length > this.limit ? joined.subarray(-this.limit) : joined;
  }

  /** As text; a character the cut split in two is left out rather than shown as U+FFFD. */
  text(): string {
    let start = 0;
    // UTF-8 continuation bytes are 10xxxxxx.
    while (this.cut && start < 3 && start < this.tail.length && (this.tail[start]! & 0xc0) === 0x80) start++;
    return this.tail.subarray(start).toString('utf8');
  }
}

/**
 * One line, as a shell script can use it unquoted in a message: control characters (newlines,
 * tabs, C1) and Unicode's line separators become spaces, and the value is cut at `VALUE_LIMIT`.
 */
function oneLine(value: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what this removes
  const flat = value.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').trim();
  if (flat.length <= VALUE_LIMIT) return flat;
  const end = /[\ud800-\udbff]/.test(flat[VALUE_LIMIT - 2]!) ? VALUE_LIMIT - 2 : VALUE_LIMIT - 1;
  return `${flat.slice(0, end)}…`;
}

/** The variables a hook gets (undefined: removed from the inherited environment, so no stale value reaches it). */
function hookEnvironment(t: Transition, context: HookContext, base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const failing = t.failing ?? context.failing;
  const first = t.first ?? context.first;
  const title = context.title ?? (t.check === OVERALL ? 'the federation as a whole' : t.check);
  const vars: Record<string, string | undefined> = {
    XFED_CHECK: t.check,
    XFED_CHECK_TITLE: title,
    XFED_FROM: t.from,
    XFED_TO: t.to,
    XFED_AT: t.at,
    XFED_ROUND: String(t.round),
    XFED_ACTUAL: t.actual,
    XFED_DIAGNOSIS: t.diagnosis,
    XFED_OUTAGE_SECONDS: t.outageMs !== undefined ? String(Math.round(t.outageMs / 1000)) : undefined,
    XFED_OUTAGE_MS: t.outageMs !== undefined ? String(t.outageMs) : undefined,
    XFED_FAILING: failing?.join(','),
    XFED_FIRST: first,
    XFED_SUITE: context.suite,
    XFED_LOG: context.logFile,
    XFED_URL: context.pageUrl,
    XFED_TEXT: sentence(t, context.suite, title, failing, first),
  };
  const env: NodeJS.ProcessEnv = { ...base, [OWNER_ENV]: thisOwner().owner };
  for (const [name, value] of Object.entries(vars)) {
    if (value === undefined) delete env[name];
    else env[name] = oneLine(value);
  }
  // One line already, and not to be cut: a JSON cut short is no JSON.
  env.XFED_EVENT_JSON = eventJson(t);
  return env;
}

/** The transition as its log line has it, without the evidence (a message flow can be large), its texts one line each. */
function eventJson(t: Transition): string {
  const event: Partial<Transition> = { ...t };
  delete event.evidence;
  if (event.actual !== undefined) event.actual = oneLine(event.actual);
  if (event.diagnosis !== undefined) event.diagnosis = oneLine(event.diagnosis);
  // JSON.stringify leaves U+2028 and U+2029 as they are; some readers take them for line ends.
  return JSON.stringify(event)
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** One sentence for a chat message: what changed, when, and what was seen. */
function sentence(t: Transition, suite: string, title: string, failing: readonly string[] | undefined, first: string | undefined): string {
  const overall = t.check === OVERALL;
  const who = overall ? 'federation' : `${t.check} (${title})`;
  const seen = [t.actual, t.diagnosis].filter((s) => s !== undefined && s !== '').join('; ');
  const detail = seen ? `: ${seen}` : '';
  const when = `at ${t.at} (round ${t.round})`;
  switch (t.to) {
    case 'unmet': {
      const which = overall && failing ? `: ${failing.length} check${failing.length === 1 ? '' : 's'} unmet${first ? `, first ${first}` : ''}` : '';
      return `${suite}: ${who} ${overall ? 'broken' : 'unmet'} ${when}${which}${detail}`;
    }
    case 'met':
      return t.from === 'unmet'
        ? `${suite}: ${who} ${overall ? 'back' : 'met again'} ${when}${t.outageMs !== undefined ? ` after ${formatMs(t.outageMs)}` : ''}`
        : `${suite}: ${who} ${overall ? 'working' : 'met'} ${when}`;
    case 'error':
      return `${suite}: ${who} cannot be judged ${when}${detail}`;
  }
}
