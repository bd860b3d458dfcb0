import { checkKindOf, describeExpectation, type Check } from '../checks/index.js';
import { Redactor } from '../infra/redact.js';
import { signalReceived } from '../infra/signals.js';
import { TeardownStack } from '../infra/teardown.js';
import type { RuntimeChoice, SetupProgress } from '../prosody/types.js';
import { ReporterMux, type Reporter } from '../report/reporter.js';
import type { CheckResult, PhaseResult, RunResults, SuitePosition } from '../report/results.js';
import type { ResolvedSuite } from '../scenario/resolve.js';
import { stepKindOf } from '../steps/index.js';
import { startTarget } from '../targets/index.js';
import { applyStep } from './apply-step.js';
import { runCheck } from './run-check.js';

export interface RunOptions {
  runtime: RuntimeChoice;
  baseImage?: string;
  /** Run the checks of these phases only (the steps of every phase up to the last one still apply). */
  phases?: string[];
  /** Run only the checks whose id or title contains this text. */
  grep?: string;
  /** Where the run's events go: the live view, the result files, or a reporter of your own. */
  reporters?: Reporter[];
  /** Manual steps count as done without asking (non-interactive runs). */
  assumeDone?: boolean;
}

/** A step that failed, or a signal: the run stops, and its results say why. */
class RunStopped extends Error {}

/**
 * Runs one suite: starts its target, applies each phase's steps and runs its checks, telling the
 * reporters as it goes, and tears everything down whatever happens (also on Ctrl-C: the results
 * then say `interrupted` and keep what was measured). It writes nothing itself.
 */
export async function runSuite(suite: ResolvedSuite, opts: RunOptions): Promise<RunResults> {
  const started = performance.now();
  const results: RunResults = {
    format: 'xfed-results/1',
    suite: { name: suite.name, ...(suite.description ? { description: suite.description } : {}), file: suite.file },
    target: suite.target.kind,
    runtime: opts.runtime === 'container' ? 'container' : 'process',
    startedAt: new Date().toISOString(),
    durationMs: 0,
    setupMs: 0,
    status: 'running',
    summary: { phases: suite.phases.length, checks: 0, met: 0, unmet: 0, notPossible: 0 },
    phases: [],
  };
  const reporter = new ReporterMux(opts.reporters ?? []);
  // The passwords of a real gateway's users: nothing the run keeps or reports may show them.
  const redactor = new Redactor();
  // A signal tears the target down under the running check; whatever fails after it was caused
  // by the interruption, and the results must say so. Nothing new starts once it came.
  const stopIfSignalled = () => {
    const signal = signalReceived();
    if (signal) throw new RunStopped(`interrupted by ${signal}`);
  };
  // Once, whoever comes first: the run's end, or a signal's teardown. Both wait for the same
  // reporting, so a signal cannot exit the process while the end of the run is still written.
  let finishing: Promise<void> | undefined;
  const finish = (status: RunResults['status'], reason?: string) =>
    (finishing ??= (async () => {
      const signal = signalReceived();
      results.status = signal ? 'interrupted' : status;
      const why = signal ? `interrupted by ${signal}` : reason;
      if (why) results.reason = why;
      results.finishedAt = new Date().toISOString();
      results.durationMs = performance.now() - started;
      listNotRun(results, suite, opts, why ?? 'the run ended before it', redactor);
      await reporter.onEnd(results);
    })());
  // What the target says outside any check, kept in the results and told as it comes, in order.
  let noticed = Promise.resolve();
  const notice = (text: string) => {
    const said = { at: new Date().toISOString(), text: redactor.text(text) };
    (results.notices ??= []).push(said);
    noticed = noticed.then(() => reporter.onNotice(said, results));
  };
  // Registered first, so it runs last: after the target is gone, also on SIGINT/SIGTERM.
  const run = new TeardownStack(`suite ${suite.name}`);
  run.defer('the results of the run', () => finish('interrupted', 'interrupted before the end of the run'));
  await reporter.onBegin(results);

  try {
    const progress = (p: SetupProgress) => void reporter.onProgress(p, results);
    const target = await startTarget(suite, { runtime: opts.runtime, baseImage: opts.baseImage, redactor, notice, progress });
    run.defer('the target', () => target.stop());
    results.runtime = target.runtime;
    results.setupMs = performance.now() - started;
    await reporter.onSetup(results);

    const last = lastPhaseToRun(suite, opts);
    for (const [index, phase] of suite.phases.entries()) {
      if (index > last) break;
      const result: PhaseResult = { name: phase.name, ...(phase.description ? { description: phase.description } : {}), steps: [], checks: [] };
      results.phases.push(result);
      await reporter.onPhase(result, index, results);
      for (const [i, step] of (phase.steps ?? []).entries()) {
        stopIfSignalled();
        const outcome = {
          ...redactor.deep(await applyStep(target, step, i, { assumeDone: opts.assumeDone })),
          ...positionOf(suite, ['phases', index, 'steps', i]),
        };
        // What ends under a signal's teardown was ended by it: the results say interrupted, and list it as not run.
        stopIfSignalled();
        result.steps.push(outcome);
        await reporter.onStep(outcome, result, results);
        // A step that could not be applied leaves the rehearsal in an unknown state.
        if (!outcome.ok) throw new RunStopped(`step ${i + 1} of phase ${phase.name} (${outcome.description}) failed: ${outcome.error}`);
      }
      const phaseRows = result.steps.flatMap((s) => s.behaviours ?? []);
      for (const [ci, check] of (phase.checks ?? []).entries()) {
        const filtered = filteredOut(suite, opts, index, ci);
        if (filtered) {
          result.checks.push(redactor.deep(notRun(suite, index, ci, filtered)));
          results.summary.skipped = (results.summary.skipped ?? 0) + 1;
          continue;
        }
        stopIfSignalled();
        const title = titleOf(suite, check);
        await reporter.onCheckBegin({ id: check.id, kind: check.kind, title }, result, results);
        const { harnessFault, ...judged } = redactor.deep(await runCheck(target, suite, phase.name, check, title, phaseRows));
        stopIfSignalled();
        const checkResult = { ...judged, ...positionOf(suite, ['phases', index, 'checks', ci]) };
        result.checks.push(checkResult);
        results.summary.checks++;
        if (checkResult.met) results.summary.met++;
        else if (checkResult.notPossible !== undefined) results.summary.notPossible = (results.summary.notPossible ?? 0) + 1;
        else {
          results.summary.unmet++;
          if (checkResult.failure === 'harness') results.summary.harness = (results.summary.harness ?? 0) + 1;
        }
        await reporter.onCheckEnd(checkResult, result, results);
        // With a part of xfed's own broken, every later check would fail for the same reason, each
        // after its full bound: the run stops and says why.
        if (harnessFault) throw new RunStopped(`xfed itself broke during check ${check.id}: ${harnessFault}; the remaining checks were not run`);
      }
    }
    await finish('complete');
    await run.close();
    await noticed;
  } catch (err) {
    await finish('failed', redactor.text((err as Error).message.split('\n')[0]!));
    await run.close().catch(() => undefined);
    await noticed;
    if (!(err instanceof RunStopped)) throw err;
  }
  return results;
}

/** The index of the last phase the run goes to: with `--phase`, the last one selected (the steps before it apply). */
function lastPhaseToRun(suite: ResolvedSuite, opts: RunOptions): number {
  if (!opts.phases?.length) return suite.phases.length - 1;
  return Math.max(...suite.phases.map((p, i) => (opts.phases!.includes(p.name) ? i : -1)));
}

/** Why the check `ci` of phase `pi` is not to run at all (`--phase`, `--grep`), or undefined. */
function filteredOut(suite: ResolvedSuite, opts: RunOptions, pi: number, ci: number): string | undefined {
  const phase = suite.phases[pi]!;
  if (opts.phases?.length && !opts.phases.includes(phase.name)) return `filtered out by --phase ${opts.phases.join(',')}`;
  const check = phase.checks![ci]!;
  if (opts.grep && !`${check.id} ${titleOf(suite, check)}`.toLowerCase().includes(opts.grep.toLowerCase())) return `filtered out by --grep ${opts.grep}`;
  return undefined;
}

const titleOf = (suite: ResolvedSuite, check: Check): string => check.title ?? checkKindOf(check).title(check, suite);

/** The suite file and line of a part of the suite, when the suite was read from a file. */
function positionOf(suite: ResolvedSuite, path: readonly (string | number)[]): SuitePosition {
  return suite.locate ? { file: suite.file, line: suite.locate(path).line } : {};
}

/** The result of a check that did not run: neither met nor failed, with why. */
function notRun(suite: ResolvedSuite, pi: number, ci: number, why: string): CheckResult {
  const phase = suite.phases[pi]!;
  const check = phase.checks![ci]!;
  const kind = checkKindOf(check);
  const expectation = check.expect ?? kind.defaultExpectation;
  return {
    id: check.id,
    kind: check.kind,
    title: titleOf(suite, check),
    phase: phase.name,
    ...positionOf(suite, ['phases', pi, 'checks', ci]),
    met: false,
    durationMs: 0,
    expectation,
    // Readers of files written before `skipped` existed see an outcome in their own vocabulary.
    outcome: { status: 'fail', detail: { check: 'not-run' }, text: why },
    expected: describeExpectation(expectation),
    actual: `not run: ${why}`,
    evidence: [],
    skipped: why,
  };
}

/**
 * Completes the results of an ended run with every phase, step and check of the suite it did not
 * reach, each with why: a filter, or `stopped` (why the run ended early), so every report lists the
 * whole suite and a CI's test count does not change from run to run.
 */
function listNotRun(results: RunResults, suite: ResolvedSuite, opts: RunOptions, stopped: string, redactor: Redactor): void {
  const last = lastPhaseToRun(suite, opts);
  suite.phases.forEach((phase, pi) => {
    let result = results.phases[pi];
    if (!result) {
      result = { name: phase.name, ...(phase.description ? { description: phase.description } : {}), steps: [], checks: [] };
      results.phases.push(result);
    }
    const stepWhy = pi > last ? `not needed: --phase ${opts.phases!.join(',')} selects no later phase` : `the run stopped before it: ${stopped}`;
    for (const [i, step] of (phase.steps ?? []).entries()) {
      if (i < result.steps.length) continue;
      const description = stepKindOf(step).describe(step);
      result.steps.push(
        redactor.deep({
          index: i,
          action: step.action,
          description,
          ok: false,
          durationMs: 0,
          ...positionOf(suite, ['phases', pi, 'steps', i]),
          skipped: stepWhy,
        }),
      );
    }
    const ran = new Map(result.checks.map((c) => [c.id, c]));
    let added = 0;
    result.checks = (phase.checks ?? []).map((check, ci) => {
      const had = ran.get(check.id);
      if (had) return had;
      added++;
      return redactor.deep(notRun(suite, pi, ci, filteredOut(suite, opts, pi, ci) ?? `the run stopped before it: ${stopped}`));
    });
    if (added > 0) results.summary.skipped = (results.summary.skipped ?? 0) + added;
  });
}
