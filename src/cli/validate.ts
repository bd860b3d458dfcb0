import { loadSuites, type VariableSources } from '../scenario/loader.js';

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
 * `file:line:col: message` line each, so an editor or CI log can jump to them; `${NAME}` are
 * filled from `--var`, `--vars` files and the environment, as `xfed run` fills them. Exit code 0
 * when all files are valid, 2 otherwise. Never a stack trace: a suite file is user input.
 */
export async function runValidate(files: string[], out: CommandOutput = processOutput, variables: VariableSources = {}): Promise<number> {
  if (files.length === 0) {
    out.stderr('xfed validate: no suite files given\n');
    return 2;
  }
  const { loaded, problems } = await loadSuites(files, variables);
  for (const { file, suite } of loaded) {
    const checks = suite.phases.reduce((n, p) => n + (p.checks?.length ?? 0), 0);
    out.stdout(`${file}: ok (${count(suite.phases.length, 'phase')}, ${count(checks, 'check')})\n`);
  }
  for (const line of problems) out.stderr(`${line}\n`);
  return problems.length === 0 ? 0 : 2;
}
