import { z } from 'zod';
import type { OutcomeJson } from '../report/results.js';

const Condition = z
  .string()
  .regex(/^[a-z-]+$/, 'a stanza error condition such as forbidden')
  .or(z.literal('*'));

/**
 * What a check expects: `pass`, or one failure named like the outcomes checks report:
 * `{ error: forbidden }`, `{ s2s: refused }`, `{ subscription: pending }`, `{ sip: '403' }`...
 * `'*'` accepts any value of that kind.
 */
export const Expectation = z
  .union([
    z.literal('pass'),
    z.strictObject({ error: Condition }),
    z.strictObject({ s2s: z.enum(['refused', 'mismatch', '*']) }),
    z.strictObject({ disco: z.enum(['missing-feature', '*']) }),
    z.strictObject({ probe: z.enum(['mismatch', '*']) }),
    z.strictObject({ certificate: z.enum(['expired', 'name-mismatch', 'untrusted', '*']) }),
    z.strictObject({ subscription: z.enum(['pending', 'unsubscribed', '*']) }),
    z.strictObject({ sip: z.string().regex(/^([3-6]\d\d|\*)$/, 'a SIP status such as 403') }),
    z.strictObject({ dns: z.enum(['nxdomain', 'mismatch', '*']) }),
    z.strictObject({ delivery: z.enum(['delivered', '*']) }),
    z.strictObject({ presence: z.enum(['mismatch', 'leaked', 'none', '*']) }),
    z.strictObject({ latency: z.enum(['over-budget']) }),
  ])
  .describe('pass, or the failure this check must observe');
export type Expectation = z.infer<typeof Expectation>;

export const pass = (text?: string): OutcomeJson => ({ status: 'pass', ...(text ? { text } : {}) });
export const fail = (detail: Record<string, string>, text?: string): OutcomeJson => ({ status: 'fail', detail, ...(text ? { text } : {}) });

/** A check is met when its outcome is what it expects ('*' accepts any value of that kind). */
export function expectationMet(expectation: Expectation, outcome: OutcomeJson): boolean {
  if (expectation === 'pass') return outcome.status === 'pass';
  if (outcome.status !== 'fail' || !outcome.detail) return false;
  return Object.entries(expectation).every(([key, want]) => outcome.detail![key] !== undefined && (want === '*' || outcome.detail![key] === want));
}

export function describeExpectation(e: Expectation): string {
  return e === 'pass'
    ? 'pass'
    : Object.entries(e)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
}

export function describeOutcome(o: OutcomeJson): string {
  const what =
    o.status === 'pass'
      ? 'pass'
      : Object.entries(o.detail ?? {})
          .map(([k, v]) => `${k} ${v}`)
          .join(', ');
  return o.text ? `${what} ("${o.text}")` : what;
}
