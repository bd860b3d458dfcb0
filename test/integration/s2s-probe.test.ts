import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { RunResults } from '../../src/report/results.js';
import { fileReporters } from '../../src/report/files.js';
import { runSuite } from '../../src/runner/run-suite.js';
import { parseSuite } from '../../src/scenario/loader.js';
import { RUNTIMES, describeRuntime } from '../helpers/support.js';

// The raw S2S probe against the simulated Edge, under each kind of profile and certificate: what
// the Edge offers must be what the partner profile means, and broken certificates are named.
const SUITE = `
suite: s2s-probe
partner: { domains: [partner.test], users: [alice] }
target:
  sim:
    domain: contoso.test
    partner: { partnerType: Federated }
    users: [{ name: erin, pool: legacy }]
phases:
  - name: default-profile
    checks:
      - { id: probe-default, kind: s2s-probe, tls: TLSv1.2 }
  - name: profiles
    steps: [{ action: set-partner, profile: { tlsNegotiation: Optional, saslNegotiation: Optional, supportDialbackNegotiation: true } }]
    checks: [{ id: probe-optional-optional, kind: s2s-probe }]
  - name: dialback-only
    steps: [{ action: set-partner, profile: { tlsNegotiation: Required, saslNegotiation: NotSupported, supportDialbackNegotiation: true } }]
    checks: [{ id: probe-dialback-only, kind: s2s-probe }]
  - name: no-tls
    steps: [{ action: set-partner, profile: { tlsNegotiation: NotSupported, saslNegotiation: NotSupported, supportDialbackNegotiation: true } }]
    checks: [{ id: probe-no-tls, kind: s2s-probe }]
  - name: expired
    steps:
      - { action: set-partner, profile: { tlsNegotiation: Required, saslNegotiation: Required } }
      - { action: renew-certificate, certificate: expired }
    checks: [{ id: probe-expired, kind: s2s-probe, expect: { certificate: expired } }]
  - name: no-bare-san
    steps: [{ action: renew-certificate, certificate: missing-bare-domain-san }]
    checks: [{ id: probe-no-san, kind: s2s-probe, expect: { certificate: name-mismatch } }]
  - name: untrusted
    steps: [{ action: renew-certificate, certificate: untrusted-ca }]
    checks: [{ id: probe-untrusted, kind: s2s-probe, expect: { certificate: untrusted } }]
  - name: srv-2019
    steps:
      - { action: renew-certificate, certificate: valid }
      - { action: srv-record, target: sfb2019-edge }
    checks: [{ id: probe-2019, kind: s2s-probe, expect: { s2s: refused } }]
  - name: srv-none
    steps: [{ action: srv-record, target: none }]
    checks: [{ id: probe-no-srv, kind: s2s-probe, expect: { s2s: refused } }]
`;

// A partner server that insists on TLS 1.3, against the legacy Edge (TLS 1.2 at most).
const TLS13_PARTNER = `
suite: tls13-partner
partner: { domains: [partner.test], users: [alice], s2s: { tlsVersions: { min: TLSv1.3 } } }
target:
  sim:
    domain: contoso.test
    partner: { partnerType: Federated }
    users: [{ name: erin, pool: legacy }]
phases:
  - name: tls13
    checks: [{ id: s2s-tls13, kind: s2s, expect: { s2s: refused } }]
`;

let out: string;
beforeAll(async () => {
  out = await mkdtemp(path.join(os.tmpdir(), 's2s-probe-'));
});
afterAll(() => rm(out, { recursive: true, force: true }));

for (const kind of RUNTIMES) {
  describeRuntime(kind, 's2s-probe', () => {
    it('reads STARTTLS, TLS, certificate, SASL EXTERNAL and dialback, and compares them with the profile', async () => {
      const { suite } = parseSuite(SUITE, 's2s-probe.yaml');
      const results: RunResults = await runSuite(suite, { runtime: kind, reporters: fileReporters(path.join(out, kind)) });
      const checks = results.phases.flatMap((p) => p.checks);
      expect(checks.filter((c) => !c.met).map((c) => `${c.id}: ${c.actual}`)).toEqual([]);
      const text = (id: string) => checks.find((c) => c.id === id)!.outcome.text;
      expect(text('probe-default')).toMatch(/STARTTLS required; TLSv1\.2; certificate trusted.*SASL EXTERNAL; dialback not offered/);
      expect(text('probe-optional-optional')).toMatch(/STARTTLS offered;.*SASL EXTERNAL; dialback offered/);
      expect(text('probe-dialback-only')).toMatch(/STARTTLS required;.*SASL none; dialback offered/);
      expect(text('probe-no-tls')).toMatch(/STARTTLS absent;.*dialback offered/);
      expect(text('probe-no-san')).toMatch(/SANs \*\.contoso\.test sip\.contoso\.test/);
      expect(text('probe-no-srv')).toMatch(/no SRV record for contoso\.test/);
    });

    it('a partner that insists on TLS 1.3: the s2s check reports the failed handshake', async () => {
      const { suite } = parseSuite(TLS13_PARTNER, 'tls13-partner.yaml');
      const results: RunResults = await runSuite(suite, { runtime: kind, reporters: fileReporters(path.join(out, `${kind}-tls13`)) });
      const [check] = results.phases.flatMap((p) => p.checks);
      expect(check!.met).toBe(true);
      expect(check!.outcome.text).toMatch(/^remote-server-timeout: .*negotiation of encrypted connection: .*protocol version/);
      // The partner server's bounce is cited by the check itself. The Edge's own row
      // (profile.legacy-edge-tls-versions) comes from the Edge's log, which may arrive after the
      // check has ended: late from a container, and on a busy machine from a process too.
      // sim-edge.test.ts waits for that log line and its row.
      expect(check!.behaviours).toContain('partner-server.negotiation-failed-timeout');
    });
  });
}
