import path from 'node:path';
import { TimeoutError } from '../errors.js';
import { withDeadline } from '../infra/deadline.js';
import { Redactor } from '../infra/redact.js';
import { targetOf } from '../scenario/target-spec.js';
import { TeardownStack } from '../infra/teardown.js';
import type { RuntimeChoice } from '../prosody/types.js';
import type { CheckResult, PhaseResult, RunResults, StepResult } from '../report/results.js';
import { durationMs, type Check, type Step, type Suite } from '../scenario/schema.js';
import { CHECKS, handlerOf } from '../checks/index.js';
import { describeExpectation, describeOutcome, expectationMet, type CheckContext } from '../checks/check.js';
import { startTarget, type SuiteTarget } from '../targets/target.js';
import { isOperatorStep, runOperatorStep, type OperatorOptions } from './operator-steps.js';
import { ResultsWriter } from './results-writer.js';

export interface RunOptions {
  runtime: RuntimeChoice;
  baseImage?: string;
  /** Run the checks of these phases only (the steps of every phase up to the last one still apply). */
  phases?: string[];
  /** Run only the checks whose id or title contains this text. */
  grep?: string;
  outDir: string;
  listener?: RunListener;
  /** Manual steps count as done without asking (non-interactive runs). */
  assumeDone?: boolean;
  /** Where the suite's relative file names start. Default: the suite file's directory. */
  baseDir?: string;
}

/** What the live view hears, in order. */
export interface RunListener {
  setup?(ms: number, runtime: string): void;
  phase?(phase: PhaseResult, index: number, total: number): void;
  step?(step: StepResult): void;
  checkStarted?(id: string, title: string): void;
  check?(result: CheckResult): void;
}

const DEFAULT_CHECK_TIMEOUT_MS = 5_000;

/**
 * Runs one suite: starts the topology, applies each phase's steps and runs its checks, writing
 * the results after every step and check, and tears everything down whatever happens (also on
 * Ctrl-C: the results then say `interrupted` and keep what was measured).
 */
export async function runSuite(suite: Suite, file: string, opts: RunOptions): Promise<RunResults> {
  const started = performance.now();
  const results: RunResults = {
    format: 'xfed-results/1',
    suite: { name: suite.suite, ...(suite.description ? { description: suite.description } : {}), file },
    target: targetOf(suite).kind,
    runtime: opts.runtime === 'container' ? 'container' : 'process',
    startedAt: new Date().toISOString(),
    durationMs: 0,
    setupMs: 0,
    status: 'running',
    summary: { phases: suite.phases.length, checks: 0, met: 0, unmet: 0 },
    phases: [],
  };
  const writer = new ResultsWriter(opts.outDir);
  // The passwords of a real gateway's users: nothing the run keeps or prints may show them.
  const redactor = new Redactor();
  // A signal tears the topology down under the running check; whatever fails after it was
  // caused by the interruption, and the results must say so.
  let signalled: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => (signalled ??= signal);
  // Nothing new starts once a signal is tearing the target down under the run.
  const stopIfSignalled = () => {
    if (signalled) throw new StepFailed(`interrupted by ${signalled}`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // Once, whoever comes first: the run's end, or a signal's teardown. Both wait for the same
  // writing, so a signal cannot exit the process while the end of the run is still writing.
  let finishing: Promise<void> | undefined;
  const finish = (status: RunResults['status'], reason?: string) =>
    (finishing ??= (async () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      results.status = signalled ? 'interrupted' : status;
      if (signalled) reason = `interrupted by ${signalled}`;
      if (reason) results.reason = reason;
      results.finishedAt = new Date().toISOString();
      results.durationMs = performance.now() - started;
      await writer.finish(results);
    })());
  // Registered first, so it runs last: after the topology is gone, also on SIGINT/SIGTERM.
  const run = new TeardownStack(`suite ${suite.suite}`);
  run.defer('the results of the run', () => finish('interrupted', 'interrupted before the end of the run'));
  await writer.write(results);

  try {
    const target = await startTarget(suite, {
      runtime: opts.runtime,
      ...(opts.baseImage ? { baseImage: opts.baseImage } : {}),
      baseDir: opts.baseDir ?? path.dirname(path.resolve(file)),
      redactor,
    });
    run.defer('the target', () => target.stop());
    results.runtime = target.runtime;
    results.setupMs = performance.now() - started;
    opts.listener?.setup?.(results.setupMs, target.runtime);

    const selected = (name: string) => !opts.phases?.length || opts.phases.includes(name);
    const last = opts.phases?.length ? Math.max(...suite.phases.map((p, i) => (selected(p.name) ? i : -1))) : suite.phases.length - 1;
    for (const [index, phase] of suite.phases.entries()) {
      if (index > last) break;
      const result: PhaseResult = { name: phase.name, ...(phase.description ? { description: phase.description } : {}), steps: [], checks: [] };
      results.phases.push(result);
      opts.listener?.phase?.(result, index, suite.phases.length);
      for (const [i, step] of (phase.steps ?? []).entries()) {
        stopIfSignalled();
        const outcome = redactor.deep(await applyStep(target, step, i, { ...(opts.assumeDone ? { assumeDone: true } : {}) }));
        result.steps.push(outcome);
        opts.listener?.step?.(outcome);
        await writer.write(results);
        // A step that could not be applied leaves the rehearsal in an unknown state.
        if (!outcome.ok) throw new StepFailed(`step ${i + 1} of phase ${phase.name} (${outcome.description}) failed: ${outcome.error}`);
      }
      if (!selected(phase.name)) continue;
      for (const check of phase.checks ?? []) {
        stopIfSignalled();
        const handler = handlerOf(check);
        const title = check.title ?? handler.title(check as never, suite);
        if (opts.grep && !`${check.id} ${title}`.toLowerCase().includes(opts.grep.toLowerCase())) continue;
        opts.listener?.checkStarted?.(check.id, title);
        const checkResult = redactor.deep(await runCheck(target, suite, phase.name, check, title));
        result.checks.push(checkResult);
        results.summary.checks++;
        results.summary[checkResult.met ? 'met' : 'unmet']++;
        opts.listener?.check?.(checkResult);
        await writer.write(results);
      }
    }
    await finish('complete');
    await run.close();
  } catch (err) {
    await finish('failed', redactor.text((err as Error).message.split('\n')[0]!));
    await run.close().catch(() => undefined);
    if (!(err instanceof StepFailed)) throw err;
  }
  return results;
}

/** A step that failed: the run stops, and its results say why. */
class StepFailed extends Error {}

async function applyStep(target: SuiteTarget, step: Step, index: number, operator: OperatorOptions): Promise<StepResult> {
  const started = performance.now();
  try {
    if (isOperatorStep(step)) {
      // Steps done by people or hooks are the runner's, whatever the target.
      const { description, output } = await runOperatorStep(step, operator);
      target.flow.record({ from: 'sfb-user', to: 'sfb-user', protocol: 'control', label: `step: ${description}`, wire: output });
      return { index, action: step.action, description, ok: true, durationMs: performance.now() - started, ...(output ? { output } : {}) };
    }
    const description = await withDeadline(target.apply(step), 90_000, `the step ${step.action}`);
    return { index, action: step.action, description, ok: true, durationMs: performance.now() - started };
  } catch (err) {
    return { index, action: step.action, description: step.action, ok: false, durationMs: performance.now() - started, error: (err as Error).message.split('\n')[0]! };
  }
}

async function runCheck(target: SuiteTarget, suite: Suite, phase: string, check: Check, title: string): Promise<CheckResult> {
  const handler = CHECKS[check.kind];
  const expectation = check.expect ?? handler.defaultExpectation ?? 'pass';
  const timeoutMs = check.timeout !== undefined ? durationMs(check.timeout) : DEFAULT_CHECK_TIMEOUT_MS;
  const ctx: CheckContext = { target, suite, timeoutMs };
  const mark = target.flow.mark();
  const started = performance.now();
  const base = { id: check.id, kind: check.kind, title, phase, expectation, expected: describeExpectation(expectation) };
  try {
    // The check's own waits are bounded by timeoutMs; this bounds the check as a whole.
    const run = await withDeadline(handlerOf(check).run(check as never, ctx), timeoutMs * 4 + 5_000, `check ${check.id}`);
    const durationMs = performance.now() - started;
    return {
      ...base,
      met: expectationMet(expectation, run.outcome),
      durationMs,
      ...(run.latencyMs !== undefined ? { latencyMs: run.latencyMs } : {}),
      outcome: run.outcome,
      actual: describeOutcome(run.outcome),
      evidence: target.flow.since(mark),
    };
  } catch (err) {
    const hint = err instanceof TimeoutError ? target.diagnose?.() : undefined;
    const message = `${(err as Error).message.split('\n')[0]!}${hint ? ` (${hint})` : ''}`;
    return {
      ...base,
      met: false,
      durationMs: performance.now() - started,
      outcome: { status: 'fail', detail: { error: 'harness' }, text: message },
      actual: `could not run: ${message}`,
      evidence: target.flow.since(mark),
      error: message,
    };
  }
}
