import { describe, expect, it } from '@jest/globals';
import { parseSuite, ScenarioError } from '../../../src/scenario/loader.js';
import { closest, editDistance } from '../../../src/scenario/suggest.js';

const head = `suite: s
partner: { domains: [partner.test], users: [alice, bob] }
target:
  sim:
    domain: contoso.test
    partner: { tlsNegotiation: Required, saslNegotiation: Optional }
    users: [{ name: erin, pool: legacy, xmppAccess: true }, { name: judy, pool: sfb2019 }]
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
      '12:64: partner "partner.test": Skype for Business refuses to save this profile: -SaslNegotiation NotSupported rules out SASL, and -SupportDialbackNegotiation $false rules out dialback, so no stream could authenticate',
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

describe('EnableXmppAccess (its default is False)', () => {
  const suite = (sim: string, phases: string): string[] => {
    try {
      parseSuite(
        `suite: s\npartner: { domains: [partner.test], users: [alice] }\ntarget:\n  sim:\n    domain: contoso.test\n${sim}phases:\n${phases}`,
        't.yaml',
      );
      return [];
    } catch (err) {
      if (!(err instanceof ScenarioError)) throw err;
      return err.problems.map((p) => `${p.line}:${p.col}: ${p.message}`);
    }
  };
  const fix = 'grant it (xmppAccess: true, or target.sim.externalAccessPolicy) or expect the failure';

  it('a check expected to pass against a user nobody granted EnableXmppAccess is an error at the user it names', () => {
    expect(
      suite(
        '    users: [{ name: erin, pool: legacy }, { name: nina, pool: legacy, xmppAccess: false }]\n',
        `  - name: a
    checks:
      - { id: im, kind: im, from: alice, to: erin }
      - { id: from, kind: im-from-sfb, from: nina, to: alice }
      - { id: sub, kind: subscribe, from: alice, to: erin, expect: pass }
      - { id: ping, kind: ping, from: alice, to: erin }
`,
      ),
    ).toEqual([
      `10:46: SfB user erin has no EnableXmppAccess (its default is False), so this im check cannot pass: ${fix}`,
      `11:46: SfB user nina has xmppAccess: false (line 6), so this im-from-sfb check cannot pass: ${fix}`,
      `12:54: SfB user erin has no EnableXmppAccess (its default is False), so this subscribe check cannot pass: ${fix}`,
      `13:50: SfB user erin has no EnableXmppAccess (its default is False), so this ping check cannot pass: ${fix}`,
    ]);
  });

  it('leaves alone a check that expects the failure, one whose pass means nothing crossed, and the SfB domain', () => {
    expect(
      suite(
        '    users: [{ name: nina, pool: legacy }]\n',
        `  - name: a
    checks:
      - { id: im, kind: im, from: alice, to: nina, expect: { error: forbidden } }
      - { id: none, kind: no-delivery, from: alice, to: nina }
      - { id: leak, kind: no-presence-leak, of: nina, by: alice }
      - { id: muc, kind: unsupported, from: alice, to: nina, feature: groupchat }
      - { id: ping, kind: ping, from: alice }
`,
      ),
    ).toEqual([]);
  });

  it('the global externalAccessPolicy grants it to users without their own; their own wins', () => {
    expect(
      suite(
        '    externalAccessPolicy: { enableXmppAccess: true }\n    users: [{ name: erin, pool: legacy }, { name: nina, pool: legacy, xmppAccess: false }]\n',
        `  - name: a
    checks:
      - { id: erin, kind: im, from: alice, to: erin }
      - { id: nina, kind: im, from: alice, to: nina }
`,
      ),
    ).toEqual([`12:48: SfB user nina has xmppAccess: false (line 7), so this im check cannot pass: ${fix}`]);
    expect(
      suite(
        '    externalAccessPolicy: { enableXmppAccess: false }\n    users: [{ name: erin, pool: legacy }]\n',
        '  - name: a\n    checks: [{ id: erin, kind: im, from: alice, to: erin }]\n',
      ),
    ).toEqual([`10:53: SfB user erin follows the global externalAccessPolicy, whose enableXmppAccess is false, so this im check cannot pass: ${fix}`]);
  });

  it('follows set-policy steps through the phases: revoked, then granted again', () => {
    expect(
      suite(
        '    users: [{ name: erin, pool: legacy, xmppAccess: true }]\n',
        `  - name: revoke
    steps: [{ action: set-policy, user: erin, xmppAccess: false }]
    checks: [{ id: a, kind: im, from: alice, to: erin }]
  - name: grant
    steps: [{ action: set-policy, user: erin, xmppAccess: true }]
    checks: [{ id: b, kind: im, from: alice, to: erin }]
`,
      ),
    ).toEqual([`10:50: SfB user erin has no EnableXmppAccess since the set-policy step at line 9, so this im check cannot pass: ${fix}`]);
  });
});

describe('federation steps', () => {
  it('an access-edge step needs allowFederatedUsers, service, or both', () => {
    expect(problems(`  - name: a\n    steps: [{ action: access-edge }]\n`)).toEqual([
      '10:23: the access-edge step needs allowFederatedUsers, service, or both',
    ]);
    expect(
      problems(`  - name: a
    steps:
      - { action: access-edge, allowFederatedUsers: false }
      - { action: access-edge, service: stopped }
      - { action: federation-route, route: xmpp, to: sfb2019-edge }
      - { action: xmpp-proxy, service: stopped }
      - { action: move-cms, to: sfb2019 }
`),
    ).toEqual([]);
  });

  it('refuses a route or a pool it does not know', () => {
    expect(problems(`  - name: a\n    steps: [{ action: federation-route, route: xmpp, to: edge2019 }, { action: move-cms, to: lync2013 }]\n`)).toEqual([
      "10:58: to 'edge2019' is not one of legacy-edge, sfb2019-edge, none",
      "10:94: to 'lync2013' is not one of legacy, sfb2019",
    ]);
  });
});

describe('Edge pools and SIP domains', () => {
  const suite = (sim: string, phases = '  - name: a\n'): string[] => {
    try {
      parseSuite(
        `suite: s\npartner: { domains: [partner.test], users: [alice] }\ntarget:\n  sim:\n    domain: contoso.test\n    externalAccessPolicy: { enableXmppAccess: true }\n${sim}phases:\n${phases}`,
        't.yaml',
      );
      return [];
    } catch (err) {
      if (!(err instanceof ScenarioError)) throw err;
      return err.problems.map((p) => `${p.line}:${p.col}: ${p.message}`);
    }
  };

  it('takes pools with different SRV priorities, users in any SIP domain, and steps naming them', () => {
    expect(
      suite(
        `    additionalDomains: [fabrikam.test]
    edgePools: [{ name: edge-a, priority: 10 }, { name: edge-b, priority: 20 }, { name: edge-c }]
    users: [{ name: erin, pool: legacy }, { name: fiona, pool: legacy, domain: fabrikam.test }]
`,
        `  - name: a
    steps:
      - { action: edge-pool, pool: edge-a, state: down }
      - { action: xmpp-failover, to: edge-c }
      - { action: edge-pool, pool: edge-b, priority: none }
      - { action: renew-certificate, certificate: missing-bare-domain-san, domain: fabrikam.test }
`,
      ),
    ).toEqual([]);
  });

  it('refuses two pools with one SRV priority, a user outside the SIP domains, and a SIP domain that is the partner', () => {
    expect(
      suite(`    additionalDomains: [partner.test]
    edgePools: [{ name: edge-a, priority: 10 }, { name: edge-b, priority: 10 }, { name: edge-a }]
    users: [{ name: erin, pool: legacy, domain: fabrikam.test }]
`),
    ).toEqual([
      "7:25: the SIP domain 'partner.test' is also a partner domain; the SfB side and the partner need different domains",
      "8:75: Edge pools edge-a and edge-b have the same SRV priority 10; each pool's record needs a different priority",
      "8:89: duplicate Edge pool 'edge-a'",
      "9:49: erin's domain 'fabrikam.test' is not a SIP domain of the deployment; SIP domains: contoso.test, partner.test",
    ]);
  });

  it('refuses steps naming a pool or a domain that does not exist, and an edge-pool step that changes nothing', () => {
    expect(
      suite(
        `    edgePools: [{ name: edge-a, priority: 10 }, { name: edge-b, priority: 20 }]
    users: [{ name: erin, pool: legacy }]
`,
        `  - name: a
    steps:
      - { action: edge-pool, pool: edge-c, state: down }
      - { action: xmpp-failover, to: edge-bb }
      - { action: edge-pool, pool: edge-a }
      - { action: renew-certificate, certificate: missing-bare-domain-san, domain: fabrikam.test }
      - { action: renew-certificate, certificate: expired, domain: contoso.test }
`,
      ),
    ).toEqual([
      "12:36: unknown Edge pool 'edge-c' in step 1 (edge-pool) of phase 'a' (did you mean 'edge-a'?); Edge pools: edge-a, edge-b",
      "13:38: unknown Edge pool 'edge-bb' in step 2 (xmpp-failover) of phase 'a' (did you mean 'edge-b'?); Edge pools: edge-a, edge-b",
      '14:19: the edge-pool step needs state, priority, or both',
      "15:84: unknown SIP domain 'fabrikam.test' in step 4 (renew-certificate) of phase 'a'; SIP domains: contoso.test",
      '16:68: domain names the SIP domain a missing-bare-domain-san certificate lacks; other certificates cover every domain',
    ]);
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
