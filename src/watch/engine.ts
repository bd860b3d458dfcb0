import { setTimeout as pause } from 'node:timers/promises';
import { checkKindOf } from '../checks/index.js';
import { DEFAULT_CHECK_TIMEOUT_MS } from '../checks/check.js';
import { withDeadline } from '../infra/deadline.js';
import { durationMs } from '../infra/format.js';
import { EnvironmentError, InputError, ProblemsError, StartupError, XfedError } from '../errors.js';
import { Redactor } from '../infra/redact.js';
import { onSignal, signalReceived } from '../infra/signals.js';
import { TeardownStack } from '../infra/teardown.js';
import type { RuntimeChoice, SetupProgress } from '../prosody/types.js';
import { formatMs } from '../report/format.js';
import { applyStep } from '../runner/apply-step.js';
import { runCheck } from '../runner/run-check.js';
import type { ResolvedSuite } from '../scenario/resolve.js';
import { stepKindOf } from '../steps/index.js';
import { startTarget, type SuiteTarget } from '../targets/index.js';
import { edgeFacts } from './edge-facts.js';
import { selectChecks, type Watched } from './selection.js';
import { readWatchLog, WatchLog } from './log.js';
import {
  WATCH_FORMAT,
  type CheckStanding,
  type EdgeFacts,
  type ProbeResult,
  type RecordOf,
  type WatchedCheck,
  type WatchRecord,
  type WatchStart,
} from './records.js';
import { Standings } from './state.js';
import { SummaryBuilder, type WatchSummary } from './summary.js';

type Phase = ResolvedSuite['phases'][number];

export interface WatchOptions {
  runtime: RuntimeChoice;
  baseImage?: string;
  /** The checks to repeat, by id; or `phase`: the checks of that phase. Neither: the last phase's. */
  checks?: readonly string[];
  phase?: string;
  /** A round begins every interval; a round that takes longer is followed at once by the next. */
  intervalMs: number;
  /** Stop after this long; absent: until stopped. */
  durationMs?: number;
  /**
   * A rehearsal: after the watched checks' phase, apply the steps of each following phase in turn,
   * one phase every this many ms, each with a mark, so the timeline shows what each step breaks.
   */
  rehearseMs?: number;
  /** The directory of the log (`watch.ndjson`). */
  out: string;
  /** Continue the log in `out` instead of refusing it. */
  resume?: boolean;
  /** Rotate the log past this size. */
  partBytes?: number;
  /** The page's and metrics' address, for the log's start record. */
  listen?: string;
  version: string;
  /** Told every record, once it is in the log. */
  sinks?: ReadonlyArray<(r: WatchRecord) => void>;
  /** With `resume`: told every record of the log already written, as it is read back (the page shows the whole log). */
  replay?: (r: WatchRecord) => void;
  /** Told while setup does something slow (the first build of the Prosody image). */
  progress?: (p: SetupProgress) => void;
}

/**
 * A watch: starts the target once, applies the steps of the phases up to the watched checks', then
 * runs the checks in rounds, every `intervalMs`, until stopped or `durationMs` has passed, through
 * whatever fails (a target that cannot start is an outage of every check, retried each round; a
 * part of xfed's own that broke restarts the target). Each result, each change of state, each
 * mark goes to the log first and then to the sinks (the terminal, the metrics, the page, hooks).
 */
export class Watch {
  private readonly standings: Standings;
  private readonly stopped = new AbortController();
  private stopReason: string | undefined;
  private round: number;
  private target: SuiteTarget | undefined;
  private targetStack: TeardownStack | undefined;
  private facts: string | undefined;
  private saidSlow = false;
  /** The phases a rehearsal has applied so far: a target started again gets their steps too. */
  private readonly rehearsed: Phase[] = [];
  private readonly start: WatchStart;
  private readonly redactor = new Redactor();
  private readonly log: WatchLog;

  private constructor(
    private readonly suite: ResolvedSuite,
    private readonly o: WatchOptions,
    private readonly watched: Watched[],
    private readonly summary: SummaryBuilder,
    resumed: Resumed | undefined,
  ) {
    this.standings = new Standings(resumed?.standings);
    this.standings.keepOnly(watched.map((w) => w.info.id));
    this.round = resumed?.round ?? 0;
    this.start = {
      format: WATCH_FORMAT,
      suite: suite.name,
      file: suite.file,
      target: suite.target.kind,
      checks: watched.map((w) => w.info),
      intervalMs: o.intervalMs,
      ...(o.durationMs !== undefined ? { durationMs: o.durationMs } : {}),
      ...(o.listen ? { listen: o.listen } : {}),
      pid: process.pid,
      xfed: o.version,
    };
    this.log = WatchLog.open(o.out, { resume: o.resume === true, partBytes: o.partBytes, partHead: (part) => ({ ...this.standing(), part }) });
  }

  /**
   * Checks what the watch is asked to do (the checks exist, the log can be written or resumed)
   * before anything starts: bad input is one line, exit 2.
   */
  static async prepare(suite: ResolvedSuite, o: WatchOptions): Promise<Watch> {
    const watched = selectChecks(suite, o);
    // A resumed watch's summary covers the whole log, the earlier watches' part included.
    const summary = new SummaryBuilder();
    const resumed = o.resume
      ? await readBack(o.out, (r) => {
          summary.ingest(r);
          o.replay?.(r);
        })
      : undefined;
    return new Watch(suite, o, watched, summary, resumed);
  }

  get logFile(): string {
    return this.log.file;
  }

  get checks(): readonly WatchedCheck[] {
    return this.start.checks;
  }

  /** Where a resumed watch stands before its first round, as the head of a log part: what the metrics start from. */
  standing(): RecordOf<'part'> {
    return { type: 'part', at: new Date().toISOString(), part: 0, start: this.start, standings: this.standings.snapshot(), round: this.round };
  }

  /** The checks unmet now and the one that began the federation's outage (a single check's hook is told them). */
  federation(): { failing?: string[]; first?: string } {
    return this.standings.federation();
  }

  /** How many phases a rehearsal (`rehearseMs`) applies, one per mark of source `schedule`. */
  get rehearsalLength(): number {
    return this.rehearsalPhases().length;
  }

  /** Adds an operator's mark to the timeline, written at once. */
  mark(text: string, source: RecordOf<'mark'>['source']): void {
    const clean = text.replace(/\s+/g, ' ').trim().slice(0, 500);
    if (!clean) return;
    this.emit({ type: 'mark', at: new Date().toISOString(), text: clean, source });
    this.log.flush();
  }

  /** A record from outside the round loop (a hook that ran, a notice): into the log, then to the sinks. */
  record(r: RecordOf<'hook'> | RecordOf<'notice'>): void {
    this.emit(r);
    this.log.flush();
  }

  /** Ends the watch after the check under way (at once between rounds). */
  stop(reason: string): void {
    this.stopReason ??= reason;
    this.stopped.abort();
  }

  /**
   * Runs the watch to its end and returns its summary. On SIGINT or SIGTERM the log is closed with
   * a `stop` record and `onEnd` is called during the teardown, before the process exits.
   */
  async run(
    o: {
      /** Before the `stop` record: what must still reach the log (the hook under way). */
      beforeStop?: () => Promise<void>;
      /** After it, with the summary: print it, write the timeline. */
      onEnd?: (summary: WatchSummary) => void | Promise<void>;
    } = {},
  ): Promise<WatchSummary> {
    const stack = new TeardownStack(`watch ${this.suite.name}`);
    let ended: Promise<WatchSummary> | undefined;
    const end = () =>
      (ended ??= (async () => {
        const signal = signalReceived();
        const reason = signal ? `interrupted by ${signal}` : (this.stopReason ?? 'stopped');
        await o.beforeStop?.().catch(() => undefined);
        this.emit({ type: 'stop', at: new Date().toISOString(), reason, rounds: this.round });
        this.log.close();
        const summary = this.summary.result();
        await o.onEnd?.(summary);
        return summary;
      })());
    // Registered first, so it runs last: after the target is gone, also on a signal.
    stack.defer('the watch log', async () => void (await end()));
    const unlisten = onSignal((signal) => this.stop(`interrupted by ${signal}`));
    const timer =
      this.o.durationMs !== undefined ? setTimeout(() => this.stop(`its duration (${formatMs(this.o.durationMs!)}) ended`), this.o.durationMs) : undefined;
    try {
      this.emit({ type: 'start', at: new Date().toISOString(), resumed: this.o.resume === true, ...this.start });
      this.log.flush();
      await this.loop();
    } finally {
      clearTimeout(timer);
      unlisten();
      await this.stopTarget();
      await stack.close().catch(() => undefined);
    }
    return end();
  }

  private async loop(): Promise<void> {
    const rehearsal = this.rehearsalPhases();
    let nextRehearsal = Infinity;
    let next = Date.now();
    while (!this.stopped.signal.aborted) {
      this.round++;
      const results: ProbeResult[] = [];
      const starting = !this.target;
      const target = await this.ensureTarget();
      if (signalReceived()) return;
      // A round's time is its checks': starting the target (seconds, an image build) is not a slow round.
      const began = Date.now();
      if (starting) next = began;
      // The rehearsal's clock starts with the first target that came up.
      if (starting && this.target && nextRehearsal === Infinity && rehearsal.length > 0) nextRehearsal = began + this.o.rehearseMs!;
      if (typeof target === 'string') {
        for (const w of this.watched)
          results.push(this.judge({ check: w.info.id, state: 'unmet', at: new Date().toISOString(), durationMs: 0, actual: target }));
      } else {
        for (const w of this.watched) {
          if (this.stopped.signal.aborted) break;
          const result = await this.runOne(target, w);
          if (signalReceived()) return;
          results.push(result.probe);
          if (result.harnessFault) {
            this.emit({ type: 'notice', at: new Date().toISOString(), text: `xfed's own part broke (${result.harnessFault}): the target starts again` });
            await this.stopTarget();
            break;
          }
        }
        if (this.target && !this.stopped.signal.aborted) await this.probeFacts(this.target);
      }
      if (signalReceived()) return;
      this.emit({ type: 'round', at: new Date(began).toISOString(), round: this.round, durationMs: Date.now() - began, results });
      this.log.flush();
      if (this.target && rehearsal.length > 0 && Date.now() >= nextRehearsal) {
        const phase = rehearsal.shift()!;
        this.rehearsed.push(phase);
        await this.rehearse(this.target, phase);
        nextRehearsal = Date.now() + this.o.rehearseMs!;
      }
      next += this.o.intervalMs;
      const now = Date.now();
      if (now >= next) {
        if (!this.saidSlow) {
          this.saidSlow = true;
          this.emit({
            type: 'notice',
            at: new Date().toISOString(),
            text: `a round took ${Math.round(now - began)} ms, longer than the interval (${Math.round(this.o.intervalMs)} ms): rounds run back to back`,
          });
        }
        next = now;
        continue;
      }
      // The pacing of rounds, not a wait for an event: stop() ends it at once.
      await pause(next - now, undefined, { signal: this.stopped.signal }).catch(() => undefined);
    }
  }

  private async runOne(target: SuiteTarget, w: Watched): Promise<{ probe: ProbeResult; harnessFault?: string }> {
    const { harnessFault, ...r } = await runCheck(target, this.suite, w.phase, w.check, w.info.title);
    const at = new Date().toISOString();
    await this.undoRun(target, w);
    // A watch runs for hours: what the check caused is in its result now, and the flow need not keep it.
    target.flow.forget();
    const state = r.met ? 'met' : r.notPossible !== undefined || r.failure === 'harness' ? 'error' : 'unmet';
    const probe: ProbeResult = {
      check: w.info.id,
      state,
      at,
      durationMs: Math.round(r.durationMs),
      ...(r.latencyMs !== undefined ? { latencyMs: Math.round(r.latencyMs * 10) / 10 } : {}),
      ...(state !== 'met' ? { actual: r.actual } : {}),
    };
    // The flow keeps only what a check needs; the evidence of a change is in its transition.
    return {
      probe: this.judge(probe, { ...(r.diagnosis ? { diagnosis: r.diagnosis } : {}), evidence: r.evidence }),
      ...(harnessFault ? { harnessFault } : {}),
    };
  }

  /** What the check's run left that would change its next outcome, undone (a subscription now held). Bounded; what fails here shows in the next run. */
  private async undoRun(target: SuiteTarget, w: Watched): Promise<void> {
    const kind = checkKindOf(w.check);
    if (!kind.afterRun) return;
    const timeoutMs = w.check.timeout !== undefined ? durationMs(w.check.timeout) : DEFAULT_CHECK_TIMEOUT_MS;
    await withDeadline(kind.afterRun(w.check, { target, setup: this.suite, timeoutMs }), timeoutMs * 2, `undoing the run of ${w.info.id}`).catch(
      () => undefined,
    );
  }

  /** Records the transitions a result causes, and returns it. */
  private judge(probe: ProbeResult, more: { diagnosis?: string; evidence?: RecordOf<'transition'>['evidence'] } = {}): ProbeResult {
    for (const t of this.standings.apply(this.round, probe, { ...(probe.actual ? { actual: probe.actual } : {}), ...more })) this.emit(t);
    return probe;
  }

  /**
   * The target, started if it is not: with the steps of the phases up to the watched checks'.
   * A target that cannot start is said as the reason of every check's outage, and retried next
   * round; only what the user must fix (a missing piece of the machine, bad input) ends the watch.
   */
  private async ensureTarget(): Promise<SuiteTarget | string> {
    if (this.target) return this.target;
    const started = performance.now();
    const stack = new TeardownStack(`watch target ${this.suite.name}`);
    try {
      const target = await startTarget(this.suite, {
        runtime: this.o.runtime,
        baseImage: this.o.baseImage,
        redactor: this.redactor,
        notice: (text) => this.emit({ type: 'notice', at: new Date().toISOString(), text }),
        ...(this.o.progress ? { progress: this.o.progress } : {}),
      });
      stack.defer('the target', () => target.stop());
      const last = Math.max(...this.watched.map((w) => w.phaseIndex));
      for (const phase of this.suite.phases.slice(0, last + 1)) {
        for (const [i, step] of (phase.steps ?? []).entries()) {
          const outcome = await applyStep(target, step, i, { assumeDone: true });
          if (!outcome.ok) throw new XfedError(`step ${i + 1} of phase ${phase.name} (${outcome.description}) failed: ${outcome.error}`);
        }
      }
      // Started again mid-rehearsal, the deployment is where the rehearsal had brought it, not at its start.
      for (const phase of this.rehearsed) await this.applyRehearsed(target, phase);
      this.target = target;
      this.targetStack = stack;
      this.emit({ type: 'ready', at: new Date().toISOString(), setupMs: Math.round(performance.now() - started), runtime: target.runtime });
      return target;
    } catch (err) {
      await stack.close().catch(() => undefined);
      if (signalReceived()) return 'interrupted';
      // What the user must fix is said once, at the first round: the watch does not start.
      if (this.round === 1 && isUsersToFix(err)) throw err;
      const why = `the target could not be started: ${(err as Error).message.split('\n')[0]}`;
      this.emit({ type: 'notice', at: new Date().toISOString(), text: why });
      return why;
    }
  }

  private async stopTarget(): Promise<void> {
    const stack = this.targetStack;
    this.target = undefined;
    this.targetStack = undefined;
    await stack?.close().catch(() => undefined);
  }

  /** The phases after the watched checks' one, whose steps a rehearsal applies in turn. */
  private rehearsalPhases(): Phase[] {
    if (this.o.rehearseMs === undefined) return [];
    const last = Math.max(...this.watched.map((w) => w.phaseIndex));
    return this.suite.phases.slice(last + 1).filter((p) => (p.steps ?? []).length > 0);
  }

  private async rehearse(target: SuiteTarget, phase: Phase): Promise<void> {
    const steps = phase.steps ?? [];
    this.mark(`${phase.name}: ${steps.map((s) => stepKindOf(s).describe(s)).join('; ')}`, 'schedule');
    await this.applyRehearsed(target, phase);
  }

  /** A rehearsal's step that fails is said, and the rehearsal goes on: what it broke shows in the checks. */
  private async applyRehearsed(target: SuiteTarget, phase: Phase): Promise<void> {
    for (const [i, step] of (phase.steps ?? []).entries()) {
      const outcome = await applyStep(target, step, i, { assumeDone: true });
      if (!outcome.ok) this.emit({ type: 'notice', at: new Date().toISOString(), text: `step ${i + 1} of phase ${phase.name} failed: ${outcome.error}` });
    }
  }

  /** The Edge's TLS version and certificate, written when they change. */
  private async probeFacts(target: SuiteTarget): Promise<void> {
    const facts = await edgeFacts(target).catch((err: Error): EdgeFacts => ({ error: err.message.split('\n')[0]! }));
    const key = JSON.stringify({ ...facts, certificate: facts.certificate && { ...facts.certificate, daysLeft: undefined } });
    // Days left change once a day; the record is written when anything else changes, or the day.
    const day = facts.certificate?.daysLeft;
    if (key + String(day) === this.facts) return;
    this.facts = key + String(day);
    this.emit({ type: 'facts', at: new Date().toISOString(), ...facts });
  }

  private emit(raw: WatchRecord): void {
    // A lab's passwords (the target adds them as it reads them) are in no record, log or page.
    const record = this.redactor.deep(raw);
    this.log.add(record);
    this.summary.ingest(record);
    for (const sink of this.o.sinks ?? []) {
      try {
        sink(record);
      } catch {
        // A sink that throws (a closed terminal) must not stop the watch or the others.
      }
    }
  }
}

/** What only the user can fix, so retrying it each round would only hide it. */
function isUsersToFix(err: unknown): boolean {
  return err instanceof EnvironmentError || err instanceof ProblemsError || err instanceof StartupError || err instanceof InputError;
}

interface Resumed {
  standings: Record<string, CheckStanding>;
  round: number;
}

/** What a resumed watch takes from its log: the standings (the federation's under `*`) and the round count; `each` sees every record. */
async function readBack(dir: string, each: (r: WatchRecord) => void): Promise<Resumed> {
  let standings: Record<string, CheckStanding> = {};
  let round = 0;
  try {
    for await (const r of readWatchLog(dir)) {
      each(r);
      if (r.type === 'part') {
        standings = { ...r.standings };
        round = Math.max(round, r.round);
      } else if (r.type === 'transition') standings[r.check] = { state: r.to, since: r.at };
      else if (r.type === 'round') round = Math.max(round, r.round);
    }
  } catch (err) {
    if (err instanceof XfedError) throw new XfedError(`--resume: ${err.message}`);
    throw err;
  }
  return { standings, round };
}
