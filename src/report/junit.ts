import { cdata, escapeXmlAttr, escapeXmlText } from './escape.js';
import { formatMs, ladderText, verdictOf } from './format.js';
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
 * JUnit XML in the shape Jenkins, GitLab, GitHub Actions reporters and Azure Pipelines all read:
 * one testsuite per phase, one testcase per check. A check the harness could not run or judge
 * (xfed broke) is an `<error>`, one the system under test failed a `<failure>`, one the target
 * cannot perform `<skipped>` with the reason; the evidence ladder goes to the testcase's system-out.
 */
export function renderJunit(results: RunResults): string {
  const checks = results.phases.flatMap((p) => p.checks);
  const out = ['<?xml version="1.0" encoding="UTF-8"?>'];
  out.push(
    `<testsuites${attrs({
      name: results.suite.name,
      tests: checks.length,
      failures: checks.filter(isFailure).length,
      errors: checks.filter(isError).length,
      // Not every reader knows `skipped` on <testsuites>: only there when a check was not possible.
      skipped: checks.filter(isSkipped).length || undefined,
      time: seconds(results.durationMs),
      timestamp: timestamp(Date.parse(results.startedAt)),
    })}>`,
  );
  // Phases carry no start time of their own: they follow setup and each other.
  let phaseStart = Date.parse(results.startedAt) + results.setupMs;
  results.phases.forEach((phase, i) => {
    const ms = phaseMs(phase);
    out.push(...testsuite(results, phase, i, phaseStart, ms));
    phaseStart += ms;
  });
  out.push('</testsuites>');
  return `${out.join('\n')}\n`;
}

function testsuite(results: RunResults, phase: PhaseResult, index: number, start: number, ms: number): string[] {
  const out: string[] = [];
  out.push(
    `  <testsuite${attrs({
      name: phase.name,
      id: index,
      package: results.suite.name,
      tests: phase.checks.length,
      failures: phase.checks.filter(isFailure).length,
      errors: phase.checks.filter(isError).length,
      skipped: phase.checks.filter(isSkipped).length,
      time: seconds(ms),
      timestamp: timestamp(start),
    })}>`,
  );
  out.push('    <properties>');
  const props: [string, string][] = [
    ['xfed.suite.file', results.suite.file],
    ['xfed.target', results.target],
    ['xfed.runtime', results.runtime],
    ['xfed.status', results.status],
  ];
  if (results.reason) props.push(['xfed.reason', results.reason]);
  for (const [i, n] of (results.notices ?? []).entries()) props.push([`xfed.notice.${i + 1}`, `${n.at} ${n.text}`]);
  if (phase.description) props.push(['xfed.phase.description', phase.description]);
  for (const s of phase.steps) props.push([`xfed.step.${s.index}`, stepText(s)]);
  for (const [name, value] of props) out.push(`      <property${attrs({ name, value })}/>`);
  out.push('    </properties>');
  for (const c of phase.checks) out.push(...testcase(results, phase, c));
  out.push(`    <system-out>${cdata(phaseText(results, phase))}</system-out>`);
  out.push('  </testsuite>');
  return out;
}

function testcase(results: RunResults, phase: PhaseResult, c: CheckResult): string[] {
  const out = [`    <testcase${attrs({ classname: `${results.suite.name}.${phase.name}`, name: `${c.id}: ${c.title}`, time: seconds(c.durationMs) })}>`];
  if (isSkipped(c)) {
    out.push(`      <skipped${attrs({ message: `not possible: ${c.notPossible}` })}/>`);
  } else if (isError(c)) {
    out.push(`      <error${attrs({ message: c.error ?? c.actual, type: 'harness' })}>${escapeXmlText(detailText(c))}</error>`);
  } else if (isFailure(c)) {
    out.push(`      <failure${attrs({ message: `expected ${c.expected}, got ${c.actual}`, type: c.kind })}>${escapeXmlText(detailText(c))}</failure>`);
  }
  out.push(`      <system-out>${cdata(ladderText(c.evidence))}</system-out>`);
  out.push('    </testcase>');
  return out;
}

// JUnit's own split: an <error> is the test itself breaking (xfed, the harness), a <failure> the
// thing under test not holding (the federation).
const isSkipped = (c: CheckResult): boolean => verdictOf(c) === 'not-possible';
const isError = (c: CheckResult): boolean => verdictOf(c) === 'error';
const isFailure = (c: CheckResult): boolean => verdictOf(c) === 'unmet';

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
  const result = s.ok ? 'ok' : `failed: ${s.error ?? 'no reason given'}`;
  return `${s.action}: ${s.description} (${result}, ${formatMs(s.durationMs)})`;
}

function phaseText(results: RunResults, phase: PhaseResult): string {
  const lines = [`phase ${phase.name}${phase.description ? `: ${phase.description}` : ''}`];
  if (results.status !== 'complete') lines.push(`run ${results.status}${results.reason ? `: ${results.reason}` : ''}`);
  if (phase.steps.length === 0) lines.push('no steps');
  for (const s of phase.steps) lines.push(`step ${s.index} ${stepText(s)}`);
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
