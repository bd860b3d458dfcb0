import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import { exitCodeOf, formatCheckLine, formatPhaseHeader, formatStepLine, formatSummary, formatVerdictMatrix } from '../../../src/report/console.js';
import type { CheckResult } from '../../../src/report/results.js';
import { loadResults } from '../../fixtures/results/load.js';

const plain = { color: false };
const ESC = '\u001b';
const strip = stripVTControlCharacters;
const check = (phase: number, index: number): CheckResult => loadResults('new.json').phases[phase]!.checks[index]!;

describe('formatCheckLine', () => {
  it('gives a met check its mark, id, title and duration', () => {
    expect(formatCheckLine(check(0, 0), plain)).toBe('  ✓ im-erin  alice IMs erin  (21 ms)');
  });

  it('says what was expected and what came for an unmet check', () => {
    expect(formatCheckLine(check(1, 1), plain)).toBe(
      `  ✗ im-erin-after  alice IMs erin after judy's move  expected pass, got error remote-server-timeout "Component unavailable"  (5.0 s)`,
    );
  });

  it('marks a check the harness could not run with ! and the reason', () => {
    expect(formatCheckLine(check(0, 4), plain)).toBe(
      '  ! im-frank  alice IMs frank  harness failure: could not log in alice@partner.test/xfed-2: stream error conflict (resource already bound)  (5.0 s)',
    );
  });

  it('colours with ANSI only when asked, and never lets data drive the terminal', () => {
    const c = check(1, 1);
    expect(formatCheckLine(c, plain)).not.toContain(ESC);
    const colored = formatCheckLine(c, { color: true });
    expect(colored).toContain(`${ESC}[31m✗${ESC}[39m`);
    expect(strip(colored)).toBe(formatCheckLine(c, plain));
    expect(formatCheckLine(check(0, 0), { color: true })).toContain(`${ESC}[32m✓${ESC}[39m`);
    c.actual = `line one\r\nline two ${ESC}[2J${ESC}]0;title\u0007 bell`;
    expect(formatCheckLine(c, plain)).toContain('got line one line two [2J]0;title bell  (5.0 s)');
  });
});

describe('formatStepLine and formatPhaseHeader', () => {
  it('formats an ok step and a failed one', () => {
    const step = loadResults('new.json').phases[1]!.steps[0]!;
    expect(formatStepLine(step, plain)).toBe('  ▸ move-user  Move-CsUser judy -> sfb2019  (85 ms)');
    expect(formatStepLine({ ...step, ok: false, error: 'no such user: judy' }, plain)).toBe(
      '  ✗ move-user  Move-CsUser judy -> sfb2019  failed: no such user: judy  (85 ms)',
    );
    expect(formatStepLine({ ...step, ok: false }, { color: true })).toContain(`${ESC}[31m`);
  });

  it('numbers phases from the runner’s 0-based index', () => {
    expect(formatPhaseHeader('move-judy', 1, 3, plain)).toBe('phase 2/3: move-judy');
    expect(strip(formatPhaseHeader('move-judy', 1, 3, { color: true }))).toBe('phase 2/3: move-judy');
  });
});

describe('formatVerdictMatrix', () => {
  it('gives one aligned row per phase, a mark per check and the count', () => {
    expect(formatVerdictMatrix(loadResults('new.json'), plain)).toBe(
      ['verdicts', '  baseline   ✓ ✓ ✓ ✓ ! 4/5 met', '  move-judy  ✓ ✗ ✓     2/3 met', '  new-edge   ✗ ✓ ✓     2/3 met'].join('\n'),
    );
    const colored = formatVerdictMatrix(loadResults('new.json'), { color: true });
    expect(strip(colored)).toBe(formatVerdictMatrix(loadResults('new.json'), plain));
    expect(colored).toContain(`${ESC}[33m!${ESC}[39m`);
  });

  it('wraps a phase with many checks and shows a phase without any', () => {
    const r = loadResults('base.json');
    const one = r.phases[0]!.checks[0]!;
    r.phases[0]!.checks = Array.from({ length: 35 }, (_, i) => ({ ...one, id: `c${i}`, met: i !== 31 }));
    r.phases[1]!.checks = [];
    const lines = formatVerdictMatrix(r, plain).split('\n');
    expect(lines[1]).toBe(`  baseline   ${Array(30).fill('✓').join(' ')} 34/35 met`);
    expect(lines[2]).toBe('             ✓ ✗ ✓ ✓ ✓');
    expect(lines[3]).toBe(`  move-judy  ${' '.repeat(59)} no checks`);
  });
});

describe('formatSummary', () => {
  it('counts, times and explains the exit code of a run with unmet checks, the harness failures apart (exit 2)', () => {
    const r = loadResults('new.json');
    expect(formatSummary(r, plain)).toBe(
      'run complete: 8 of 11 checks met, 3 unmet (2 federation failures, 1 harness failure) in 3 phases; 27.5 s (setup 8.2 s)\n' +
        'exit 2: 1 check failed because xfed itself broke (a harness failure, not a verdict on the federation); 2 federation failures besides',
    );
    expect(exitCodeOf(r)).toBe(2);
    const federationOnly = { ...r, phases: r.phases.map((p) => ({ ...p, checks: p.checks.filter((c) => c.error === undefined) })) };
    federationOnly.summary = { ...r.summary, unmet: 2 };
    expect(formatSummary(federationOnly, plain)).toMatch(/^run complete: 8 of 11 checks met, 2 unmet in 3 phases/);
    // Not the green of a run where everything held: the headline is red.
    expect(formatSummary(federationOnly, { color: true })).toMatch(new RegExp(`^\\${ESC}\\[31m\\${ESC}\\[1mrun complete`));
    expect(formatSummary(federationOnly, { color: true })).not.toContain(`${ESC}[32m`);
    expect(formatSummary(federationOnly, plain).split('\n')[1]).toBe('exit 1: 2 checks did not meet the expectation');
    expect(exitCodeOf(federationOnly)).toBe(1);
  });

  it('shows the diagnosis of a federation failure on its line', () => {
    const c = { ...check(1, 1), met: false, failure: 'federation' as const, actual: 'answer none', diagnosis: 'a kill-edge step killed the Edge' };
    expect(formatCheckLine(c, plain)).toContain('got answer none; diagnosis: a kill-edge step killed the Edge');
  });

  it('says exit 0 when every check met', () => {
    const r = loadResults('base.json');
    r.summary = { ...r.summary, met: 11, unmet: 0 };
    expect(formatSummary(r, plain).split('\n')[1]).toBe('exit 0: every check met its expectation');
    expect(exitCodeOf(r)).toBe(0);
    expect(formatSummary(r, { color: true })).toContain(`${ESC}[32m`);
  });

  it('explains a run that stopped early', () => {
    const r = loadResults('base.json');
    r.summary = { ...r.summary, met: 4, unmet: 0, checks: 4 };
    r.status = 'interrupted';
    r.reason = 'SIGINT';
    expect(formatSummary(r, plain).split('\n')[1]).toBe('exit 1: the run was interrupted: SIGINT; the checks it did not reach are listed as not run');
    expect(formatSummary(r, plain)).toMatch(/^run interrupted: 4 of 4 checks met, 0 unmet in 3 phases; /);
    expect(exitCodeOf(r)).toBe(1);
  });
});
