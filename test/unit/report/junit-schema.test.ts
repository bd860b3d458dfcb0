import { describe, expect, it } from '@jest/globals';
import { renderJunit } from '../../../src/report/junit.js';
import type { RunResults, StepResult } from '../../../src/report/results.js';
import { loadResults } from '../../fixtures/results/load.js';
import { junitSchemaProblems } from '../../helpers/junit-schema.js';
import { asNotRun } from '../../helpers/not-run.js';

const FILE = 'suites/cutover-night.yaml';

/** The fixture run with every step and check at a line of the suite file, as the runner writes them. */
function positioned(name: 'new.json' | 'base.json'): RunResults {
  const r = loadResults(name);
  let line = 10;
  for (const p of r.phases) {
    for (const s of p.steps) Object.assign(s, { file: FILE, line: line++ });
    for (const c of p.checks) Object.assign(c, { file: FILE, line: line++ });
  }
  return r;
}

/** Valid against the schema, and its counts agree: the totals are the sums of the testsuites', which count their testcases. */
function expectValid(xml: string): void {
  expect(junitSchemaProblems(xml)).toEqual([]);
  const n = (text: string, attr: string) => Number(new RegExp(` ${attr}="(\\d+)"`).exec(text)?.[1] ?? 0);
  // Wire text in system-out may hold XMPP's own <error>: only the markup counts.
  const suites = xml
    .replace(/<!\[CDATA\[[\s\S]*?\]\]>/g, '')
    .split('<testsuite ')
    .slice(1);
  const cases = suites.map((t) => ({
    tests: (t.match(/<testcase /g) ?? []).length,
    failures: (t.match(/<failure /g) ?? []).length,
    errors: (t.match(/<error /g) ?? []).length,
    skipped: (t.match(/<skipped /g) ?? []).length,
  }));
  expect(suites.map((t) => ({ tests: n(t, 'tests'), failures: n(t, 'failures'), errors: n(t, 'errors'), skipped: n(t, 'skipped') }))).toEqual(cases);
  const head = xml.slice(xml.indexOf('<testsuites '), xml.indexOf('>', xml.indexOf('<testsuites ')));
  const sum = (k: 'tests' | 'failures' | 'errors') => cases.reduce((total, c) => total + c[k], 0);
  expect([n(head, 'tests'), n(head, 'failures'), n(head, 'errors')]).toEqual([sum('tests'), sum('failures'), sum('errors')]);
}

const notApplied = (s: StepResult, why: string): StepResult => ({ ...s, ok: false, durationMs: 0, skipped: why });

describe('junit.xml against the de-facto JUnit schema (junit-10.xsd, xmllint)', () => {
  it('the validator refuses what the schema does not allow, so the tests below can fail', () => {
    const xml = renderJunit(positioned('new.json')).replace('<testsuite name=', '<testsuite bogus="1" name=');
    expect(junitSchemaProblems(xml)).toEqual([expect.stringContaining("attribute 'bogus': The attribute 'bogus' is not allowed")]);
  });

  it('a complete run, with met, unmet, harness-failed and not-possible checks and an --assume-done step', () => {
    const r = positioned('new.json');
    Object.assign(r.phases[1]!.steps[0]!, { assumedDone: true, output: 'assumed done (--assume-done)' });
    r.phases[0]!.checks[0]!.notPossible = 'the target cannot do it';
    const xml = renderJunit(r);
    expectValid(xml);
    expect(xml).toContain(`file="${FILE}" line="10"`);
  });

  it('a run stopped by a failed step: the step fails, what follows is skipped', () => {
    const r = positioned('new.json');
    r.status = 'failed';
    r.reason = 'step 1 of phase move-judy (move-user) failed: Move-CsUser refused';
    const why = `the run stopped before it: ${r.reason}`;
    Object.assign(r.phases[1]!.steps[0]!, { ok: false, error: 'Move-CsUser refused' });
    r.phases[1]!.checks = r.phases[1]!.checks.map((c) => asNotRun(c, why));
    r.phases[2]!.steps = r.phases[2]!.steps.map((s) => notApplied(s, why));
    r.phases[2]!.checks = r.phases[2]!.checks.map((c) => asNotRun(c, why));
    const xml = renderJunit(r);
    expectValid(xml);
    expect(xml).toMatch(/<testsuite name="move-judy" [^>]*tests="4" failures="1" errors="0" skipped="3"/);
  });

  it('a run failing at setup: one <error> testcase says why, every check is skipped', () => {
    const r = positioned('base.json');
    r.status = 'failed';
    r.reason = 'Prosody for partner.test failed to start: Failed to open server port 5269';
    r.setupMs = 0;
    for (const p of r.phases) {
      p.steps = p.steps.map((s) => notApplied(s, `the run stopped before it: ${r.reason}`));
      p.checks = p.checks.map((c) => asNotRun(c, `the run stopped before it: ${r.reason}`));
    }
    const xml = renderJunit(r);
    expectValid(xml);
    expect(xml).toMatch(/<testsuite name="\(setup\)" [^>]*tests="1" failures="0" errors="1" skipped="0"/);
  });

  it('a filtered run (--phase, --grep): the checks left out are skipped with the filter', () => {
    const r = positioned('base.json');
    for (const c of r.phases.flatMap((p) => p.checks)) Object.assign(c, { met: true, failure: undefined, error: undefined });
    r.phases[0]!.checks = r.phases[0]!.checks.map((c) => asNotRun(c, 'filtered out by --phase new-edge'));
    r.phases[2]!.checks = r.phases[2]!.checks.map((c, i) => (i === 0 ? c : asNotRun(c, 'filtered out by --grep im-')));
    const xml = renderJunit(JSON.parse(JSON.stringify(r)) as RunResults);
    expectValid(xml);
    expect(xml).toMatch(/<testsuites name="cutover-night" tests="14" failures="0" errors="0"/);
    expect(xml).toContain('<skipped message="not run: filtered out by --grep im-"/>');
  });
});
