import { describe, expect, it } from '@jest/globals';
import {
  SIP_STATUSES_IN_DOMAIN_TABLE,
  STANZA_CONDITIONS_IN_DOMAIN_TABLE,
  sipStatusToStanzaError,
  stanzaErrorToSipStatus,
  stanzaErrorType,
} from '../../../../../src/targets/sim/mapping/errors.js';

// RFC 6120 section 8.3.3: every defined condition with its type.
const RFC6120_TYPES: Record<string, string> = {
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
};

describe('sipStatusToStanzaError (docs/sfb-xmpp-federation.md section 7)', () => {
  const table: Array<[number, string, string]> = [
    [400, 'bad-request', 'modify'],
    [401, 'not-authorized', 'auth'],
    [403, 'forbidden', 'auth'],
    [404, 'item-not-found', 'cancel'],
    [408, 'remote-server-timeout', 'wait'],
    [410, 'gone', 'cancel'],
    [413, 'policy-violation', 'modify'],
    [480, 'recipient-unavailable', 'wait'],
    [481, 'item-not-found', 'cancel'],
    [486, 'recipient-unavailable', 'wait'],
    [488, 'not-acceptable', 'modify'],
    [500, 'internal-server-error', 'cancel'],
    [501, 'feature-not-implemented', 'cancel'],
    [502, 'remote-server-not-found', 'cancel'],
    [503, 'internal-server-error', 'cancel'],
    [504, 'remote-server-timeout', 'wait'],
    [600, 'recipient-unavailable', 'wait'],
    [603, 'recipient-unavailable', 'wait'],
    [604, 'item-not-found', 'cancel'],
  ];
  it.each(table)('%i -> <%s/> type %s', (status, condition, type) => {
    expect(sipStatusToStanzaError(status)).toEqual({ condition, type });
  });

  it('exports exactly the statuses of the table', () => {
    expect([...SIP_STATUSES_IN_DOMAIN_TABLE].sort()).toEqual(table.map(([s]) => s).sort());
  });

  it.each([
    [301, 'redirect', 'modify'],
    [302, 'redirect', 'modify'],
    [380, 'redirect', 'modify'],
    [402, 'bad-request', 'modify'],
    [415, 'bad-request', 'modify'],
    [491, 'bad-request', 'modify'],
    [505, 'internal-server-error', 'cancel'],
    [580, 'internal-server-error', 'cancel'],
    [606, 'recipient-unavailable', 'wait'],
    [699, 'recipient-unavailable', 'wait'],
  ])('falls back by class: %i -> <%s/> type %s', (status, condition, type) => {
    expect(sipStatusToStanzaError(status)).toEqual({ condition, type });
  });

  it('refuses statuses that are not failures', () => {
    for (const s of [100, 180, 200, 299, 700, 404.5, Number.NaN]) expect(() => sipStatusToStanzaError(s)).toThrow(RangeError);
  });
});

describe('stanzaErrorToSipStatus', () => {
  it.each([
    ['item-not-found', 404],
    ['forbidden', 403],
    ['not-authorized', 401],
    ['recipient-unavailable', 480],
    ['remote-server-timeout', 408],
    ['policy-violation', 403],
    ['service-unavailable', 405],
    ['internal-server-error', 500],
  ])('the table of docs/sfb-xmpp-federation.md section 7: <%s/> -> %i', (condition, status) => {
    expect(stanzaErrorToSipStatus(condition)).toBe(status);
  });

  it('exports exactly the conditions of the table', () => {
    expect([...STANZA_CONDITIONS_IN_DOMAIN_TABLE].sort()).toEqual(
      [
        'item-not-found',
        'forbidden',
        'not-authorized',
        'recipient-unavailable',
        'remote-server-timeout',
        'policy-violation',
        'service-unavailable',
        'internal-server-error',
      ].sort(),
    );
  });

  it.each([
    ['bad-request', 400],
    ['conflict', 400],
    ['feature-not-implemented', 501],
    ['gone', 410],
    ['remote-server-not-found', 404],
    ['not-acceptable', 406],
    ['redirect', 302],
    ['jid-malformed', 400],
    ['not-allowed', 403],
    ['payment-required', 402],
    ['registration-required', 403],
    ['resource-constraint', 500],
    ['subscription-required', 403],
    ['undefined-condition', 500],
    ['unexpected-request', 491],
  ])('the rest of RFC 6120: <%s/> -> %i', (condition, status) => {
    expect(stanzaErrorToSipStatus(condition)).toBe(status);
  });

  it('maps unknown conditions to 500 and never answers 503', () => {
    expect(stanzaErrorToSipStatus('no-such-condition')).toBe(500);
    for (const condition of Object.keys(RFC6120_TYPES)) expect(stanzaErrorToSipStatus(condition)).not.toBe(503);
  });
});

describe('stanzaErrorType', () => {
  it.each(Object.entries(RFC6120_TYPES))('<%s/> has type %s (RFC 6120 section 8.3.3)', (condition, type) => {
    expect(stanzaErrorType(condition)).toBe(type);
  });
  it('defaults to cancel', () => {
    expect(stanzaErrorType('no-such-condition')).toBe('cancel');
  });
});
