import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { XfedError } from '../errors.js';
import { LANES } from '../targets/flow.js';
import type { RunResults } from './results.js';

export const RESULTS_FORMAT = 'xfed-results/1';

// Loose objects: a newer writer may add fields; what the reports read must be there and typed.
const Num = z.number().finite();
const FlowEvent = z.looseObject({
  at: Num,
  t: Num,
  from: z.enum(LANES),
  to: z.enum(LANES),
  protocol: z.enum(['xmpp', 'sip', 'dns', 'control']),
  label: z.string(),
  actor: z.string().optional(),
  wire: z.string(),
});
const Strings = z.record(z.string(), z.string());
const Check = z.looseObject({
  id: z.string(),
  kind: z.string(),
  title: z.string(),
  phase: z.string(),
  met: z.boolean(),
  durationMs: Num,
  latencyMs: Num.optional(),
  expectation: z.union([z.literal('pass'), Strings], { error: 'expected "pass" or an object of strings' }),
  outcome: z.looseObject({ status: z.enum(['pass', 'fail']), detail: Strings.optional(), text: z.string().optional() }),
  expected: z.string(),
  actual: z.string(),
  evidence: z.array(FlowEvent),
  failure: z.enum(['federation', 'harness']).optional(),
  error: z.string().optional(),
  diagnosis: z.string().optional(),
  notPossible: z.string().optional(),
  references: z.array(z.string()).optional(),
  behaviours: z.array(z.string()).optional(),
  file: z.string().optional(),
  line: Num.optional(),
  skipped: z.string().optional(),
});
const Step = z.looseObject({
  index: Num,
  action: z.string(),
  description: z.string(),
  ok: z.boolean(),
  durationMs: Num,
  error: z.string().optional(),
  file: z.string().optional(),
  line: Num.optional(),
  assumedDone: z.boolean().optional(),
  skipped: z.string().optional(),
});
const Results = z.looseObject({
  format: z.literal(RESULTS_FORMAT),
  suite: z.looseObject({ name: z.string(), description: z.string().optional(), file: z.string() }),
  target: z.enum(['sim', 'gateway']),
  runtime: z.enum(['process', 'container']),
  startedAt: z.string(),
  finishedAt: z.string().optional(),
  durationMs: Num,
  setupMs: Num,
  status: z.enum(['running', 'complete', 'interrupted', 'failed', 'killed']),
  reason: z.string().optional(),
  summary: z.looseObject({ phases: Num, checks: Num, met: Num, unmet: Num, harness: Num.optional(), notPossible: Num.optional(), skipped: Num.optional() }),
  phases: z.array(z.looseObject({ name: z.string(), description: z.string().optional(), steps: z.array(Step), checks: z.array(Check) })),
  notices: z.array(z.looseObject({ at: z.string(), text: z.string() })).optional(),
});

/**
 * Reads and validates a results file. Every problem is an `XfedError` with one line naming the
 * file and what is wrong: unreadable, not JSON (with line and column), another format, or the
 * first missing or mistyped field by its path (`phases[1].checks[0].evidence`).
 */
export async function readResultsFile(path: string): Promise<RunResults> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'it is a directory' : oneLine(e.message);
    throw new XfedError(`cannot read results file ${path}: ${why}`, { cause: err });
  }
  return parseResults(text, path);
}

/** The validation of `readResultsFile`, for text already in hand; `source` names it in errors. */
export function parseResults(text: string, source: string): RunResults {
  let json: unknown;
  try {
    json = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new XfedError(`${source} is not JSON: ${jsonErrorText(err as Error, text)}`, { cause: err });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new XfedError(
      `${source} is not an xfed results file: the top level is ${Array.isArray(json) ? 'an array' : json === null ? 'null' : `a ${typeof json}`}, not an object`,
    );
  }
  const format = (json as Record<string, unknown>).format;
  if (format !== RESULTS_FORMAT) {
    const has = format === undefined ? 'has no "format" field' : `has format ${JSON.stringify(format)}`;
    throw new XfedError(`${source} is not an xfed results file: it ${has}, expected "${RESULTS_FORMAT}"`);
  }
  const parsed = Results.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = fieldPath(issue.path);
    const problem = valueAt(json, issue.path) === undefined ? `missing field ${where}` : `field ${where}: ${oneLine(issue.message)}`;
    throw new XfedError(`${source} is not a valid xfed results file: ${problem}`);
  }
  return parsed.data satisfies RunResults;
}

/** `phases[1].checks[0].evidence`, as one would write it in JavaScript. */
function fieldPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('') || '(top level)';
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const p of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

/** V8 reports a character position (`at position 42`); people want a line and column. */
function jsonErrorText(err: Error, text: string): string {
  const message = oneLine(err.message).replace(/\s*\(line \d+ column \d+\)/, '');
  const m = /\s*(?:in JSON )?at position (\d+)/.exec(message);
  const pos = m ? Number(m[1]) : /end of JSON input/.test(message) ? text.length : undefined;
  const what = m ? message.slice(0, m.index) : message;
  if (pos === undefined) return what;
  const before = text
    .replace(/^\uFEFF/, '')
    .slice(0, pos)
    .split('\n');
  return `${what} at line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`;
}

const oneLine = (s: string): string => s.replace(/\s+/g, ' ').trim();
