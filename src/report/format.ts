import type { FlowEvent, Lane } from '../targets/flow.js';

/** How the lanes are titled in reports, left to right as in `LANES`. */
export const LANE_TITLES: Record<Lane, string> = {
  'partner-user': 'partner user',
  'partner-server': 'partner server',
  edge: 'Edge',
  gateway: 'gateway',
  'sip-pool': 'SIP pool',
  'sfb-user': 'SfB user',
};

/** `0.4 ms`, `12 ms`, `2.3 s`, `4m 05s`: short enough for a console column. */
export function formatMs(ms: number): string {
  if (ms < 10 && !Number.isInteger(ms)) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
}

/** Milliseconds of each event after the first one (monotonic clock, so a clock step cannot skew it). */
export function eventOffsets(evidence: readonly FlowEvent[]): number[] {
  const t0 = evidence[0]?.t ?? 0;
  return evidence.map((e) => e.t - t0);
}

export function formatOffset(ms: number): string {
  return `+${ms.toFixed(1)} ms`;
}

/** The route of an event: `edge -> gateway`, or `edge (note)` for a note on one lane. */
function formatRoute(e: FlowEvent): string {
  return e.from === e.to ? `${e.from} (note)` : `${e.from} -> ${e.to}`;
}

/**
 * The evidence ladder as plain text: one line per event (offset, route, label, protocol, actor),
 * then its wire text indented. SIP's CRLF line ends become plain newlines.
 */
export function ladderText(evidence: readonly FlowEvent[], indent = '    '): string {
  if (evidence.length === 0) return '(no evidence recorded)\n';
  const offsets = eventOffsets(evidence);
  const offWidth = Math.max(...offsets.map((o) => formatOffset(o).length));
  const routeWidth = Math.max(...evidence.map((e) => formatRoute(e).length));
  const lines: string[] = [];
  evidence.forEach((e, i) => {
    const actor = e.actor ? ` (${e.actor})` : '';
    lines.push(`${formatOffset(offsets[i] ?? 0).padStart(offWidth)}  ${formatRoute(e).padEnd(routeWidth)}  ${e.label}  [${e.protocol}]${actor}`);
    for (const w of e.wire.replace(/\r\n?/g, '\n').replace(/\n+$/, '').split('\n')) lines.push(`${indent}${w}`);
  });
  return `${lines.join('\n')}\n`;
}

/** ISO time of a wall-clock ms value, or `?` when the value is not a time. */
export function isoTime(ms: number): string {
  return Number.isFinite(ms) && Math.abs(ms) < 8.64e15 ? new Date(ms).toISOString() : '?';
}

export type Verdict = 'met' | 'unmet' | 'error' | 'not-possible' | 'skipped';

/**
 * `skipped` when the check did not run (filtered out, or the run stopped before it);
 * `not-possible` when the target cannot perform the check; `error` when the harness broke (it could
 * not run or judge the check: a harness failure); `unmet` when the system under test did not do
 * what was expected (a federation failure); else `met`.
 */
export function verdictOf(c: { met: boolean; error?: string; notPossible?: string; failure?: 'federation' | 'harness'; skipped?: string }): Verdict {
  if (c.skipped !== undefined) return 'skipped';
  if (c.notPossible !== undefined) return 'not-possible';
  if (c.failure === 'harness' || c.error !== undefined) return 'error';
  return c.met ? 'met' : 'unmet';
}

/** How each verdict reads in reports. */
export const VERDICT_LABEL: Record<Verdict, string> = {
  met: 'met',
  unmet: 'federation failure',
  error: 'harness failure',
  'not-possible': 'not possible',
  skipped: 'not run',
};

/**
 * The run's state in a word or three, and whether it is good news: `complete` only when every check
 * that ran met its expectation; `complete, 3 unmet` (`..., 1 harness failure`) when checks failed;
 * else how the run ended (`failed`, `interrupted, 1 unmet`).
 */
export function runStatus(r: { status: string; phases: readonly { checks: readonly Parameters<typeof verdictOf>[0][] }[] }): { text: string; ok: boolean } {
  const verdicts = r.phases.flatMap((p) => p.checks.map(verdictOf));
  const unmet = verdicts.filter((v) => v === 'unmet').length;
  const harness = verdicts.filter((v) => v === 'error').length;
  const failed = [unmet ? `${unmet} unmet` : '', harness ? `${harness} harness failure${harness === 1 ? '' : 's'}` : ''].filter(Boolean);
  const status = r.status === 'running' ? 'did not finish' : r.status;
  return { text: [status, ...failed].join(', '), ok: r.status === 'complete' && failed.length === 0 };
}
