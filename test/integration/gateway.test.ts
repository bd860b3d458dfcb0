import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Check } from '../../src/checks/index.js';
import { runNegotiationMatrix } from '../../src/matrix/negotiation-matrix.js';
import { exitCodeOf } from '../../src/report/console.js';
import { loadSuite, parseSuite } from '../../src/scenario/loader.js';
import { fileReporters } from '../../src/report/files.js';
import { runSuite } from '../../src/runner/run-suite.js';
import type { CheckResult, RunResults } from '../../src/report/results.js';
import type { RuntimeKind } from '../../src/prosody/types.js';
import { startTarget, xml } from 'xfed';
import { TestCa } from '../../src/infra/pki.js';
import { ejabberdGate } from '../helpers/ejabberd-gate.js';
import { startEjabberd } from '../helpers/ejabberd.js';
import { labSuite, SFB_DOMAIN, startLab, type Lab } from '../helpers/gateway-lab.js';
import { runCli, startCli } from '../helpers/cli-process.js';
import { RUNTIMES, countLeftovers, describeRuntime } from '../helpers/support.js';

// The gateway target against a second real XMPP server that is not Prosody: ejabberd from
// Debian's packages stands in for a lab's legacy Edge (gateway-lab.ts). CI installs it; elsewhere
// these tests are skipped with the reason, unless XFED_REQUIRE_RUNTIMES names ejabberd.
const ejabberd = ejabberdGate('the gateway target against ejabberd');

const unmet = (r: RunResults) =>
  r.phases
    .flatMap((p) => p.checks)
    .filter((c) => !c.met)
    .map((c) => `${c.id}: expected ${c.expected}, got ${c.actual}`);
const byId = (r: RunResults) => new Map<string, CheckResult>(r.phases.flatMap((p) => p.checks).map((c) => [c.id, c]));

function gatewaySuite(lab: Lab, users: string, phases: string, extra = ''): string {
  return labSuite(lab, { name: `gateway-${Math.random().toString(36).slice(2, 8)}`, users, phases, targetExtra: extra });
}

/** The run ended its subscriptions: the lab's users keep no partner contact. */
async function expectNoPartnerContacts(lab: Lab): Promise<void> {
  for (const bot of lab.bots) {
    const roster = await bot.user.iq('get', undefined, xml('query', { xmlns: 'jabber:iq:roster' }));
    const items = (roster.getChild('query')?.getChildren('item') ?? []).filter((i) => i.attrs.subscription !== 'none' || i.attrs.ask);
    expect([bot.user.bare, items.map((i) => `${i.attrs.jid} ${i.attrs.subscription}`)]).toEqual([bot.user.bare, []]);
  }
}

async function run(lab: Lab, kind: RuntimeKind, text: string, name: string): Promise<RunResults> {
  const file = path.join(lab.dir, `${name}.yaml`);
  const { suite } = parseSuite(text, file);
  return runSuite(suite, { runtime: kind, reporters: fileReporters(path.join(lab.dir, `out-${name}-${kind}`)), assumeDone: true });
}

for (const kind of RUNTIMES) {
  const body = () => {
    let lab: Lab;
    beforeAll(async () => {
      ejabberd.check();
      lab = await startLab();
    }, 60_000);
    afterAll(() => lab?.stop());

    it('scenarios/real-gateway.example.yaml, with the lab filled in, runs unchanged: every check met', async () => {
      const { file, vars } = await lab.fillExample();
      const { suite } = await loadSuite(file, { vars: [vars] });
      const results = await runSuite(suite, { runtime: kind, reporters: fileReporters(path.join(lab.dir, `out-example-${kind}`)), assumeDone: true });
      expect(unmet(results)).toEqual([]);
      expect(results).toMatchObject({ status: 'complete', target: 'gateway', runtime: kind, summary: { checks: 14, met: 14 } });
      const checks = byId(results);
      expect(checks.get('srv')!.actual).toBe(`pass ("0 5 ${lab.edge.s2s.port} edge.${SFB_DOMAIN} -> 127.0.0.1")`);
      expect(checks.get('edge-probe')!.actual).toMatch(/STARTTLS required; TLSv1\.3; certificate trusted, SANs contoso\.test.*SASL EXTERNAL/);
      expect(checks.get('s2s')!.actual).toBe('pass ("TLSv1.3, sasl-external")');
      expect(checks.get('im-echo')!.evidence.map((e) => `${e.from}>${e.to}`)).toContain('partner-user>partner-server');
      await expectNoPartnerContacts(lab);
    });

    it('a check the lab cannot perform is "not possible", apart from met and unmet, in every report', async () => {
      const file = path.join(lab.dir, 'not-possible.yaml');
      const { suite } = parseSuite(
        gatewaySuite(
          lab,
          '      - { name: xfed.echo, role: echo }\n      - { name: xfed.watch, role: accept }',
          '  - name: base\n    checks:\n      - { id: ping, kind: ping, from: alice }\n',
        ),
        file,
      );
      // xfed validate refuses these in a file; a suite written in code reaches the target with them.
      const checks = [
        { id: 'im-watch', kind: 'im', from: 'alice', to: 'xfed.watch' },
        { id: 'watch-writes', kind: 'im-from-sfb', from: 'xfed.watch', to: 'bob' },
        { id: 'ping', kind: 'ping', from: 'alice' },
      ].map((c) => Check.parse(c));
      const dir = path.join(lab.dir, `out-not-possible-${kind}`);
      const results = await runSuite({ ...suite, phases: [{ name: 'impossible', checks }] }, { runtime: kind, reporters: fileReporters(dir) });
      expect(results.summary).toEqual({ phases: 1, checks: 3, met: 1, unmet: 0, notPossible: 2 });
      expect(exitCodeOf(results)).toBe(0);
      const byIdNow = byId(results);
      expect(byIdNow.get('im-watch')!.notPossible).toBe(
        'xfed sees an IM reach xfed.watch only through an echo or as xfed.watch, so xfed must act as xfed.watch: give xfed.watch a login in target.gateway.users',
      );
      expect(byIdNow.get('watch-writes')!.notPossible).toBe(
        'xfed.watch writes, so xfed must act as xfed.watch: give xfed.watch a login in target.gateway.users',
      );
      // Nothing was sent to xfed.watch: the checks stopped before acting.
      expect(byIdNow.get('im-watch')!.evidence).toEqual([]);
      const junit = await readFile(path.join(dir, 'junit.xml'), 'utf8');
      expect(junit.match(/<skipped message="not possible: /g)).toHaveLength(2);
      expect(await readFile(path.join(dir, 'report.html'), 'utf8')).toContain('<span class="badge not-possible">not possible</span>');
    });

    it('users xfed drives itself: IMs both ways, availability, no leak, no delivery; the password is in no report', async () => {
      const password = lab.register('erin');
      process.env.XFED_TEST_ERIN_PASSWORD = password;
      try {
        const results = await run(
          lab,
          kind,
          gatewaySuite(
            lab,
            `      - { name: xfed.echo, role: echo }
      - name: erin
        role: none
        login: { passwordEnv: XFED_TEST_ERIN_PASSWORD, c2s: { host: 127.0.0.1, port: ${lab.edge.c2s.port} } }`,
            `  - name: driven
    checks:
      - { id: im-erin, kind: im, from: alice, to: erin, body: "to erin, whose password is ${password}" }
      - { id: erin-writes, kind: im-from-sfb, from: erin, to: bob }
      - { id: erin-refuses, kind: subscribe, from: alice, to: erin, expect: { subscription: pending } }
      - { id: no-leak, kind: no-presence-leak, of: erin, by: alice, set: Busy }
  - name: erin-accepts
    steps:
      - { action: set-availability, user: erin, availability: Away, note: "in a meeting" }
    checks:
      - { id: echo-dnd, kind: presence, of: xfed.echo, by: bob }
      - { id: no-echo-to-nobody, kind: no-delivery, from: alice, to: xfed.echo, expect: { delivery: delivered } }
`,
          ),
          'driven',
        );
        expect(unmet(results)).toEqual([]);
        const checks = byId(results);
        expect(checks.get('im-erin')!.actual).toBe('pass ("received by erin")');
        expect(checks.get('erin-writes')!.actual).toBe('pass ("received")');
        // The password reached erin's session, and no file of the run shows it.
        expect(JSON.stringify(checks.get('im-erin')!.evidence)).toContain('[redacted]');
        const dir = path.join(lab.dir, `out-driven-${kind}`);
        for (const f of ['results.json', 'junit.xml', 'report.html'])
          expect([f, (await readFile(path.join(dir, f), 'utf8')).includes(password)]).toEqual([f, false]);
        expect(await readFile(path.join(dir, 'report.html'), 'utf8')).toContain('real Edge: its gateway and SIP pool hops are not observed');
      } finally {
        delete process.env.XFED_TEST_ERIN_PASSWORD;
      }
    });

    it("the README's example of a gateway target from code runs", async () => {
      const { file, vars } = await lab.fillExample();
      // As in the README, with the lab's directory for 'lab' and the runtime under test.
      const { suite } = await loadSuite(file, { vars: [vars] });
      const target = await startTarget(suite, { runtime: kind });
      try {
        const alice = await target.partnerUser('alice');
        await alice.sendMessage(`xfed.echo@${target.sfbDomain}`, 'hello');
        await alice.waitFor((s) => s.getChildText('body') === 'hello', 5_000, 'the echo');
        const edge = await target.locateEdge(5_000);
        expect(edge).toEqual({ host: '127.0.0.1', port: lab.edge.s2s.port, via: `SRV edge.${SFB_DOMAIN}:${lab.edge.s2s.port}` });
      } finally {
        await target.stop();
      }
    });

    if (kind === 'process') {
      it('xfed run from the command line: every check met, exit 0; SIGTERM halfway leaves nothing and keeps the results; bad input exits 2 in one line', async () => {
        const { file, vars } = await lab.fillExample();
        const out = path.join(lab.dir, 'cli-out');
        const ok = await runCli([
          'run',
          file,
          '--vars',
          vars,
          '--target',
          'gateway',
          '--runtime',
          'process',
          '--assume-done',
          '--reporter',
          'plain',
          '--out',
          out,
        ]);
        expect([ok.code, ok.stderr]).toEqual([0, '']);
        expect(ok.stdout).toMatch(/14 of 14 checks met, 0 unmet in 3 phases/);

        const halfway = startCli(['run', file, '--vars', vars, '--runtime', 'process', '--assume-done', '--reporter', 'plain', '--out', `${out}-2`]);
        await halfway.waitForOutput(/subscribe-watch/, 30_000);
        // The count sees this run's own: its partner Prosody and work directories.
        const during = countLeftovers({ ownerPid: halfway.child.pid! });
        expect([during.prosodyProcesses > 0, during.tempDirs > 0]).toEqual([true, true]);
        halfway.child.kill('SIGTERM');
        expect((await halfway.exit(30_000)).code).toBe(143);
        await expectNoPartnerContacts(lab);
        expect(JSON.parse(await readFile(path.join(`${out}-2`, 'results.json'), 'utf8'))).toMatchObject({ status: 'interrupted', target: 'gateway' });
        // Only what this run made: the other tests running beside this one start and stop their own.
        expect(countLeftovers({ ownerPid: halfway.child.pid! })).toEqual({ prosodyProcesses: 0, containers: 0, networks: 0, tempDirs: 0 });

        const noPassword = await runCli(
          ['run', path.join('test', 'fixtures', 'suites', 'valid', 'gateway.yaml'), '--runtime', 'process', '--out', `${out}-3`],
          { env: { XFED_ERIN_PASSWORD: '' } },
        );
        expect([noPassword.code, noPassword.stderr]).toEqual([
          2,
          'xfed: target.gateway.users erin: the environment variable XFED_ERIN_PASSWORD (login.passwordEnv) is not set\n',
        ]);
        const deadResolver = await runCli(
          ['run', path.join('test', 'fixtures', 'suites', 'valid', 'gateway.yaml'), '--runtime', 'process', '--out', `${out}-4`],
          { env: { XFED_ERIN_PASSWORD: 'x' } },
        );
        expect([deadResolver.code, deadResolver.stderr]).toEqual([
          2,
          'xfed: target.gateway.resolver: the DNS server 127.0.0.1:5353 does not answer (ECONNREFUSED)\n',
        ]);
      });
    }

    it('the negotiation matrix against an Edge with optional TLS and dialback: every partner setting federates as SfB documents', async () => {
      const edge = await startEjabberd({
        domain: SFB_DOMAIN,
        cert: await lab.ca.issue(SFB_DOMAIN),
        caPem: lab.ca.certPem,
        resolver: { host: lab.dns.host, port: lab.dns.port },
        s2sTls: 'optional',
        dialback: true,
      });
      lab.pointSrv(edge.s2s.port);
      try {
        const text = gatewaySuite(
          lab,
          '      - { name: xfed.echo, role: echo }',
          '  - name: p\n    checks:\n      - { id: ping, kind: ping, from: alice }\n',
          '    partner: { partnerType: Federated, tlsNegotiation: Optional, saslNegotiation: Optional, supportDialbackNegotiation: true }\n',
        );
        const file = path.join(lab.dir, 'matrix.yaml');
        const { suite } = parseSuite(text, file);
        // The echo bot lives on the lab's first Edge: the matrix pings the domain instead.
        if (suite.target.kind !== 'gateway') throw new Error('a gateway suite');
        const lone = {
          ...suite,
          echoUser: undefined,
          target: { kind: 'gateway' as const, gateway: { ...suite.target.gateway, users: [{ name: 'nobody', role: 'none' as const }] } },
        };
        const { rows } = await runNegotiationMatrix(lone, { runtime: kind });
        expect(rows.map((r) => [r.partner.tls, r.partner.auth, r.observed, r.asPredicted])).toEqual([
          ['required', 'certificate', 'sasl-over-tls', true],
          ['optional', 'certificate', 'sasl-over-tls', true],
          ['required', 'dialback', 'sasl-over-tls', true],
          ['optional', 'dialback', 'sasl-over-tls', true],
          ['off', 'dialback', 'dialback-over-tcp', true],
        ]);
      } finally {
        lab.pointSrv(lab.edge.s2s.port);
        await edge.stop();
      }
    });

    it('breaks as a lab breaks: a certificate from another CA, the S2S port closed, no way back to the partner, the SRV record removed', async () => {
      const phases = (expectations: { probe: string; im: string; dns?: string }) => `  - name: broken
    checks:
      - { id: dns, kind: dns, target: edge.${SFB_DOMAIN}${expectations.dns ? `, expect: ${expectations.dns}` : ''} }
      - { id: probe, kind: s2s-probe, expect: ${expectations.probe} }
      - { id: ping, kind: ping, from: alice, expect: ${expectations.im} }
      - { id: im, kind: im, from: alice, to: xfed.echo, expect: ${expectations.im} }
`;
      const users = '      - { name: xfed.echo, role: echo }';
      // A renewed Edge certificate from a CA the partner does not trust: a second ejabberd.
      const other = await TestCa.create();
      const impostor = await startEjabberd({
        domain: SFB_DOMAIN,
        cert: await other.issue(SFB_DOMAIN),
        caPem: lab.ca.certPem,
        resolver: { host: lab.dns.host, port: lab.dns.port },
      });
      try {
        lab.pointSrv(impostor.s2s.port);
        const untrusted = await run(
          lab,
          kind,
          gatewaySuite(lab, users, phases({ probe: '{ certificate: untrusted }', im: '{ error: remote-server-timeout }' })),
          'untrusted',
        );
        expect(unmet(untrusted)).toEqual([]);
        expect(byId(untrusted).get('im')!.actual).toMatch(/not trusted/);
      } finally {
        await impostor.stop();
      }
      // The record points at a port where nothing listens any more.
      const closed = await run(lab, kind, gatewaySuite(lab, users, phases({ probe: '{ s2s: refused }', im: '{ error: remote-server-not-found }' })), 'closed');
      expect(unmet(closed)).toEqual([]);
      expect(byId(closed).get('probe')!.actual).toMatch(/ECONNREFUSED/);
      // The lab forgot the partner's records: the Edge cannot come back, and the timeout says so.
      lab.pointSrv(lab.edge.s2s.port);
      lab.publishPartner(false);
      try {
        const oneWay = await run(
          lab,
          kind,
          gatewaySuite(lab, users, '  - name: one-way\n    checks:\n      - { id: im, kind: im, from: alice, to: xfed.echo, timeout: 2s }\n'),
          'one-way',
        );
        expect(byId(oneWay).get('im')).toMatchObject({
          met: false,
          failure: 'federation',
          diagnosis: expect.stringMatching(/the Edge never opened its stream back to the partner: the DNS the Edge uses needs the partner domain's SRV record/),
        });
      } finally {
        lab.publishPartner(true);
      }
      // The SRV record is gone, and the domain has no A record either.
      lab.pointSrv(undefined);
      try {
        const gone = await run(
          lab,
          kind,
          gatewaySuite(lab, users, phases({ dns: '{ dns: nxdomain }', probe: '{ s2s: refused }', im: '{ error: remote-server-not-found }' })),
          'no-srv',
        );
        expect(unmet(gone)).toEqual([]);
      } finally {
        lab.pointSrv(lab.edge.s2s.port);
      }
    });
  };
  describeRuntime(kind, 'the gateway target against ejabberd', ejabberd.tests(body));
}
