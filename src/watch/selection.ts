import { checkKindOf, describeExpectation, type Check } from '../checks/index.js';
import { XfedError } from '../errors.js';
import type { ResolvedSuite } from '../scenario/resolve.js';
import { didYouMean } from '../scenario/suggest.js';
import type { WatchedCheck } from './records.js';

/** A check a watch repeats: the suite's check, where it is, and how the log names it. */
export interface Watched {
  check: Check;
  phase: string;
  phaseIndex: number;
  info: WatchedCheck;
}

/** The checks a watch repeats: by id (`--checks`), a phase's (`--phase`), or the last phase's. */
export function selectChecks(suite: ResolvedSuite, o: { checks?: readonly string[]; phase?: string }): Watched[] {
  const all: Watched[] = suite.phases.flatMap((phase, pi) =>
    (phase.checks ?? []).map((check, ci) => {
      const kind = checkKindOf(check);
      const position = suite.locate ? { file: suite.file, line: suite.locate(['phases', pi, 'checks', ci]).line } : {};
      return {
        check,
        phase: phase.name,
        phaseIndex: pi,
        info: {
          id: check.id,
          kind: check.kind,
          title: check.title ?? kind.title(check, suite),
          phase: phase.name,
          expected: describeExpectation(check.expect ?? kind.defaultExpectation),
          ...position,
        },
      };
    }),
  );
  if (o.checks?.length && o.phase) throw new XfedError('give --checks or --phase, not both');
  if (o.checks?.length) {
    const ids = all.map((w) => w.info.id);
    const unknown = o.checks.filter((id) => !ids.includes(id));
    if (unknown.length > 0) throw new XfedError(`--checks: ${unknown.map((id) => `no check '${id}' in ${suite.file}${didYouMean(id, ids)}`).join('; ')}`);
    return [...new Set(o.checks)].map((id) => all.find((w) => w.info.id === id)!);
  }
  const phases = suite.phases.map((p) => p.name);
  const phase = o.phase ?? [...suite.phases].reverse().find((p) => (p.checks ?? []).length > 0)?.name;
  if (o.phase && !phases.includes(o.phase)) throw new XfedError(`--phase: no phase '${o.phase}' in ${suite.file}${didYouMean(o.phase, phases)}`);
  const chosen = all.filter((w) => w.phase === phase);
  if (chosen.length === 0) throw new XfedError(`${suite.file}: ${phase ? `the phase ${phase} has no checks` : 'the suite has no checks'} to watch`);
  return chosen;
}
