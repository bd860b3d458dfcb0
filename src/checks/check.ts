import type { OutcomeJson } from '../report/results.js';
import type { Check, CheckKind, Expectation, Suite } from '../scenario/schema.js';
import type { SfbSide, SuiteTarget } from '../targets/target.js';

/** What a check kind reports: the outcome, and the latency it measured when it measures one. */
export interface CheckRun {
  outcome: OutcomeJson;
  latencyMs?: number;
}

export interface CheckContext {
  /** The target the suite runs against (the simulated legacy side, or a real gateway). */
  target: SuiteTarget;
  suite: Suite;
  /** The check's own bound on every wait. */
  timeoutMs: number;
}

/** One check kind: how to run it and how to say in one line what it does. */
export interface CheckKindHandler<K extends CheckKind> {
  kind: K;
  title(check: Extract<Check, { kind: K }>, suite: Suite): string;
  /** The expectation when the suite gives none. */
  defaultExpectation?: Expectation;
  run(check: Extract<Check, { kind: K }>, ctx: CheckContext): Promise<CheckRun>;
}

export const pass = (text?: string): OutcomeJson => ({ status: 'pass', ...(text ? { text } : {}) });
export const fail = (detail: Record<string, string>, text?: string): OutcomeJson => ({ status: 'fail', detail, ...(text ? { text } : {}) });

/** A check is met when its outcome is what it expects ('*' accepts any value of that kind). */
export function expectationMet(expectation: Expectation, outcome: OutcomeJson): boolean {
  if (expectation === 'pass') return outcome.status === 'pass';
  if (outcome.status !== 'fail' || !outcome.detail) return false;
  return Object.entries(expectation).every(([key, want]) => outcome.detail![key] !== undefined && (want === '*' || outcome.detail![key] === want));
}

export function describeExpectation(e: Expectation): string {
  return e === 'pass' ? 'pass' : Object.entries(e).map(([k, v]) => `${k} ${v}`).join(', ');
}

export function describeOutcome(o: OutcomeJson): string {
  const what = o.status === 'pass' ? 'pass' : Object.entries(o.detail ?? {}).map(([k, v]) => `${k} ${v}`).join(', ');
  return o.text ? `${what} ("${o.text}")` : what;
}

export const sfbJid = (ctx: CheckContext, user: string) => `${user}@${ctx.target.sfbDomain}`;


/** The SfB side, for checks that act as SfB users or watch what they receive. */
export function sfbSide(ctx: CheckContext, kind: string): SfbSide {
  if (!ctx.target.sfb) throw new Error(`a ${kind} check needs an SfB side that xfed drives, which the ${ctx.target.kind} target does not have`);
  return ctx.target.sfb;
}

/** How a check learns that an IM reached an SfB user: his SIP side (sim) or his XMPP session (a driven gateway user). */
export function watchIms(ctx: CheckContext, user: string, body: string, kind: string): { received: Promise<string>; stop: () => void } {
  if (ctx.target.remote) {
    const driven = ctx.target.remote.driven(user);
    if (!driven) throw new Error(`a ${kind} check sees what ${user} receives only when xfed drives ${user} (target.gateway.users: login)`);
    const controller = new AbortController();
    const received = driven.user
      .waitFor((s) => s.is('message') && s.getChildText('body') === body, ctx.timeoutMs, `${user} to receive the IM`, controller.signal)
      .then(() => `received by ${user}`);
    return { received, stop: () => controller.abort() };
  }
  const sfb = sfbSide(ctx, kind);
  let off = () => undefined as void;
  const received = new Promise<string>((resolve) => {
    off = sfb.onEvent((e) => {
      if (e.kind === 'im' && e.user.toLowerCase() === user.toLowerCase() && e.body === body && (e.status === undefined || e.status < 300)) resolve(`received by ${user}`);
    });
  });
  return { received, stop: () => off() };
}

/** Whether an SfB user answers IMs with their text (a simulated echo user, or a gateway user of role echo). */
export function echoes(ctx: CheckContext, user: string, kind: string): boolean {
  if (ctx.target.remote) return ctx.target.remote.role(user) === 'echo';
  return sfbSide(ctx, kind).state(user)?.behaviour === 'echo';
}
