import path from 'node:path';
import type { RuntimeChoice } from '../prosody/types.js';
import { exitCodeOf, formatSummary, formatVerdictMatrix } from '../report/console.js';
import { parseReporters, reportersFor, reportPaths, unwrittenReports, type ReporterChoice } from '../report/files.js';
import { GithubReporter } from '../report/github.js';
import { LiveReporter } from '../report/live.js';
import { runSuite } from '../runner/run-suite.js';
import { loadSuites, type VariableSources } from '../scenario/loader.js';
import { didYouMean } from '../scenario/suggest.js';
import { COLOR, EXIT, reportError } from './output.js';

export interface RunCommandOptions extends VariableSources {
  /** Refuse suites of another target (a guard for CI jobs meant for one lab or the simulation). */
  target?: 'sim' | 'gateway';
  runtime: RuntimeChoice;
  baseImage?: string;
  phase?: string[];
  grep?: string;
  out?: string;
  /** Reporter lists as given (`list,junit=out/junit.xml`), from --reporter or XFED_REPORTER. */
  reporter?: string[];
  junit?: string;
  html?: string;
  json?: string;
  assumeDone?: boolean;
}

function defaultOutDir(suite: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace('Z', '');
  return path.join('xfed-results', `${suite}-${stamp}`);
}

/** `xfed run FILE...`: 0 when every check met its expectation, 1 when one did not, 2 on bad input. */
export async function runRun(files: string[], opts: RunCommandOptions): Promise<number> {
  let choice: ReporterChoice;
  try {
    choice = parseReporters(opts.reporter ?? [], { junit: opts.junit, html: opts.html, json: opts.json }, didYouMean);
  } catch (err) {
    return reportError(err);
  }
  // Every suite is loaded and validated before anything starts: all problems at once.
  const { loaded, problems } = await loadSuites(files, opts);
  for (const { file, suite } of loaded) {
    const kind = suite.target.kind;
    if (opts.target && kind !== opts.target) problems.push(`${file}: the suite targets ${kind}, not ${opts.target} (--target ${opts.target})`);
  }
  if (problems.length > 0) {
    process.stderr.write(`${problems.join('\n')}\n`);
    return EXIT.invalid;
  }
  const color = COLOR;
  const live = choice.console === 'live' && process.stdout.isTTY === true && !process.env.CI;
  const github = choice.github || process.env.GITHUB_ACTIONS === 'true';
  const write = (s: string) => void process.stdout.write(s);
  let exit: number = EXIT.ok;
  const folders = suiteFolders(loaded.map((l) => l.suite.name));
  for (const [i, { file, suite }] of loaded.entries()) {
    const folder = loaded.length > 1 ? folders[i] : undefined;
    const outDir = opts.out ? (folder ? path.join(opts.out, folder) : opts.out) : defaultOutDir(suite.name);
    const paths = reportPaths(choice, outDir, folder);
    const written = [paths.html, paths.junit, paths.results, paths.markdown].filter((f) => f !== undefined);
    write(`xfed run ${file}: ${suite.name}${suite.description ? ` - ${suite.description.trim().split('\n')[0]}` : ''}\n`);
    const writers = [...reportersFor(paths), ...(github ? [githubReporter(written, write)] : [])];
    const results = await runSuite(suite, {
      runtime: opts.runtime,
      baseImage: opts.baseImage,
      phases: opts.phase,
      grep: opts.grep,
      assumeDone: opts.assumeDone,
      reporters: [new LiveReporter({ live, color, write }), ...writers],
    });
    write(`\n${formatVerdictMatrix(results, { color })}\n${formatSummary(results, { color })}\n`);
    write(`  reports: ${written.join(', ')}\n`);
    if (results.status === 'failed') write(`  the run stopped early: ${results.reason}\n`);
    // A report that could not be written is an environment fault (exit 2), said with the file and why.
    const unwritten = unwrittenReports(writers);
    for (const why of unwritten) write(`  not written: ${why}\n`);
    exit = Math.max(exit, exitCodeOf(results), unwritten.length > 0 ? EXIT.invalid : EXIT.ok);
  }
  return exit;
}

/** A folder per suite, named after it; suites of the same name get `-2`, `-3`... so none overwrites another's reports. */
function suiteFolders(names: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return names.map((name) => {
    const n = (seen.get(name) ?? 0) + 1;
    seen.set(name, n);
    return n === 1 ? name : `${name}-${n}`;
  });
}

/** Annotations into the job's log and a summary into GITHUB_STEP_SUMMARY, from the variables GitHub Actions sets. */
function githubReporter(reports: string[], write: (s: string) => void): GithubReporter {
  const env = process.env;
  const runUrl =
    env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID
      ? `${env.GITHUB_SERVER_URL}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`
      : undefined;
  return new GithubReporter({ write, summaryFile: env.GITHUB_STEP_SUMMARY || undefined, reports, workspace: env.GITHUB_WORKSPACE || process.cwd(), runUrl });
}
