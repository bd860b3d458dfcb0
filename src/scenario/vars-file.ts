import { isMap, isScalar, LineCounter, parseDocument } from 'yaml';
import { ProblemsError, XfedError } from '../errors.js';
import { position, syntaxProblems, type Located } from './syntax.js';
import { decodeSuite, readCapped } from './text.js';
import { VARIABLE_NAME } from './variables.js';

/**
 * Where the values of a suite's `${NAME}` come from. Later wins: the environment, then each
 * `--vars` file in order, then each `--var` in order. The command line names what this run
 * means; a file is the lab's record; the environment holds much else (USER, HOME, a CI's
 * variables) that must not overrule either by sharing a name.
 */
export interface VariableSources {
  /** `NAME=VALUE` each (`--var`). */
  var?: readonly string[];
  /** YAML files of `NAME: value` (`--vars`). */
  vars?: readonly string[];
  /** Default: this process's environment. */
  env?: NodeJS.ProcessEnv;
}

/** The variables of the environment alone (what a suite sees with no --var or --vars). */
export function environmentVariables(env: NodeJS.ProcessEnv = process.env): Map<string, string> {
  const variables = new Map<string, string>();
  for (const [name, value] of Object.entries(env)) if (value !== undefined) variables.set(name, value);
  return variables;
}

/** The variables of all sources, or a `ProblemsError` with every problem of every source, one line each. */
export async function readVariables(sources: VariableSources = {}): Promise<Map<string, string>> {
  const variables = environmentVariables(sources.env);
  const problems: string[] = [];
  for (const file of sources.vars ?? []) {
    const read = await readVarsFile(file);
    problems.push(...read.problems);
    for (const [name, value] of read.values) variables.set(name, value);
  }
  for (const arg of sources.var ?? []) {
    const eq = arg.indexOf('=');
    // The value is never repeated: it may be a secret given the wrong way.
    const name = eq < 0 ? arg : arg.slice(0, eq);
    if (eq < 0) problems.push(`--var ${name}: expected NAME=VALUE`);
    else if (!VARIABLE_NAME.test(name)) problems.push(`--var ${name}=...: '${name}' is not a variable name (letters, digits and _, not starting with a digit)`);
    else variables.set(name, arg.slice(eq + 1));
  }
  if (problems.length > 0) throw new ProblemsError(problems.join('\n'));
  return variables;
}

/** A `--vars` file: a YAML mapping of NAME: value, or its problems as `file:line:col: message` lines. */
async function readVarsFile(file: string): Promise<{ values: [string, string][]; problems: string[] }> {
  const at = (p: Located) => `${file}:${p.line}:${p.col}: ${p.message}`;
  let bytes: Buffer;
  try {
    bytes = await readCapped(file, 'vars file');
  } catch (err) {
    if (err instanceof XfedError) return { values: [], problems: [err.message] };
    throw err;
  }
  const decoded = decodeSuite(bytes);
  if ('problems' in decoded) return { values: [], problems: decoded.problems.map(at) };
  const text = decoded.text;
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const syntax = syntaxProblems(doc, text, lines);
  if (syntax.length > 0) return { values: [], problems: syntax.map(at) };
  const where = (offset: number | undefined, message: string) => at({ ...position(lines, offset ?? 0), message });

  const root = doc.contents;
  if (root === null) return { values: [], problems: [] };
  if (!isMap(root)) {
    const dotenv = /^\s*(export\s+)?[A-Za-z_][A-Za-z0-9_]*=/m.exec(text);
    const message = dotenv
      ? "this line is NAME=VALUE (a dotenv line): a --vars file is YAML, 'NAME: value' on each line"
      : "a --vars file is a YAML mapping, 'NAME: value' on each line";
    return { values: [], problems: [where(dotenv ? dotenv.index + dotenv[0].length - dotenv[0].trimStart().length : root.range?.[0], message)] };
  }
  const values: [string, string][] = [];
  const problems: string[] = [];
  for (const pair of root.items) {
    const key = isScalar(pair.key) ? pair.key : undefined;
    const name = typeof key?.value === 'string' ? key.value : undefined;
    const keyAt = (pair.key as { range?: [number, number, number] } | null)?.range?.[0];
    if (name === undefined || !VARIABLE_NAME.test(name)) {
      problems.push(where(keyAt, `${name === undefined ? 'this key' : `'${name}'`} is not a variable name: letters, digits and _, not starting with a digit`));
      continue;
    }
    const value = pair.value;
    const valueAt = (value as { range?: [number, number, number] } | null)?.range?.[0] ?? keyAt;
    if (!isScalar(value)) problems.push(where(valueAt, `${name}: a variable holds text, a number or true/false, not a list or a mapping`));
    else if (value.value === null) problems.push(where(keyAt, `${name} has no value: write ${name}: '' for an empty one`));
    // A number or true/false is taken as written: `PORT: 05269` gives 05269, not 5269.
    else values.push([name, typeof value.value === 'string' ? value.value : (value.source ?? String(value.value))]);
  }
  return { values, problems };
}
