import { checkKindOf } from '../checks/index.js';
import { Redactor } from '../infra/redact.js';
import { signalReceived } from '../infra/signals.js';
import { TeardownStack } from '../infra/teardown.js';
import type { RuntimeChoice } from '../prosody/types.js';
import { ReporterMux, type Reporter } from '../report/reporter.js';
import type { PhaseResult, RunResults } from '../report/results.js';
import type { ResolvedSuite } from '../scenario/resolve.js';
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
    const target = await startTarget(suite, { runtime: opts.runtime, baseImage: opts.baseImage, redactor, notice });
    run.defer('the target', () => target.stop());
    results.runtime = target.runtime;
    results.setupMs = performance.now() - started;
    await reporter.onSetup(results);

    const selected = (name: string) => !opts.phases?.length || opts.phases.includes(name);
    const last = opts.phases?.length ? Math.max(...suite.phases.map((p, i) => (selected(p.name) ? i : -1))) : suite.phases.length - 1;
    for (const [index, phase] of suite.phases.entries()) {
      if (index > last) break;
      const result: PhaseResult = { name: phase.name, ...(phase.description ? { description: phase.description } : {}), steps: [], checks: [] };
      results.phases.push(result);
      await reporter.onPhase(result, index, results);
      for (const [i, step] of (phase.steps ?? []).entries()) {
        stopIfSignalled();
        const outcome = redactor.deep(await applyStep(target, step, i, { assumeDone: opts.assumeDone }));
        result.steps.push(outcome);
        await reporter.onStep(outcome, result, results);
        // A step that could not be applied leaves the rehearsal in an unknown state.
        if (!outcome.ok) throw new RunStopped(`step ${i + 1} of phase ${phase.name} (${outcome.description}) failed: ${outcome.error}`);
      }
      if (!selected(phase.name)) continue;
      const phaseRows = result.steps.flatMap((s) => s.behaviours ?? []);
      for (const check of phase.checks ?? []) {
        stopIfSignalled();
        const title = check.title ?? checkKindOf(check).title(check, suite);
        if (opts.grep && !`${check.id} ${title}`.toLowerCase().includes(opts.grep.toLowerCase())) continue;
        await reporter.onCheckBegin({ id: check.id, kind: check.kind, title }, result, results);
        const { harnessFault, ...checkResult } = redactor.deep(await runCheck(target, suite, phase.name, check, title, phaseRows));
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
