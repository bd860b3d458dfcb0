import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { isPair, isScalar, LineCounter, parseDocument, visit, type Document, type YAMLError } from 'yaml';
import { XfedError } from '../errors.js';
import { describeIssues } from './issues.js';
import { yamlLocator } from './positions.js';
import { resolveSuite, type ResolvedSuite } from './resolve.js';
import { Suite } from './schema.js';
import { validateSuite } from './validate.js';

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
export class ScenarioError extends XfedError {
  constructor(readonly problems: SuiteProblem[]) {
    super(problems.map(formatProblem).join('\n'));
  }
}

const formatProblem = (p: SuiteProblem): string => `${p.file}:${p.line}:${p.col}: ${p.message}`;

const READ_ERRORS: Record<string, string> = { ENOENT: 'no such file', EISDIR: 'it is a directory', EACCES: 'permission denied' };

export async function loadSuite(file: string): Promise<LoadedSuite> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    throw new XfedError(`cannot read suite file ${file}: ${READ_ERRORS[code] ?? (err as Error).message}`, { cause: err });
  }
  return parseSuite(text, file);
}

/**
 * Parses and checks a suite in three stages, each reporting all it finds: YAML syntax, the
 * schema, then what the schema cannot see (validate.ts). A stage runs only on the clean output
 * of the one before: schema messages about a half-parsed file would only add noise.
 */
export function parseSuite(text: string, file: string): LoadedSuite {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const locate = yamlLocator(doc, lines);
  const fail = (found: { line: number; col: number; message: string }[]): never => {
    const sorted = [...found].sort((a, b) => a.line - b.line || a.col - b.col);
    throw new ScenarioError(sorted.map((p) => ({ file, ...p })));
  };

  // One syntax error per line: the parser's follow-on errors on the same line only repeat it.
  const syntax = doc.errors.map((e) => yamlProblem(e, doc, lines)).filter((p, i, all) => all.findIndex((q) => q.line === p.line) === i);
  if (syntax.length > 0) fail(syntax);
  let data: unknown;
  try {
    data = doc.toJS();
  } catch (err) {
    // yaml refuses alias chains that would expand without bound ("billion laughs").
    fail([{ line: 1, col: 1, message: (err as Error).message }]);
  }

  const parsed = Suite.safeParse(data);
  if (!parsed.success) fail(describeIssues(parsed.error.issues, data).map((p) => ({ ...locate(p.path, p.part), message: p.message })));
  const suite = parsed.data!;

  const baseDir = path.dirname(path.resolve(file));
  const semantic = validateSuite(suite, locate, baseDir);
  if (semantic.length > 0) fail(semantic);
  return { file, suite: resolveSuite(suite, { file, baseDir }) };
}

function position(lines: LineCounter, offset: number): { line: number; col: number } {
  const { line, col } = lines.linePos(offset);
  return { line: Math.max(1, line), col: Math.max(1, col) };
}

// yaml's messages name the parser's rules; these say what to change in the file.
function yamlProblem(e: YAMLError, doc: Document, lines: LineCounter): { line: number; col: number; message: string } {
  const offset = e.pos[0];
  const at = (message: string, where = offset) => ({ ...position(lines, where), message });
  if (e.code === 'TAB_AS_INDENT') return at('a tab indents this line; YAML indents with spaces only');
  if (e.code === 'BLOCK_AS_IMPLICIT_KEY') return at("this value contains ': ', which YAML reads as a nested mapping; put the value in quotes");
  if (e.code === 'DUPLICATE_KEY') {
    const keyOf = (p: unknown) => (isPair(p) && isScalar(p.key) ? p.key : undefined);
    let message = 'duplicate key in this mapping';
    visit(doc, {
      Map(_, map) {
        const dup = keyOf(map.items.find((p) => keyOf(p)?.range?.[0] === offset));
        const first = dup && keyOf(map.items.find((p) => keyOf(p)?.value === dup.value));
        if (!dup || !first || first === dup) return undefined;
        message = `duplicate key '${String(dup.value)}' (first at line ${position(lines, first.range![0]).line})`;
        return visit.BREAK;
      },
    });
    return at(message);
  }
  if (e.code === 'MISSING_CHAR' && /quote/.test(e.message)) {
    // yaml points at the end of the file; the reader needs the quote that was never closed.
    let start = offset;
    visit(doc, {
      Scalar(_, s) {
        const [from, to] = s.range ?? [0, -1];
        if ((s.type === 'QUOTE_DOUBLE' || s.type === 'QUOTE_SINGLE') && from <= offset && offset <= to) start = from;
      },
    });
    return at('unclosed quote: this string is never closed', start);
  }
  const text = e.message.replace(/ at line \d+, column \d+.*$/s, '');
  return at(text.charAt(0).toLowerCase() + text.slice(1));
}

/**
 * Loads several suite files; every problem of every file comes back as one line
 * (`file:line:col: message`, or why a file cannot be read). Bugs are thrown, not listed.
 */
export async function loadSuites(files: string[]): Promise<{ loaded: LoadedSuite[]; problems: string[] }> {
  const loaded: LoadedSuite[] = [];
  const problems: string[] = [];
  for (const file of files) {
    try {
      loaded.push(await loadSuite(file));
    } catch (err) {
      if (err instanceof ScenarioError) problems.push(...err.problems.map(formatProblem));
      else if (err instanceof XfedError) problems.push(err.message);
      else throw err;
    }
  }
  return { loaded, problems };
}
