import { describe, expect, it } from '@jest/globals';
import { compareResults } from '../../../src/report/compare.js';
import { renderComparisonText } from '../../../src/report/compare-render.js';
import { exitCodeOf, formatCheckLine, formatStepLine, formatSummary, formatVerdictMatrix } from '../../../src/report/console.js';
import { runStatus } from '../../../src/report/format.js';
import { renderHtml } from '../../../src/report/html.js';
import { parseResults } from '../../../src/report/read-results.js';
import type { RunResults, StepResult } from '../../../src/report/results.js';
import { loadResults } from '../../fixtures/results/load.js';
import { asNotRun } from '../../helpers/not-run.js';

const plain = { color: false };
const STOPPED = 'the run stopped before it: step 1 of phase new-edge (replace-edge) failed: the Edge did not come back';

/** The fixture run, all met, stopped by the first step of its last phase. */
function stopped(): RunResults {
  const r = loadResults('base.json');
  for (const c of r.phases.flatMap((p) => p.checks)) {
    Object.assign(c, { met: true });
    delete c.failure;
    delete c.error;
  }
  const last = r.phases[2]!;
  last.steps[0] = { ...last.steps[0]!, ok: false, error: 'the Edge did not come back' };
  last.steps[1] = { ...last.steps[1]!, ok: false, durationMs: 0, skipped: STOPPED };
  last.checks = last.checks.map((c) => asNotRun(c, STOPPED));
  r.status = 'failed';
  r.reason = STOPPED.replace('the run stopped before it: ', '');
  r.summary = { phases: 3, checks: 8, met: 8, unmet: 0, skipped: 3 };
  return r;
}

describe('checks and steps that did not run', () => {
  it('read as not run in the console, apart from met and failed, with the reason', () => {
    const r = stopped();
    expect(formatCheckLine(r.phases[2]!.checks[0]!, plain)).toMatch(new RegExp(`^  - \\S+  .*  not run: ${STOPPED.replace(/[()]/g, '\\$&')}  \\(0 ms\\)$`));
    expect(formatStepLine(r.phases[2]!.steps[1]!, plain)).toBe(`  - srv-record  ${r.phases[2]!.steps[1]!.description}  not applied: ${STOPPED}`);
    const matrix = formatVerdictMatrix(r, plain).split('\n');
    expect(matrix[3]).toMatch(/^ {2}new-edge +- - - +3 not run$/);
    expect(formatSummary(r, plain).split('\n')[0]).toMatch(/^run failed: 8 of 8 checks met, 0 unmet, 3 not run in 3 phases; /);
    expect(exitCodeOf(r)).toBe(1);
  });

  it('a step passed by --assume-done says so in the console and the HTML report, not just "ok"', () => {
    const step: StepResult = {
      index: 0,
      action: 'manual',
      description: 'manual: Move-CsUser judy',
      ok: true,
      durationMs: 0.2,
      output: 'assumed done (--assume-done)',
      assumedDone: true,
    };
    expect(formatStepLine(step, plain)).toBe('  ? manual  manual: Move-CsUser judy  assumed done (--assume-done), not confirmed by an operator  (0.2 ms)');
    const r = loadResults('base.json');
    r.phases[1]!.steps = [step];
    const html = renderHtml(r);
    expect(html).toContain('<span class="badge assumed" title="passed by --assume-done: no operator confirmed it">assumed done</span> <code>manual</code>');
    expect(html).not.toMatch(/<span class="badge ok">ok<\/span> <code>manual<\/code>/);
  });

  it('are listed in the HTML report with why, in a cell of their own, and the badge is red', () => {
    const html = renderHtml(stopped());
    expect(html).toContain('<span class="badge failed">failed</span>');
    expect(html).toMatch(/<a class="cell skipped" href="#c-2-0" title="[^"]*\(not run: the run stopped before it: step 1 of phase new-edge/);
    expect(html).toContain('<span class="badge skipped">not run</span>');
    expect(html).toContain(`<li class="skipped"><span class="badge skipped">not applied</span> <code>srv-record</code>`);
    expect(html).toContain('<a href="#p-2">new-edge</a> <span class="muted">3 not run</span>');
    expect(html).toContain('<a href="#p-1">move-judy</a> <span class="muted">3/3</span>');
    expect(html).toContain('The checks it did not reach are listed as not run.');
  });

  it('a complete run wears green only when nothing failed', () => {
    const r = loadResults('base.json');
    expect(runStatus(r)).toEqual({ text: 'complete, 2 unmet', ok: false });
    expect(renderHtml(r)).toContain('<span class="badge failed">complete, 2 unmet</span>');
    const clean = stopped();
    clean.status = 'complete';
    expect(runStatus(clean)).toEqual({ text: 'complete', ok: true });
    expect(renderHtml(clean)).toContain('<span class="badge complete">complete</span>');
  });

  it('are neither a regression nor a fix in a comparison', () => {
    const base = stopped();
    base.status = 'complete';
    const next = stopped();
    const c = compareResults(base, next);
    // In base the last phase was not run either; run it in base only, met and unmet.
    const ran = loadResults('base.json');
    const fromBase = compareResults(ran, next);
    const ids = next.phases[2]!.checks.map((x) => x.id);
    expect(ran.phases[2]!.checks.some((x) => x.met)).toBe(true);
    expect(fromBase.regressed.filter((x) => ids.includes(x.id))).toEqual([]);
    expect(fromBase.notRun.map((x) => x.id)).toEqual(ids);
    expect(fromBase.hasRegression).toBe(false);
    expect(compareResults(next, ran).fixed.filter((x) => ids.includes(x.id))).toEqual([]);
    expect(c.notRun).toHaveLength(3);
    const text = renderComparisonText(fromBase, plain);
    expect(text).toContain('NOT RUN (neither a regression nor a fix) (3)');
    expect(text).toContain(`next: not run: ${STOPPED}`);
  });

  it('read back from results.json, with file and line; files without them still read', () => {
    const r = stopped();
    Object.assign(r.phases[0]!.checks[0]!, { file: 'suite.yaml', line: 12 });
    Object.assign(r.phases[0]!.steps[0] ?? {}, {});
    const back = parseResults(JSON.stringify(r), 'r.json');
    expect(back.phases[2]!.checks[0]!.skipped).toBe(STOPPED);
    expect(back.phases[2]!.steps[1]!.skipped).toBe(STOPPED);
    expect(back.phases[0]!.checks[0]).toMatchObject({ file: 'suite.yaml', line: 12 });
    expect(back.summary.skipped).toBe(3);
    expect(() => parseResults(JSON.stringify({ ...r, phases: [{ ...r.phases[0], checks: [{ ...r.phases[0]!.checks[0], line: 'x' }] }] }), 'r.json')).toThrow(
      'field phases[0].checks[0].line',
    );
    expect(parseResults(JSON.stringify(loadResults('base.json')), 'old.json').phases[0]!.checks[0]!.skipped).toBeUndefined();
  });
});
