/** Suites for the watch's tests. */

// A rehearsal in three phases: the watched check is met, the next phase's step breaks it (erin,
// who needs XMPP, moved to the 2019 pool, which has no gateway), the last one repairs it.
export const REHEARSAL = `
suite: watch-rehearsal
partner: { domains: [partner.test], users: [alice] }
target:
  sim:
    domain: contoso.test
    partner: { partnerType: Federated }
    users:
      - { name: erin, pool: legacy, behaviour: echo, xmppAccess: true }
phases:
  - name: baseline
    checks:
      - { id: im-erin, kind: im, from: alice, to: erin, timeout: 2s }
      - { id: ping-domain, kind: ping, from: alice, timeout: 2s }
  - name: erin-moved
    steps:
      - { action: move-user, user: erin, pool: sfb2019 }
  - name: erin-back
    steps:
      - { action: move-user, user: erin, pool: legacy }
`;

/** The same, without its last phase: the break is not repaired. */
export const REHEARSAL_BREAK_ONLY = REHEARSAL.slice(0, REHEARSAL.indexOf('  - name: erin-back'));
