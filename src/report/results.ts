import type { FlowEvent } from '../targets/flow.js';

/**
 * The results file of one run (`results.json`): the one source every report is rendered from.
 * Written after every check, so an interrupted run keeps what it measured (`status` says so).
 */
export interface RunResults {
  format: 'xfed-results/1';
  suite: { name: string; description?: string; file: string };
  target: 'sim' | 'gateway';
  runtime: 'process' | 'container';
  startedAt: string;
  finishedAt?: string;
  durationMs: number;
  /** Time from start until the topology (partner, target) was ready. */
  setupMs: number;
  /** `killed`: the process died without finishing (SIGKILL, OOM); set by its watchdog, the next run or `xfed clean`. */
  status: 'running' | 'complete' | 'interrupted' | 'failed' | 'killed';
  /** Why the run ended early (`failed`, `interrupted`, `killed`), one line. */
  reason?: string;
  summary: Summary;
  /** The phases as they run; once the run has ended, every phase of the suite, with what did not run marked `skipped`. */
  phases: PhaseResult[];
  /** What the run said that belongs to no check (a lab user's session dropped and came back), in order. */
  notices?: Notice[];
}

export interface Notice {
  at: string;
  /** One line, redacted. */
  text: string;
}

export interface Summary {
  phases: number;
  checks: number;
  met: number;
  /** Checks that ran and did not meet their expectation, and checks the harness could not run. */
  unmet: number;
  /** Of the unmet, those the harness could not run or judge (present once there is one). */
  harness?: number;
  /** Checks the target cannot perform (absent in files written before the verdict existed). */
  notPossible?: number;
  /** Checks of the suite that did not run (filtered out, or the run stopped before them): not in `checks`. */
  skipped?: number;
}

/** Where a step or check is written: the suite file as given on the command line, and its 1-based line. */
export interface SuitePosition {
  file?: string;
  line?: number;
}

export interface PhaseResult {
  name: string;
  description?: string;
  steps: StepResult[];
  checks: CheckResult[];
}

/**
 * A step of a phase. Every step of the suite is listed (in files written before `skipped` existed,
 * only those applied): one never applied has `ok: false` and `skipped` saying why.
 */
export interface StepResult extends SuitePosition {
  /** From 0, in its phase. */
  index: number;
  /** `move-user`, `srv-record`, ... */
  action: string;
  /** One line: what the step did. */
  description: string;
  ok: boolean;
  durationMs: number;
  error?: string;
  /** What a `run` hook printed (cut to its last 4 KiB), or how a `manual` step was confirmed. */
  output?: string;
  /** Against the simulation: the ids of the catalogue rows (docs/sfb-behaviours.md) the step applied. */
  behaviours?: string[];
  /** A manual step passed by `--assume-done`: no operator confirmed it. */
  assumedDone?: boolean;
  /** The step was never applied, and why (the run stopped before it, or `--phase` selected no later phase). */
  skipped?: string;
}

/** What a check expects, as written in the suite. */
export type ExpectationJson = 'pass' | Record<string, string>;

/** What a check observed: `pass`, or the failure in the same vocabulary as expectations. */
export interface OutcomeJson {
  status: 'pass' | 'fail';
  /** For a failure: `{ error: 'forbidden' }`, `{ s2s: 'refused' }`, `{ subscription: 'pending' }`... */
  detail?: Record<string, string>;
  /** Human text from the wire: the stanza error's text, a SIP reason, a TLS error. */
  text?: string;
}

/**
 * A check of a phase. Every check of the suite is listed (in files written before `skipped` existed,
 * only those that ran): one that did not run has `met: false`, no evidence, and `skipped` saying why.
 */
export interface CheckResult extends SuitePosition {
  /** Unique within the suite. */
  id: string;
  kind: string;
  /** One line: what the check does (`alice IMs erin`). */
  title: string;
  phase: string;
  met: boolean;
  durationMs: number;
  /** The protocol latency the check measured (IM round trip, ping), for comparisons. */
  latencyMs?: number;
  expectation: ExpectationJson;
  outcome: OutcomeJson;
  /** Human forms of both, for console lines and JUnit failure messages. */
  expected: string;
  actual: string;
  /** The messages the check caused, in order, with their hops. */
  evidence: FlowEvent[];
  /**
   * Whose failure an unmet check is: `federation` (the system under test did not behave as
   * expected, or did not answer) or `harness` (xfed itself broke: its partner Prosody or test DNS
   * died, a bug). Absent for met and not-possible checks, and in files written before it existed.
   */
  failure?: 'federation' | 'harness';
  /** The harness could not run or judge the check (not an outcome of the system under test): why. */
  error?: string;
  /** For a federation failure where an answer never came: what xfed saw and where the fault lies. */
  diagnosis?: string;
  /** The target cannot perform the check, and why (a lab user xfed does not drive cannot write): neither met nor failed. */
  notPossible?: string;
  /** Where the behaviour the check observes is specified: RFC sections, Microsoft pages, xfed's docs/. */
  references?: string[];
  /** Against the simulation: the ids of the catalogue rows (docs/sfb-behaviours.md) its outcome rests on. */
  behaviours?: string[];
  /** The check did not run, and why (filtered out by `--phase`/`--grep`, or the run stopped before it): neither met nor failed. */
  skipped?: string;
}
