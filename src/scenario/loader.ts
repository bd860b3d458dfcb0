import path from 'node:path';
import { LineCounter, parseDocument, visit } from 'yaml';
import { ProblemsError, XfedError } from '../errors.js';
import { describeIssues } from './issues.js';
import { parseInParts } from './parts.js';
import { positionOf, yamlLocator, type Locate } from './positions.js';
import { resolveSuite, type ResolvedSuite } from './resolve.js';
import { Suite } from './schema.js';
import { position, syntaxProblems, type Located } from './syntax.js';
import { decodeSuite, readCapped } from './text.js';
import { validateSuite } from './validate.js';
import { inFileOrder, Substitution, settleVariables } from './variables.js';
import { environmentVariables, readVariables, type VariableSources } from './vars-file.js';

export { MAX_SUITE_BYTES } from './text.js';
export type { VariableSources } from './vars-file.js';

export interface SuiteProblem {
  file: string;
  line: number;
  col: number;
  message: string;
}

export interface LoadedSuite {
  file: string;
  suite: ResolvedSuite;
}

/** Everything wrong with one suite file, one `file:line:col: message` line per problem. */
export class ScenarioError extends ProblemsError {
  constructor(readonly problems: SuiteProblem[]) {
    super(problems.map(formatProblem).join('\n'));
  }
}

const formatProblem = (p: SuiteProblem): string => `${p.file}:${p.line}:${p.col}: ${p.message}`;

/** The values of a suite's `${NAME}`: given as they are, or read from their sources (default: the environment). */
export interface SuiteVariables extends VariableSources {
  variables?: ReadonlyMap<string, string>;
}

export async function loadSuite(file: string, opts: SuiteVariables = {}): Promise<LoadedSuite> {
  const variables = opts.variables ?? (await readVariables(opts));
  const decoded = decodeSuite(await readCapped(file, 'suite file'));
  if ('problems' in decoded) throw new ScenarioError(decoded.problems.map((p) => ({ file, ...p })));
  return parseSuite(decoded.text, file, { variables });
}

/**
 * Parses and checks a suite in four stages, each reporting all it finds: YAML syntax, its
 * variables (`${NAME}`, from `variables`, else the environment), the schema, then what the
 * schema cannot see (validate.ts). A stage runs only on the clean output of the one before:
 * schema messages about a half-parsed file would only add noise.
 */
export function parseSuite(text: string, file: string, opts: { variables?: ReadonlyMap<string, string> } = {}): LoadedSuite {
  const fail = (found: { line: number; col: number; message: string }[]): never => {
    const sorted = [...found].sort((a, b) => a.line - b.line || a.col - b.col);
    throw new ScenarioError(sorted.map((p) => ({ file, ...p })));
  };
  const variables = opts.variables ?? environmentVariables();
  // A large suite parsed in parts may fall back to the whole: each attempt fills its own values.
  let substitution = new Substitution(variables);
  let read: { data: unknown; locate: Locate } | undefined = parseInParts(text, undefined, substitution);
  if (!read) {
    substitution = new Substitution(variables);
    read = parseWhole(text, fail, substitution);
  }
  const { locate } = read;
  if (substitution.problems.length > 0) {
    const lines = new LineCounter();
    lines.addNewLine(0);
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lines.addNewLine(i + 1);
    const at = (offset: number) => positionOf(lines, offset);
    fail(inFileOrder(substitution.problems, (o) => at(o).line).map((p) => ({ ...at(p.offset), message: p.message })));
  }
  const data = substitution.substituted > 0 ? settleVariables(read.data, Suite) : read.data;

  const parsed = Suite.safeParse(data);
  if (!parsed.success) fail(describeIssues(parsed.error.issues, data).map((p) => ({ ...locate(p.path, p.part), message: p.message })));
  const suite = parsed.data!;

  const baseDir = path.dirname(path.resolve(file));
  const semantic = validateSuite(suite, locate, baseDir);
  if (semantic.length > 0) fail(semantic);
  return { file, suite: resolveSuite(suite, { file, baseDir, locate }) };
}

/** The whole file as one YAML document: its data, or every syntax problem (through `fail`). */
function parseWhole(text: string, fail: (found: Located[]) => never, substitution: Substitution): { data: unknown; locate: Locate } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const locate = yamlLocator(doc, lines);

  const syntax = syntaxProblems(doc, text, lines);
  if (syntax.length > 0) fail(syntax);
  if (text.includes('${')) substitution.apply(doc, text);
  let data: unknown;
  try {
    data = doc.toJS();
  } catch (err) {
    // yaml refuses alias chains that would expand without bound ("billion laughs").
    if (!(err instanceof ReferenceError)) throw err;
    let first = 0;
    visit(doc, { Alias: (_, a) => ((first = a.range?.[0] ?? 0), visit.BREAK) });
    fail([
      { ...position(lines, first), message: 'the aliases (*name) of this file expand to too much data: write the values out, or use fewer aliases of aliases' },
    ]);
  }
  return { data, locate };
}

/**
 * Loads several suite files; every problem of every file comes back as one line
 * (`file:line:col: message`, or why a file cannot be read). Bugs are thrown, not listed.
 */
export async function loadSuites(files: string[], opts: SuiteVariables = {}): Promise<{ loaded: LoadedSuite[]; problems: string[] }> {
  const loaded: LoadedSuite[] = [];
  const problems: string[] = [];
  let variables: ReadonlyMap<string, string>;
  try {
    variables = opts.variables ?? (await readVariables(opts));
  } catch (err) {
    // Every suite would only repeat a broken source's problems as undefined variables.
    if (err instanceof XfedError) return { loaded, problems: err.message.split('\n') };
    throw err;
  }
  for (const file of files) {
    try {
      loaded.push(await loadSuite(file, { variables }));
    } catch (err) {
      if (err instanceof ScenarioError) problems.push(...err.problems.map(formatProblem));
      else if (err instanceof XfedError) problems.push(err.message);
      else throw err;
    }
  }
  return { loaded, problems };
}
