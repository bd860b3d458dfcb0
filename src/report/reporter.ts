import { XfedError } from '../errors.js';
import type { SetupProgress } from '../prosody/types.js';
import type { CheckResult, Notice, PhaseResult, RunResults, StepResult } from './results.js';

/** A check about to run, before it has a result. */
export interface CheckStart {
  id: string;
  kind: string;
  title: string;
}

/**
 * The one seam between the runner and every output (the live view, results.json, JUnit, HTML, a
 * user's own). The runner calls these in order and awaits each, so a file reporter has written
 * before the run goes on; every call gets the run's results as they stand, already redacted.
 */
export interface Reporter {
  /** The run begins: nothing is started yet, the status is `running`. */
  onBegin?(results: RunResults): void | Promise<void>;
  /** Setup does something slow before the target is up (the first build of an image): once per stage. */
  onProgress?(progress: SetupProgress, results: RunResults): void | Promise<void>;
  /** The target is up: `setupMs` and `runtime` are known. */
  onSetup?(results: RunResults): void | Promise<void>;
  onPhase?(phase: PhaseResult, index: number, results: RunResults): void | Promise<void>;
  onStep?(step: StepResult, phase: PhaseResult, results: RunResults): void | Promise<void>;
  onCheckBegin?(check: CheckStart, phase: PhaseResult, results: RunResults): void | Promise<void>;
  onCheckEnd?(check: CheckResult, phase: PhaseResult, results: RunResults): void | Promise<void>;
  /** The run is over, whatever ended it (complete, failed, interrupted): the final results. */
  onEnd?(results: RunResults): void | Promise<void>;
  /** The target said something that belongs to no check (a lab user's session dropped), at any time; also after onEnd, from teardown. */
  onNotice?(notice: Notice, results: RunResults): void | Promise<void>;
}

type Event = keyof Reporter;

/**
 * Several reporters as one. Each is called in turn; one that throws is reported (once per
 * reporter) and does not keep the others, or the run, from going on.
 */
export class ReporterMux implements Reporter {
  private readonly failed = new Set<Reporter>();

  constructor(
    private readonly reporters: readonly Reporter[],
    private readonly onError: (err: unknown, event: Event) => void = (err, event) =>
      process.stderr.write(
        // A report that cannot be written says which and why (its own message); the run goes on.
        err instanceof XfedError
          ? `xfed: ${err.message}; the run goes on\n`
          : `xfed: a reporter failed at ${event}: ${(err as Error)?.message ?? String(err)}\n`,
      ),
  ) {}

  onBegin(results: RunResults) {
    return this.each('onBegin', (r) => r.onBegin?.(results));
  }
  onProgress(progress: SetupProgress, results: RunResults) {
    return this.each('onProgress', (r) => r.onProgress?.(progress, results));
  }
  onSetup(results: RunResults) {
    return this.each('onSetup', (r) => r.onSetup?.(results));
  }
  onPhase(phase: PhaseResult, index: number, results: RunResults) {
    return this.each('onPhase', (r) => r.onPhase?.(phase, index, results));
  }
  onStep(step: StepResult, phase: PhaseResult, results: RunResults) {
    return this.each('onStep', (r) => r.onStep?.(step, phase, results));
  }
  onCheckBegin(check: CheckStart, phase: PhaseResult, results: RunResults) {
    return this.each('onCheckBegin', (r) => r.onCheckBegin?.(check, phase, results));
  }
  onCheckEnd(check: CheckResult, phase: PhaseResult, results: RunResults) {
    return this.each('onCheckEnd', (r) => r.onCheckEnd?.(check, phase, results));
  }
  onEnd(results: RunResults) {
    return this.each('onEnd', (r) => r.onEnd?.(results));
  }
  onNotice(notice: Notice, results: RunResults) {
    return this.each('onNotice', (r) => r.onNotice?.(notice, results));
  }

  private async each(event: Event, call: (r: Reporter) => void | Promise<void>): Promise<void> {
    for (const r of this.reporters) {
      try {
        await call(r);
      } catch (err) {
        if (!this.failed.has(r)) this.onError(err, event);
        this.failed.add(r);
      }
    }
  }
}
