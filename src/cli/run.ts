import path from 'node:path';
import type { RuntimeChoice } from '../prosody/types.js';
import { exitCodeOf, formatSummary, formatVerdictMatrix } from '../report/console.js';
import { fileReporters, reportFiles, unwrittenReports } from '../report/files.js';
import { LiveReporter } from '../report/live.js';
import { runSuite } from '../runner/run-suite.js';
import { loadSuites } from '../scenario/loader.js';
import { COLOR, EXIT } from './output.js';

export interface RunCommandOptions {
  /** Refuse suites of another target (a guard for CI jobs meant for one lab or the simulation). */
  target?: 'sim' | 'gateway';
  runtime: RuntimeChoice;
  baseImage?: string;
  phase?: string[];
  grep?: string;
  out?: string;
  reporter: 'live' | 'plain';
  assumeDone?: boolean;
}

function defaultOutDir(suite: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace('Z', '');
  return path.join('xfed-results', `${suite}-${stamp}`);
}

/** `xfed run FILE...`: 0 when every check met its expectation, 1 when one did not, 2 on bad input. */
export async function runRun(files: string[], opts: RunCommandOptions): Promise<number> {
  // Every suite is loaded and validated before anything starts: all problems at once.
  const { loaded, problems } = await loadSuites(files);
  for (const { file, suite } of loaded) {
    const kind = suite.target.kind;
    if (opts.target && kind !== opts.target) problems.push(`${file}: the suite targets ${kind}, not ${opts.target} (--target ${opts.target})`);
  }
  if (problems.length > 0) {
    process.stderr.write(`${problems.join('\n')}\n`);
    return EXIT.invalid;
  }
  const color = COLOR;
  const live = opts.reporter === 'live' && process.stdout.isTTY === true && !process.env.CI;
  const write = (s: string) => void process.stdout.write(s);
  let exit: number = EXIT.ok;
  for (const { file, suite } of loaded) {
    const outDir = opts.out ? (loaded.length > 1 ? path.join(opts.out, suite.name) : opts.out) : defaultOutDir(suite.name);
    const files = reportFiles(outDir);
    write(`xfed run ${file}: ${suite.name}${suite.description ? ` - ${suite.description.trim().split('\n')[0]}` : ''}\n`);
    const writers = fileReporters(outDir);
    const results = await runSuite(suite, {
      runtime: opts.runtime,
      baseImage: opts.baseImage,
      phases: opts.phase,
      grep: opts.grep,
      assumeDone: opts.assumeDone,
      reporters: [new LiveReporter({ live, color, write }), ...writers],
    });
    write(`\n${formatVerdictMatrix(results, { color })}\n${formatSummary(results, { color })}\n`);
    write(`  reports: ${files.html}, ${files.junit}, ${files.results}\n`);
    if (results.status === 'failed') write(`  the run stopped early: ${results.reason}\n`);
    // A report that could not be written is an environment fault (exit 2), said with the file and why.
    const unwritten = unwrittenReports(writers);
    for (const why of unwritten) write(`  not written: ${why}\n`);
    exit = Math.max(exit, exitCodeOf(results), unwritten.length > 0 ? EXIT.invalid : EXIT.ok);
  }
  return exit;
}
