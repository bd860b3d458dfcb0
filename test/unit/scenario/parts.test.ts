import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseDocument } from 'yaml';
import { parseSuite, ScenarioError } from '../../../src/scenario/loader.js';
import { parseInParts } from '../../../src/scenario/parts.js';

// A large suite is parsed a few phases at a time (src/scenario/parts.ts): the data and every
// problem's position must be what parsing it whole gives.
const fixtures = (sub: string) => {
  const dir = fileURLToPath(new URL(`../../fixtures/suites/${sub}/`, import.meta.url));
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') && !f.startsWith('encoding-'))
    .sort()
    .map((f) => [f, readFileSync(path.join(dir, f), 'utf8')] as const);
};

/** The suite with enough valid phases appended to its phases list (when it ends the file) to be parsed in parts. */
function enlarged(text: string): string | undefined {
  const lines = text.trimEnd().split('\n');
  const phasesAt = lines.findIndex((l) => /^phases:\s*$/.test(l));
  if (phasesAt < 0 || lines.slice(phasesAt + 1).some((l) => /^\S/.test(l) && !l.startsWith('#'))) return undefined;
  const indent = /^( *)-/.exec(lines.slice(phasesAt + 1).find((l) => /^ *- /.test(l)) ?? '')?.[1];
  if (indent === undefined) return undefined;
  // Long descriptions make it large with few nodes: parsing whole, for comparison, stays quick.
  const description = 'a filler phase '.repeat(150);
  const filler = Array.from(
    { length: 150 },
    (_, i) => `${indent}- name: filler-${i}\n${indent}  description: ${description}\n${indent}  checks:\n${indent}    - { id: filler-${i}, kind: dns }\n`,
  );
  return `${lines.join('\n')}\n${filler.join('')}`;
}

const problemsOf = (text: string): string[] => {
  try {
    parseSuite(text, 'x.yaml');
    return [];
  } catch (err) {
    if (!(err instanceof ScenarioError)) throw err;
    return err.problems.map((p) => `${p.line}:${p.col}: ${p.message}`);
  }
};

describe('parsing in parts', () => {
  it('gives the data parsing whole gives, for every valid fixture and bundled suite made large', () => {
    const scenarios = fileURLToPath(new URL('../../../scenarios/', import.meta.url));
    const texts = [
      ...fixtures('valid'),
      ...readdirSync(scenarios)
        .filter((f) => f.endsWith('.yaml'))
        .map((f) => [f, readFileSync(path.join(scenarios, f), 'utf8')] as const),
    ];
    let parted = 0;
    for (const [name, text] of texts) {
      const large = enlarged(text);
      if (!large) continue;
      const result = parseInParts(large);
      if (result) parted++;
      expect([name, result?.data ?? parse(large)]).toEqual([name, parse(large)]);
    }
    expect(parted).toBeGreaterThanOrEqual(4);
  });

  it('reports every broken fixture made large with exactly its problems and positions', () => {
    let parted = 0;
    for (const [name, text] of fixtures('broken')) {
      // A syntax error is reported from the whole file anyway; appending to a broken document would only add to it.
      const doc = parseDocument(text);
      const large = doc.errors.length + doc.warnings.length === 0 ? enlarged(text) : undefined;
      if (!large) continue;
      if (parseInParts(large)) parted++;
      const expected = text
        .split('\n')
        .filter((l) => l.startsWith('# expect: '))
        .map((l) => l.slice('# expect: '.length));
      expect([name, problemsOf(large)]).toEqual([name, expected]);
    }
    expect(parted).toBeGreaterThanOrEqual(30);
  });

  it('cuts a long phase too: its checks and steps a few at a time, each problem where it is', () => {
    const head =
      'suite: s\npartner: { domains: [partner.test], users: [alice] }\ntarget:\n  sim:\n    domain: contoso.test\n    users: [{ name: erin, pool: legacy, xmppAccess: true }]\nphases:\n';
    const checks = Array.from({ length: 4000 }, (_, i) => `      - { id: im-${i}, kind: im, from: alice, to: ${i === 2500 ? 'ernie' : 'erin'} }\n`).join('');
    const steps = Array.from(
      { length: 1000 },
      (_, i) => `    - action: set-availability\n      user: ${i === 700 ? 'erik' : 'erin'}\n      availability: Busy\n`,
    ).join('');
    // An indentless steps list (at its key's indentation), then the checks; a short phase after.
    const text = `${head}  - name: long\n    steps:\n${steps}    checks:\n${checks}  - name: short\n    checks: [{ id: last, kind: dns, expect: { error: forbidden } }]\n`;
    const parted = parseInParts(text);
    expect(parted?.data).toEqual(parse(text));
    const at = (needle: string) => {
      const offset = text.indexOf(needle);
      const line = text.slice(0, offset).split('\n').length;
      return `${line}:${offset - text.lastIndexOf('\n', offset - 1)}`;
    };
    expect(problemsOf(text)).toEqual([
      `${at('erik')}: unknown SfB user 'erik' in step 701 (set-availability) of phase 'long' (did you mean 'erin'?); SfB users: erin`,
      `${at('ernie')}: unknown SfB user 'ernie' in check 'im-2500'; SfB users: erin`,
      `${at('error: forbidden')}: check 'last' expects error forbidden, but dns checks never fail with error; they fail with dns`,
    ]);
  });

  it('parses whole what it cannot split for certain: flow-style phases, anchors and aliases, small files', () => {
    const phase = (i: number) => `  - name: p${i}\n    checks: [{ id: c${i}, kind: dns }]\n`;
    const head =
      'suite: s\npartner: { domains: [partner.test], users: [alice] }\ntarget: { sim: { domain: contoso.test, users: [{ name: erin, pool: legacy }] } }\n';
    const many = Array.from({ length: 5000 }, (_, i) => phase(i)).join('');
    expect(parseInParts(`${head}phases:\n${many}`)).toBeDefined();
    expect(parseInParts(`${head}phases:\n${phase(0)}`)).toBeUndefined();
    expect(parseInParts(`${head}phases: [${Array.from({ length: 5000 }, (_, i) => `{ name: p${i} }`).join(', ')}]\n`)).toBeUndefined();
    expect(parseInParts(`${head}phases:\n  - &p { name: p }\n${many}  - *p\n`)).toBeUndefined();
    expect(parseInParts(`${head}phases:\n${many}---\nsuite: t\n`)).toBeUndefined();
  });
});
