import type { FlowEvent } from '../targets/flow.js';

/**
 * The records of a watch, one JSON object per line of its log (NDJSON, `xfed-watch/1`). The log is
 * the product: the live view, the metrics, the timeline and the summary are all read from these
 * records, as they are written or afterwards, so what a watch shows is exactly what it kept.
 */
export const WATCH_FORMAT = 'xfed-watch/1';

/** The check id of the federation as a whole: unmet while any check is unmet. */
export const OVERALL = '*';

/**
 * A check's state after a round: `met` its expectation; `unmet` (the federation did not behave as
 * expected, or did not answer: an outage); `error` (it could not be judged: xfed's own part broke,
 * or the target cannot perform it). Error time counts neither as up nor as down.
 */
export type CheckState = 'met' | 'unmet' | 'error';

/** A check the watch repeats, as the suite writes it. */
export interface WatchedCheck {
  id: string;
  kind: string;
  title: string;
  /** The phase the check was taken from. */
  phase: string;
  /** What it expects, in words (`pass`, `error forbidden`). */
  expected: string;
  file?: string;
  line?: number;
}

/** One check's result in one round. */
export interface ProbeResult {
  check: string;
  state: CheckState;
  /** When the check ended (ISO 8601). */
  at: string;
  durationMs: number;
  /** The protocol latency it measured (an IM's round trip, a ping), when it measured one. */
  latencyMs?: number;
  /** What it saw, when that was not what it expected. */
  actual?: string;
}

/** What the watch learned of the Edge's S2S port by probing it (STARTTLS, its certificate). */
export interface EdgeFacts {
  /** Where the partner finds the Edge (`legacy-edge.contoso.test:5269 (SRV ...)`). */
  edge?: string;
  tlsVersion?: string;
  certificate?: { subject: string; notAfter: string; daysLeft: number; trusted: boolean; coversBareDomain: boolean };
  /** Why the probe could not say more (no connection, no STARTTLS). */
  error?: string;
}

/** The watch's settings, written at its start and repeated at the head of every part of the log. */
export interface WatchStart {
  format: typeof WATCH_FORMAT;
  suite: string;
  file: string;
  target: 'sim' | 'gateway';
  checks: WatchedCheck[];
  intervalMs: number;
  /** How long the watch was asked to run; absent: until stopped. */
  durationMs?: number;
  /** The address of its page and metrics (`127.0.0.1:9464`). */
  listen?: string;
  pid: number;
  xfed: string;
}

/** The state of one check as the log stands: what a reader of a later part alone needs. */
export interface CheckStanding {
  state: CheckState;
  /** Since when it is in that state (ISO). */
  since: string;
}

export type WatchRecord =
  /** A watch began (`resumed`: it continues the log of an earlier one; the time between is a gap). */
  | ({ type: 'start'; at: string; resumed: boolean } & WatchStart)
  /** The first record of every part of a rotated log after the first: the start and the states so far. */
  | { type: 'part'; at: string; part: number; start: WatchStart; standings: Record<string, CheckStanding>; round: number }
  /** The target is up (or came up again after it could not start): rounds follow. */
  | { type: 'ready'; at: string; setupMs: number; runtime: 'process' | 'container' }
  /** One round: every watched check once, in order. `at` is when the round began. */
  | { type: 'round'; at: string; round: number; durationMs: number; results: ProbeResult[] }
  /**
   * A change of state of a check (or of the federation as a whole, `check: '*'`). Into `unmet` or
   * `error`: what was seen, and the evidence (the message flow) of the result that changed it.
   * Out of `unmet`: how long the outage lasted. For `*`: which checks were unmet, the first of them.
   */
  | {
      type: 'transition';
      at: string;
      round: number;
      check: string;
      from: CheckState | 'unknown';
      to: CheckState;
      actual?: string;
      diagnosis?: string;
      evidence?: FlowEvent[];
      outageMs?: number;
      failing?: string[];
      first?: string;
    }
  /** An operator's mark (`xfed mark`, a key in the live view, the live page) or a scheduled step. */
  | { type: 'mark'; at: string; text: string; source: 'cli' | 'key' | 'page' | 'schedule' }
  /** The Edge's S2S facts, written when they change. */
  | ({ type: 'facts'; at: string } & EdgeFacts)
  /** An `--on-change` hook ran for a transition. */
  | {
      type: 'hook';
      at: string;
      check: string;
      to: CheckState;
      exitCode: number | null;
      signal?: string;
      timedOut: boolean;
      durationMs: number;
      /** The end of what it printed (stdout and stderr, at most 2 KiB). */
      output: string;
    }
  /** Something the watch or the target says outside any check (a round longer than the interval, a session that dropped). */
  | { type: 'notice'; at: string; text: string }
  /** The watch ended: why (`duration reached`, `SIGINT`), after how many rounds. */
  | { type: 'stop'; at: string; reason: string; rounds: number };

export type RecordOf<T extends WatchRecord['type']> = Extract<WatchRecord, { type: T }>;
