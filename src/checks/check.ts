import { z } from 'zod';
import { TimeoutError } from '../errors.js';
import { Duration, Name, durationMs, type Conflict } from '../infra/format.js';
import type { OutcomeJson } from '../report/results.js';
import type { SuiteTarget, TargetSetup } from '../targets/target.js';
import { Expectation, type Failures } from './expectation.js';

/** What a check kind reports: the outcome, and the latency it measured when it measures one. */
export interface CheckRun {
  outcome: OutcomeJson;
  latencyMs?: number;
  /** Where an answer that never came was lost, when the check's outcome is a silence (a pending subscription). */
  diagnosis?: string;
}

export interface CheckContext {
  /** The target the suite runs against (the simulated legacy side, or a real gateway). */
  target: SuiteTarget;
  /** The suite as the target was started from it (the partner's users and domains, the SfB domain). */
  setup: TargetSetup;
  /** The check's own bound on every wait. */
  timeoutMs: number;
}

/** How long a check may wait when it gives no timeout. */
export const DEFAULT_CHECK_TIMEOUT_MS = 5_000;

/** A latency budget longer than the check's own timeout: the timeout ends the check first, so the budget never applies. */
export const budgetWithinTimeout: Conflict<{ within?: Duration | undefined; timeout?: Duration | undefined }> = {
  at: 'within',
  why: (c) => {
    const timeoutMs = c.timeout !== undefined ? durationMs(c.timeout) : DEFAULT_CHECK_TIMEOUT_MS;
    if (c.within === undefined || durationMs(c.within) <= timeoutMs) return undefined;
    const shown = (d: Duration) => (typeof d === 'number' ? `${d}ms` : d);
    return `within ${shown(c.within)} is longer than the check's timeout (${c.timeout !== undefined ? shown(c.timeout) : `${timeoutMs / 1000}s by default`}): the check gives up at its timeout, before the budget runs out; shorten within or lengthen timeout`;
  },
};

/** The fields every check has, whatever its kind. */
const common = {
  id: Name.describe('Unique in the suite'),
  title: z.string().optional().describe('What the check proves, one line'),
  expect: Expectation.optional().describe('Default: pass'),
  timeout: Duration.optional().describe('How long the check may wait (default 5s)'),
};

/**
 * What the check needs an SfB user to do that a real gateway's user does only where xfed drives
 * him: let xfed see what he receives (unless he echoes), or act (`acts` says what he does).
 */
export type SfbUserNeed = { seesIms: true } | { acts: string };

/** One check kind: its users, how it reads, what it expects by default, where it is specified, and how it runs. */
export interface CheckKind<C extends { kind: string }> {
  readonly kind: string;
  /**
   * The fields that name a partner user (XMPP side) and an SfB user (SIP side), for validation;
   * `sfbPassNeedsXmpp` false where a pass means nothing crossed, so an SfB user without
   * EnableXmppAccess may pass (it defaults to true).
   */
  readonly users: { partner?: string; sfb?: string; sfbMayBeDomain?: boolean; sfbPassNeedsXmpp?: boolean };
  /** The expectation when the suite gives none. */
  readonly defaultExpectation: Expectation;
  /** The failures it reports (an expectation of another is a contradiction); undefined: not declared, nothing is refused. */
  readonly failures: Failures | undefined;
  /** Combinations of its fields that can never be met. */
  readonly conflicts: readonly Conflict<C>[];
  /** Where the behaviour it observes is specified (RFC sections, Microsoft pages, this project's docs/). */
  readonly references: readonly string[];
  title(check: C, setup: TargetSetup): string;
  /** What it needs of its SfB user, for a target that cannot do everything (a real gateway). */
  sfbUserNeeds(check: C): SfbUserNeed | undefined;
  run(check: C, ctx: CheckContext): Promise<CheckRun>;
  /**
   * Undoes what a run left behind that would change the next run's outcome (a subscription now
   * held), for a watch that runs the same check again and again: called right after each run, so
   * whatever the undoing sets off has settled by the next one. Absent where a run leaves nothing.
   */
  afterRun?(check: C, ctx: CheckContext): Promise<void>;
}

/** A check kind with its schema: `{ id, title, expect, timeout, kind, ...fields }`, strict. */
export interface CheckDefinition<C extends { kind: string }, Schema extends z.core.$ZodTypeDiscriminable> extends CheckKind<C> {
  readonly schema: Schema;
}

type Fields<K extends string, F extends z.ZodRawShape> = z.core.util.Writeable<typeof common & { kind: z.ZodLiteral<K> } & F>;
type CheckOf<K extends string, F extends z.ZodRawShape> = z.infer<z.ZodObject<Fields<K, F>, z.core.$strict>> & { kind: K };

/** Declares a check kind in one place: the format, the validator, the runner and the reports read it. */
export function defineCheck<const K extends string, F extends z.ZodRawShape>(def: {
  kind: K;
  fields: F;
  /** Shown to editors through the JSON Schema. */
  description?: string;
  users?: { partner?: keyof F & string; sfb?: keyof F & string; sfbMayBeDomain?: boolean; sfbPassNeedsXmpp?: boolean };
  defaultExpectation?: Expectation;
  failures?: Failures;
  conflicts?: Conflict<CheckOf<K, F>>[];
  references?: string[];
  title(check: CheckOf<K, F>, setup: TargetSetup): string;
  sfbUserNeeds?(check: CheckOf<K, F>): SfbUserNeed | undefined;
  run(check: CheckOf<K, F>, ctx: CheckContext): Promise<CheckRun>;
  afterRun?(check: CheckOf<K, F>, ctx: CheckContext): Promise<void>;
}): CheckDefinition<CheckOf<K, F>, z.ZodObject<Fields<K, F>, z.core.$strict>> {
  const object = z.strictObject({ ...common, kind: z.literal(def.kind), ...def.fields });
  return {
    kind: def.kind,
    schema: def.description ? object.describe(def.description) : object,
    users: def.users ?? {},
    defaultExpectation: def.defaultExpectation ?? 'pass',
    failures: def.failures,
    conflicts: def.conflicts ?? [],
    references: def.references ?? [],
    title: def.title,
    sfbUserNeeds: def.sfbUserNeeds ?? (() => undefined),
    run: def.run,
    ...(def.afterRun ? { afterRun: def.afterRun } : {}),
  };
}

/** A generated body that names the check, so a stray echo of an earlier run cannot pass for it. */
export const bodyFor = (id: string): string => `xfed ${id} ${Math.random().toString(36).slice(2, 8)}`;

/** A latency budget exceeded, as an outcome. */
export function overBudget(latencyMs: number, budgetMs: number): CheckRun {
  return { outcome: { status: 'fail', detail: { latency: 'over-budget' }, text: `${latencyMs.toFixed(1)} ms, over the budget of ${budgetMs} ms` }, latencyMs };
}

/**
 * A stanza error the partner's own server wrote for the SfB side it could not reach: what it says
 * follows that server's bounce rules, not Skype for Business (the catalogue's partner-server rows).
 */
export function noteBounce(ctx: CheckContext, condition: string, text: string | undefined): void {
  if (condition === 'remote-server-not-found') ctx.target.behaviours?.cite('partner-server.unreachable-not-found');
  else if (condition === 'remote-server-timeout' && text?.startsWith('Server-to-server connection failed'))
    ctx.target.behaviours?.cite('partner-server.negotiation-failed-timeout');
}

/**
 * The system under test did not answer within the check's bound. Unless the harness broke meanwhile
 * (the runner asks the target), it is a federation failure: the message says what was awaited, and
 * the target's diagnosis says where the answer was lost.
 */
export class NoAnswer extends Error {}

/**
 * A wait on the system under test (an echo, a stanza error, a SIP final response, a barrier through
 * the Edge): its timeout becomes a `NoAnswer`. Waits on xfed's own parts (a login to the partner,
 * the partner's log) stay plain timeouts, which are the harness's.
 */
export function answerFrom<T>(wait: Promise<T>): Promise<T> {
  return wait.catch((err: unknown) => {
    if (err instanceof TimeoutError) throw new NoAnswer(err.message);
    throw err;
  });
}
