import { describe, expect, it } from '@jest/globals';
import { parseSuite, ScenarioError } from '../../../src/scenario/loader.js';
import { closest, editDistance } from '../../../src/scenario/suggest.js';

const head = `suite: s
partner: { domains: [partner.test], users: [alice, bob] }
target:
  sim:
    domain: contoso.test
    partner: { tlsNegotiation: Required, saslNegotiation: Optional }
    users: [{ name: erin, pool: legacy }, { name: judy, pool: sfb2019 }]
phases:
`;

function problems(phases: string): string[] {
  try {
    parseSuite(head + phases, 't.yaml');
    return [];
  } catch (err) {
    if (!(err instanceof ScenarioError)) throw err;
    return err.problems.map((p) => `${p.line}:${p.col}: ${p.message}`);
  }
}

describe('semantic checks', () => {
  it('reports every semantic problem at once, in file order', () => {
    expect(
      problems(`  - name: a
    checks:
      - { id: x, kind: im, from: carol, to: erin }
      - { id: x, kind: subscribe, from: alice, to: dave }
  - name: a
    steps: [{ action: set-policy, user: judy2, xmppAccess: false }]
`),
    ).toEqual([
      "11:34: unknown partner user 'carol' in check 'x'; partner users: alice, bob",
      "12:15: duplicate check id 'x' (first at line 11)",
      "12:52: unknown SfB user 'dave' in check 'x'; SfB users: erin, judy",
      "13:11: duplicate phase name 'a' (first at line 9)",
      "14:41: unknown SfB user 'judy2' in step 1 (set-policy) of phase 'a' (did you mean 'judy'?); SfB users: erin, judy",
    ]);
  });

  it('lets ping and disco address the SfB domain itself', () => {
    expect(problems(`  - name: a\n    checks: [{ id: p, kind: ping, from: alice, to: contoso.test }, { id: d, kind: disco, from: bob, to: erin }]\n`)).toEqual(
      [],
    );
  });

  it('applies set-partner over the profile in force, as SimTopology does', () => {
    // Dialback off is fine while SASL may happen; a later step ruling SASL out is not.
    expect(
      problems(`  - name: a
    steps: [{ action: set-partner, profile: { supportDialbackNegotiation: false } }]
  - name: b
    steps: [{ action: set-partner, profile: { saslNegotiation: NotSupported } }]
`),
    ).toEqual([
      '12:45: partner "partner.test": Skype for Business refuses to save this profile: -SaslNegotiation NotSupported rules out SASL, and -SupportDialbackNegotiation $false rules out dialback, so no stream could authenticate',
    ]);
  });

  it('starts from the cmdlet defaults after remove-partner', () => {
    expect(
      problems(`  - name: a
    steps:
      - { action: set-partner, profile: { supportDialbackNegotiation: false } }
      - { action: remove-partner }
      - { action: set-partner, profile: { saslNegotiation: NotSupported } }
`),
    ).toEqual([]);
  });
});

describe('did you mean', () => {
  it('counts a transposition as one edit, ignoring case', () => {
    expect(editDistance('pnig', 'ping')).toBe(1);
    expect(editDistance('available', 'Available')).toBe(0);
    expect(editDistance('move-usr', 'move-user')).toBe(1);
  });

  it('suggests only close words', () => {
    expect(closest('pnig', ['s2s', 'ping', 'im'])).toBe('ping');
    expect(closest('carol', ['alice', 'bob'])).toBeUndefined();
    expect(closest('xyz', [])).toBeUndefined();
  });
});
