import type { CheckResult } from '../../src/report/results.js';

/**
 * A check's result as the runner records it when the check did not run (run-suite.ts `notRun`):
 * for report tests that start from a real run's results and mark some checks as not reached.
 */
export function asNotRun(c: CheckResult, why: string): CheckResult {
  const { failure: _f, error: _e, diagnosis: _d, latencyMs: _l, ...rest } = c;
  return {
    ...rest,
    met: false,
    durationMs: 0,
    evidence: [],
    outcome: { status: 'fail', detail: { check: 'not-run' }, text: why },
    actual: `not run: ${why}`,
    skipped: why,
  };
}
