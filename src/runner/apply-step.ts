import { withDeadline } from '../infra/deadline.js';
import type { StepResult } from '../report/results.js';
import { stepKindOf, type OperatorOptions, type Step } from '../steps/index.js';
import type { SuiteTarget } from '../targets/target.js';

/** The bound on one step that is not an operator's (an Edge restart in a container included). */
const STEP_BOUND_MS = 90_000;

/** Applies one step and says how it went; a step that fails says why in one line, it never throws. */
export async function applyStep(target: SuiteTarget, step: Step, index: number, operator: OperatorOptions): Promise<StepResult> {
  const started = performance.now();
  const kind = stepKindOf(step);
  const description = kind.describe(step);
  const mark = target.behaviours?.mark();
  // The catalogue rows the step applied (the simulation only).
  const applied = () => (target.behaviours && mark !== undefined ? { behaviours: target.behaviours.citedSince(mark) } : {});
  try {
    target.flow.record({ from: 'sfb-user', to: 'sfb-user', protocol: 'control', label: `step: ${description}`, wire: JSON.stringify(step) });
    const applying = kind.apply(step, { target, operator });
    const output = kind.selfBounded ? await applying : await withDeadline(applying, STEP_BOUND_MS, `the step ${step.action}`);
    // Nobody confirmed it: every report says so rather than "ok".
    const assumed = step.action === 'manual' && operator.assumeDone ? { assumedDone: true } : {};
    return {
      index,
      action: step.action,
      description,
      ok: true,
      durationMs: performance.now() - started,
      ...(output ? { output } : {}),
      ...assumed,
      ...applied(),
    };
  } catch (err) {
    return {
      index,
      action: step.action,
      description,
      ok: false,
      durationMs: performance.now() - started,
      error: (err as Error).message.split('\n')[0]!,
    };
  }
}
