import type { FlowEvent } from '../targets/flow.js';
import { OVERALL, type CheckStanding, type CheckState, type ProbeResult, type RecordOf } from './records.js';

type Transition = RecordOf<'transition'>;

/** What a result carries beyond its state, kept on the transition it causes. */
export interface ResultDetails {
  actual?: string;
  diagnosis?: string;
  evidence?: FlowEvent[];
}

/**
 * The standing of every watched check and of the federation as a whole, and the transitions the
 * results cause. Each result changes its check's state at the time it ended; the whole federation
 * is unmet while any check is unmet, in error while none is unmet and one could not be judged, and
 * met otherwise, so it too changes at the result that changed it. Pure: no clock, no I/O.
 */
export class Standings {
  private readonly standings = new Map<string, CheckStanding>();
  private overall: CheckStanding | undefined;
  /** The check whose result began the federation's current outage (as its `*` transition says). */
  private first: string | undefined;

  /** `initial`: the standings a resumed watch read back from its log (the overall one under `*`). */
  constructor(initial: Record<string, CheckStanding> = {}) {
    for (const [check, standing] of Object.entries(initial)) {
      if (check === OVERALL) this.overall = { ...standing };
      else this.standings.set(check, { ...standing });
    }
  }

  /**
   * Takes one result; returns the transitions it caused: its check's, then the federation's. A first
   * result is a transition from `unknown`. Into unmet or error, the transition keeps what was seen and
   * the evidence; out of unmet, how long the outage lasted.
   */
  apply(round: number, result: ProbeResult, details: ResultDetails = {}): Transition[] {
    const out: Transition[] = [];
    const before = this.standings.get(result.check);
    if (before?.state !== result.state) {
      this.standings.set(result.check, { state: result.state, since: result.at });
      out.push(transition(round, result.check, before, result.state, result.at, details));
    }
    const state = this.overallState();
    if (this.overall?.state !== state) {
      const failing = [...this.standings].filter(([, s]) => s.state === 'unmet').map(([check]) => check);
      const t = transition(round, OVERALL, this.overall, state, result.at, {});
      if (failing.length > 0) t.failing = failing;
      // The check whose result made the federation unmet (or in error) is the one to look at first.
      this.first = state !== 'met' ? result.check : undefined;
      if (this.first) t.first = this.first;
      out.push(t);
      this.overall = { state, since: result.at };
    }
    return out;
  }

  /** The checks unmet now and the one that began the federation's outage: what a single check's transition is told beside its own. */
  federation(): { failing?: string[]; first?: string } {
    const failing = [...this.standings].filter(([, s]) => s.state === 'unmet').map(([check]) => check);
    if (failing.length === 0) return {};
    return { failing, ...(this.first ? { first: this.first } : {}) };
  }

  /** Drops checks the watch no longer repeats (a resumed watch with other checks): they leave the overall state. */
  keepOnly(checks: readonly string[]): void {
    for (const check of [...this.standings.keys()]) if (!checks.includes(check)) this.standings.delete(check);
  }

  /** Every standing, the federation's under `*`: what a new part of the log starts with. */
  snapshot(): Record<string, CheckStanding> {
    const all: Record<string, CheckStanding> = Object.fromEntries([...this.standings].map(([c, s]) => [c, { ...s }]));
    if (this.overall) all[OVERALL] = { ...this.overall };
    return all;
  }

  private overallState(): CheckState {
    const states = [...this.standings.values()].map((s) => s.state);
    if (states.includes('unmet')) return 'unmet';
    if (states.includes('error')) return 'error';
    return 'met';
  }
}

function transition(round: number, check: string, before: CheckStanding | undefined, to: CheckState, at: string, details: ResultDetails): Transition {
  const t: Transition = { type: 'transition', at, round, check, from: before?.state ?? 'unknown', to };
  if (to !== 'met') {
    if (details.actual) t.actual = details.actual;
    if (details.diagnosis) t.diagnosis = details.diagnosis;
    if (details.evidence) t.evidence = details.evidence;
  }
  if (before?.state === 'unmet') t.outageMs = Math.max(0, Date.parse(at) - Date.parse(before.since));
  return t;
}
