import { z } from 'zod';
import { Duration } from '../infra/format.js';
import { Suite } from './schema.js';
import { fieldPrefix, get, isRecord, kindOf, quote, where } from './paths.js';
import type { PathKey } from './positions.js';
import { defOf, knownKeys, schemaAt, unwrap, type Schema } from './schema-walk.js';
import { closest, didYouMean } from './suggest.js';

/** A schema problem before it has a position: the path it is about, and whether the key or the value. */
export interface PathProblem {
  path: PathKey[];
  part: 'key' | 'value';
  message: string;
  /** A missing key, or the key an unknown key looks like: a misspelt key is one problem, not two. */
  missing?: string;
  suggests?: string;
}

type Issue = z.core.$ZodIssue;

// What a list holds, in the words of the format: `a list of domains`, `at least one phase`.
const LIST_NOUNS: Record<string, [string, string]> = {
  domains: ['domain', 'domains'],
  phases: ['phase', 'phases'],
  steps: ['step', 'steps'],
  checks: ['check', 'checks'],
};
const listNoun = (path: readonly PathKey[]): [string, string] => {
  const key = String(path[path.length - 1]);
  if (key === 'users') return path.includes('target') ? ['SfB user', 'SfB users'] : ['user name', 'user names'];
  return LIST_NOUNS[key] ?? ['item', 'items'];
};

// Past this many values an enum with a description (`a stanza error condition of RFC 6120 ...`) is named by it.
const LISTED_VALUES = 12;
const describedAs = (s: Schema | undefined): string | undefined => {
  const d = s && z.globalRegistry.get(s)?.description;
  return d && /^an? /.test(d) ? d : undefined;
};

const DISCRIMINATOR_WORDS: Record<string, [string, string]> = { kind: ['check kind', 'kinds'], action: ['step action', 'actions'] };

/** Turns zod's issues for a suite into human messages, each tied to the path it is about. */
export function describeIssues(issues: readonly Issue[], data: unknown): PathProblem[] {
  const all = issues.flatMap((issue) => describe(issue, [], data));
  const same = (a: readonly PathKey[], b: readonly PathKey[]) => a.length === b.length && a.every((k, i) => k === b[i]);
  const misspelt = (p: PathProblem) => all.some((u) => u.suggests === p.missing && same(u.path.slice(0, -1), p.path));
  return all.filter((p) => p.missing === undefined || !misspelt(p));
}

function describe(issue: Issue, base: PathKey[], data: unknown): PathProblem[] {
  const path = [...base, ...(issue.path as PathKey[])];
  const value = get(data, path);
  const at = (message: string, p: PathKey[] = path, part: 'key' | 'value' = 'value'): PathProblem[] => [{ path: p, part, message }];
  const field = fieldPrefix(path);

  // Checked first for every code: zod reports a missing enum as a bad value, not as missing.
  const parentPath = path.slice(0, -1);
  const parent = get(data, parentPath);
  const key = path[path.length - 1];
  if (value === undefined && isRecord(parent) && typeof key === 'string' && !Object.hasOwn(parent, key) && issue.code !== 'unrecognized_keys') {
    return [{ path: parentPath, part: 'value', message: `missing required key '${key}' ${where(data, parentPath)}`, missing: key }];
  }
  // zod reports a union by its one branch that got past the type check: a bad duration
  // arrives as a regex or number issue, which would name only half of what a duration may be.
  if (schemaAt(Suite, data, path) === unwrap(Duration)) return at(`${field}${quote(value)} is not a duration (use 500ms, 2s or 1m)`);

  switch (issue.code) {
    case 'invalid_type':
      return at(`${field}expected ${expectedNoun(issue.expected, path)}, got ${kindOf(value)}`);
    case 'invalid_value': {
      const allowed = issue.values.map(String);
      // A vocabulary too long to list in every message says what it is, and lists only without a guess.
      const noun = allowed.length > LISTED_VALUES ? describedAs(schemaAt(Suite, data, path)) : undefined;
      if (typeof value !== 'string') return at(`${field}expected ${noun ?? `one of ${allowed.join(', ')}`}, got ${kindOf(value)}`);
      const name = field ? field.slice(0, -2) : 'value';
      if (noun) {
        const guess = didYouMean(value, allowed);
        return at(`${name} '${value}' is not ${noun}${guess || `; use one of ${allowed.join(', ')}`}`);
      }
      return at(`${name} '${value}' is not one of ${allowed.join(', ')}${didYouMean(value, allowed)}`);
    }
    case 'invalid_format': {
      const what = issue.message;
      return at(/^an? /.test(what) ? `${field}${quote(value)} is not ${what}` : `${field}${quote(value)} is not valid (use ${what})`);
    }
    case 'too_small':
      if (issue.origin === 'array') return at(`${field}expected at least one ${listNoun(path)[0]}, got an empty list`);
      if (issue.origin === 'string') return at(`${field}must not be empty`);
      return at(`${field}expected a number ${issue.inclusive ? 'of at least' : 'greater than'} ${String(issue.minimum)}, got ${kindOf(value)}`);
    case 'unrecognized_keys': {
      const known = knownKeys(schemaAt(Suite, data, path), value);
      return issue.keys.map((key) => unknownKey(key, known, path, data));
    }
    case 'invalid_union':
      return describeUnion(issue, path, value, data);
    default:
      return at(`${field}${issue.message}`);
  }
}

function unknownKey(key: string, known: readonly string[], path: PathKey[], data: unknown): PathProblem {
  const guess = closest(key, known);
  const hint = guess ? ` (did you mean '${guess}'?)` : known.length > 0 ? `; known keys: ${known.join(', ')}` : '';
  return { path: [...path, key], part: 'key', message: `unknown key '${key}' ${where(data, path)}${hint}`, ...(guess ? { suggests: guess } : {}) };
}

function expectedNoun(expected: string, path: readonly PathKey[]): string {
  if (path.length === 0) return 'a mapping with suite, partner, target and phases';
  switch (expected) {
    case 'array':
      return `a list of ${listNoun(path)[1]}`;
    case 'object':
      return 'a mapping';
    case 'boolean':
      return 'true or false';
    case 'int':
      return 'a whole number';
    default:
      return `a ${expected}`;
  }
}

function describeUnion(issue: Extract<Issue, { code: 'invalid_union' }>, path: PathKey[], value: unknown, data: unknown): PathProblem[] {
  const field = fieldPrefix(path);
  const at = (message: string, p: PathKey[] = path, part: 'key' | 'value' = 'value'): PathProblem[] => [{ path: p, part, message }];

  if ('discriminator' in issue && issue.discriminator !== undefined) {
    const disc = issue.discriminator;
    const options = ('options' in issue ? (issue.options ?? []) : []).map(String);
    const [word, plural] = DISCRIMINATOR_WORDS[disc] ?? [disc, 'values'];
    const list = `; known ${plural}: ${options.join(', ')}`;
    const parentPath = path.slice(0, -1);
    const parent = get(data, parentPath);
    if (!isRecord(parent)) return at(`${fieldPrefix(parentPath)}expected a mapping, got ${kindOf(parent)}`, parentPath);
    if (!Object.hasOwn(parent, disc)) {
      // zod stops at the missing discriminator, so a misspelt `kind` is only visible from here.
      const misspelt = Object.keys(parent).find((k) => closest(k, [disc]) === disc);
      if (misspelt) return [unknownKey(misspelt, [disc], parentPath, data)];
      return at(`missing required key '${disc}' ${where(data, parentPath)}${list}`, parentPath);
    }
    if (typeof value !== 'string') return at(`${field}expected one of ${options.join(', ')}, got ${kindOf(value)}`);
    return at(`unknown ${word} '${value}'${didYouMean(value, options)}${list}`);
  }

  const schema = schemaAt(Suite, data, path);
  const branches = issue.errors;
  const tagged = schema && singleKeyOptions(schema);
  if (tagged) return describeTagged(tagged, branches, path, value, data);

  // Otherwise the branch that got furthest: one that failed inside the value, not on its type.
  const score = (b: readonly Issue[]) =>
    b.some((i) => i.path.length === 0 && i.code === 'invalid_type') ? 2 : b.some((i) => i.path.length === 0 && i.code === 'invalid_value') ? 1 : 0;
  const best = [...branches].sort((a, b) => score(a) - score(b))[0] ?? [];
  return best.length > 0 ? best.flatMap((i) => describe(i, path, data)) : at(`${field}${issue.message}`);
}

/**
 * A union of literals and one-key mappings (the expectations: `pass`, `{ error: forbidden }`):
 * the key the user wrote says which option was meant.
 */
function singleKeyOptions(s: Schema): { literals: string[]; keys: (string | undefined)[] } | undefined {
  const options = (defOf(s).options ?? []).map(unwrap);
  const literals: string[] = [];
  const keys: (string | undefined)[] = [];
  for (const o of options) {
    const d = defOf(o);
    const shapeKeys = Object.keys(d.shape ?? {});
    if (d.type === 'literal') literals.push(...(d.values ?? []).map(String));
    else if (d.type !== 'object' || shapeKeys.length !== 1) return undefined;
    keys.push(d.type === 'object' ? shapeKeys[0] : undefined);
  }
  return keys.some((k) => k !== undefined) ? { literals, keys } : undefined;
}

function describeTagged(
  tagged: { literals: string[]; keys: (string | undefined)[] },
  branches: readonly (readonly Issue[])[],
  path: PathKey[],
  value: unknown,
  data: unknown,
): PathProblem[] {
  const field = fieldPrefix(path);
  const keys = tagged.keys.filter((k): k is string => k !== undefined);
  const usage = `use ${tagged.literals.join(' or ')} or a mapping with one of ${keys.join(', ')}`;
  const at = (message: string, p: PathKey[] = path, part: 'key' | 'value' = 'value'): PathProblem[] => [{ path: p, part, message }];
  if (typeof value === 'string') return at(`${field}${quote(value)} is not an expectation${didYouMean(value, [...tagged.literals, ...keys])}; ${usage}`);
  if (!isRecord(value)) return at(`${field}expected ${tagged.literals.join(' or ')} or a mapping, got ${kindOf(value)}`);
  const written = Object.keys(value);
  if (written.length === 0) return at(`${field}an expectation has exactly one key, got none`);
  // The second key is the one too many.
  if (written.length > 1) return at(`${field}an expectation has exactly one key, got ${written.join(', ')}`, [...path, written[1]!], 'key');
  const key = written[0]!;
  const index = tagged.keys.indexOf(key);
  if (index < 0) {
    const guess = closest(key, keys);
    return at(
      `unknown expectation '${key}'${guess ? ` (did you mean '${guess}'?)` : ''}; known: ${[...tagged.literals, ...keys].join(', ')}`,
      [...path, key],
      'key',
    );
  }
  return (branches[index] ?? []).flatMap((i) => describe(i, path, data));
}
