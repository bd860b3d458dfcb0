import type { BehaviourId } from './index.js';

/** How a part of the simulation says it applied a behaviour of the catalogue. */
export type Cite = (id: BehaviourId) => void;

const LIMIT = 10_000;

/**
 * The behaviours the simulation applied, in order: a check takes those applied while it ran
 * (`since(mark)`) as the catalogue rows its outcome rests on.
 */
export class BehaviourLog {
  private entries: Array<{ seq: number; id: BehaviourId }> = [];
  private seq = 0;
  private lasting: () => BehaviourId[] = () => [];

  readonly cite: Cite = (id) => {
    this.entries.push({ seq: ++this.seq, id });
    // A long run keeps the recent past only; checks look back seconds, not hours.
    if (this.entries.length > LIMIT) this.entries = this.entries.slice(LIMIT / 10);
  };

  /**
   * Where the lasting changes in effect come from (the deployment, as steps left it): a check that
   * runs with the XMPP route moved rests on that row even when nothing in it cites the row.
   */
  lastingFrom(source: () => BehaviourId[]): void {
    this.lasting = source;
  }

  mark(): number {
    return this.seq;
  }

  /** The ids cited after `mark`, each once, in the order first cited, then the lasting changes in effect. */
  since(mark: number): BehaviourId[] {
    return [...new Set([...this.entries.filter((e) => e.seq > mark).map((e) => e.id), ...this.lasting()])];
  }

  /** Only what was cited after `mark` (what a step did), without the lasting changes. */
  citedSince(mark: number): BehaviourId[] {
    return [...new Set(this.entries.filter((e) => e.seq > mark).map((e) => e.id))];
  }
}
