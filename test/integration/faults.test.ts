import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import net from 'node:net';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Check } from '../../src/checks/index.js';
import { TestDnsServer } from '../../src/infra/dns.js';
import type { LinkData } from '../../src/infra/link-proxy.js';
import type { CheckResult } from '../../src/report/results.js';
import { runCheck } from '../../src/runner/run-check.js';
import type { MigrationStep } from '../../src/steps/index.js';
import { SimTopology } from '../../src/targets/sim/sim-topology.js';
import type { TargetSetup } from '../../src/targets/target.js';
import { resolvePartnerProfile } from '../../src/sfb/partner-profile.js';
import { runCli } from '../helpers/cli-process.js';
import { cast } from '../helpers/sim-support.js';
import { RUNTIMES, describeRuntime } from '../helpers/support.js';

const SFB = 'contoso.test';
/** A check's whole bound in the runner: its own timeout four times, and 5 s. */
const boundOf = (timeoutMs: number) => timeoutMs * 4 + 5_000;

/**
 * What a run with this partner domain left behind: its Prosody processes, containers and work
 * directories (named after the domain). Other tests run beside these, so the whole machine's count is no measure.
 */
function leftoversOf(partner: string): { processes: number; containers: number; dirs: number } {
  const lines = (file: string, args: string[]) => spawnSync(file, args, { encoding: 'utf8' }).stdout?.split('\n').filter(Boolean).length ?? 0;
  return {
    processes: lines('pgrep', ['-f', `prosody -F --config .*/xfed-${partner}-`]),
    containers: lines('docker', ['ps', '-aq', '--filter', `name=xfed-${partner}-`]),
    dirs: readdirSync(os.tmpdir()).filter((d) => d.startsWith(`xfed-${partner}-`)).length,
  };
}
const NOTHING = { processes: 0, containers: 0, dirs: 0 };
const uniqueDomain = () => `p${Math.random().toString(36).slice(2, 8)}.test`;

/** Times to verdict, by fault, for the closing figures (printed once per runtime). */
const timings: Array<[string, number]> = [];

for (const kind of RUNTIMES) {
  describeRuntime(kind, 'faults mid-run end in verdicts', () => {
    let topo: SimTopology;
    // A partner domain of this file's own: the hung-partner case stops its Prosody by name.
    const partnerDomain = uniqueDomain();
    const setup: TargetSetup = {
      partner: { domains: [partnerDomain], users: ['alice', 'bob'] },
      sfbDomain: SFB,
      partnerProfile: resolvePartnerProfile({ domain: partnerDomain, partnerType: 'Federated' }),
      echoUser: 'erin',
      baseDir: '.',
    };
    const apply = (step: MigrationStep) => topo.apply(step);
    /** Runs one check as the runner does, and keeps its time to verdict. */
    async function judge(fault: string, raw: Record<string, unknown>): Promise<CheckResult & { harnessFault?: string }> {
      const check = Check.parse({ kind: 'im', from: 'alice', to: 'erin', ...raw });
      const r = await runCheck(topo, setup, 'faults', check, check.id);
      timings.push([`${kind}: ${fault}`, r.durationMs]);
      expect(r.durationMs).toBeLessThan(boundOf(check.timeout !== undefined ? 8_000 : 5_000));
      return r;
    }
    /** The federation works again: an IM to the echo user comes back. */
    const recovered = async (id: string) => expect((await judge('recovery', { id })).actual).toBe('pass ("echoed")');

    beforeAll(async () => {
      const options = cast(kind);
      topo = await SimTopology.start({ ...options, partner: { ...options.partner, domains: [partnerDomain] } });
    }, 180_000);
    afterAll(() => topo?.stop(), 60_000);

    it('the Edge killed with SIGKILL: the next IM gets a verdict of the federation, not of the harness; restart-edge brings it back', async () => {
      await recovered('before-kill');
      await apply({ action: 'kill-edge' });
      const r = await judge('kill-edge', { id: 'after-kill' });
      expect(r).toMatchObject({ met: false, failure: 'federation' });
      expect(r.error).toBeUndefined();
      // A bounce names what the partner's server saw; a silence carries the diagnosis of the step.
      if (r.outcome.detail?.answer === 'none') expect(r.diagnosis).toMatch(/kill-edge step killed the legacy Edge's Prosody/);
      else expect(r.outcome.detail?.error).toMatch(/^remote-server-(not-found|timeout)$/);
      await apply({ action: 'restart-edge' });
      await recovered('after-restart');
    }, 120_000);

    it('the Edge killed while a stanza is on its way to it: the check in flight gets its verdict within its bound', async () => {
      await apply({ action: 'network', state: 'slow', delay: 300 });
      const relay = topo.links.relay(topo.links.xmppPool);
      let killing: Promise<unknown> | undefined;
      // The first chunk towards the Edge after the IM left: the stanza is in the relay, not yet at the Edge.
      const onData = (d: LinkData) => {
        if (d.direction === 'to-upstream' && !killing) killing = apply({ action: 'kill-edge' });
      };
      relay.on('data', onData);
      try {
        const r = await judge('kill-edge mid-stanza', { id: 'in-flight' });
        expect(r).toMatchObject({ met: false, failure: 'federation' });
        expect(killing).toBeDefined();
      } finally {
        relay.off('data', onData);
        await killing;
      }
      await apply({ action: 'network', state: 'restored' });
      await apply({ action: 'restart-edge' });
      await recovered('after-in-flight');
    }, 120_000);

    it("the gateway's component crashes: partners get an error from the Edge, never a hang; a gateway step starts it again", async () => {
      await apply({ action: 'kill-component' });
      const r = await judge('kill-component', { id: 'no-component' });
      expect(r).toMatchObject({ met: false, failure: 'federation' });
      if (r.outcome.detail?.answer === 'none') expect(r.diagnosis).toMatch(/kill-component step crashed/);
      else expect(r.outcome.detail?.error).toBeDefined();
      await apply({ action: 'gateway', state: 'started' });
      await recovered('component-back');
    }, 120_000);

    it('the network cut in the middle of a stanza: a verdict within the bound, and the link comes back', async () => {
      const relay = topo.links.relay(topo.links.xmppPool);
      let chunks = 0;
      let cut: Promise<unknown> | undefined;
      // A 100 kB IM crosses in more than one read (64 kB at most each): the connection is reset after the first reached the Edge.
      const onData = (d: LinkData) => {
        if (d.direction !== 'to-upstream' || d.chunk.length < 1_000 || cut) return;
        if (++chunks === 2) {
          relay.resetConnections();
          cut = apply({ action: 'network', state: 'cut' });
        }
      };
      relay.on('data', onData);
      try {
        const r = await judge('network cut mid-stanza', { id: 'cut-mid-stanza', size: 100_000 });
        expect(r.failure ?? 'met').not.toBe('harness');
        expect(cut).toBeDefined();
      } finally {
        relay.off('data', onData);
        await cut;
      }
      await apply({ action: 'network', state: 'restored' });
      await recovered('link-back');
    }, 120_000);

    it("the test DNS stopped by a step: a new stream cannot be resolved, the verdict is the rehearsal's (federation), start-dns brings it back", async () => {
      await apply({ action: 'stop-dns' });
      await topo.renewS2s();
      const r = await judge('stop-dns (step)', { id: 'no-dns', timeout: '8s' });
      expect(r).toMatchObject({ met: false, failure: 'federation' });
      if (r.outcome.detail?.answer === 'none') expect(r.diagnosis).toMatch(/stop-dns step stopped the DNS server/);
      await apply({ action: 'start-dns' });
      await topo.renewS2s();
      await recovered('dns-back');
    }, 120_000);

    it("xfed's test DNS dying on its own is a harness failure that names it, not a federation failure", async () => {
      const { host, port } = topo.resolver;
      await topo.dns.stop();
      try {
        await topo.renewS2s();
        const r = await judge('test DNS died', { id: 'dns-died', timeout: '8s' });
        expect(r).toMatchObject({ met: false, failure: 'harness' });
        expect(r.harnessFault).toBe(`xfed's test DNS at ${host}:${port} does not answer (ECONNREFUSED)`);
      } finally {
        await topo.dns.start(port, host);
      }
      await topo.renewS2s();
      await recovered('dns-restarted');
    }, 120_000);

    it('the legacy SIP pool down: the gateway answers the partner with an error within the bound', async () => {
      await topo.pools.legacy.stop();
      const r = await judge('SIP pool down', { id: 'pool-down', timeout: '8s' });
      expect(r).toMatchObject({ met: false, failure: 'federation' });
    }, 120_000);

    it("the partner's own Prosody hung (stopped, not dead): a harness failure that says it does not answer", async () => {
      await topo.partnerUser('alice');
      const hold = (on: boolean) =>
        kind === 'process'
          ? spawnSync('pkill', [on ? '-STOP' : '-CONT', '-f', `prosody -F --config .*/xfed-${partnerDomain}-`])
          : spawnSync('sh', ['-c', `docker ${on ? 'pause' : 'unpause'} $(docker ps -q --filter name=xfed-${partnerDomain}-)`]);
      expect(hold(true).status).toBe(0);
      try {
        const r = await judge('partner hung', { id: 'partner-hung' });
        expect(r).toMatchObject({ met: false, failure: 'harness' });
        expect(r.harnessFault).toMatch(
          new RegExp(`^xfed's partner Prosody \\(${partnerDomain.replace('.', '\\.')}\\) does not answer on 127\\.0\\.0\\.1:\\d+: `),
        );
      } finally {
        hold(false);
      }
    }, 120_000);

    it("the partner's own Prosody killed: a harness failure that says so, never a federation verdict", async () => {
      const alice = await topo.partnerUser('alice');
      expect(alice).toBeDefined();
      await topo.partner.kill();
      const r = await judge('partner killed', { id: 'partner-dead' });
      expect(r).toMatchObject({ met: false, failure: 'harness', harnessFault: `xfed's partner Prosody (${partnerDomain}) has exited` });
      expect(r.error).toContain(`xfed's partner Prosody (${partnerDomain}) has exited`);
    }, 120_000);
  });

  describeRuntime(kind, 'faults through the command line', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'faults-cli-'));
    });
    afterAll(() => rm(dir, { recursive: true, force: true }));

    const suite = (name: string, partner: string, phases: string) => `suite: ${name}
partner:
  domains: [${partner}]
  users: [alice]
target:
  sim:
    domain: ${SFB}
    partner: { partnerType: Federated }
    externalAccessPolicy: { enableXmppAccess: true }
    users:
      - { name: erin, pool: legacy, behaviour: echo }
phases:
${phases}`;
    const run = async (name: string, text: string, extra: string[] = []) => {
      const file = path.join(dir, `${name}.yaml`);
      await writeFile(file, text);
      const out = path.join(dir, `out-${name}-${kind}`);
      const r = await runCli(['run', file, '--runtime', kind, '--reporter', 'plain', '--out', out, ...extra], { timeoutMs: 240_000 });
      return { ...r, out };
    };

    it('a suite that injects the faults as steps: every check gets its verdict, the run completes, teardown leaves nothing', async () => {
      const partner = uniqueDomain();
      const r = await run(
        'fault-steps',
        suite(
          'fault-steps',
          partner,
          `  - name: edge-killed
    steps:
      - { action: kill-edge }
    checks:
      - { id: im-edge-killed, kind: im, from: alice, to: erin, expect: { error: '*' } }
  - name: edge-back
    steps:
      - { action: restart-edge }
    checks:
      - { id: im-edge-back, kind: im, from: alice, to: erin }
  - name: component-killed
    steps:
      - { action: kill-component }
    checks:
      - { id: im-no-component, kind: im, from: alice, to: erin, expect: { error: '*' } }
  - name: component-back
    steps:
      - { action: gateway, state: started }
    checks:
      - { id: im-component-back, kind: im, from: alice, to: erin }
`,
        ),
      );
      const results = JSON.parse(await readFile(path.join(r.out, 'results.json'), 'utf8'));
      const checks = results.phases.flatMap((p: { checks: CheckResult[] }) => p.checks) as CheckResult[];
      expect(results.status).toBe('complete');
      expect(checks.map((c) => [c.id, c.failure ?? 'met'])).toEqual([
        ['im-edge-killed', 'met'],
        ['im-edge-back', 'met'],
        ['im-no-component', 'met'],
        ['im-component-back', 'met'],
      ]);
      expect([r.code, r.stderr]).toEqual([0, '']);
      expect(await readFile(path.join(r.out, 'junit.xml'), 'utf8')).not.toMatch(/<error message=/);
      expect(leftoversOf(partner)).toEqual(NOTHING);
    }, 300_000);

    it("the partner's Prosody killed mid-run: a harness failure (JUnit <error>), the run stops with the reason, exit 2, nothing left", async () => {
      // A partner domain of this test's own, so the kill finds this run's Prosody and no other.
      const partner = uniqueDomain();
      const killPartner =
        // [x]: the pattern does not match the shell that runs pkill.
        kind === 'process' ? `pkill -9 -f 'prosody -F --config .*/[x]fed-${partner}-'` : `docker kill $(docker ps -q --filter name=xfed-${partner}-)`;
      const r = await run(
        'partner-killed',
        suite(
          'partner-killed',
          partner,
          `  - name: first
    checks:
      - { id: im-first, kind: im, from: alice, to: erin }
  - name: partner-gone
    steps:
      - { action: run, command: "${killPartner}" }
    checks:
      - { id: im-after, kind: im, from: alice, to: erin }
      - { id: im-never, kind: im, from: alice, to: erin }
`,
        ),
      );
      expect([r.code, r.stdout]).toEqual([2, expect.stringContaining('exit 2')]);
      expect(r.stdout).toMatch(/! im-after .*harness failure: .*xfed's partner Prosody \(p\w+\.test\) has exited/);
      expect(r.stdout).toContain('1 check failed because xfed itself broke (a harness failure, not a verdict on the federation)');
      const results = JSON.parse(await readFile(path.join(r.out, 'results.json'), 'utf8'));
      expect(results).toMatchObject({
        status: 'failed',
        reason: expect.stringMatching(/^xfed itself broke during check im-after: .*the remaining checks were not run$/),
      });
      expect(results.phases[1].checks.map((c: CheckResult) => [c.id, c.failure ?? c.skipped])).toEqual([
        ['im-after', 'harness'],
        ['im-never', expect.stringMatching(/^the run stopped before it: xfed itself broke during check im-after: /)],
      ]);
      const junit = await readFile(path.join(r.out, 'junit.xml'), 'utf8');
      expect(junit).toMatch(/<error message="[^"]*has exited[^"]*" type="harness">/);
      expect(junit).toMatch(/<testcase name="im-never" [^>]*>\s*<skipped message="not run: the run stopped before it: xfed itself broke/);
      expect(junit).not.toMatch(/<failure message=/);
      expect(leftoversOf(partner)).toEqual(NOTHING);
    }, 300_000);

    if (kind === 'process') {
      // A mount namespace of the command's own (root: unshare -m; else a user namespace): its tiny file system goes with it.
      const unshare = process.getuid?.() === 0 ? ['-m'] : ['-rm'];
      const canMount = spawnSync('unshare', [...unshare, 'sh', '-c', 'mount -t tmpfs -o size=64k none /mnt'], { stdio: 'ignore' }).status === 0;
      const tinyPartner = uniqueDomain();
      const LEFT = '--- results.json as the run left it ---';
      const inTinyFs = async (mountOptions: string, fill: number) => {
        const out = path.join(dir, `tiny-${mountOptions.replace(/\W/g, '')}`);
        await rm(out, { recursive: true, force: true });
        await mkdir(out, { recursive: true });
        const file = path.join(dir, 'tiny.yaml');
        await writeFile(file, suite('tiny', tinyPartner, '  - name: only\n    checks:\n      - { id: im, kind: im, from: alice, to: erin }\n'));
        const xfed = path.join(process.cwd(), 'bin', 'xfed.js');
        const script = [
          `mount -t tmpfs -o ${mountOptions} none ${out}`,
          fill > 0 ? `(head -c ${fill} /dev/zero > ${out}/filler 2>/dev/null; true)` : 'true',
          // The file system goes with the namespace: what the run left is read inside it.
          `{ "${process.execPath}" ${xfed} run ${file} --runtime process --reporter plain --out ${out}; code=$?; echo '${LEFT}'; cat ${out}/results.json 2>/dev/null; exit $code; }`,
        ].join(' && ');
        const child = spawnSync('unshare', [...unshare, 'sh', '-c', script], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, NO_COLOR: '1' } });
        const [stdout, left] = child.stdout.split(`${LEFT}\n`);
        return { code: child.status, stdout: stdout!, stderr: child.stderr, resultsJson: left ?? '' };
      };

      (canMount ? it : it.skip)(
        'a full disk: the run goes on, the console names each file it could not write and why, exit 2',
        async () => {
          // Room for the first, small results.json; not for the report page.
          const r = await inTinyFs('size=1m', 1024 * 1024 - 12 * 1024);
          expect(r.code).toBe(2);
          expect(r.stdout).toMatch(/1 of 1 checks met/);
          expect(r.stdout).toMatch(/not written: cannot write \S+\/report\.html: no space left on the device/);
          expect(r.stderr).toMatch(/^xfed: cannot write \S+: no space left on the device; the run goes on$/m);
          expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
          // What could be written stays whole: the results file of an earlier write, never half of one.
          expect(JSON.parse(r.resultsJson)).toMatchObject({ format: 'xfed-results/1', suite: { name: 'tiny' } });
          expect(leftoversOf(tinyPartner)).toEqual(NOTHING);
        },
        180_000,
      );

      (canMount ? it : it.skip)(
        'a read-only results directory: the run goes on and says so, exit 2, no stack trace',
        async () => {
          const r = await inTinyFs('ro,size=64k', 0);
          expect(r.code).toBe(2);
          expect(r.stdout).toMatch(/1 of 1 checks met/);
          for (const f of ['results.json', 'junit.xml', 'report.html'])
            expect(r.stdout).toMatch(new RegExp(`not written: cannot write \\S+/${f.replace('.', '\\.')}: the file system is read-only`));
          expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
        },
        180_000,
      );

      it('a taken S2S listen port of a gateway suite: one line naming the port and its holder, exit 2, nothing left running', async () => {
        const partner = uniqueDomain();
        const holder = net.createServer();
        await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
        // The lab's DNS: it must answer (an empty zone does) before xfed starts anything.
        const labDns = new TestDnsServer();
        await labDns.start(0, '127.0.0.1');
        const port = (holder.address() as net.AddressInfo).port;
        try {
          const file = path.join(dir, 'taken.yaml');
          await writeFile(
            file,
            `suite: taken
partner: { domains: [${partner}], users: [alice] }
target:
  gateway:
    domain: ${SFB}
    resolver: { host: 127.0.0.1, port: ${labDns.port} }
    ca: lab-ca.pem
    listen: { host: 127.0.0.1, port: ${port} }
    certificate: { cert: partner.crt, key: partner.key }
    users: [{ name: xfed.echo, role: echo }]
phases:
  - name: p
    checks: [{ id: ping, kind: ping, from: alice }]
`,
          );
          for (const f of ['lab-ca.pem', 'partner.crt', 'partner.key'])
            await writeFile(path.join(dir, f), await readFile(path.join('test', 'fixtures', 'suites', 'valid', 'lab', f)));
          const r = await runCli(['run', file, '--runtime', 'process', '--out', path.join(dir, 'out-taken')]);
          expect(r.code).toBe(2);
          expect(r.stderr).toBe(
            `xfed: the S2S listen address of the partner ${partner} 127.0.0.1:${port} is taken by node (pid ${process.pid}): stop what holds it, or publish the partner elsewhere (target.gateway.listen)\n`,
          );
          expect(leftoversOf(partner)).toEqual(NOTHING);
        } finally {
          holder.close();
          await labDns.stop();
        }
      }, 120_000);
    }
  });
}

afterAll(() => {
  if (timings.length === 0) return;
  process.stderr.write(`time to verdict per fault:\n${timings.map(([f, ms]) => `  ${f}: ${Math.round(ms)} ms`).join('\n')}\n`);
});

describe('fault steps', () => {
  it('are listed among the step kinds', async () => {
    const { STEP_KINDS } = await import('../../src/steps/index.js');
    expect(STEP_KINDS.map((k) => k.action)).toEqual(expect.arrayContaining(['kill-edge', 'restart-edge', 'kill-component', 'stop-dns', 'start-dns']));
  });
});
