import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import type { CheckResult } from '../../src/report/results.js';
import { ejabberdGate } from '../helpers/ejabberd-gate.js';
import { labSuite, PARTNER_DOMAIN, SFB_DOMAIN, startLab, type Lab } from '../helpers/gateway-lab.js';
import { runCli } from '../helpers/cli-process.js';

// A lab's Edge that fails as the field does (ejabberd standing in, gateway-lab.ts): one that never
// answers, one that cannot reach back. Its silence is the federation's failure, with a diagnosis,
// never a harness error. The command line is what a CI job runs, so the verdicts are read there.
const ejabberd = ejabberdGate('the gateway faults');

const body = () => {
  let lab: Lab;
  beforeAll(async () => {
    ejabberd.check();
    lab = await startLab();
  }, 60_000);
  afterAll(() => lab?.stop());

  async function run(name: string, checks: string) {
    const file = path.join(lab.dir, `${name}.yaml`);
    await writeFile(
      file,
      labSuite(lab, {
        name,
        users: '      - { name: xfed.echo, role: echo }\n      - { name: xfed.watch, role: accept }',
        phases: `  - name: faults\n    checks:\n${checks}`,
      }),
    );
    const out = path.join(lab.dir, `out-${name}`);
    const r = await runCli(['run', file, '--runtime', 'process', '--reporter', 'plain', '--out', out], { timeoutMs: 120_000 });
    const results = JSON.parse(await readFile(path.join(out, 'results.json'), 'utf8'));
    const checksById = new Map<string, CheckResult>(results.phases.flatMap((p: { checks: CheckResult[] }) => p.checks).map((c: CheckResult) => [c.id, c]));
    return { ...r, results, checks: checksById, junit: await readFile(path.join(out, 'junit.xml'), 'utf8') };
  }

  it('an Edge that accepts the connection and never says a word: federation failures with the diagnosis (exit 1, JUnit <failure>, no <error>)', async () => {
    const silent = net.createServer((socket) => socket.on('error', () => undefined));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    lab.pointSrv((silent.address() as net.AddressInfo).port);
    try {
      const r = await run(
        'silent-edge',
        `      - { id: im, kind: im, from: alice, to: xfed.echo, timeout: 2s }
      - { id: ping, kind: ping, from: alice, timeout: 2s }
      - { id: subscribe, kind: subscribe, from: bob, to: xfed.watch, timeout: 2s }
`,
      );
      expect([r.code, r.stderr]).toEqual([1, '']);
      const neverUp = /^the partner's stream to the Edge never came up: the Edge did not answer or did not accept it/;
      for (const id of ['im', 'ping']) {
        expect(r.checks.get(id)).toMatchObject({
          met: false,
          failure: 'federation',
          outcome: { detail: { answer: 'none' } },
          diagnosis: expect.stringMatching(neverUp),
        });
        expect(r.checks.get(id)!.error).toBeUndefined();
      }
      expect(r.checks.get('subscribe')).toMatchObject({
        met: false,
        failure: 'federation',
        outcome: {
          detail: { subscription: 'pending' },
          text: `the subscribe left bob@${PARTNER_DOMAIN} for xfed.watch@${SFB_DOMAIN}; no subscribed, unsubscribed or error came back within 2000 ms`,
        },
        diagnosis: expect.stringMatching(neverUp),
      });
      expect(r.junit.match(/<failure message=/g)).toHaveLength(3);
      expect(r.junit).not.toMatch(/<error message=/);
      expect(r.stdout).toMatch(/✗ im .*; diagnosis: the partner's stream to the Edge never came up/);
      expect(r.stdout).toContain('exit 1: 3 checks did not meet the expectation');
    } finally {
      lab.pointSrv(lab.edge.s2s.port);
      silent.close();
    }
  }, 180_000);

  it('an Edge that cannot reach back to the partner: the subscription is pending with the diagnosis, not swallowed', async () => {
    lab.publishPartner(false);
    try {
      const r = await run('no-way-back', '      - { id: subscribe, kind: subscribe, from: bob, to: xfed.watch, timeout: 3s }\n');
      expect([r.code, r.stderr]).toEqual([1, '']);
      expect(r.checks.get('subscribe')).toMatchObject({
        met: false,
        failure: 'federation',
        outcome: { detail: { subscription: 'pending' } },
        diagnosis: expect.stringMatching(
          /^the Edge never opened its stream back to the partner: the DNS the Edge uses needs the partner domain's SRV record pointing at 127\.0\.0\.1:\d+/,
        ),
      });
      expect(r.junit).toMatch(/<failure message="expected pass, got subscription pending/);
      expect(r.junit).toContain('diagnosis: the Edge never opened its stream back to the partner');
      expect(r.junit).not.toMatch(/<error message=/);
    } finally {
      lab.publishPartner(true);
    }
  }, 180_000);
};

describe('a lab Edge that fails: verdicts of the federation, with a diagnosis', ejabberd.tests(body));
