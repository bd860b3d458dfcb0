import pc from 'picocolors';
import { formatMs, runStatus, verdictOf } from './format.js';
import type { CheckResult, RunResults, StepResult } from './results.js';

/**
 * Pure formatters for the CLI's live view: each returns text without a trailing newline and
 * colours it (ANSI, through picocolors) only when `color` is set.
 */
export interface ConsoleOptions {
  color: boolean;
}

const MARK = { met: '✓', unmet: '✗', error: '!', 'not-possible': '○', skipped: '-' } as const;

/** `  ✓ im-erin  alice IMs erin  (3 ms)`, or with `expected ..., got ...` when unmet. */
export function formatCheckLine(check: CheckResult, opts: ConsoleOptions): string {
  const k = pc.createColors(opts.color);
  const v = verdictOf(check);
  const paint = { met: k.green, unmet: k.red, error: k.yellow, 'not-possible': k.cyan, skipped: k.dim }[v];
  const why = {
    met: '',
    skipped: `not run: ${safe(check.skipped ?? '')}`,
    unmet: `expected ${safe(check.expected)}, got ${safe(check.actual)}${check.diagnosis ? `; diagnosis: ${safe(check.diagnosis)}` : ''}`,
    error: `harness failure: ${safe(check.error ?? '')}`,
    'not-possible': `not possible: ${safe(check.notPossible ?? '')}`,
  }[v];
  const reason = why ? `  ${paint(why)}` : '';
  return `  ${paint(MARK[v])} ${k.bold(safe(check.id))}  ${safe(check.title)}${reason}  ${k.dim(`(${formatMs(check.durationMs)})`)}`;
}

/** `  ▸ move-user  Move-CsUser judy -> sfb2019  (85 ms)`; a failed step says why, a step passed by `--assume-done` says so. */
export function formatStepLine(step: StepResult, opts: ConsoleOptions): string {
  const k = pc.createColors(opts.color);
  if (step.skipped !== undefined) return `  ${k.dim(`- ${safe(step.action)}  ${safe(step.description)}  not applied: ${safe(step.skipped)}`)}`;
  const mark = step.ok ? (step.assumedDone ? k.yellow('?') : k.cyan('▸')) : k.red('✗');
  const note = step.ok
    ? step.assumedDone
      ? `  ${k.yellow('assumed done (--assume-done), not confirmed by an operator')}`
      : ''
    : `  ${k.red(`failed: ${safe(step.error ?? 'no reason given')}`)}`;
  return `  ${mark} ${k.bold(safe(step.action))}  ${safe(step.description)}${note}  ${k.dim(`(${formatMs(step.durationMs)})`)}`;
}

/** `phase 2/3: move-judy`; `index` counts from 0, as the runner reports it. */
export function formatPhaseHeader(name: string, index: number, total: number, opts: ConsoleOptions): string {
  const k = pc.createColors(opts.color);
  return k.bold(`phase ${index + 1}/${total}: ${safe(name)}`);
}

const MATRIX_WIDTH = 30;

/**
 * One row per phase with a mark per check (✓ met, ✗ unmet, ! harness failure, ○ not possible, - not run) and the phase's count;
 * a phase with many checks wraps after 30 marks.
 */
export function formatVerdictMatrix(results: RunResults, opts: ConsoleOptions): string {
  const k = pc.createColors(opts.color);
  const paint = { met: k.green, unmet: k.red, error: k.yellow, 'not-possible': k.cyan, skipped: k.dim };
  const nameWidth = Math.max(0, ...results.phases.map((p) => safe(p.name).length));
  const markWidth = Math.min(MATRIX_WIDTH, Math.max(0, ...results.phases.map((p) => p.checks.length)));
  const lines = ['verdicts'];
  for (const p of results.phases) {
    const verdicts = p.checks.map(verdictOf);
    const met = verdicts.filter((v) => v === 'met').length;
    const notRun = verdicts.filter((v) => v === 'skipped').length;
    const ran = p.checks.length - notRun;
    const count =
      p.checks.length === 0
        ? k.dim('no checks')
        : `${ran > 0 ? `${met}/${ran} met` : ''}${ran > 0 && notRun > 0 ? ', ' : ''}${notRun > 0 ? k.dim(`${notRun} not run`) : ''}`;
    const rows: string[][] = [];
    for (let i = 0; i < verdicts.length; i += MATRIX_WIDTH) rows.push(verdicts.slice(i, i + MATRIX_WIDTH).map((v) => paint[v](MARK[v])));
    if (rows.length === 0) rows.push([]);
    rows.forEach((marks, i) => {
      // Pad by the uncoloured width: n marks take 2n - 1 columns with their separating spaces.
      const width = (n: number) => Math.max(0, 2 * n - 1);
      const pad = ' '.repeat(width(markWidth) - width(marks.length));
      const name = i === 0 ? safe(p.name) : '';
      lines.push(`  ${name.padEnd(nameWidth)}  ${marks.join(' ')}${pad}${i === 0 ? ` ${count}` : ''}`.trimEnd());
    });
  }
  return lines.join('\n');
}

/**
 * The exit code `xfed run` gives for these results: 0 for a complete run where no check was
 * unmet; 1 where the system under test failed a check or the run did not complete; 2 where xfed
 * itself broke under a check (a harness failure: an environment fault, not a verdict on the
 * federation). A check the target cannot perform is not a failure of what is tested: it is
 * counted and shown apart, and does not fail the run (as Smack's "impossible" tests).
 */
export function exitCodeOf(results: RunResults): 0 | 1 | 2 {
  if (harnessFailures(results) > 0) return 2;
  return results.status === 'complete' && results.summary.unmet === 0 ? 0 : 1;
}

const harnessFailures = (results: RunResults): number => results.phases.flatMap((p) => p.checks).filter((c) => verdictOf(c) === 'error').length;

/** Counts and duration, then what the exit code means for this run. */
export function formatSummary(results: RunResults, opts: ConsoleOptions): string {
  const k = pc.createColors(opts.color);
  const s = results.summary;
  const harness = harnessFailures(results);
  const federation = s.unmet - harness;
  const plural = (n: number, what: string) => `${n} ${what} failure${n === 1 ? '' : 's'}`;
  const unmet = `${s.unmet} unmet${harness > 0 ? ` (${plural(federation, 'federation')}, ${plural(harness, 'harness')})` : ''}`;
  const notPossible = s.notPossible ? `, ${k.cyan(`${s.notPossible} not possible on this target`)}` : '';
  const notRun = s.skipped ? `, ${s.skipped} not run` : '';
  // Green only when every check that ran met its expectation: a complete run with failures is red.
  const ok = runStatus(results).ok;
  const metCount = `${s.met} of ${s.checks} checks met`;
  const counts = `${ok ? k.green(metCount) : metCount}, ${s.unmet > 0 ? k.red(unmet) : unmet}${notPossible}${notRun} in ${s.phases} phase${s.phases === 1 ? '' : 's'}`;
  const headline = (ok ? k.green : k.red)(k.bold(`run ${results.status === 'running' ? 'did not finish' : results.status}`));
  const first = `${headline}: ${counts}; ${formatMs(results.durationMs)} (setup ${formatMs(results.setupMs)})`;
  const reason = results.reason ? `: ${safe(results.reason)}` : '';
  let second: string;
  if (results.status === 'complete') {
    const met = s.notPossible
      ? `every check that was possible met its expectation (${s.notPossible} not possible, not counted as failed)`
      : 'every check met its expectation';
    second = s.unmet === 0 ? k.green(`exit 0: ${met}`) : k.red(`exit 1: ${s.unmet} check${s.unmet === 1 ? '' : 's'} did not meet the expectation`);
  } else {
    const what = { running: 'did not finish', interrupted: 'was interrupted', failed: 'failed', killed: 'was killed' }[results.status];
    second = k.red(`exit 1: the run ${what}${reason}; the checks it did not reach are listed as not run`);
  }
  // A harness failure overrides: what failed says nothing about the federation.
  if (harness > 0) {
    const also = federation > 0 ? `; ${plural(federation, 'federation')} besides` : '';
    const run = results.status === 'complete' ? '' : `; the run ${results.status}${reason}`;
    second = k.red(
      `exit 2: ${harness} check${harness === 1 ? '' : 's'} failed because xfed itself broke (a harness failure, not a verdict on the federation)${also}${run}`,
    );
  }
  return `${first}\n${second}`;
}

/** Text from the wire on one line, without control characters that could drive the terminal. */
function safe(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\s+/g, ' ').replace(/[\u0000-\u001f\u007f-\u009f]/g, '');
}
