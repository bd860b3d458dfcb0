/**
 * RFC 7247 section 7.1, Table 2 (XMPP -> SIP), for an error about a full JID, written out again
 * from the RFC, not from the code under test: the unit test of the mapping and the end-to-end
 * test of the gateway both check against it.
 */
export const TABLE_2_FULL_JID: Array<[string, number]> = [
  ['bad-request', 400],
  ['conflict', 400],
  ['feature-not-implemented', 405],
  ['forbidden', 403],
  ['gone', 410],
  ['internal-server-error', 500],
  ['item-not-found', 404],
  ['jid-malformed', 400],
  ['not-acceptable', 406],
  ['not-allowed', 403],
  ['not-authorized', 401],
  ['policy-violation', 403],
  ['recipient-unavailable', 480],
  ['redirect', 302],
  ['registration-required', 407],
  ['remote-server-not-found', 404],
  ['remote-server-timeout', 408],
  ['resource-constraint', 500],
  ['service-unavailable', 405],
  ['subscription-required', 400],
  ['undefined-condition', 400],
  ['unexpected-request', 491],
];
