import type { LoadPlan } from './profile.js';
import type { EngineResult, LoadSecond } from './results.js';

/** What an engine tells the run while it goes: the live view, and the restart under load. */
export interface EngineEvents {
  /** Once a second. */
  second?(s: LoadSecond): void;
  /** Every user's login was tried (the ramp is over) and IMs start now. */
  steady?(): void;
  /** A line to show (a stage began, a rate was not reached). */
  notice?(text: string): void;
  /** Restarts the Edge or the gateway (the profile's restart) and resolves when it is up again. */
  restart?(what: 'edge' | 'gateway'): Promise<void>;
}

/** A load generator: xfed's own (a child process of xfed) or Tsung's (its controller and client nodes). */
export interface LoadEngine {
  readonly name: 'xfed' | 'tsung';
  /** Runs the plan to its end; aborting the signal stops it early, and it still returns what it measured. */
  run(plan: LoadPlan, events: EngineEvents, signal: AbortSignal): Promise<EngineResult>;
  /**
   * When the IM with this body was due to leave (epoch ms), read from the stamp the engine puts in
   * every body: the run measures the one-way time to the SIP side with it. Undefined: not one of its IMs.
   */
  stampOf(body: string): number | undefined;
}
