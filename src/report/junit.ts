import { hostname } from 'node:os';
import { cdata, escapeXmlAttr, escapeXmlText } from './escape.js';
import { formatMs, ladderText, runStatus, verdictOf } from './format.js';
import type { Reporter } from './reporter.js';
import type { CheckResult, PhaseResult, RunResults, StepResult } from './results.js';
import { ReportFile } from './results-file.js';

/** junit.xml, written when the run ends (also an interrupted or failed one). */
export class JunitReporter implements Reporter {
  readonly output: ReportFile;

  constructor(readonly file: string) {
    this.output = new ReportFile(file);
  }

  onEnd(results: RunResults) {
    return this.output.write(renderJunit(results));
  }
}

/**
 * JUnit XML in the shape Jenkins, GitLab, GitHub Actions reporters and Azure Pipelines all read,
 * valid against the de-facto schema (Jenkins xunit's junit-10.xsd) but for the `file` and `line`
 * of testcases, which that schema lacks and the GitHub reporters read. One testsuite per phase;
 * in it a testcase per step (`step 2: move-user`), then one per check (named by its id, stable when
 * its title changes). A step that failed is a `<failure>`; a check the system under test failed a
 * `<failure>`, one the harness could not run or judge (xfed broke) an `<error>`, one the target
 * cannot perform or that did not run (filtered out, or the run stopped before it) `<skipped>` with
 * the reason. A run that ended early where no testcase says why (the target did not start, a
 * signal) gets one more testcase, an `<error>` that does.
 */
export function renderJunit(results: RunResults, host = hostname()): string {
  const suites = results.phases.map((phase) => ({
    name: phase.name,
    cases: [...phase.steps.map((s) => stepCase(results, phase, s)), ...phase.checks.map((c) => checkCase(results, phase, c))],
  }));
  const stop = stopCase(
    results,
    suites.flatMap((s) => s.cases),
  );
  const count = (cases: Case[], what: Case['result']) => cases.filter((c) => c.result === what).length;
  const all = [...suites.flatMap((s) => s.cases), ...(stop ? [stop] : [])];
  const out = ['<?xml version="1.0" encoding="UTF-8"?>'];
  out.push(
    `<testsuites${attrs({
      name: results.suite.name,
      tests: all.length,
      failures: count(all, 'failure'),
      errors: count(all, 'error'),
      time: seconds(results.durationMs),
    })}>`,
  );
  const head = (name: string, id: number, cases: Case[], ms: number, start: number) =>
    `  <testsuite${attrs({
      name,
      id,
      package: results.suite.name,
      hostname: host,
      file: results.suite.file,
      tests: cases.length,
      failures: count(cases, 'failure'),
      errors: count(cases, 'error'),
      skipped: count(cases, 'skipped'),
      time: seconds(ms),
      timestamp: timestamp(start),
    })}>`;
  if (stop) {
    out.push(head(stop.suite, 0, [stop], 0, Date.parse(results.startedAt)), ...properties(results), ...stop.xml, '  </testsuite>');
  }
  // Phases carry no start time of their own: they follow setup and each other.
  let phaseStart = Date.parse(results.startedAt) + results.setupMs;
  results.phases.forEach((phase, i) => {
    const ms = phaseMs(phase);
    const cases = suites[i]!.cases;
    out.push(head(phase.name, i + (stop ? 1 : 0), cases, ms, phaseStart), ...properties(results, phase));
    for (const c of cases) out.push(...c.xml);
    out.push(`    <system-out>${cdata(phaseText(results, phase))}</system-out>`, '  </testsuite>');
    phaseStart += ms;
  });
  out.push('</testsuites>');
  return `${out.join('\n')}\n`;
}

/** One testcase: how it counts, and its XML. */
interface Case {
  result: 'pass' | 'failure' | 'error' | 'skipped';
  xml: string[];
}

function properties(results: RunResults, phase?: PhaseResult): string[] {
  const props: [string, string][] = [
    ['xfed.suite.file', results.suite.file],
    ['xfed.target', results.target],
    ['xfed.runtime', results.runtime],
    ['xfed.status', runStatus(results).text],
  ];
  if (results.reason) props.push(['xfed.reason', results.reason]);
  for (const [i, n] of (results.notices ?? []).entries()) props.push([`xfed.notice.${i + 1}`, `${n.at} ${n.text}`]);
  if (phase?.description) props.push(['xfed.phase.description', phase.description]);
  return ['    <properties>', ...props.map(([name, value]) => `      <property${attrs({ name, value })}/>`), '    </properties>'];
}

function testcase(name: string, classname: string, at: { file?: string; line?: number }, ms: number, result: Case['result'], body: string[]): Case {
  return {
    result,
    xml: [`    <testcase${attrs({ name, classname, file: at.file, line: at.line, time: seconds(ms) })}>`, ...body.map((l) => `      ${l}`), '    </testcase>'],
  };
}

/** A step as a testcase: passed, failed (the run stopped there), or not applied. */
function stepCase(results: RunResults, phase: PhaseResult, s: StepResult): Case {
  const name = `step ${s.index + 1}: ${s.action}`;
  const classname = `${results.suite.name}.${phase.name}`;
  const out = `<system-out>${cdata(`${s.description}\n${s.assumedDone ? 'assumed done (--assume-done): no operator confirmed it\n' : ''}${s.output && !s.assumedDone ? `output:\n${s.output}\n` : ''}`)}</system-out>`;
  if (s.skipped !== undefined) return testcase(name, classname, s, 0, 'skipped', [`<skipped${attrs({ message: `not applied: ${s.skipped}` })}/>`, out]);
  if (!s.ok) {
    const message = `step failed: ${s.error ?? 'no reason given'}`;
    return testcase(name, classname, s, s.durationMs, 'failure', [
      `<failure${attrs({ message, type: 'step' })}>${escapeXmlText(`${s.description}\n${message}\nthe run stopped here: the steps and checks after it did not run`)}</failure>`,
      out,
    ]);
  }
  return testcase(name, classname, s, s.durationMs, 'pass', [out]);
}

function checkCase(results: RunResults, phase: PhaseResult, c: CheckResult): Case {
  const v = verdictOf(c);
  const classname = `${results.suite.name}.${phase.name}`;
  const out = `<system-out>${cdata(`${c.title}\n\n${v === 'skipped' ? '' : ladderText(c.evidence)}`)}</system-out>`;
  const body = (result: Case['result'], element: string) => testcase(c.id, classname, c, c.durationMs, result, [element, out]);
  switch (v) {
    case 'skipped':
      return body('skipped', `<skipped${attrs({ message: `not run: ${c.skipped}` })}/>`);
    case 'not-possible':
      return body('skipped', `<skipped${attrs({ message: `not possible: ${c.notPossible}` })}/>`);
    case 'error':
      return body('error', `<error${attrs({ message: c.error ?? c.actual, type: 'harness' })}>${escapeXmlText(detailText(c))}</error>`);
    case 'unmet':
      return body(
        'failure',
        `<failure${attrs({ message: `expected ${c.expected}, got ${c.actual}`, type: c.kind })}>${escapeXmlText(detailText(c))}</failure>`,
      );
    case 'met':
      return testcase(c.id, classname, c, c.durationMs, 'pass', [out]);
  }
}

/**
 * For a run that ended early where no testcase failed to say so (the target did not start, a
 * signal, a kill): one `<error>` testcase that does, so no CI reads the run as green. It is
 * `setup` when nothing of the suite ran, else `run`.
 */
function stopCase(results: RunResults, cases: Case[]): (Case & { suite: string }) | undefined {
  if (results.status === 'complete' || cases.some((c) => c.result === 'failure' || c.result === 'error')) return undefined;
  const started = results.phases.some((p) => p.steps.some((s) => s.skipped === undefined) || p.checks.some((c) => c.skipped === undefined));
  const what = started ? 'run' : 'setup';
  const message = `${started ? `the run ${results.status === 'running' ? 'did not finish' : results.status}` : 'the run stopped before its first step or check'}: ${results.reason ?? 'no reason given'}`;
  // Its own testsuite: `(setup)` and `(run)` cannot be the name of a phase.
  const c = testcase(what, `${results.suite.name}.(${what})`, { file: results.suite.file }, results.durationMs, 'error', [
    `<error${attrs({ message, type: what })}>${escapeXmlText(message)}</error>`,
  ]);
  return { ...c, suite: `(${what})` };
}

function detailText(c: CheckResult): string {
  const lines = [c.title, `expected: ${c.expected}`, `actual:   ${c.actual}`];
  if (c.outcome.text) lines.push(`text:     ${c.outcome.text}`);
  if (c.diagnosis) lines.push(`diagnosis: ${c.diagnosis}`);
  if (c.error) lines.push(`harness failure (xfed broke, not the system under test): ${c.error}`);
  if (c.latencyMs !== undefined) lines.push(`latency:  ${formatMs(c.latencyMs)}`);
  lines.push(`evidence: ${c.evidence.length} message(s), see system-out`);
  return lines.join('\n');
}

function stepText(s: StepResult): string {
  const result =
    s.skipped !== undefined
      ? `not applied: ${s.skipped}`
      : s.ok
        ? s.assumedDone
          ? 'assumed done (--assume-done)'
          : 'ok'
        : `failed: ${s.error ?? 'no reason given'}`;
  return `${s.action}: ${s.description} (${result}, ${formatMs(s.durationMs)})`;
}

function phaseText(results: RunResults, phase: PhaseResult): string {
  const lines = [`phase ${phase.name}${phase.description ? `: ${phase.description}` : ''}`];
  if (results.status !== 'complete') lines.push(`run ${results.status}${results.reason ? `: ${results.reason}` : ''}`);
  if (phase.steps.length === 0) lines.push('no steps');
  for (const s of phase.steps) lines.push(`step ${s.index + 1} ${stepText(s)}`);
  return `${lines.join('\n')}\n`;
}

function phaseMs(phase: PhaseResult): number {
  const sum = (xs: { durationMs: number }[]) => xs.reduce((n, x) => n + x.durationMs, 0);
  return sum(phase.steps) + sum(phase.checks);
}

function attrs(a: Record<string, string | number | undefined>): string {
  return Object.entries(a)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${escapeXmlAttr(String(v))}"`)
    .join('');
}

const seconds = (ms: number): string => (Math.max(0, ms) / 1000).toFixed(3);

/** The JUnit schema's form: UTC without zone designator or fraction (none for an unreadable date). */
const timestamp = (ms: number): string | undefined => (Number.isFinite(ms) ? new Date(ms).toISOString().slice(0, 19) : undefined);
