import type { LoadPlan } from '../profile.js';
import type { EngineResult, LoadSecond } from '../results.js';

/** What the generator measures itself; its process's CPU and memory are read by the parent. */
export type ChildResult = Omit<EngineResult, 'generator'>;

/** xfed to the generator child. */
export type ToChild =
  | { type: 'start'; plan: LoadPlan }
  /** The restart the child asked for is done (or failed, with why). */
  | { type: 'restarted'; error?: string }
  /** Stop early and report what was measured. */
  | { type: 'abort' };

/** The generator child to xfed. */
export type FromChild =
  | { type: 'second'; second: LoadSecond }
  | { type: 'notice'; text: string }
  /** Every login was tried; IMs start now. */
  | { type: 'steady' }
  /** Every user that logged in is online: the moment to read the generator's memory. */
  | { type: 'all-online' }
  | { type: 'restart'; what: 'edge' | 'gateway' }
  | { type: 'result'; result: ChildResult }
  /** A failure of the generator itself (a bug): the message, for the one-line error. */
  | { type: 'failed'; error: string };
