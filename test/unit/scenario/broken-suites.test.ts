import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runValidate } from '../../../src/cli/validate.js';
import { loadSuite, parseSuite, ScenarioError } from '../../../src/scenario/loader.js';
import { XfedError } from '../../../src/errors.js';

// Each broken suite carries its own expectation: leading `# expect: line:col: message` lines.
const dir = fileURLToPath(new URL('../../fixtures/suites/broken/', import.meta.url));
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .sort();
// The encoding fixtures carry their expectations in their own encoding.
const textOf = (bytes: Buffer): string => {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes);
  if ((bytes[0] === 0xfe && bytes[1] === 0xff) || bytes[0] === 0) return new TextDecoder('utf-16be').decode(bytes);
  return bytes.toString('utf8');
};
const expected = (file: string): string[] =>
  textOf(readFileSync(path.join(dir, file)))
    .split('\n')
    .filter((l) => l.startsWith('# expect: '))
    .map((l) => l.slice('# expect: '.length));

async function problemsOf(file: string): Promise<string[]> {
  const err = await loadSuite(path.join(dir, file)).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ScenarioError);
  return (err as ScenarioError).problems.map((p) => `${p.line}:${p.col}: ${p.message}`);
}

describe('broken suites', () => {
  it('has at least 32 fixtures, each with expectations', () => {
    expect(files.length).toBeGreaterThanOrEqual(32);
    for (const f of files) expect([f, expected(f).length > 0]).toEqual([f, true]);
  });

  it.each(files)('%s reports exactly its # expect: lines', async (file) => {
    expect(await problemsOf(file)).toEqual(expected(file));
  });
});

describe('ScenarioError', () => {
  it('lists every problem as file:line:col: message, and reports all of them at once', () => {
    const text = [
      'suite: Bad Name',
      'partner: { domains: [partner.test], users: [alice], extra: 1 }',
      'target: { sim: { domain: contoso.test, users: [{ name: erin, pool: lagacy }] } }',
      'phases: []',
      '',
    ].join('\n');
    const err = (() => {
      try {
        parseSuite(text, 'x.yaml');
      } catch (e) {
        return e as ScenarioError;
      }
      throw new Error('parsed');
    })();
    expect(err).toBeInstanceOf(XfedError);
    expect(err.message.split('\n')).toEqual([
      `x.yaml:1:8: suite: 'Bad Name' is not valid (use lowercase letters, digits, ".", "_" and "-")`,
      "x.yaml:2:53: unknown key 'extra' in partner; known keys: domains, users, s2s",
      "x.yaml:3:68: pool 'lagacy' is not one of legacy, sfb2019 (did you mean 'legacy'?)",
      'x.yaml:4:9: phases: expected at least one phase, got an empty list',
    ]);
    expect(err.problems.every((p) => p.file === 'x.yaml')).toBe(true);
    expect(err.message.split('\n')).toEqual(err.problems.map((p) => `x.yaml:${p.line}:${p.col}: ${p.message}`));
  });

  it('a missing file is one line naming it', async () => {
    const err = await loadSuite('no-such-suite.yaml').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(XfedError);
    expect(err).not.toBeInstanceOf(ScenarioError);
    expect((err as Error).message).toBe('cannot read suite file no-such-suite.yaml: no such file');
  });
});

describe('runValidate (the CLI module)', () => {
  it('reports every problem of every broken file, one line each, exit 2, no stack trace', async () => {
    const stdout: string[] = [];
    const stderr: string[] = [];
    const paths = files.map((f) => path.join(dir, f));
    const code = await runValidate([...paths, 'no-such-suite.yaml'], { stdout: (s) => stdout.push(s), stderr: (s) => stderr.push(s) });
    expect(code).toBe(2);
    expect(stdout).toEqual([]);
    const want = [...paths.flatMap((p) => expected(path.basename(p)).map((e) => `${p}:${e}\n`)), 'cannot read suite file no-such-suite.yaml: no such file\n'];
    expect(stderr).toEqual(want);
    expect(stderr.join('')).not.toContain('    at ');
  });

  it('says ok per valid file and exits 0', async () => {
    const valid = fileURLToPath(new URL('../../fixtures/suites/valid/minimal.yaml', import.meta.url));
    const stdout: string[] = [];
    const code = await runValidate([valid], { stdout: (s) => stdout.push(s), stderr: (s) => stdout.push(`ERR ${s}`) });
    expect(code).toBe(0);
    expect(stdout).toEqual([`${valid}: ok (1 phase, 1 check)\n`]);
  });
});
