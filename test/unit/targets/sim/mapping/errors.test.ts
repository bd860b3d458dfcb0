import { describe, expect, it } from '@jest/globals';
import {
  SIP_TO_XMPP_TABLE,
  XMPP_TO_SIP_TABLE,
  sipStatusToStanzaError,
  stanzaErrorToSip,
  stanzaErrorToSipStatus,
} from '../../../../../src/targets/sim/mapping/errors.js';
import { stanzaErrorType } from '../../../../../src/xmpp/stanza-errors.js';
import { TABLE_2_FULL_JID } from '../../../../helpers/rfc7247.js';

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

// RFC 7247 section 7.2, Table 3, written out again from the RFC (not from the code under test).
const TABLE_3: Array<[number, string]> = [
  [301, 'gone'],
  [302, 'redirect'],
  [380, 'not-acceptable'],
  [400, 'bad-request'],
  [401, 'not-authorized'],
  [402, 'bad-request'],
  [403, 'forbidden'],
  [404, 'item-not-found'],
  [405, 'feature-not-implemented'],
  [406, 'not-acceptable'],
  [407, 'registration-required'],
  [408, 'remote-server-timeout'],
  [410, 'gone'],
  [413, 'policy-violation'],
  [414, 'policy-violation'],
  [415, 'not-acceptable'],
  [416, 'not-acceptable'],
  [420, 'feature-not-implemented'],
  [421, 'not-acceptable'],
  [423, 'resource-constraint'],
  [430, 'recipient-unavailable'],
  [439, 'feature-not-implemented'],
  [440, 'policy-violation'],
  [480, 'recipient-unavailable'],
  [481, 'item-not-found'],
  [482, 'not-acceptable'],
  [483, 'not-acceptable'],
  [484, 'item-not-found'],
  [485, 'item-not-found'],
  [486, 'recipient-unavailable'],
  [487, 'recipient-unavailable'],
  [488, 'not-acceptable'],
  [489, 'policy-violation'],
  [491, 'unexpected-request'],
  [500, 'internal-server-error'],
  [501, 'feature-not-implemented'],
  [502, 'remote-server-not-found'],
  [503, 'internal-server-error'],
  [504, 'remote-server-timeout'],
  [505, 'not-acceptable'],
  [513, 'policy-violation'],
  [600, 'recipient-unavailable'],
  [603, 'recipient-unavailable'],
  [604, 'item-not-found'],
  [606, 'not-acceptable'],
];

describe('sipStatusToStanzaError (RFC 7247 section 7.2, Table 3)', () => {
  it('maps every status of Table 3 as the RFC lists it, and the table lists exactly those', () => {
    for (const [status, condition] of TABLE_3) {
      expect({ status, error: sipStatusToStanzaError(status) }).toEqual({ status, error: { condition, type: RFC6120_TYPES[condition] } });
    }
    expect(SIP_TO_XMPP_TABLE.map((r) => [r.status, r.condition])).toEqual(TABLE_3);
  });

  it('falls back by class for codes Table 3 does not list', () => {
    for (const [status, condition] of [
      [300, 'redirect'],
      [305, 'redirect'],
      [399, 'redirect'],
      [409, 'bad-request'],
      [422, 'bad-request'],
      [493, 'bad-request'],
      [580, 'internal-server-error'],
      [599, 'internal-server-error'],
      [699, 'recipient-unavailable'],
    ] as const) {
      expect({ status, condition: sipStatusToStanzaError(status).condition }).toEqual({ status, condition });
    }
  });

  it('refuses statuses that are not failures', () => {
    for (const s of [100, 180, 200, 299, 700, 404.5, Number.NaN]) expect(() => sipStatusToStanzaError(s)).toThrow(RangeError);
  });
});

describe('stanzaErrorToSip (RFC 7247 section 7.1, Table 2)', () => {
  it('maps every condition of Table 2 for a full JID, and the table has exactly those rows and payment-required', () => {
    for (const [condition, status] of TABLE_2_FULL_JID) {
      expect({ condition, status: stanzaErrorToSip(condition, { addressedTo: 'full' }).status }).toEqual({ condition, status });
    }
    expect(XMPP_TO_SIP_TABLE.map((r) => r.condition).sort()).toEqual([...TABLE_2_FULL_JID.map(([c]) => c), 'payment-required'].sort());
  });

  it('maps an error for a bare JID to the 6xx and 501 variants of notes 1 and 2', () => {
    const bare: Array<[string, number]> = [
      ['item-not-found', 604],
      ['forbidden', 603],
      ['not-allowed', 603],
      ['recipient-unavailable', 600],
      ['not-acceptable', 606],
      ['feature-not-implemented', 501],
    ];
    for (const [condition, status] of bare) {
      expect({ condition, status: stanzaErrorToSip(condition, { addressedTo: 'bare' }).status }).toEqual({ condition, status });
    }
    // The other rows do not depend on the JID.
    for (const [condition, status] of TABLE_2_FULL_JID.filter(([c]) => !bare.some(([b]) => b === c))) {
      expect({ condition, status: stanzaErrorToSip(condition, { addressedTo: 'bare' }).status }).toEqual({ condition, status });
    }
    expect(stanzaErrorToSip('item-not-found', { addressedTo: 'bare' }).behaviours).toEqual(['errors.xmpp-to-sip', 'errors.bare-jid-6xx']);
  });

  it('maps gone with a new address to 301, and without one to 410 (note 3)', () => {
    expect(stanzaErrorToSip('gone', { addressedTo: 'bare', newAddress: 'alice@new.test' })).toEqual({
      status: 301,
      behaviours: ['errors.xmpp-to-sip', 'errors.new-address-contact'],
    });
    expect(stanzaErrorToSip('gone', { addressedTo: 'bare' })).toEqual({ status: 410, behaviours: ['errors.xmpp-to-sip'] });
    expect(stanzaErrorToSip('redirect', { addressedTo: 'full', newAddress: 'alice@new.test' }).status).toBe(302);
  });

  it('maps remote-server-not-found to 404 when the domain does not exist and 408 when it cannot be resolved (note 4)', () => {
    expect(stanzaErrorToSip('remote-server-not-found', { addressedTo: 'bare', remoteDomain: 'absent' })).toEqual({
      status: 404,
      behaviours: ['errors.xmpp-to-sip', 'errors.remote-server-not-found'],
    });
    expect(stanzaErrorToSip('remote-server-not-found', { addressedTo: 'bare', remoteDomain: 'unresolvable' }).status).toBe(408);
    // Without a DNS to ask, the Edge's word: the server was not found.
    expect(stanzaErrorToSip('remote-server-not-found', { addressedTo: 'full' }).status).toBe(404);
  });

  it('never answers 503: service-unavailable is 405 (note 5)', () => {
    expect(stanzaErrorToSip('service-unavailable', { addressedTo: 'bare' })).toEqual({
      status: 405,
      behaviours: ['errors.xmpp-to-sip', 'errors.service-unavailable-405'],
    });
    for (const condition of Object.keys(RFC6120_TYPES))
      for (const addressedTo of ['bare', 'full'] as const) expect(stanzaErrorToSip(condition, { addressedTo }).status).not.toBe(503);
  });

  it('keeps payment-required harmless: 402', () => {
    expect(stanzaErrorToSip('payment-required', { addressedTo: 'bare' })).toEqual({ status: 402, behaviours: ['errors.payment-required-402'] });
  });

  it('reads a condition RFC 6120 does not define as undefined-condition: 400', () => {
    expect(stanzaErrorToSip('no-such-condition', { addressedTo: 'full' })).toEqual({ status: 400, behaviours: ['errors.unknown-condition'] });
  });

  it('stanzaErrorToSipStatus is the status alone, for a full JID unless told otherwise', () => {
    expect(stanzaErrorToSipStatus('item-not-found')).toBe(404);
    expect(stanzaErrorToSipStatus('item-not-found', { addressedTo: 'bare' })).toBe(604);
  });
});

describe('stanzaErrorType', () => {
  it.each(Object.entries(RFC6120_TYPES))('<%s/> has type %s (RFC 6120 section 8.3.3)', (condition, type) => {
    expect(stanzaErrorType(condition)).toBe(type);
  });
  it("gives RFC 3920's payment-required auth, and defaults to cancel", () => {
    expect(stanzaErrorType('payment-required')).toBe('auth');
    expect(stanzaErrorType('no-such-condition')).toBe('cancel');
    expect(stanzaErrorType('toString')).toBe('cancel');
  });
});
