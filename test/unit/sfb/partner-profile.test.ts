import { describe, expect, it } from '@jest/globals';
import {
  PartnerProfileError,
  allowedStreamAuth,
  describeProfileCommand,
  edgeS2sPolicy,
  resolvePartnerProfile,
  type Negotiation,
  type PartnerProfile,
  type StreamAuth,
} from '../../../src/sfb/partner-profile.js';

const SASL: StreamAuth = 'sasl-over-tls';
const DB_TLS: StreamAuth = 'dialback-over-tls';
const DB_TCP: StreamAuth = 'dialback-over-tcp';

// docs/sfb-xmpp-federation.md section 3, row by row, expanded to all 3x3x2 combinations. The
// matrix's TCP dialback rows for SASL without TLS are refused: the Control Panel does not save them.
const MATRIX: Array<[Negotiation, Negotiation, boolean, StreamAuth[] | 'invalid' | 'sasl-needs-tls']> = [
  ['Required', 'Required', true, [SASL]],
  ['Required', 'Required', false, [SASL]],
  ['Required', 'Optional', true, [SASL, DB_TLS]],
  ['Required', 'Optional', false, [SASL]],
  ['Required', 'NotSupported', true, [DB_TLS]],
  ['Required', 'NotSupported', false, 'invalid'],
  ['Optional', 'Required', true, [SASL, DB_TLS, DB_TCP]],
  ['Optional', 'Required', false, [SASL]],
  ['Optional', 'Optional', true, [SASL, DB_TLS, DB_TCP]],
  ['Optional', 'Optional', false, [SASL]],
  ['Optional', 'NotSupported', true, [DB_TLS, DB_TCP]],
  ['Optional', 'NotSupported', false, 'invalid'],
  ['NotSupported', 'Required', true, 'sasl-needs-tls'],
  ['NotSupported', 'Optional', true, 'sasl-needs-tls'],
  ['NotSupported', 'NotSupported', true, [DB_TCP]],
  ['NotSupported', 'Required', false, 'sasl-needs-tls'],
  ['NotSupported', 'Optional', false, 'sasl-needs-tls'],
  ['NotSupported', 'NotSupported', false, 'invalid'],
];

const profile = (tls: Negotiation, sasl: Negotiation, dialback: boolean): PartnerProfile => ({
  domain: 'partner.test',
  tlsNegotiation: tls,
  saslNegotiation: sasl,
  supportDialbackNegotiation: dialback,
});

describe('negotiation matrix (docs/sfb-xmpp-federation.md section 3)', () => {
  it('covers all 18 combinations', () => {
    expect(new Set(MATRIX.map(([t, s, d]) => `${t}/${s}/${d}`)).size).toBe(18);
  });

  it.each(MATRIX)('TLS %s, SASL %s, dialback %s -> %j', (tls, sasl, dialback, expected) => {
    if (expected === 'invalid') {
      expect(() => resolvePartnerProfile(profile(tls, sasl, dialback))).toThrow(PartnerProfileError);
      expect(() => resolvePartnerProfile(profile(tls, sasl, dialback))).toThrow(/refuses to save.*-SupportDialbackNegotiation \$false/);
      return;
    }
    if (expected === 'sasl-needs-tls') {
      expect(() => resolvePartnerProfile(profile(tls, sasl, dialback))).toThrow(/refuses to save this profile: -SaslNegotiation \w+ needs TLS/);
      return;
    }
    const resolved = resolvePartnerProfile(profile(tls, sasl, dialback));
    const auth = allowedStreamAuth(resolved);
    expect(auth).toEqual(expected);

    // The Edge policy offers exactly what the matrix allows.
    const policy = edgeS2sPolicy(resolved);
    expect(policy.tls).toBe({ Required: 'required', Optional: 'optional', NotSupported: 'off' }[tls]);
    expect(policy.offerSaslExternal).toBe(auth.includes(SASL));
    expect(policy.offerDialback).toBe(auth.includes(DB_TLS) || auth.includes(DB_TCP));
    expect(policy.secureAuth).toBe(!policy.offerDialback);
    expect(policy.auth).toBe(policy.offerSaslExternal && policy.offerDialback ? 'either' : policy.offerSaslExternal ? 'certificate' : 'dialback');
  });

  it('names the reason an invalid profile is refused', () => {
    expect(() => resolvePartnerProfile(profile('NotSupported', 'NotSupported', false))).toThrow(
      'partner "partner.test": Skype for Business refuses to save this profile: -SaslNegotiation NotSupported rules out SASL, and -SupportDialbackNegotiation $false rules out dialback, so no stream could authenticate',
    );
    expect(() => resolvePartnerProfile(profile('Required', 'NotSupported', false))).toThrow(/-SaslNegotiation NotSupported rules out SASL/);
  });

  it('refuses SASL Required or Optional without TLS, as the Control Panel does', () => {
    for (const sasl of ['Required', 'Optional'] as const) {
      for (const dialback of [true, false]) {
        expect(() => resolvePartnerProfile(profile('NotSupported', sasl, dialback))).toThrow(
          `partner "partner.test": Skype for Business refuses to save this profile: -SaslNegotiation ${sasl} needs TLS, and -TlsNegotiation is NotSupported (set -TlsNegotiation Required or Optional, or -SaslNegotiation NotSupported)`,
        );
      }
    }
    // SASL with TLS, and no SASL without TLS, are saved.
    expect(resolvePartnerProfile(profile('Optional', 'Required', true)).saslNegotiation).toBe('Required');
    expect(allowedStreamAuth(resolvePartnerProfile(profile('NotSupported', 'NotSupported', true)))).toEqual([DB_TCP]);
  });
});

describe('edgeS2sPolicy', () => {
  it.each([
    [profile('Required', 'Required', true), { tls: 'required', auth: 'certificate', secureAuth: true, offerSaslExternal: true, offerDialback: false }],
    [profile('Required', 'Optional', true), { tls: 'required', auth: 'either', secureAuth: false, offerSaslExternal: true, offerDialback: true }],
    [profile('Required', 'NotSupported', true), { tls: 'required', auth: 'dialback', secureAuth: false, offerSaslExternal: false, offerDialback: true }],
    [profile('Optional', 'Required', true), { tls: 'optional', auth: 'either', secureAuth: false, offerSaslExternal: true, offerDialback: true }],
    [profile('Optional', 'Optional', false), { tls: 'optional', auth: 'certificate', secureAuth: true, offerSaslExternal: true, offerDialback: false }],
    [profile('NotSupported', 'NotSupported', true), { tls: 'off', auth: 'dialback', secureAuth: false, offerSaslExternal: false, offerDialback: true }],
  ])('%j -> %j', (p, expected) => {
    expect(edgeS2sPolicy(resolvePartnerProfile(p))).toEqual(expected);
  });
});

describe('resolvePartnerProfile', () => {
  it('applies the cmdlet defaults', () => {
    expect(resolvePartnerProfile({ domain: 'partner.test' })).toEqual({
      domain: 'partner.test',
      additionalDomains: [],
      partnerType: 'PublicUnverified',
      tlsNegotiation: 'Required',
      saslNegotiation: 'Required',
      supportDialbackNegotiation: true,
      enableKeepAlive: true,
    });
  });

  it('keeps what is given', () => {
    const r = resolvePartnerProfile({
      domain: 'partner.test',
      additionalDomains: ['chat.partner.test'],
      partnerType: 'Federated',
      enableKeepAlive: false,
      description: 'Partner Inc.',
    });
    expect(r).toMatchObject({ additionalDomains: ['chat.partner.test'], partnerType: 'Federated', enableKeepAlive: false, description: 'Partner Inc.' });
  });

  it('refuses bad domains, repeated domains and unknown values', () => {
    for (const domain of ['', 'bad_domain.test', '-a.test', 'a..test', 'partner.test.', 'a b.test', `${'a'.repeat(64)}.test`]) {
      expect(() => resolvePartnerProfile({ domain })).toThrow(/not a valid domain name \(-Identity/);
    }
    expect(() => resolvePartnerProfile({ domain: 'partner.test', additionalDomains: ['x y'] })).toThrow(/-AdditionalDomains/);
    expect(() => resolvePartnerProfile({ domain: 'partner.test', additionalDomains: ['Partner.Test'] })).toThrow(/listed twice/);
    expect(() => resolvePartnerProfile({ domain: 'partner.test', partnerType: 'Friendly' as never })).toThrow(
      /-PartnerType Friendly is not one of Federated, PublicVerified, PublicUnverified/,
    );
    expect(() => resolvePartnerProfile({ domain: 'partner.test', tlsNegotiation: 'required' as never })).toThrow(/-TlsNegotiation required/);
    expect(() => resolvePartnerProfile({ domain: 'partner.test', saslNegotiation: 'Maybe' as never })).toThrow(PartnerProfileError);
  });

  it('takes ConnectionLimit and ProxyFqdn, prints them, and refuses bad values', () => {
    const p = resolvePartnerProfile({ domain: 'partner.test', connectionLimit: 5, proxyFqdn: 'xmpp-proxy.partner.test' });
    expect(p).toMatchObject({ connectionLimit: 5, proxyFqdn: 'xmpp-proxy.partner.test' });
    expect(describeProfileCommand(p)).toMatch(/ -ConnectionLimit 5 -ProxyFqdn "xmpp-proxy\.partner\.test"$/);
    expect(resolvePartnerProfile({ domain: 'partner.test' })).not.toHaveProperty('connectionLimit');
    for (const connectionLimit of [0, -1, 2.5]) {
      expect(() => resolvePartnerProfile({ domain: 'partner.test', connectionLimit })).toThrow(
        `partner "partner.test": -ConnectionLimit ${connectionLimit} is not a positive whole number`,
      );
    }
    expect(() => resolvePartnerProfile({ domain: 'partner.test', proxyFqdn: 'not a name' })).toThrow(
      'partner "partner.test": -ProxyFqdn "not a name" is not a fully qualified domain name',
    );
  });
});

describe('describeProfileCommand', () => {
  it('renders the defaults', () => {
    expect(describeProfileCommand(resolvePartnerProfile({ domain: 'partner.test' }))).toBe(
      'New-CsXmppAllowedPartner -Identity "partner.test" -PartnerType PublicUnverified -TlsNegotiation Required -SaslNegotiation Required -SupportDialbackNegotiation $true -EnableKeepAlive $true',
    );
  });

  it('adds AdditionalDomains and a quoted Description when present', () => {
    const p = resolvePartnerProfile({
      domain: 'partner.test',
      additionalDomains: ['a.partner.test', 'b.partner.test'],
      partnerType: 'Federated',
      tlsNegotiation: 'Optional',
      saslNegotiation: 'NotSupported',
      enableKeepAlive: false,
      description: 'Old "Talk" $profile',
    });
    expect(describeProfileCommand(p)).toBe(
      'New-CsXmppAllowedPartner -Identity "partner.test" -PartnerType Federated -TlsNegotiation Optional -SaslNegotiation NotSupported ' +
        '-SupportDialbackNegotiation $true -EnableKeepAlive $false -AdditionalDomains @{Add="a.partner.test","b.partner.test"} ' +
        '-Description "Old `"Talk`" `$profile"',
    );
  });
});
