// A suite run from code with a reporter of one's own: the runner's one seam. The run writes no
// file of its own; the reporter hears every event, in order, with the results as they stand.
import { expect, it } from '@jest/globals';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseSuite, runSuite, type CheckResult, type Reporter, type RunResults } from 'xfed';
import { RUNTIMES, describeRuntime } from '../helpers/support.js';

const SUITE = `
suite: own-reporter
partner: { domains: [partner.test], users: [alice] }
target:
  sim:
    domain: contoso.test
    partner: { partnerType: Federated }
    users:
      - { name: erin, pool: legacy, xmppAccess: true }
      - { name: judy, pool: sfb2019, xmppAccess: true }
phases:
  - name: before
    checks:
      - { id: im-erin, kind: im, from: alice, to: erin }
  - name: after
    steps:
      - { action: move-user, user: erin, pool: sfb2019 }
    checks:
      - { id: im-erin-moved, kind: im, from: alice, to: erin, expect: { error: forbidden } }
      - { id: im-judy, kind: im, from: alice, to: judy }
`;

/** Remembers every event, and a copy of what each one carried. */
class Recorder implements Reporter {
  readonly events: string[] = [];
  readonly checks: CheckResult[] = [];
  final: RunResults | undefined;
  onBegin(r: RunResults) {
    this.events.push(`begin ${r.status}`);
  }
  onSetup(r: RunResults) {
    this.events.push(`setup ${r.runtime}`);
  }
  onPhase(phase: { name: string }, index: number) {
    this.events.push(`phase ${index} ${phase.name}`);
  }
  onStep(step: { action: string; ok: boolean }) {
    this.events.push(`step ${step.action} ${step.ok ? 'ok' : 'failed'}`);
  }
  async onCheckBegin(check: { id: string; kind: string }) {
    // An asynchronous reporter is awaited before the check runs.
    await new Promise((r) => setImmediate(r));
    this.events.push(`check ${check.id} (${check.kind})`);
  }
  onCheckEnd(check: CheckResult, _phase: unknown, results: RunResults) {
    this.checks.push(check);
    this.events.push(`checked ${check.id} ${check.met ? 'met' : 'unmet'} (${results.summary.checks} so far)`);
  }
  onEnd(r: RunResults) {
    this.final = r;
    this.events.push(`end ${r.status}`);
  }
}

for (const kind of RUNTIMES) {
  describeRuntime(kind, 'a reporter of your own', () => {
    it('hears every event in order, and the run writes nothing itself', async () => {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'xfed-reporter-'));
      const cwd = process.cwd();
      process.chdir(dir);
      try {
        const { suite } = parseSuite(SUITE, path.join(dir, 'own.yaml'));
        const mine = new Recorder();
        const failing: Reporter = {
          onCheckEnd: () => {
            throw new Error('this reporter breaks');
          },
        };
        const results = await runSuite(suite, { runtime: kind, reporters: [failing, mine] });
        expect(mine.events).toEqual([
          'begin running',
          `setup ${kind}`,
          'phase 0 before',
          'check im-erin (im)',
          'checked im-erin met (1 so far)',
          'phase 1 after',
          'step move-user ok',
          'check im-erin-moved (im)',
          'checked im-erin-moved met (2 so far)',
          'check im-judy (im)',
          'checked im-judy unmet (3 so far)',
          'end complete',
        ]);
        expect(mine.final).toBe(results);
        expect(results.summary).toMatchObject({ checks: 3, met: 2, unmet: 1 });
        expect(mine.checks.find((c) => c.id === 'im-judy')!.actual).toMatch(/^error forbidden/);
        // A reporter that throws does not stop the run nor the others; nothing was written.
        expect(await readdir(dir)).toEqual([]);
      } finally {
        process.chdir(cwd);
        await rm(dir, { recursive: true, force: true });
      }
    });
  });
}
