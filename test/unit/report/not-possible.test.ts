import { describe, expect, it } from '@jest/globals';
import { XMLParser } from 'fast-xml-parser';
import { compareResults } from '../../../src/report/compare.js';
import { renderComparisonText } from '../../../src/report/compare-render.js';
import { exitCodeOf, formatCheckLine, formatSummary, formatVerdictMatrix } from '../../../src/report/console.js';
import { renderHtml } from '../../../src/report/html.js';
import { renderJunit } from '../../../src/report/junit.js';
import { parseResults } from '../../../src/report/read-results.js';
import type { CheckResult, RunResults } from '../../../src/report/results.js';
import { loadResults } from '../../fixtures/results/load.js';

const REASON = 'erin writes first, so xfed must act as erin: give erin a login in target.gateway.users';

/** The fixture run with one more check that the target could not perform. */
function withNotPossible(): RunResults {
  const r = loadResults('new.json');
  const c: CheckResult = {
    id: 'im-from-erin',
    kind: 'im-from-sfb',
    title: 'erin (SfB) IMs alice',
    phase: r.phases[0]!.name,
    met: false,
    durationMs: 1,
    expectation: 'pass',
    outcome: { status: 'fail', detail: { check: 'not-possible' }, text: REASON },
    expected: 'pass',
    actual: `not possible: ${REASON}`,
    evidence: [],
    notPossible: REASON,
    references: ['RFC 7572 section 6 (SIP to XMPP, page mode)'],
  };
  r.phases[0]!.checks.push(c);
  r.summary.checks++;
  r.summary.notPossible = 1;
  return r;
}

describe('the "not possible" verdict', () => {
  it('reads back from results.json, and older files without it still read', () => {
    const r = withNotPossible();
    expect(parseResults(JSON.stringify(r), 'r.json').summary.notPossible).toBe(1);
    const old = loadResults('new.json');
    delete old.summary.notPossible;
    expect(() => parseResults(JSON.stringify(old), 'old.json')).not.toThrow();
  });

  it('is its own mark and line in the console, and does not fail the run by itself', () => {
    const r = withNotPossible();
    const c = r.phases[0]!.checks.at(-1)!;
    expect(formatCheckLine(c, { color: false })).toBe(`  ○ im-from-erin  erin (SfB) IMs alice  not possible: ${REASON}  (1 ms)`);
    expect(formatVerdictMatrix(r, { color: false })).toContain('○');
    expect(formatSummary(r, { color: false })).toContain('1 not possible on this target');
    // The fixture has unmet checks, one of them a harness failure (exit 2); alone, a not-possible check does not fail.
    expect(exitCodeOf(r)).toBe(2);
    const clean = {
      ...r,
      summary: { ...r.summary, unmet: 0 },
      phases: r.phases.map((p) => ({ ...p, checks: p.checks.filter((c) => c.met || c.notPossible !== undefined) })),
    };
    expect(exitCodeOf(clean)).toBe(0);
    expect(formatSummary(clean, { color: false })).toContain(
      'exit 0: every check that was possible met its expectation (1 not possible, not counted as failed)',
    );
  });

  it('is <skipped/> in JUnit, counted apart from failures and errors', () => {
    const junit = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(renderJunit(withNotPossible()));
    const suite = [junit.testsuites.testsuite].flat()[0];
    const cases = [suite.testcase].flat();
    const skipped = cases.find((t: { name: string }) => t.name.startsWith('im-from-erin'));
    expect(skipped.skipped).toEqual({ message: `not possible: ${REASON}` });
    expect(skipped.name).toBe('im-from-erin');
    expect(skipped.failure).toBeUndefined();
    expect(skipped.error).toBeUndefined();
    expect(suite.skipped).toBe('1');
  });

  it('has its badge, reason and references in the HTML report', () => {
    const html = renderHtml(withNotPossible());
    expect(html).toContain('<span class="badge not-possible">not possible</span>');
    expect(html).toContain(`<tr><th>not possible</th><td>${REASON}</td></tr>`);
    expect(html).toContain('<li>RFC 7572 section 6 (SIP to XMPP, page mode)</li>');
    expect(html).toContain('1 not possible</strong>');
  });

  it('is a regression when a check that was met becomes not possible', () => {
    const base = withNotPossible();
    const met = base.phases[0]!.checks.at(-1)!;
    Object.assign(met, { met: true, actual: 'pass', outcome: { status: 'pass' } });
    delete met.notPossible;
    const c = compareResults(base, withNotPossible());
    expect(c.regressed.map((x) => x.id)).toContain('im-from-erin');
    expect(renderComparisonText(c, { color: false })).toContain(`now not possible: ${REASON}`);
  });
});
