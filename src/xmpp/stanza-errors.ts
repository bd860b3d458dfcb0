import { z } from 'zod';

/**
 * The stanza error conditions RFC 6120 section 8.3.3 defines: the only ones a suite may name, so a
 * misspelt condition is caught when the suite is written, not on cutover night.
 */
const STANZA_ERROR_CONDITIONS = [
  'bad-request',
  'conflict',
  'feature-not-implemented',
  'forbidden',
  'gone',
  'internal-server-error',
  'item-not-found',
  'jid-malformed',
  'not-acceptable',
  'not-allowed',
  'not-authorized',
  'policy-violation',
  'recipient-unavailable',
  'redirect',
  'registration-required',
  'remote-server-not-found',
  'remote-server-timeout',
  'resource-constraint',
  'service-unavailable',
  'subscription-required',
  'undefined-condition',
  'unexpected-request',
] as const;

/** The suite format's word for a field that names one of them (the validator names it so, with a "did you mean"). */
/** The namespace of stanza error conditions (RFC 6120 section 8.3.3). */
export const STANZAS_NS = 'urn:ietf:params:xml:ns:xmpp-stanzas';

export const STANZA_ERROR_CONDITION_NOUN = 'a stanza error condition of RFC 6120 section 8.3.3';

/** A field of the suite format that names a stanza error condition. */
export const StanzaErrorConditionSpec = z.enum(STANZA_ERROR_CONDITIONS).describe(STANZA_ERROR_CONDITION_NOUN);
