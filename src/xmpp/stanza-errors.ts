import { z } from 'zod';

/** The error types of RFC 6120 section 8.3.2. */
export type StanzaErrorType = 'cancel' | 'continue' | 'modify' | 'auth' | 'wait';

/**
 * The stanza error conditions RFC 6120 section 8.3.3 defines, each with the type it gives it: the
 * only conditions a suite may name, so a misspelt one is caught when the suite is written, not on
 * cutover night.
 */
const RFC6120_TYPES = {
  'bad-request': 'modify',
  conflict: 'cancel',
  'feature-not-implemented': 'cancel',
  forbidden: 'auth',
  gone: 'cancel',
  'internal-server-error': 'cancel',
  'item-not-found': 'cancel',
  'jid-malformed': 'modify',
  'not-acceptable': 'modify',
  'not-allowed': 'cancel',
  'not-authorized': 'auth',
  'policy-violation': 'modify',
  'recipient-unavailable': 'wait',
  redirect: 'modify',
  'registration-required': 'auth',
  'remote-server-not-found': 'cancel',
  'remote-server-timeout': 'wait',
  'resource-constraint': 'wait',
  'service-unavailable': 'cancel',
  'subscription-required': 'auth',
  'undefined-condition': 'cancel',
  'unexpected-request': 'wait',
} as const satisfies Record<string, StanzaErrorType>;
type StanzaErrorCondition = keyof typeof RFC6120_TYPES;
const STANZA_ERROR_CONDITIONS = Object.keys(RFC6120_TYPES) as [StanzaErrorCondition, ...StanzaErrorCondition[]];

/**
 * The type of a condition: RFC 6120's; RFC 3920's payment-required, which pre-RFC 6120 servers
 * still send, is auth; `cancel` for conditions neither defines.
 */
export function stanzaErrorType(condition: string): StanzaErrorType {
  if (Object.hasOwn(RFC6120_TYPES, condition)) return RFC6120_TYPES[condition as StanzaErrorCondition];
  return condition === 'payment-required' ? 'auth' : 'cancel';
}

/** The namespace of stanza error conditions (RFC 6120 section 8.3.3). */
export const STANZAS_NS = 'urn:ietf:params:xml:ns:xmpp-stanzas';

/** The suite format's word for a field that names one of them (the validator names it so, with a "did you mean"). */
export const STANZA_ERROR_CONDITION_NOUN = 'a stanza error condition of RFC 6120 section 8.3.3';

/** A field of the suite format that names a stanza error condition. */
export const StanzaErrorConditionSpec = z.enum(STANZA_ERROR_CONDITIONS).describe(STANZA_ERROR_CONDITION_NOUN);
