import { describe, expect, it } from '@jest/globals';
import { CHECK_KINDS } from '../../../src/checks/index.js';
import { impossibleExpectation } from '../../../src/checks/expectation.js';
import { STEP_KINDS } from '../../../src/steps/index.js';
import { defOf, unwrap, type Schema } from '../../../src/scenario/schema-walk.js';

// The validator knows what a check or step names, and which of its combinations are impossible,
// only through what each kind declares: these keep a new kind from forgetting it.
const fieldsOf = (s: Schema): Record<string, Schema> => defOf(unwrap(s)).shape ?? {};
// Field names that say they name something of the suite.
const NAMING = /^(user|users|from|to|of|by|domain|domains|pool|pools|partner|edge|edgePool)$/;

describe('check kinds declare', () => {
  it.each(CHECK_KINDS.map((k) => [k.kind, k] as const))('%s: the failures it reports, and conflicts on its own fields', (_, kind) => {
    expect(kind.failures).toBeDefined();
    const fields = Object.keys(fieldsOf(kind.schema));
    for (const c of kind.conflicts) expect(fields).toContain(c.at);
    for (const f of Object.values(kind.users).filter((v): v is string => typeof v === 'string')) expect(fields).toContain(f);
  });
});

describe('step kinds declare', () => {
  it.each(STEP_KINDS.map((k) => [k.action, k] as const))('%s: every field that names a user, domain or pool, and conflicts on its own fields', (_, kind) => {
    const fields = fieldsOf(kind.schema);
    for (const c of kind.conflicts) expect(Object.keys(fields)).toContain(c.at);
    for (const f of Object.keys(kind.names)) expect(Object.keys(fields)).toContain(f);
    // A field with a fixed vocabulary is checked by the schema; any other naming field must be declared.
    const free = Object.entries(fields).filter(([name, s]) => NAMING.test(name) && defOf(unwrap(s)).type !== 'enum');
    for (const [name] of free) expect([name, kind.names[name]]).toEqual([name, expect.any(String)]);
  });
});

describe('impossibleExpectation', () => {
  const has = (fields: string[]) => (f: string) => fields.includes(f);
  const failures = { dns: { nxdomain: [], mismatch: ['target'] }, latency: { 'over-budget': ['within'] }, error: ['via'] } as const;

  it('lets pass, and a failure the kind reports with what it needs', () => {
    expect(impossibleExpectation('pass', failures, has([]), 'k')).toBeUndefined();
    expect(impossibleExpectation({ dns: 'nxdomain' }, failures, has([]), 'k')).toBeUndefined();
    expect(impossibleExpectation({ dns: 'mismatch' }, failures, has(['target']), 'k')).toBeUndefined();
    expect(impossibleExpectation({ dns: '*' }, failures, has([]), 'k')).toBeUndefined();
    expect(impossibleExpectation({ error: 'forbidden' }, failures, has(['via']), 'k')).toBeUndefined();
  });

  it('points at the key of a failure the kind never reports, and at the value it never gives or gives only with a field', () => {
    expect(impossibleExpectation({ s2s: 'refused' }, failures, has([]), 'k')).toEqual({
      key: 's2s',
      part: 'key',
      message: 'expects s2s refused, but k checks never fail with s2s; they fail with dns or latency or error',
    });
    expect(impossibleExpectation({ dns: 'mismatch' }, failures, has([]), 'k')).toEqual({
      key: 'dns',
      part: 'value',
      message: 'expects dns mismatch, but k checks report it only with target',
    });
    expect(impossibleExpectation({ latency: '*' } as never, failures, has([]), 'k')?.message).toBe(
      'expects latency *, but k checks report latency failures only with within',
    );
    expect(impossibleExpectation({ error: '*' }, failures, has([]), 'k')?.message).toBe('expects error *, but k checks report error failures only with via');
    expect(impossibleExpectation({ presence: 'leaked' }, { presence: { none: [] } }, has([]), 'k')?.message).toBe(
      'expects presence leaked, but k checks never report it; their presence failures: none',
    );
  });
});
