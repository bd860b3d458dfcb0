import { describe, expect, it } from '@jest/globals';
import { Ajv } from 'ajv';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { runSchema } from '../../../src/cli/schema.js';
import { loadSuite } from '../../../src/scenario/loader.js';
import { durationMs } from '../../../src/infra/format.js';
import { suiteJsonSchema } from '../../../src/scenario/schema.js';

const dir = fileURLToPath(new URL('../../fixtures/suites/valid/', import.meta.url));
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .sort();
const raw = (file: string): Record<string, unknown> => parse(readFileSync(path.join(dir, file), 'utf8')) as Record<string, unknown>;

describe('valid suites', () => {
  it.each(files)('%s loads', async (file) => {
    const loaded = await loadSuite(path.join(dir, file));
    expect(loaded.file).toBe(path.join(dir, file));
    expect(loaded.suite.phases.length).toBeGreaterThan(0);
  });

  it('keeps what the file says', async () => {
    const { suite } = await loadSuite(path.join(dir, 'cutover.yaml'));
    expect(suite.name).toBe('contoso-cutover');
    if (suite.target.kind !== 'sim') throw new Error('a sim suite');
    expect(suite.target.sim.users.map((u) => [u.name, u.pool])).toEqual([
      ['erin', 'legacy'],
      ['judy', 'sfb2019'],
    ]);
    expect(suite.phases.map((p) => p.name)).toEqual(['baseline', 'move-erin', 'repoint-srv']);
    expect(suite.phases[1]!.steps).toEqual([{ action: 'move-user', user: 'erin', pool: 'sfb2019' }]);
    expect(suite.phases[1]!.checks![0]).toMatchObject({ id: 'im-erin-after-move', kind: 'im', expect: { error: 'forbidden' }, timeout: '3s' });
  });
});

describe('durationMs', () => {
  it.each([
    ['500ms', 500],
    ['2s', 2000],
    ['1.5s', 1500],
    ['1m', 60_000],
    ['0.25s', 250],
    [750, 750],
  ] as const)('%s is %d ms', (d, ms) => {
    expect(durationMs(d)).toBe(ms);
  });
});

describe('the exported JSON Schema', () => {
  const validate = new Ajv({ allErrors: true }).compile(suiteJsonSchema());

  it.each(files)('accepts %s', (file) => {
    expect([validate(raw(file)), validate.errors]).toEqual([true, null]);
  });

  it('rejects an unknown key, as the loader does', () => {
    const suite = raw('minimal.yaml');
    const phases = suite.phases as { checks: Record<string, unknown>[] }[];
    phases[0]!.checks[0]!.fromm = 'alice';
    expect(validate(suite)).toBe(false);
    expect(validate.errors).toContainEqual(expect.objectContaining({ keyword: 'additionalProperties', params: { additionalProperty: 'fromm' } }));
    expect(validate({ ...raw('minimal.yaml'), extra: true })).toBe(false);
  });

  it('rejects an unknown check kind and a bad duration', () => {
    const kind = raw('minimal.yaml');
    (kind.phases as { checks: Record<string, unknown>[] }[])[0]!.checks[0]!.kind = 'pnig';
    expect(validate(kind)).toBe(false);
    const duration = raw('minimal.yaml');
    (duration.phases as { checks: Record<string, unknown>[] }[])[0]!.checks[0]!.timeout = '2 seconds';
    expect(validate(duration)).toBe(false);
  });

  it('is what `xfed schema` prints', () => {
    const out: string[] = [];
    expect(runSchema({ stdout: (s) => out.push(s), stderr: (s) => out.push(`ERR ${s}`) })).toBe(0);
    expect(JSON.parse(out.join(''))).toEqual(suiteJsonSchema());
  });
});
