import { describe, expect, it } from '@jest/globals';
import net from 'node:net';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { StartupError } from '../../src/errors.js';
import { Federation } from '../../src/partner/federation.js';
import type { LuaValue } from '../../src/prosody/types.js';
import { XmppUser } from '../../src/xmpp/client.js';
import { SimTopology } from '../../src/targets/sim/sim-topology.js';
import { cast } from '../helpers/sim-support.js';
import { ROOT, startCli } from '../helpers/cli-process.js';
import { RUNTIMES, countLeftovers, describeRuntime, type Leftovers } from '../helpers/support.js';

/** What one partner adds to the counts in each runtime. */
function expectGrowth(before: Leftovers, now: Leftovers, kind: string, partners: number): void {
  if (kind === 'process') expect(now.prosodyProcesses - before.prosodyProcesses).toBe(partners);
  else {
    expect(now.containers - before.containers).toBe(partners);
    expect(now.networks - before.networks).toBe(1);
  }
  expect(now.tempDirs - before.tempDirs).toBe(partners);
}

for (const kind of RUNTIMES) {
  describeRuntime(kind, 'teardown leaves nothing behind', () => {
    const startTimeout = kind === 'container' ? 90_000 : 30_000;

    it('after a normal stop', async () => {
      const before = countLeftovers();
      const fed = await Federation.start({ runtime: kind });
      const a = await fed.addPartner({ domains: ['td-a.test'], users: ['alice'] });
      await fed.addPartner({ domains: ['td-b.test'], users: ['bob'] });
      const alice = await XmppUser.connect({ jid: 'alice@td-a.test', password: a.account('alice').password, endpoint: a.c2s, trustPem: a.trustPem });
      expectGrowth(before, countLeftovers(), kind, 2);
      await alice.stop();
      await fed.stop();
      expect(countLeftovers()).toEqual(before);
    });

    it('after a simulated legacy side (partner, Edge, gateway, pools, relays) stops, also after a failed step', async () => {
      const before = countLeftovers();
      const topo = await SimTopology.start(cast(kind));
      try {
        const alice = await topo.partnerUser('alice');
        await alice.sendMessage('erin@contoso.test', 'hello');
        expectGrowth(before, countLeftovers(), kind, 2);
        await expect(topo.apply({ action: 'move-user', user: 'nobody', pool: 'sfb2019' })).rejects.toThrow(/unknown SfB user 'nobody'/);
      } finally {
        await topo.stop();
      }
      expect(countLeftovers()).toEqual(before);
    });

    it('after a startup failure', async () => {
      const blocker = net.createServer();
      await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
      const takenPort = (blocker.address() as net.AddressInfo).port;
      const fed = await Federation.start({ runtime: kind });
      try {
        const before = countLeftovers();
        // Process: a port in use; container: a module that does not exist. Both are fatal log lines.
        const prosodyOptions: Record<string, LuaValue> = kind === 'process' ? { c2s_ports: [takenPort] } : { modules_enabled: ['no_such_module'] };
        await expect(fed.addPartner({ domains: ['td-fail.test'], prosodyOptions })).rejects.toBeInstanceOf(StartupError);
        expect(countLeftovers()).toEqual(before);
      } finally {
        blocker.close();
        await fed.stop();
      }
    });

    it('when `xfed up` gets SIGINT (Ctrl-C)', async () => {
      const before = countLeftovers();
      const up = startCli(['up', '--domain', 'td-up.test', '--user', 'alice', '--runtime', kind]);
      try {
        await up.waitForOutput(/Press Ctrl-C/, startTimeout);
        expect(up.stdout()).toMatch(/alice@td-up\.test\s+password \S+/);
        expectGrowth(before, countLeftovers(), kind, 1);
      } finally {
        // Also when an expectation above failed: the signal is what the test is about, and it must not leave xfed up running.
        up.child.kill('SIGINT');
      }
      expect((await up.exit(30_000)).code).toBe(130);
      expect(countLeftovers()).toEqual(before);
    });

    it('when `xfed demo` gets SIGTERM halfway', async () => {
      const before = countLeftovers();
      const out = await mkdtemp(path.join(os.tmpdir(), 'demo-out-'));
      try {
        const demo = startCli(['demo', '--runtime', kind, '--out', out]);
        await demo.waitForOutput(/✓ base-s2s/, startTimeout);
        demo.child.kill('SIGTERM');
        expect((await demo.exit(30_000)).code).toBe(143);
        // What was measured before the signal is kept, and says the run was interrupted.
        const results = JSON.parse(await readFile(path.join(out, 'results.json'), 'utf8')) as { status: string; summary: { checks: number } };
        expect(results.status).toBe('interrupted');
        expect(results.summary.checks).toBeGreaterThanOrEqual(2);
        expect(await readFile(path.join(out, 'report.html'), 'utf8')).toContain('interrupted');
      } finally {
        await rm(out, { recursive: true, force: true });
      }
      expect(countLeftovers()).toEqual(before);
    });

    it('when a library user crashes with an uncaught error', async () => {
      const before = countLeftovers();
      const run = startCli([kind], { script: path.join(ROOT, 'test', 'fixtures', 'crash-after-start.ts') });
      await run.waitForOutput(/READY/, startTimeout);
      const { code } = await run.exit(30_000);
      expect(code).not.toBe(0);
      expect(run.stderr()).toMatch(/deliberate crash after start/);
      expect(countLeftovers()).toEqual(before);
    });
  });
}

describe('teardown counting', () => {
  it('counts from the outside, so a leak cannot hide', () => {
    const counts = countLeftovers();
    expect(Object.keys(counts).sort()).toEqual(['containers', 'networks', 'prosodyProcesses', 'tempDirs']);
  });
});
