import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadSuite, loadSuites, parseSuite, ScenarioError } from '../../../src/scenario/loader.js';
import { parseInParts } from '../../../src/scenario/parts.js';
import { Substitution, tokens } from '../../../src/scenario/variables.js';
import { readVariables } from '../../../src/scenario/vars-file.js';
import { ProblemsError } from '../../../src/errors.js';

// ${NAME} in suites (src/scenario/variables.ts, vars-file.ts): filled in parsed values, every
// problem at the file:line:col of its ${, numbers where the format takes numbers.

const suite = (o: { domain?: string; users?: string; phase?: string; pools?: string } = {}) => `suite: v
partner:
  domains: [partner.test]
  users: [alice]
target:
  sim:
    domain: ${o.domain ?? 'contoso.test'}
    users:
${o.users ?? '      - { name: erin, pool: legacy, xmppAccess: true }'}
${o.pools ?? ''}phases:
  - name: p
    checks:
${o.phase ?? '      - { id: ping, kind: ping, from: alice }'}
`;

const vars = (o: Record<string, string>) => new Map(Object.entries(o));

function problems(text: string, variables: Record<string, string> = {}): string[] {
  try {
    parseSuite(text, 't.yaml', { variables: vars(variables) });
    return [];
  } catch (err) {
    if (!(err instanceof ScenarioError)) throw err;
    return err.problems.map((p) => `${p.line}:${p.col}: ${p.message}`);
  }
}

const loaded = (text: string, variables: Record<string, string>) => parseSuite(text, 't.yaml', { variables: vars(variables) }).suite;
const firstCheck = (text: string, variables: Record<string, string>) => loaded(text, variables).phases[0]!.checks![0] as Record<string, unknown>;

describe('variables in suites', () => {
  it('fills ${NAME} in any value: plain, quoted, block, part of a longer text', () => {
    const text = suite({
      domain: '${SFB}',
      phase: `      - id: im
        kind: im
        from: alice
        to: "\${USER}"
        title: 'to \${USER} at \${SFB}'
        body: |
          line one \${USER}
          line two`,
    });
    const s = loaded(text, { SFB: 'lab.test', USER: 'erin' });
    expect(s.sfbDomain).toBe('lab.test');
    expect(s.phases[0]!.checks![0]).toMatchObject({ to: 'erin', title: 'to erin at lab.test', body: 'line one erin\nline two\n' });
  });

  it('reports every variable that is not set at once, each at its ${, with a did-you-mean against the names that are set', () => {
    const text = suite({
      domain: '${SFB_DOMAN}',
      phase: `      - { id: im, kind: im, from: alice, to: "\${ECHO}", body: "a \${X} b \${X}" }
      - id: ping
        kind: ping
        from: alice
        title: >
          folded \${Y}`,
    });
    expect(problems(text, { SFB_DOMAIN: 'lab.test' })).toEqual([
      "7:13: variable SFB_DOMAN is not set (did you mean 'SFB_DOMAIN'?): give it with --var SFB_DOMAN=VALUE, in a --vars file or in the environment, or write a default: ${SFB_DOMAN:-VALUE}",
      '13:47: variable ECHO is not set: give it with --var ECHO=VALUE, in a --vars file or in the environment, or write a default: ${ECHO:-VALUE}',
      '13:66: variable X is not set: give it with --var X=VALUE, in a --vars file or in the environment, or write a default: ${X:-VALUE}',
      '13:73: variable X is not set (see line 13)',
      '18:18: variable Y is not set: give it with --var Y=VALUE, in a --vars file or in the environment, or write a default: ${Y:-VALUE}',
    ]);
  });

  it('defaults stand in for a variable that is unset or empty, as in the shell; an empty variable without one is empty', () => {
    const text = suite({ phase: '      - { id: im, kind: im, from: alice, to: erin, body: "[${A:-one}] [${B:-two words}] [${C}] [${D:-}]" }' });
    expect(firstCheck(text, { B: '', C: '' }).body).toBe('[one] [two words] [] []');
    expect(firstCheck(text, { A: 'a', B: 'b', C: 'c', D: 'd' }).body).toBe('[a] [b] [c] [d]');
  });

  it('$${ is a literal ${, and any other $ is an ordinary character', () => {
    const text = suite({ phase: '      - { id: im, kind: im, from: alice, to: erin, body: "$${HOME} $true $env:Path $$x ${X}$${" }' });
    expect(firstCheck(text, { X: 'x', HOME: 'no' }).body).toBe('${HOME} $true $env:Path $$x x${');
    expect(tokens('$${A} ${B:-c} $C').map((t) => t.kind)).toEqual(['escape', 'ref']);
  });

  it('reports what is not a variable where it is, and says how to write one', () => {
    const text = suite({ phase: '      - { id: im, kind: im, from: alice, to: erin, body: "${env:Path} ${} ${A:-${B}} ${OPEN" }' });
    expect(problems(text)).toEqual([
      "13:59: '${env:Path}' is not a variable: write ${NAME} or ${NAME:-default}, NAME of letters, digits and _ (and $${ for a literal ${)",
      "13:71: '${}' is not a variable: write ${NAME} or ${NAME:-default}, NAME of letters, digits and _ (and $${ for a literal ${)",
      "13:75: '${A:-${B}...': a default is plain text and cannot hold another variable",
      "13:86: '${OPEN' is never closed: end it with '}'; write ${NAME} or ${NAME:-default}, NAME of letters, digits and _ (and $${ for a literal ${)",
    ]);
  });

  it('a value with YAML syntax stays one string: it adds no keys, items, aliases or tags', () => {
    for (const value of ['[a, b]', '{ x: 1 }', 'k: v', '*anchor', '&a x', '- item', "'quoted'", '!!int 5', '# not a comment', 'a\nb: c', '5']) {
      expect([value, firstCheck(suite({ phase: '      - { id: im, kind: im, from: alice, to: erin, body: "${V}" }' }), { V: value }).body]).toEqual([
        value,
        value,
      ]);
    }
    // A key is never substituted: ${...} there is a key like any other (here, an unknown one).
    expect(problems(suite({ phase: '      - { id: im, kind: im, from: alice, to: erin, "${K}": x }' }), { K: 'body' })).toEqual([
      "13:52: unknown key '${K}' in check 'im'; known keys: id, title, expect, timeout, kind, from, to, body, size, within",
    ]);
  });

  it('gives a number or true/false where the format takes one, and a string everywhere else', () => {
    const text = suite({
      users: '      - name: erin\n        pool: legacy\n        xmppAccess: ${GRANT}',
      pools: '    edgePools:\n      - { name: "${POOL}", priority: "${PRIO}" }\n',
      phase: '      - { id: im, kind: im, from: alice, to: erin, body: "${PRIO}", timeout: "${WAIT}", within: "${WITHIN}" }',
    });
    const s = loaded(text, { GRANT: 'true', POOL: 'legacy-edge', PRIO: '10', WAIT: '5000', WITHIN: '2s' });
    if (s.target.kind !== 'sim') throw new Error('a sim suite');
    expect(s.target.sim.users[0]!.xmppAccess).toBe(true);
    expect(s.target.sim.edgePools).toEqual([{ name: 'legacy-edge', priority: 10 }]);
    expect(s.phases[0]!.checks![0]).toMatchObject({ body: '10', timeout: 5000, within: '2s' });
    // What does not read as a number stays text, and the format says what it expected, at the value.
    expect(problems(text, { GRANT: 'yes', POOL: 'legacy-edge', PRIO: '0x10', WAIT: '1s', WITHIN: '2s' })).toEqual([
      '11:21: xmppAccess: expected true or false, got a string',
      '13:38: priority: expected a number, got a string',
    ]);
  });

  it('refuses ${...} in login.passwordEnv, without repeating the value', () => {
    const text = `suite: g
partner: { domains: [partner.test], users: [alice] }
target:
  gateway:
    domain: contoso.test
    listen: { host: 127.0.0.1 }
    users:
      - name: erin
        role: none
        login: { passwordEnv: "\${ERIN_PASSWORD}" }
phases:
  - name: p
    checks:
      - { id: ping, kind: ping, from: alice }
`;
    const found = problems(text, { ERIN_PASSWORD: 'S3cret-Hunter2' });
    expect(found).toEqual([
      '10:32: login.passwordEnv takes the name of the variable that holds the password (passwordEnv: XFED_ERIN_PASSWORD), not ${...}: xfed reads the password itself and keeps it out of every report',
    ]);
    expect(found.join('\n')).not.toContain('S3cret');
  });

  it('says to quote ${...} inside [ ] or { }, at the ${, instead of what YAML makes of it', () => {
    expect(problems(suite({ phase: '      - { id: im, kind: im, from: alice, to: ${USER} }\n      - { id: p, kind: ping, from: alice }' }))).toEqual([
      `13:46: '\${USER}' inside [ ] or { } needs quotes: write "\${USER}" (unquoted, YAML reads its '{' as the start of a mapping)`,
    ]);
  });

  it('fills a large suite read in parts as it fills it read whole, with the same positions', () => {
    const phase = (i: number) =>
      `  - name: p${i}\n    description: ${'a filler phase '.repeat(100)}\n    checks:\n      - { id: c${i}, kind: ping, from: alice, title: "\${T}" }\n`;
    const large = `${suite().trimEnd()}\n${Array.from({ length: 300 }, (_, i) => phase(i)).join('')}  - name: last\n    checks:\n      - { id: last, kind: im, from: alice, to: erin, body: "\${LAST}" }\n`;
    expect(parseInParts(large, undefined, new Substitution(vars({ T: 't', LAST: 'x' })))).toBeDefined();
    const s = loaded(large, { T: 'title', LAST: 'the end' });
    expect(s.phases.at(-1)!.checks![0]).toMatchObject({ body: 'the end' });
    expect(s.phases[150]!.checks![0]).toMatchObject({ title: 'title' });
    const lines = large.split('\n');
    const lastLine = lines.findIndex((l) => l.includes('${LAST}')) + 1;
    expect(problems(large, { T: 't' })).toEqual([
      `${lastLine}:${lines[lastLine - 1]!.indexOf('${LAST}') + 1}: variable LAST is not set: give it with --var LAST=VALUE, in a --vars file or in the environment, or write a default: \${LAST:-VALUE}`,
    ]);
  });
});

describe('where variables come from', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'xfed-vars-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));
  const file = async (name: string, text: string) => {
    const f = path.join(dir, name);
    await writeFile(f, text);
    return f;
  };
  const failure = async (p: Promise<unknown>) => {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!(err instanceof ProblemsError)) throw new Error(`expected a ProblemsError, got ${String(err)}`);
    return err.message.split('\n');
  };

  it('--var wins over --vars files, a later file over an earlier one, files over the environment', async () => {
    const first = await file('first.yaml', 'A: first\nB: first\nC: first\nPORT: 05269\nON: true\n');
    const second = await file('second.yaml', '# the lab\nB: second\nC: second\n');
    const got = await readVariables({ env: { A: 'env', C: 'env', D: 'env' }, vars: [first, second], var: ['C=cli', 'E=a=b', 'F='] });
    expect(Object.fromEntries(got)).toEqual({ A: 'first', B: 'second', C: 'cli', D: 'env', E: 'a=b', F: '', PORT: '05269', ON: 'true' });
  });

  it('a broken --vars file or --var is reported at file:line:col, every problem at once, never repeating a --var value', async () => {
    const broken = await file('broken.yaml', 'A: [1, 2]\n9X: y\nB:\nC: { d: 1 }\nok: fine\n');
    const syntax = await file('syntax.yaml', 'A: "open\n');
    const dotenv = await file('lab.env', '# lab\nSFB_DOMAIN=contoso.example\n');
    const list = await file('list.yaml', '- a\n- b\n');
    expect(
      await failure(readVariables({ env: {}, vars: [broken, syntax, dotenv, list, path.join(dir, 'missing.yaml')], var: ['NOEQUALS', '1X=secret'] })),
    ).toEqual([
      `${broken}:1:4: A: a variable holds text, a number or true/false, not a list or a mapping`,
      `${broken}:2:1: '9X' is not a variable name: letters, digits and _, not starting with a digit`,
      `${broken}:3:1: B has no value: write B: '' for an empty one`,
      `${broken}:4:4: C: a variable holds text, a number or true/false, not a list or a mapping`,
      `${syntax}:1:4: unclosed quote: this string is never closed`,
      `${dotenv}:2:1: this line is NAME=VALUE (a dotenv line): a --vars file is YAML, 'NAME: value' on each line`,
      `${list}:1:1: a --vars file is a YAML mapping, 'NAME: value' on each line`,
      `cannot read vars file ${path.join(dir, 'missing.yaml')}: no such file`,
      '--var NOEQUALS: expected NAME=VALUE',
      "--var 1X=...: '1X' is not a variable name (letters, digits and _, not starting with a digit)",
    ]);
  });

  it('loadSuite and loadSuites take the sources; a broken source is reported alone, not as every variable of every suite', async () => {
    const lab = await file('lab.yaml', 'SFB: lab.test\n');
    const s = await file('s.yaml', suite({ domain: '${SFB}' }));
    expect((await loadSuite(s, { vars: [lab], env: {} })).suite.sfbDomain).toBe('lab.test');
    expect((await loadSuite(s, { vars: [lab], var: ['SFB=cli.test'], env: {} })).suite.sfbDomain).toBe('cli.test');
    const bad = await file('bad.yaml', 'SFB: [x]\n');
    expect(await loadSuites([s, s], { vars: [bad], env: {} })).toEqual({
      loaded: [],
      problems: [`${bad}:1:6: SFB: a variable holds text, a number or true/false, not a list or a mapping`],
    });
  });
});
