import { appendFile } from 'node:fs/promises';
import path from 'node:path';
import { XfedError } from '../errors.js';
import { markdownCell, markdownTable } from './compare-render.js';
import { formatMs, runStatus, verdictOf } from './format.js';
import type { Reporter } from './reporter.js';
import { ReportFile } from './results-file.js';
import type { RunResults, StepResult, SuitePosition } from './results.js';

/**
 * GitHub Actions output (https://docs.github.com/actions/reference/workflow-commands-for-github-actions):
 * an `::error` annotation for every unmet check, failed step and harness failure, pointing at the
 * suite file and line, and a Markdown job summary appended to `GITHUB_STEP_SUMMARY`. Both are
 * written when the run ends, so the console lines of the run stay together.
 */
export class GithubReporter implements Reporter {
  /** Why the job summary could not be written, as report files say it (see unwrittenReports). */
  readonly output: { unwritten?: string } = {};

  constructor(
    private readonly o: {
      /** Where workflow commands go: the job's log (stdout). */
      write: (s: string) => void;
      /** The job summary file (GITHUB_STEP_SUMMARY); none: no summary. */
      summaryFile?: string;
      /** The report files of the run, listed in the summary. */
      reports: readonly string[];
      /** Annotation paths are relative to it (GITHUB_WORKSPACE), as GitHub matches them against the repository. */
      workspace: string;
      /** The workflow run's page, where its artifacts are (from GITHUB_SERVER_URL, GITHUB_REPOSITORY, GITHUB_RUN_ID). */
      runUrl?: string;
    },
  ) {}

  async onEnd(results: RunResults): Promise<void> {
    this.o.write(annotations(results, this.o.workspace).join(''));
    if (!this.o.summaryFile) return;
    try {
      await appendFile(this.o.summaryFile, renderJobSummary(results, this.o.reports, this.o.runUrl));
    } catch (err) {
      this.output.unwritten = `cannot write the job summary ${this.o.summaryFile}: ${(err as Error).message}`;
      throw new XfedError(this.output.unwritten, { cause: err });
    }
  }
}

/** The same summary as a file of its own (`--reporter markdown`), for CI systems other than GitHub (Azure's `task.uploadsummary`). */
export class MarkdownSummaryReporter implements Reporter {
  readonly output: ReportFile;

  constructor(
    readonly file: string,
    private readonly reports: readonly string[],
  ) {
    this.output = new ReportFile(file);
  }

  onEnd(results: RunResults) {
    return this.output.write(renderJobSummary(results, this.reports));
  }
}

/** Data of a workflow command: `%`, CR and LF encoded, as @actions/core does. */
export function escapeData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** A property of a workflow command: its data encoding, and `:` and `,`, which end a property. */
export function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

type Level = 'error' | 'warning' | 'notice';

export function workflowCommand(level: Level, props: { file?: string; line?: number; title?: string }, message: string): string {
  const list = Object.entries(props)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${escapeProperty(String(v))}`)
    .join(',');
  return `::${level}${list ? ` ${list}` : ''}::${escapeData(message)}\n`;
}

/** Annotation paths are relative to the workspace, with `/`; a suite outside it keeps its absolute path (GitHub then shows the annotation unattached). */
function annotationPath(file: string, workspace: string): string {
  const relative = path.relative(workspace, path.resolve(file));
  return (relative.startsWith('..') || path.isAbsolute(relative) ? path.resolve(file) : relative).split(path.sep).join('/');
}

/** A step that was tried and failed; one never applied (the run stopped before it) is `skipped`, not failed. */
const failedStep = (s: StepResult): boolean => !s.ok && s.skipped === undefined;

/** The workflow commands for a run: errors for what failed, notices for checks the target cannot perform. */
export function annotations(results: RunResults, workspace: string): string[] {
  const where = (item: SuitePosition) => ({ file: annotationPath(item.file ?? results.suite.file, workspace), line: item.line });
  const out: string[] = [];
  let failedSteps = 0;
  for (const phase of results.phases) {
    for (const step of phase.steps) {
      if (!failedStep(step)) continue;
      failedSteps++;
      const title = `xfed ${results.suite.name}: step ${step.action} failed in phase ${phase.name}`;
      out.push(workflowCommand('error', { ...where(step), title }, `${step.description}: ${step.error ?? 'failed'}`));
    }
    for (const check of phase.checks) {
      const verdict = verdictOf(check);
      const name = `${phase.name}/${check.id}`;
      if (verdict === 'unmet') {
        const diagnosis = check.diagnosis ? `\n${check.diagnosis}` : '';
        out.push(
          workflowCommand(
            'error',
            { ...where(check), title: `xfed ${results.suite.name}: ${name} unmet` },
            `${check.title}: expected ${check.expected}, got ${check.actual}${diagnosis}`,
          ),
        );
      } else if (verdict === 'error') {
        out.push(
          workflowCommand(
            'error',
            { ...where(check), title: `xfed ${results.suite.name}: ${name} harness failure` },
            `${check.title}: xfed could not run or judge the check (not a federation failure): ${check.error ?? check.actual}`,
          ),
        );
      } else if (verdict === 'not-possible') {
        out.push(
          workflowCommand('notice', { ...where(check), title: `xfed ${results.suite.name}: ${name} not possible` }, `${check.title}: ${check.notPossible}`),
        );
      }
    }
  }
  // A failed step already says why the run stopped; otherwise (an interrupt, a setup failure) the run does.
  if (results.status !== 'complete' && failedSteps === 0) {
    out.push(
      workflowCommand(
        'error',
        {
          file: annotationPath(results.suite.file, workspace),
          title: `xfed ${results.suite.name}: the run ${results.status === 'running' ? 'did not finish' : results.status}`,
        },
        results.reason ?? results.status,
      ),
    );
  }
  return out;
}

/** The job summary of one suite: the verdict, the counts, what did not meet its expectation (expected beside got), the reports. */
export function renderJobSummary(results: RunResults, reports: readonly string[], runUrl?: string): string {
  const s = results.summary;
  const checks = results.phases.flatMap((p) => p.checks.map((c) => ({ phase: p.name, c, v: verdictOf(c) })));
  const status = runStatus(results);
  const harness = checks.filter((x) => x.v === 'error').length;
  const out = [`### ${status.ok ? '✅' : '❌'} xfed: ${markdownCell(results.suite.name)} (${markdownCell(status.text)})`, ''];
  const counts = [`**${s.met}** met`, `**${s.unmet}** unmet${harness > 0 ? ` (${harness} harness)` : ''}`];
  if (s.notPossible) counts.push(`**${s.notPossible}** not possible`);
  const skipped = s.skipped ? `; ${s.skipped} not run` : '';
  out.push(
    `${counts.join(', ')} of ${s.checks} checks in ${s.phases} phase${s.phases === 1 ? '' : 's'}${skipped}; target ${results.target} (${results.runtime}), ${formatMs(results.durationMs)} (setup ${formatMs(results.setupMs)}); ${markdownCell(results.suite.file)}`,
    '',
  );
  if (results.status !== 'complete')
    out.push(`> **The run stopped early:** ${markdownCell(results.reason ?? results.status)}; the checks after it are listed as not run.`, '');
  const failedSteps = results.phases.flatMap((p) => p.steps.filter(failedStep).map((st) => ({ phase: p.name, st })));
  if (failedSteps.length > 0) {
    out.push(
      ...markdownTable(
        ['phase', 'failed step', 'error'],
        failedSteps.map(({ phase, st }) => [
          markdownCell(phase),
          `${markdownCell(st.action)}: ${markdownCell(st.description)}`,
          markdownCell(st.error ?? 'failed'),
        ]),
      ),
      '',
    );
  }
  const unmet = checks.filter((x) => x.v === 'unmet' || x.v === 'error');
  if (unmet.length > 0) {
    out.push(
      ...markdownTable(
        ['phase', 'check', 'verdict', 'expected', 'got'],
        unmet.map(({ phase, c, v }) => [
          markdownCell(phase),
          `${markdownCell(c.id)}: ${markdownCell(c.title)}`,
          v === 'error' ? 'harness failure' : 'unmet',
          markdownCell(c.expected),
          markdownCell(v === 'error' ? `not run: ${c.error ?? c.actual}` : c.diagnosis ? `${c.actual} (${c.diagnosis})` : c.actual),
        ]),
      ),
      '',
    );
  }
  if (reports.length > 0) out.push(`Reports: ${reports.map(markdownCell).join(', ')}${runUrl ? ` ([artifacts of this run](${runUrl}))` : ''}`, '');
  return `${out.join('\n')}\n`;
}
