/**
 * Stanza error <-> SIP status, as the simulated gateway applies it (docs/sfb-xmpp-federation.md section 7, after
 * RFC 7247's error mapping). Error types are the ones RFC 6120 section 8.3.3 gives each condition.
 */
export type StanzaErrorType = 'cancel' | 'continue' | 'modify' | 'auth' | 'wait';
export interface StanzaErrorInfo {
  condition: string;
  type: StanzaErrorType;
}

// RFC 6120 section 8.3.3, plus RFC 3920's payment-required, which pre-RFC 6120 servers still send.
const TYPE_OF: Record<string, StanzaErrorType> = {
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
  'payment-required': 'auth',
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
};

/** The RFC 6120 section 8.3.3 type of a condition; `cancel` for conditions it does not define. */
export function stanzaErrorType(condition: string): StanzaErrorType {
  return TYPE_OF[condition] ?? 'cancel';
}

// docs/sfb-xmpp-federation.md section 7, "SIP -> XMPP (selection)", verbatim.
const SIP_TO_XMPP: Record<number, string> = {
  400: 'bad-request',
  401: 'not-authorized',
  403: 'forbidden',
  404: 'item-not-found',
  408: 'remote-server-timeout',
  410: 'gone',
  413: 'policy-violation',
  480: 'recipient-unavailable',
  481: 'item-not-found',
  486: 'recipient-unavailable',
  488: 'not-acceptable',
  500: 'internal-server-error',
  501: 'feature-not-implemented',
  502: 'remote-server-not-found',
  503: 'internal-server-error',
  504: 'remote-server-timeout',
  600: 'recipient-unavailable',
  603: 'recipient-unavailable',
  604: 'item-not-found',
};

// docs/sfb-xmpp-federation.md section 7, "XMPP -> SIP (selection)", then the rest of RFC 6120's conditions.
const XMPP_TO_SIP: Record<string, number> = {
  'item-not-found': 404,
  forbidden: 403,
  'not-authorized': 401,
  'recipient-unavailable': 480,
  'remote-server-timeout': 408,
  'policy-violation': 403,
  // Never 503: a SIP client that gets 503 tries another server (RFC 3261 section 21.5.4) instead
  // of reporting. 405 rather than 403: 403 already stands
  // for forbidden and policy-violation, and a 403 to a SUBSCRIBE refresh ends the subscription for
  // good (docs/sfb-xmpp-federation.md section 7); 405 says what service-unavailable means (RFC 6120 section 8.3.3.19):
  // this address does not offer that service.
  'service-unavailable': 405,
  'internal-server-error': 500,
  'bad-request': 400,
  // SIP has no 409 (RFC 3261 section 21.4 dropped RFC 2543's 409 Conflict); 400 as RFC 7247 does.
  conflict: 400,
  'feature-not-implemented': 501,
  gone: 410,
  'remote-server-not-found': 404,
  'not-acceptable': 406,
  redirect: 302,
  'jid-malformed': 400,
  'not-allowed': 403,
  'payment-required': 402,
  'registration-required': 403,
  'resource-constraint': 500,
  'subscription-required': 403,
  'undefined-condition': 500,
  // 491 Request Pending (RFC 3261 section 21.4.27) asks the sender to retry after a delay, which is
  // what unexpected-request's type "wait" asks of an XMPP sender.
  'unexpected-request': 491,
};

export const SIP_STATUSES_IN_DOMAIN_TABLE: number[] = Object.keys(SIP_TO_XMPP).map(Number);
export const STANZA_CONDITIONS_IN_DOMAIN_TABLE: string[] = [
  'item-not-found',
  'forbidden',
  'not-authorized',
  'recipient-unavailable',
  'remote-server-timeout',
  'policy-violation',
  'service-unavailable',
  'internal-server-error',
];

/** A SIP final failure status (300-699) as the stanza error the XMPP side gets. */
export function sipStatusToStanzaError(status: number): StanzaErrorInfo {
  if (!Number.isInteger(status) || status < 300 || status > 699) throw new RangeError(`SIP status ${status} is not a failure response (300-699)`);
  const condition =
    SIP_TO_XMPP[status] ?? (status < 400 ? 'redirect' : status < 500 ? 'bad-request' : status < 600 ? 'internal-server-error' : 'recipient-unavailable');
  return { condition, type: stanzaErrorType(condition) };
}

/** A stanza error condition as the SIP status the SIP side gets; 500 for unknown conditions. */
export function stanzaErrorToSipStatus(condition: string): number {
  return XMPP_TO_SIP[condition] ?? 500;
}
