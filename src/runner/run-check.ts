import { checkKindOf, describeExpectation, describeOutcome, expectationMet, NoAnswer, type Check } from '../checks/index.js';
import { DEFAULT_CHECK_TIMEOUT_MS } from '../checks/check.js';
import { NotPossible } from '../errors.js';
import { withDeadline } from '../infra/deadline.js';
import { durationMs } from '../infra/format.js';
import type { CheckResult, OutcomeJson } from '../report/results.js';
import type { SuiteTarget, TargetSetup } from '../targets/target.js';
import { SessionDropped } from '../xmpp/client.js';

/** The result of a check, with `harnessFault` when xfed's own parts were found broken after it. */
export type JudgedCheck = CheckResult & { harnessFault?: string };

/**
 * Runs one check and judges it against its expectation, with the messages it caused as evidence.
 * What the target cannot perform is "not possible". A check that failed is then the federation's
 * or the harness's: a wait on the system under test that ran out (`NoAnswer`), or a session it
 * ended (`SessionDropped`), is a federation failure with the target's diagnosis, unless xfed's
 * own parts (its partner Prosody, its test DNS) were found broken; anything else (a login that failed, a bug, a check past its own bound) is
 * the harness's. Nothing throws.
 */
export async function runCheck(
  target: SuiteTarget,
  setup: TargetSetup,
  phase: string,
  check: Check,
  title: string,
  /** The rows its phase's steps applied: the condition the check is there to observe. */
  phaseRows: readonly string[] = [],
): Promise<JudgedCheck> {
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
  const judged = (outcome: OutcomeJson, extra: { latencyMs?: number; diagnosis?: string } = {}): CheckResult => {
    const met = expectationMet(expectation, outcome);
    return {
      ...base,
      met,
      ...(met ? {} : { failure: 'federation' as const }),
      durationMs: performance.now() - started,
      ...(extra.latencyMs !== undefined ? { latencyMs: extra.latencyMs } : {}),
      outcome,
      actual: describeOutcome(outcome),
      ...(extra.diagnosis ? { diagnosis: extra.diagnosis } : {}),
      evidence: target.flow.since(mark),
      ...restsOn(),
    };
  };
  try {
    // The check's own waits are bounded by timeoutMs; this bounds the check as a whole.
    const run = await withDeadline(kind.run(check, { target, setup, timeoutMs }), timeoutMs * 4 + 5_000, `check ${check.id}`);
    return judged(run.outcome, {
      ...(run.latencyMs !== undefined ? { latencyMs: run.latencyMs } : {}),
      ...(run.diagnosis ? { diagnosis: run.diagnosis } : {}),
    });
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
    const broken = await harnessFaultOf(target);
    // A session the server ended (a lab Edge restarting under its user) is the server's doing too,
    // unless the server is xfed's own: then `broken` names it.
    if ((err instanceof NoAnswer || err instanceof SessionDropped) && !broken) {
      const diagnosis = target.diagnose();
      return judged({ status: 'fail', detail: { answer: 'none' }, text: message }, diagnosis ? { diagnosis } : {});
    }
    const reason = broken ? `${message} (${broken})` : message;
    return {
      ...base,
      met: false,
      failure: 'harness',
      durationMs: performance.now() - started,
      outcome: { status: 'fail', detail: { error: 'harness' }, text: reason },
      actual: `harness failure: ${reason}`,
      evidence: target.flow.since(mark),
      ...restsOn(),
      error: reason,
      ...(broken ? { harnessFault: broken } : {}),
    };
  }
}

/** What of xfed's own is broken, asked once a check failed; a target that cannot tell says nothing. */
async function harnessFaultOf(target: SuiteTarget): Promise<string | undefined> {
  return withDeadline(target.harnessFault(), 10_000, "the harness's own health").catch(() => undefined);
}
