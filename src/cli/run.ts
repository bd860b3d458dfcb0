import path from 'node:path';
import type { RuntimeChoice } from '../prosody/types.js';
import { exitCodeOf, formatCheckLine, formatPhaseHeader, formatStepLine, formatSummary, formatVerdictMatrix } from '../report/console.js';
import type { RunResults } from '../report/results.js';
import { runSuite, type RunListener } from '../runner/run-suite.js';
import { loadSuites } from '../scenario/loader.js';
import { targetOf } from '../scenario/target-spec.js';
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

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/**
 * The live view: phase by phase, check by check. In a terminal a spinner shows the check that
 * runs; elsewhere (CI, pipes) plain lines, one per event.
 */
function liveView(live: boolean, color: boolean, write: (s: string) => void): RunListener & { stop(): void } {
  let spinner: NodeJS.Timeout | undefined;
  const clear = () => {
    if (spinner) clearInterval(spinner);
    spinner = undefined;
    if (live) write('\r\x1b[2K');
  };
  return {
    setup: (ms, runtime) => write(`  topology ready in ${Math.round(ms)} ms (${runtime} runtime)\n`),
    phase: (phase, index, total) => {
      clear();
      write(`${formatPhaseHeader(phase.name, index, total, { color })}\n`);
    },
    step: (step) => {
      clear();
      write(`${formatStepLine(step, { color })}\n`);
    },
    checkStarted: (id, title) => {
      if (!live) return;
      let frame = 0;
      const draw = () => write(`\r\x1b[2K  ${SPINNER[frame++ % SPINNER.length]} ${id}  ${title}`);
      draw();
      spinner = setInterval(draw, 80);
      spinner.unref();
    },
    check: (result) => {
      clear();
      write(`${formatCheckLine(result, { color })}\n`);
    },
    stop: clear,
  };
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
    const kind = targetOf(suite).kind;
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
    const outDir = opts.out ? (loaded.length > 1 ? path.join(opts.out, suite.suite) : opts.out) : defaultOutDir(suite.suite);
    write(`xfed run ${file}: ${suite.suite}${suite.description ? ` - ${suite.description.trim().split('\n')[0]}` : ''}\n`);
    const view = liveView(live, color, write);
    let results: RunResults;
    try {
      results = await runSuite(suite, file, {
        runtime: opts.runtime,
        ...(opts.baseImage ? { baseImage: opts.baseImage } : {}),
        ...(opts.phase?.length ? { phases: opts.phase } : {}),
        ...(opts.grep ? { grep: opts.grep } : {}),
        outDir,
        listener: view,
        ...(opts.assumeDone ? { assumeDone: true } : {}),
      });
    } finally {
      view.stop();
    }
    write(`\n${formatVerdictMatrix(results, { color })}\n${formatSummary(results, { color })}\n`);
    write(`  reports: ${path.join(outDir, 'report.html')}, ${path.join(outDir, 'junit.xml')}, ${path.join(outDir, 'results.json')}\n`);
    if (results.status === 'failed') write(`  the run stopped early: ${results.reason}\n`);
    if (exitCodeOf(results) !== EXIT.ok) exit = EXIT.unmet;
  }
  return exit;
}
