import { isPair, isScalar, visit, type Document, type Scalar } from 'yaml';
import { isRecord } from './paths.js';
import type { PathKey } from './positions.js';
import { defOf, schemaAt, unwrap, type Schema } from './schema-walk.js';
import { closest } from './suggest.js';

/*
 * `${NAME}` in suite files. Substitution works on the parsed values, never on the text: a value
 * from a variable is the text of the one scalar it is written in, so `[a, b]` or `x: y` in a
 * variable stays a string and cannot add keys or lists to a suite. Where the format expects a
 * number or true/false (a port, a priority) a substituted value that reads as one becomes one.
 */

export const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** One `${...}` (or the `$${` escape) in a string, `at` its `$`, `end` just after it. */
type Token =
  | { kind: 'escape'; at: number; end: number }
  | { kind: 'ref'; at: number; end: number; name: string; fallback: string | undefined }
  | { kind: 'bad'; at: number; end: number; message: string };

const SYNTAX = 'write ${NAME} or ${NAME:-default}, NAME of letters, digits and _ (and $${ for a literal ${)';

/** The `${...}` of a string in order; a `$` not followed by `{` is an ordinary character. */
export function tokens(s: string): Token[] {
  const found: Token[] = [];
  for (let i = s.indexOf('$'); i >= 0; i = s.indexOf('$', i)) {
    if (s.startsWith('$${', i)) {
      found.push({ kind: 'escape', at: i, end: i + 3 });
      i += 3;
      continue;
    }
    if (s[i + 1] !== '{') {
      i += 1;
      continue;
    }
    const close = s.indexOf('}', i + 2);
    if (close < 0) {
      const shown = s.slice(i, i + 30).split('\n')[0];
      found.push({ kind: 'bad', at: i, end: s.length, message: `'${shown}' is never closed: end it with '}'; ${SYNTAX}` });
      break;
    }
    const body = s.slice(i + 2, close);
    const m = /^([A-Za-z_][A-Za-z0-9_]*)(?::-([^]*))?$/.exec(body);
    const written = `\${${body}}`;
    if (!m) found.push({ kind: 'bad', at: i, end: close + 1, message: `'${written}' is not a variable: ${SYNTAX}` });
    else if (m[2]?.includes('${'))
      found.push({ kind: 'bad', at: i, end: close + 1, message: `'${written}...': a default is plain text and cannot hold another variable` });
    else found.push({ kind: 'ref', at: i, end: close + 1, name: m[1]!, fallback: m[2] });
    i = close + 1;
  }
  return found;
}

/** A value a variable gave: settled into a string, number or boolean once the whole suite is read (`settleVariables`). */
class Substituted {
  constructor(readonly text: string) {}
}

export interface SubstitutionProblem {
  /** The offset in the file of the `${` it is about. */
  offset: number;
  message: string;
  /** The variable that is not set, if that is the problem. */
  unset?: string;
}

/** The problems in file order; a variable that is not set gets its full message where it is first used. */
export function inFileOrder(problems: readonly SubstitutionProblem[], lineOf: (offset: number) => number): SubstitutionProblem[] {
  const first = new Map<string, number>();
  return [...problems]
    .sort((a, b) => a.offset - b.offset)
    .map((p) => {
      if (p.unset === undefined) return p;
      const line = first.get(p.unset);
      if (line === undefined) return (first.set(p.unset, lineOf(p.offset)), p);
      return { ...p, message: `variable ${p.unset} is not set (see line ${line})` };
    });
}

/**
 * Fills the `${...}` of every scalar value of parsed documents (a suite read whole, or its parts)
 * and collects what cannot be filled: every undefined variable, each at its own `${`.
 */
export class Substitution {
  readonly problems: SubstitutionProblem[] = [];
  /** How many scalars took a variable's value; none, and the data needs no settling. */
  substituted = 0;

  constructor(private readonly variables: ReadonlyMap<string, string>) {}

  /** `source` is the text `doc` was parsed from; `toFile` maps its offsets to the file's. */
  apply(doc: Document, source: string, toFile: (offset: number) => number = (o) => o): void {
    visit(doc, {
      Scalar: (key, node, path) => {
        if (key !== 'key') this.scalar(node, path.at(-1), source, toFile);
      },
    });
  }

  private scalar(node: Scalar, parent: unknown, source: string, toFile: (offset: number) => number): void {
    const value = node.value;
    if (typeof value !== 'string' || !value.includes('${')) return;
    const found = tokens(value);
    if (found.length === 0) return;
    const at = offsetsOf(found, node.range, source, toFile);
    const first = found.findIndex((t) => t.kind !== 'escape');
    // The password's variable is named, never substituted: `${X}` there would put the password
    // itself where xfed expects a name, and into every message about it.
    if (first >= 0 && isPair(parent) && isScalar(parent.key) && parent.key.value === 'passwordEnv') {
      this.problems.push({
        offset: at[first]!,
        message:
          'login.passwordEnv takes the name of the variable that holds the password (passwordEnv: XFED_ERIN_PASSWORD), not ${...}: xfed reads the password itself and keeps it out of every report',
      });
      return;
    }
    let out = '';
    let from = 0;
    let refs = 0;
    let failed = false;
    found.forEach((t, i) => {
      out += value.slice(from, t.at);
      from = t.end;
      if (t.kind === 'escape') out += '${';
      else if (t.kind === 'bad') {
        this.problems.push({ offset: at[i]!, message: t.message });
        failed = true;
      } else {
        refs++;
        const set = this.variables.get(t.name);
        // As in the shell, `:-` stands in for a variable that is unset or empty.
        if (set !== undefined && (set !== '' || t.fallback === undefined)) out += set;
        else if (t.fallback !== undefined) out += t.fallback;
        else {
          this.problems.push({ offset: at[i]!, message: this.undefinedMessage(t.name), unset: t.name });
          failed = true;
        }
      }
    });
    if (failed) return;
    out += value.slice(from);
    if (refs === 0) {
      node.value = out;
      return;
    }
    node.value = new Substituted(out);
    this.substituted++;
  }

  private undefinedMessage(name: string): string {
    const guess = closest(name, [...this.variables.keys()]);
    const hint = guess === undefined ? '' : ` (did you mean '${guess}'?)`;
    return `variable ${name} is not set${hint}: give it with --var ${name}=VALUE, in a --vars file or in the environment, or write a default: \${${name}:-VALUE}`;
  }
}

/**
 * The file offset of each token: where the same tokens appear in the scalar's own text (quotes,
 * block headers and folded lines do not change their order); the scalar's start where an escape
 * sequence (`\x24{` in double quotes) made the two differ.
 */
function offsetsOf(found: Token[], range: Scalar['range'], source: string, toFile: (offset: number) => number): number[] {
  const [start, end] = range ?? [0, 0];
  const raw = tokens(source.slice(start, end));
  const same = raw.length === found.length && raw.every((r, i) => r.kind === found[i]!.kind);
  return found.map((_, i) => toFile(start + (same ? raw[i]!.at : 0)));
}

const NUMBER = /^-?\d+(\.\d+)?$/;

/** Whether a schema takes a value of this type (directly, as a literal, or in a union). */
function accepts(s: Schema | undefined, type: 'number' | 'boolean'): boolean {
  if (!s) return false;
  const def = defOf(unwrap(s));
  if (def.type === type) return true;
  if (def.type === 'literal') return (def.values ?? []).some((v) => typeof v === type);
  if (def.type === 'union') return (def.options ?? []).some((o) => accepts(o, type));
  return false;
}

/**
 * The data of a suite with every substituted value settled: a number where the format takes a
 * number and the value reads as one (`port: ${EDGE_PORT}`), true or false likewise, else the
 * string. Discriminators (`kind`, `action`) are settled first, so each value's schema is known.
 */
export function settleVariables(data: unknown, root: Schema): unknown {
  if (data instanceof Substituted) return data.text;
  const found: { holder: Record<PathKey, unknown>; key: PathKey; path: PathKey[] }[] = [];
  const walk = (holder: Record<PathKey, unknown>, key: PathKey, path: PathKey[]) => {
    const v = holder[key];
    if (v instanceof Substituted) {
      holder[key] = v.text;
      found.push({ holder, key, path });
    } else if (Array.isArray(v)) v.forEach((_, i) => walk(v as unknown as Record<PathKey, unknown>, i, [...path, i]));
    else if (isRecord(v)) for (const k of Object.keys(v)) walk(v, k, [...path, k]);
  };
  const top = { data };
  walk(top as Record<PathKey, unknown>, 'data', []);
  for (const { holder, key, path } of found) {
    const text = holder[key] as string;
    const schema = schemaAt(root, top.data, path);
    if (NUMBER.test(text) && accepts(schema, 'number')) holder[key] = Number(text);
    else if ((text === 'true' || text === 'false') && accepts(schema, 'boolean')) holder[key] = text === 'true';
  }
  return top.data;
}
