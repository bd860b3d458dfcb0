import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pollUntil } from '../../src/infra/deadline.js';
import type { RunResults } from '../../src/report/results.js';
import { ROOT, runCli, startCli } from '../helpers/cli-process.js';
import { junitSchemaProblems } from '../helpers/junit-schema.js';
import { RUNTIMES, describeRuntime } from '../helpers/support.js';
import { behaviourOf } from '../../src/sfb/behaviours/index.js';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'cli-run-'));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

const readResults = async (dir: string) => JSON.parse(await readFile(path.join(dir, 'results.json'), 'utf8')) as RunResults;

for (const kind of RUNTIMES) {
  describeRuntime(kind, 'xfed run', () => {
    it('the SfB 2019 cutover rehearsal: every check met, exit 0, and the three report files', async () => {
      const out = path.join(tmp, `cutover-${kind}`);
      const r = await runCli(['run', 'scenarios/sfb2019-cutover.yaml', '--runtime', kind, '--out', out, '--reporter', 'plain'], { timeoutMs: 180_000 });
      const unmet = r.stdout.split('\n').filter((l) => l.includes('✗'));
      expect({ code: r.code, stderr: r.stderr, unmet }).toEqual({ code: 0, stderr: '', unmet: [] });
      const results = await readResults(out);
      expect(results).toMatchObject({ status: 'complete', runtime: kind, summary: { phases: 28, met: results.summary.checks, unmet: 0 } });
      expect(results.summary.checks).toBeGreaterThanOrEqual(90);
      // Every expected outcome rests on rows of the behaviour catalogue (docs/sfb-behaviours.md).
      const checks = results.phases.flatMap((p) => p.checks);
      expect(checks.filter((c) => !c.behaviours?.length).map((c) => c.id)).toEqual([]);
      expect(checks.flatMap((c) => c.behaviours ?? []).filter((id) => !behaviourOf(id))).toEqual([]);
      const junit = await readFile(path.join(out, 'junit.xml'), 'utf8');
      expect(junit.match(/<testsuite /g)).toHaveLength(28);
      expect(junit).toContain('failures="0"');
      expect(junitSchemaProblems(junit)).toEqual([]);
      // Every check and step points at its line of the suite file.
      expect(junit.match(/<testcase name="[^"]*" classname="[^"]*" file="scenarios\/sfb2019-cutover\.yaml" line="\d+"/g)).toHaveLength(
        checks.length + results.phases.flatMap((p) => p.steps).length,
      );
      const html = await readFile(path.join(out, 'report.html'), 'utf8');
      expect(html).toContain('sfb2019-cutover');
      expect(html).toContain('rests on');
      expect(r.stdout).toMatch(/(\d+) of \1 checks met/);
    });
  });
}

describe('xfed run: verdicts, filters and bad input', () => {
  const smoke = async () => readFile('scenarios/smoke.yaml', 'utf8');

  it('a deliberately wrong expectation exits 1, and the report shows the ladder of that check', async () => {
    const file = path.join(tmp, 'wrong.yaml');
    await writeFile(
      file,
      (await smoke()).replace(
        '- { id: im-erin, kind: im, from: alice, to: erin,',
        '- { id: im-erin, kind: im, from: alice, to: erin, expect: { error: forbidden },',
      ),
    );
    const out = path.join(tmp, 'wrong');
    const r = await runCli(['run', file, '--runtime', 'process', '--out', out, '--reporter', 'plain'], { timeoutMs: 60_000 });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✗ im-erin .*expected error forbidden, got pass/);
    const results = await readResults(out);
    const check = results.phases[0]!.checks.find((c) => c.id === 'im-erin')!;
    expect(check.met).toBe(false);
    expect(check.evidence.map((e) => `${e.from}>${e.to} ${e.label}`)).toEqual(
      expect.arrayContaining(['partner-user>partner-server message chat', 'edge>gateway message chat', 'gateway>sip-pool SIP MESSAGE']),
    );
    const html = await readFile(path.join(out, 'report.html'), 'utf8');
    const section = html.slice(html.indexOf('im-erin'));
    expect(section).toContain('SIP MESSAGE');
    expect(await readFile(path.join(out, 'junit.xml'), 'utf8')).toMatch(/<failure message="expected error forbidden, got pass/);

    // The pass run of the same suite against this one: compare reports the regression, exit 1.
    const base = path.join(tmp, 'pass');
    expect((await runCli(['run', 'scenarios/smoke.yaml', '--runtime', 'process', '--out', base, '--reporter', 'plain'])).code).toBe(0);
    const md = path.join(tmp, 'compare.md');
    const cmp = await runCli(['compare', path.join(base, 'results.json'), path.join(out, 'results.json'), '--markdown', md]);
    expect(cmp.code).toBe(1);
    expect(cmp.stdout).toMatch(/regressed/i);
    expect(await readFile(md, 'utf8')).toContain('im-erin');
    expect((await runCli(['compare', path.join(base, 'results.json'), path.join(base, 'results.json')])).code).toBe(0);
  });

  it('manual and run steps: recorded; a manual step stops a non-interactive run unless --assume-done', async () => {
    const file = path.join(tmp, 'operator.yaml');
    await writeFile(
      file,
      (await smoke()).replace(
        '  - name: smoke\n    checks:',
        '  - name: smoke\n    steps:\n      - { action: run, command: "echo Move-CsUser done", timeout: 10s }\n      - { action: manual, instruction: "Check the Edge in the lab" }\n    checks:',
      ),
    );
    const out = path.join(tmp, 'operator');
    const refused = await runCli(['run', file, '--runtime', 'process', '--out', out, '--reporter', 'plain']);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('needs an operator: run in a terminal, or pass --assume-done once it is done');
    expect(refused.stdout).toMatch(/^run failed: 0 of 0 checks met, 0 unmet, 7 not run in 1 phase;/m);
    const stopped = await readResults(out);
    expect(stopped.status).toBe('failed');
    expect(stopped.summary).toMatchObject({ checks: 0, skipped: 7 });
    expect(stopped.phases[0]!.checks.map((c) => c.skipped)).toEqual(
      Array(7).fill(expect.stringMatching(/^the run stopped before it: step 2 of phase smoke \(manual: Check the Edge in the lab\) failed: /)),
    );
    // The step that stopped the run is a failing testcase, at its line; the checks it kept from running are skipped.
    const stoppedJunit = await readFile(path.join(out, 'junit.xml'), 'utf8');
    expect(junitSchemaProblems(stoppedJunit)).toEqual([]);
    expect(stoppedJunit).toMatch(/<testsuites name="smoke" tests="9" failures="1" errors="0"/);
    expect(stoppedJunit).toMatch(
      new RegExp(
        `<testcase name="step 2: manual" classname="smoke.smoke" file="${file}" line="22" time="[\\d.]+">\\s*<failure message="step failed: manual step`,
      ),
    );
    expect(stoppedJunit.match(/<skipped message="not run: the run stopped before it: step 2 of phase smoke/g)).toHaveLength(7);
    const assumed = await runCli(['run', file, '--runtime', 'process', '--out', out, '--reporter', 'plain', '--assume-done']);
    expect(assumed.code).toBe(0);
    const steps = (await readResults(out)).phases[0]!.steps;
    expect(steps.map((st) => [st.description, st.output, st.assumedDone])).toEqual([
      ['run: echo Move-CsUser done', 'Move-CsUser done\n', undefined],
      ['manual: Check the Edge in the lab', 'assumed done (--assume-done)', true],
    ]);
    // Every report says nobody confirmed it.
    expect(assumed.stdout).toContain('manual: Check the Edge in the lab  assumed done (--assume-done), not confirmed by an operator');
    expect(await readFile(path.join(out, 'report.html'), 'utf8')).toContain('<span class="badge assumed"');
    expect(await readFile(path.join(out, 'junit.xml'), 'utf8')).toContain('assumed done (--assume-done): no operator confirmed it');
  });

  it('Ctrl-C during a run step ends its command with the run (it has a process group of its own)', async () => {
    const file = path.join(tmp, 'long-step.yaml');
    const pidFile = path.join(tmp, 'long-step.pid');
    await writeFile(
      file,
      (await smoke()).replace(
        '  - name: smoke\n    checks:',
        // A function: in a replacement string, $$ would be one $.
        () => `  - name: smoke\n    steps:\n      - { action: run, command: "echo $$ > ${pidFile}; exec sleep 300", timeout: 5m }\n    checks:`,
      ),
    );
    const run = startCli(['run', file, '--runtime', 'process', '--out', path.join(tmp, 'long-step'), '--reporter', 'plain']);
    let pid = 0;
    try {
      pid = await pollUntil(async () => Number((await readFile(pidFile, 'utf8').catch(() => '')).trim()) || undefined, {
        timeoutMs: 30_000,
        intervalMs: 50,
        what: 'the run step to start',
      });
      run.child.kill('SIGINT');
      expect((await run.exit(30_000)).code).toBe(130);
    } finally {
      run.child.kill('SIGKILL');
    }
    // Gone by the time xfed has exited, not left for the reaper (a zombie is gone too).
    const state = await readFile(`/proc/${pid}/stat`, 'utf8').then(
      (st) => st.slice(st.lastIndexOf(')') + 2, st.lastIndexOf(')') + 3),
      () => 'gone',
    );
    expect(['gone', 'Z']).toContain(state);
  });

  it('--phase and --grep select checks; earlier steps still apply', async () => {
    const out = path.join(tmp, 'filtered');
    const r = await runCli(['run', 'scenarios/sfb2019-cutover.yaml', '--runtime', 'process', '--out', out, '--phase', 'xmpp-user-moved-back', '--grep', 'im'], {
      timeoutMs: 120_000,
    });
    expect(r.code).toBe(0);
    const results = await readResults(out);
    const checks = results.phases.flatMap((p) => p.checks);
    expect(checks.filter((c) => c.skipped === undefined).map((c) => c.id)).toEqual(['back-im-mia', 'back-im-from-mia']);
    // The others are listed as not run, with the filter that left them out: the whole suite, every run.
    expect(results.phases).toHaveLength(28);
    expect(results.summary).toMatchObject({ checks: 2, met: 2, skipped: checks.length - 2 });
    expect(checks.find((c) => c.id === 'back-presence-mia')!.skipped).toBe('filtered out by --grep im');
    expect(checks.find((c) => c.id === 'base-presence-frank')!.skipped).toBe('filtered out by --phase xmpp-user-moved-back');
    const junit = await readFile(path.join(out, 'junit.xml'), 'utf8');
    expect(junitSchemaProblems(junit)).toEqual([]);
    expect(junit).toMatch(new RegExp(`<testsuites name="sfb2019-cutover" tests="\\d+" failures="0" errors="0"`));
    expect(junit.match(/<skipped message="not run: filtered out by --(phase|grep) /g)).toHaveLength(checks.length - 2);
    expect(r.stdout).toMatch(new RegExp(`^run complete: 2 of 2 checks met, 0 unmet, ${checks.length - 2} not run in 28 phases`, 'm'));
    // The steps of the phases before it were applied (mia moved away, then back).
    expect(results.phases.flatMap((p) => p.steps.map((s) => s.description))).toContain('move mia to the sfb2019 pool');
  });

  it('a run that fails at setup still writes a junit.xml whose error says why, with every check skipped', async () => {
    // A base image that exists nowhere: the topology cannot start, in any environment.
    const out = path.join(tmp, 'setup-fails');
    const r = await runCli(
      ['run', 'scenarios/smoke.yaml', '--runtime', 'container', '--base-image', 'local/xfed-no-such-base:none', '--out', out, '--reporter', 'plain'],
      {
        timeoutMs: 120_000,
      },
    );
    expect(r.code).toBe(2);
    const results = await readResults(out);
    expect(results.status).toBe('failed');
    expect(results.phases[0]!.checks.map((c) => c.skipped)).toEqual(Array(7).fill(`the run stopped before it: ${results.reason}`));
    const junit = await readFile(path.join(out, 'junit.xml'), 'utf8');
    expect(junitSchemaProblems(junit)).toEqual([]);
    expect(junit).toMatch(/<testsuites name="smoke" tests="8" failures="0" errors="1"/);
    expect(junit).toContain(
      `<error message="the run stopped before its first step or check: ${results.reason!.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;')}" type="setup">`,
    );
    expect(await readFile(path.join(out, 'report.html'), 'utf8')).toContain('<span class="badge failed">failed</span>');
  });

  it('broken suites: every problem of every file, exit 2, no stack trace, nothing started', async () => {
    const r = await runCli(['run', 'test/fixtures/suites/broken/bad-domain.yaml', 'test/fixtures/suites/broken/bad-duration-zero.yaml', 'missing.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^test\/fixtures\/suites\/broken\/bad-domain\.yaml:\d+:\d+: /),
      expect.stringMatching(/^test\/fixtures\/suites\/broken\/bad-duration-zero\.yaml:\d+:\d+: /),
      'cannot read suite file missing.yaml: no such file',
    ]);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const v = await runCli(['validate', 'test/fixtures/suites/broken/bad-domain.yaml']);
    expect(v.code).toBe(2);
  });

  it('output into a pipe: all of it when the reader reads on, an exit when the reader goes away', async () => {
    const bin = path.join(ROOT, 'bin', 'xfed.js');
    const whole = spawnSync(process.execPath, [bin, 'schema'], { encoding: 'utf8', timeout: 30_000, maxBuffer: 16 << 20 });
    expect(whole.stdout.length).toBeGreaterThan(64 * 1024);
    expect(() => JSON.parse(whole.stdout) as unknown).not.toThrow();
    // `| head -1`: the reader closes after one line of many; xfed still ends, with its own code.
    const cut = spawnSync('sh', ['-c', `"${process.execPath}" "${bin}" validate scenarios/real-gateway.example.yaml 2>&1 | head -1`], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(cut.error).toBeUndefined();
    expect(cut.stdout.split('\n')[0]).toMatch(/^scenarios\/real-gateway\.example\.yaml:\d+:\d+: variable \w+ is not set/);
  });

  it('xfed schema prints the JSON Schema; xfed sfb-config prints the matching SfB commands', async () => {
    const schema = await runCli(['schema']);
    expect(schema.code).toBe(0);
    expect(JSON.parse(schema.stdout)).toMatchObject({ type: 'object', required: expect.arrayContaining(['suite', 'partner', 'target', 'phases']) });
    const config = await runCli(['sfb-config', 'scenarios/sfb2019-cutover.yaml']);
    expect(config.code).toBe(0);
    expect(config.stdout).toContain(
      'New-CsXmppAllowedPartner -Identity "partner.test" -PartnerType Federated -TlsNegotiation Required -SaslNegotiation Required -SupportDialbackNegotiation $true',
    );
    expect(config.stdout).toContain('Grant-CsExternalAccessPolicy -Identity "erin@contoso.test" -PolicyName "XmppUsers"');
    expect(config.stdout).not.toContain('nina@contoso.test');
    expect(config.stdout).toContain('_xmpp-server._tcp.contoso.test. 3600 IN SRV 0 5 5269');
  });
});
