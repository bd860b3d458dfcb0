import { checkKindOf, describeExpectation, describeOutcome, expectationMet, type Check } from '../checks/index.js';
import { NotPossible, TimeoutError } from '../errors.js';
import { withDeadline } from '../infra/deadline.js';
import { durationMs } from '../infra/format.js';
import type { CheckResult } from '../report/results.js';
import type { SuiteTarget, TargetSetup } from '../targets/target.js';

const DEFAULT_CHECK_TIMEOUT_MS = 5_000;

/**
 * Runs one check and judges it against its expectation, with the messages it caused as evidence.
 * What the target cannot perform is "not possible"; what the harness could not run (a wait that
 * timed out outside the protocol, a bug) is "could not run"; neither throws.
 */
export async function runCheck(
  target: SuiteTarget,
  setup: TargetSetup,
  phase: string,
  check: Check,
  title: string,
  /** The rows its phase's steps applied: the condition the check is there to observe. */
  phaseRows: readonly string[] = [],
): Promise<CheckResult> {
  const kind = checkKindOf(check);
  const expectation = check.expect ?? kind.defaultExpectation;
  const timeoutMs = check.timeout !== undefined ? durationMs(check.timeout) : DEFAULT_CHECK_TIMEOUT_MS;
  const mark = target.flow.mark();
  const cited = target.behaviours?.mark();
  // The catalogue rows the outcome rests on: what the simulation applied while the check ran.
  const restsOn = () => (target.behaviours && cited !== undefined ? { behaviours: [...new Set([...target.behaviours.since(cited), ...phaseRows])] } : {});
  const started = performance.now();
  const base = {
    id: check.id,
    kind: check.kind,
    title,
    phase,
    expectation,
    expected: describeExpectation(expectation),
    ...(kind.references.length > 0 ? { references: [...kind.references] } : {}),
  };
  try {
    // The check's own waits are bounded by timeoutMs; this bounds the check as a whole.
    const run = await withDeadline(kind.run(check, { target, setup, timeoutMs }), timeoutMs * 4 + 5_000, `check ${check.id}`);
    return {
      ...base,
      met: expectationMet(expectation, run.outcome),
      durationMs: performance.now() - started,
      ...(run.latencyMs !== undefined ? { latencyMs: run.latencyMs } : {}),
      outcome: run.outcome,
      actual: describeOutcome(run.outcome),
      evidence: target.flow.since(mark),
      ...restsOn(),
    };
  } catch (err) {
    const message = (err as Error).message.split('\n')[0]!;
    if (err instanceof NotPossible) {
      return {
        ...base,
        met: false,
        durationMs: performance.now() - started,
        outcome: { status: 'fail', detail: { check: 'not-possible' }, text: message },
        actual: `not possible: ${message}`,
        evidence: target.flow.since(mark),
        ...restsOn(),
        notPossible: message,
      };
    }
    const hint = err instanceof TimeoutError ? target.diagnose() : undefined;
    const reason = `${message}${hint ? ` (${hint})` : ''}`;
    return {
      ...base,
      met: false,
      durationMs: performance.now() - started,
      outcome: { status: 'fail', detail: { error: 'harness' }, text: reason },
      actual: `could not run: ${reason}`,
      evidence: target.flow.since(mark),
      ...restsOn(),
      error: reason,
    };
  }
}
