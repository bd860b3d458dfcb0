import { z } from 'zod';
import type { OutcomeJson } from '../report/results.js';
import { STANZA_ERROR_CONDITION_NOUN, StanzaErrorConditionSpec } from '../xmpp/stanza-errors.js';

// Only RFC 6120's conditions, or '*' for any of them.
const Condition = z.enum([...StanzaErrorConditionSpec.options, '*']).describe(STANZA_ERROR_CONDITION_NOUN);

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

type Failure = Exclude<Expectation, 'pass'>;
type FailureKey = Failure extends infer F ? (F extends object ? keyof F : never) : never;
type FailureValue<K extends FailureKey> = Exclude<Extract<Failure, Record<K, unknown>>[K], '*'> & string;

/**
 * The fields of a check of which one must be set for a failure to happen (`['target']`: a DNS
 * mismatch needs an expected target); an empty list: it can happen whatever the check says.
 */
type Needs = readonly string[];

/**
 * The failures a check kind can report, by expectation key: for `error` and `sip` (any condition
 * or status) what it needs, for the others what each value needs. An expectation of a failure
 * the kind never reports is a contradiction the validator reports; `pass` and '*' of a listed
 * key are always possible.
 */
export type Failures = { [K in FailureKey]?: K extends 'error' | 'sip' ? Needs : Partial<Record<FailureValue<K>, Needs>> };

/**
 * Why a check of `kind` with these fields set can never report what it expects (a message that
 * follows `check 'x' `), and where to point: the expectation's key (a failure the kind never
 * reports) or its value (a value it never gives, or only with a field the check lacks). Undefined
 * where it can.
 */
export function impossibleExpectation(
  expectation: Expectation,
  failures: Failures,
  has: (field: string) => boolean,
  kind: string,
): { key: string; part: 'key' | 'value'; message: string } | undefined {
  if (expectation === 'pass') return undefined;
  const [key, value] = Object.entries(expectation)[0] as [FailureKey, string];
  const expects = `expects ${describeExpectation(expectation)}, but ${kind} checks`;
  const spec = failures[key] as Needs | Partial<Record<string, Needs>> | undefined;
  const lacking = (needs: Needs | undefined) => (needs === undefined || needs.length === 0 || needs.some(has) ? undefined : needs.join(' or '));
  if (spec === undefined) {
    const reported = Object.keys(failures);
    return {
      key,
      part: 'key',
      message: `${expects} never fail with ${key}; they fail with ${reported.length > 0 ? reported.join(' or ') : 'nothing (pass only)'}`,
    };
  }
  const values: Partial<Record<string, Needs>> = Array.isArray(spec) ? { [value]: spec as Needs } : (spec as Partial<Record<string, Needs>>);
  const known = Object.keys(values);
  if (value === '*') {
    if (known.some((v) => lacking(values[v]) === undefined)) return undefined;
    return { key, part: 'value', message: `${expects} report ${key} failures only with ${known.map((v) => lacking(values[v])).join(' or ')}` };
  }
  if (!known.includes(value)) return { key, part: 'value', message: `${expects} never report it; their ${key} failures: ${known.join(', ')}` };
  const missing = lacking(values[value]);
  return missing === undefined ? undefined : { key, part: 'value', message: `${expects} report it only with ${missing}` };
}

export const pass = (text?: string): OutcomeJson => ({ status: 'pass', ...(text ? { text } : {}) });
export const fail = (detail: Record<string, string>, text?: string): OutcomeJson => ({ status: 'fail', detail, ...(text ? { text } : {}) });

/** A check is met when its outcome is what it expects ('*' accepts any value of that kind). */
export function expectationMet(expectation: Expectation, outcome: OutcomeJson): boolean {
  if (expectation === 'pass') return outcome.status === 'pass';
  if (outcome.status !== 'fail' || !outcome.detail) return false;
  return Object.entries(expectation).every(([key, want]) => outcome.detail![key] !== undefined && (want === '*' || outcome.detail![key] === want));
}

/** Failures whose plain `key value` reads as its opposite: `presence none` met looks like a fault. */
const PHRASES: Readonly<Record<string, string>> = { 'presence none': 'no presence', 'answer none': 'no answer' };
const phrase = ([k, v]: [string, string]): string => PHRASES[`${k} ${v}`] ?? `${k} ${v}`;

export function describeExpectation(e: Expectation): string {
  return e === 'pass' ? 'pass' : Object.entries(e).map(phrase).join(', ');
}

export function describeOutcome(o: OutcomeJson): string {
  const what =
    o.status === 'pass'
      ? 'pass'
      : Object.entries(o.detail ?? {})
          .map(phrase)
          .join(', ');
  return o.text ? `${what} ("${o.text}")` : what;
}
