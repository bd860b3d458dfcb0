import { isUserError } from '../errors.js';
import { formatProblem, loadSuite, ScenarioError } from '../scenario/loader.js';

/** Where a command writes; each call gets whole lines, newline included (like `stream.write`). */
export interface CommandOutput {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

export const processOutput: CommandOutput = {
  stdout: (s) => void process.stdout.write(s),
  stderr: (s) => void process.stderr.write(s),
};

const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;

/**
 * `xfed validate FILE...`: checks every file completely and reports every problem, one
 * `file:line:col: message` line each, so an editor or CI log can jump to them. Exit code 0 when
 * all files are valid, 2 otherwise. Never a stack trace: a suite file is user input.
 */
export async function runValidate(files: string[], out: CommandOutput = processOutput): Promise<number> {
  if (files.length === 0) {
    out.stderr('xfed validate: no suite files given\n');
    return 2;
  }
  let ok = true;
  for (const file of files) {
    try {
      const { suite } = await loadSuite(file);
      const checks = suite.phases.reduce((n, p) => n + (p.checks?.length ?? 0), 0);
      out.stdout(`${file}: ok (${count(suite.phases.length, 'phase')}, ${count(checks, 'check')})\n`);
    } catch (err) {
      ok = false;
      if (err instanceof ScenarioError) for (const p of err.problems) out.stderr(`${formatProblem(p)}\n`);
      else if (isUserError(err)) out.stderr(`${err.message}\n`);
      else out.stderr(`${file}: internal error while validating (please report it): ${String(err)}\n`);
    }
  }
  return ok ? 0 : 2;
}
