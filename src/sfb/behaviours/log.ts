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

  readonly cite: Cite = (id) => {
    this.entries.push({ seq: ++this.seq, id });
    // A long run keeps the recent past only; checks look back seconds, not hours.
    if (this.entries.length > LIMIT) this.entries = this.entries.slice(LIMIT / 10);
  };

  mark(): number {
    return this.seq;
  }

  /** The ids cited after `mark`, each once, in the order first cited. */
  since(mark: number): BehaviourId[] {
    return [...new Set(this.entries.filter((e) => e.seq > mark).map((e) => e.id))];
  }
}
