import type { Source } from './source.js';

/** One behaviour the simulation encodes: what it does, where that comes from, and the test that proves it. */
export interface Behaviour {
  /** What the simulation does, one sentence, present tense. */
  readonly does: string;
  /** The first source decides; where Microsoft speaks, it comes first. */
  readonly sources: readonly [Source, ...Source[]];
  /** The test that proves it: `<test file> › <test name>`, the name as written in the file. */
  readonly provedBy: string;
  /**
   * Set where what a partner user sees also depends on the partner's own server (its bounce rules,
   * say), not on Skype for Business alone: another partner server may answer differently.
   */
  readonly partnerDependent?: string;
}

/** One area's rows, keyed `<area>.<name>`; typed so that every id cited in the code exists. */
export const behaviours = <const T extends Record<string, Behaviour>>(rows: T): T => rows;
