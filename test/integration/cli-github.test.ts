import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { RunResults } from '../../src/report/results.js';
import { ROOT, runCli } from '../helpers/cli-process.js';
import { describeRuntime } from '../helpers/support.js';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'cli-github-'));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

const exists = (file: string) =>
  access(file).then(
    () => true,
    () => false,
  );

// Variables a GitHub Actions runner sets; the test's own environment may be a real runner's.
const github = (workspace: string, summary: string) => ({
  GITHUB_ACTIONS: 'true',
  GITHUB_STEP_SUMMARY: summary,
  GITHUB_WORKSPACE: workspace,
  GITHUB_SERVER_URL: 'https://github.example',
  GITHUB_REPOSITORY: 'lab/suites',
  GITHUB_RUN_ID: '42',
  CI: 'true',
});

describeRuntime('process', 'xfed run under GitHub Actions', () => {
  it('annotates the unmet check at its line, appends the job summary, and writes only the reports asked for', async () => {
    const smoke = await readFile(path.join(ROOT, 'scenarios/smoke.yaml'), 'utf8');
    const wrong = smoke.replace(
      '- { id: im-erin, kind: im, from: alice, to: erin,',
      '- { id: im-erin, kind: im, from: alice, to: erin, expect: { error: forbidden },',
    );
    expect(wrong).not.toBe(smoke);
    const suite = path.join(tmp, 'suites', 'wrong.yaml');
    await mkdir(path.dirname(suite), { recursive: true });
    await writeFile(suite, wrong);
    const line = wrong.slice(0, wrong.indexOf('id: im-erin')).split('\n').length;
    const summary = path.join(tmp, 'summary.md');
    await writeFile(summary, '# earlier step\n');
    const out = path.join(tmp, 'out');
    const junit = path.join(tmp, 'ci', 'junit.xml');

    const r = await runCli(['run', suite, '--runtime', 'process', '--out', out, '--reporter', `list,junit=${junit}`], {
      env: github(tmp, summary),
      timeoutMs: 90_000,
    });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 1, stderr: '' });
    const annotations = r.stdout.split('\n').filter((l) => l.startsWith('::'));
    expect(annotations).toEqual([
      expect.stringMatching(
        new RegExp(
          `^::error file=suites/wrong\\.yaml,line=${line},title=xfed smoke%3A smoke/im-erin unmet::alice IMs erin: expected error forbidden, got pass`,
        ),
      ),
    ]);
    // list: plain lines, no live view.
    expect(r.stdout).toMatch(/^\s*✗ im-erin .*expected error forbidden, got pass/m);

    // The files asked for (junit at its own path), results.json in --out always, no report.html.
    expect(await readFile(junit, 'utf8')).toMatch(/<failure message="expected error forbidden, got pass/);
    const results = JSON.parse(await readFile(path.join(out, 'results.json'), 'utf8')) as RunResults;
    expect(results.summary).toMatchObject({ unmet: 1 });
    expect(await exists(path.join(out, 'report.html'))).toBe(false);
    expect(await exists(path.join(out, 'junit.xml'))).toBe(false);
    expect(r.stdout).toContain(`reports: ${junit}, ${path.join(out, 'results.json')}`);

    // Appended to what earlier steps wrote, with the unmet check's expected beside got.
    const md = await readFile(summary, 'utf8');
    expect(md.startsWith('# earlier step\n### ❌ xfed: smoke (complete, 1 unmet)\n')).toBe(true);
    expect(md).toMatch(/\| smoke \| im-erin: alice IMs erin \| unmet \| error forbidden \| pass[^|]* \|/);
    expect(md).toContain('([artifacts of this run](https://github.example/lab/suites/actions/runs/42))');
  });
});

describeRuntime('process', 'xfed run with several suites', () => {
  it('each suite gets a folder of its own beside a given path, also two suites of the same name', async () => {
    const out = path.join(tmp, 'several');
    const junit = path.join(tmp, 'several-ci', 'junit.xml');
    const r = await runCli(
      ['run', 'scenarios/smoke.yaml', 'scenarios/smoke.yaml', '--runtime', 'process', '--out', out, '--reporter', 'plain', '--junit', junit],
      {
        timeoutMs: 120_000,
      },
    );
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    for (const folder of ['smoke', 'smoke-2']) {
      expect(await exists(path.join(tmp, 'several-ci', folder, 'junit.xml'))).toBe(true);
      expect(await exists(path.join(out, folder, 'results.json'))).toBe(true);
    }
    expect(await exists(path.join(out, 'smoke', 'report.html'))).toBe(false);
  });
});

describe('xfed run: reporter selection errors', () => {
  it('an unknown reporter is one line with did-you-mean, exit 2, before anything starts', async () => {
    const r = await runCli(['run', 'scenarios/smoke.yaml', '--reporter', 'list,junt']);
    expect(r).toEqual({
      code: 2,
      stdout: '',
      stderr: "xfed: unknown reporter 'junt' (did you mean 'junit'?); reporters: live, list, plain, json, junit, html, markdown, github\n",
    });
  });

  it('XFED_REPORTER stands in for --reporter, and the flag wins over it', async () => {
    const env = await runCli(['run', 'scenarios/smoke.yaml'], { env: { XFED_REPORTER: 'plian' } });
    expect({ code: env.code, stderr: env.stderr }).toEqual({
      code: 2,
      stderr: "xfed: unknown reporter 'plian' (did you mean 'plain'?); reporters: live, list, plain, json, junit, html, markdown, github\n",
    });
    const flag = await runCli(['run', 'no-such-suite.yaml', '--reporter', 'list'], { env: { XFED_REPORTER: 'plian' } });
    // Past the reporters to the suite: the flag's list was taken, not the variable's.
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/no-such-suite\.yaml/);
  });

  it('XFED_RUNTIME and XFED_OUT stand in for --runtime and --out; a wrong runtime is one line, exit 2', async () => {
    const out = path.join(tmp, 'from-env');
    const r = await runCli(['run', 'scenarios/smoke.yaml', '--reporter', 'list'], { env: { XFED_RUNTIME: 'process', XFED_OUT: out } });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const results = JSON.parse(await readFile(path.join(out, 'results.json'), 'utf8')) as { runtime: string };
    expect(results.runtime).toBe('process');
    const wrong = await runCli(['run', 'scenarios/smoke.yaml'], { env: { XFED_RUNTIME: 'proces' } });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr.trim().split('\n')[0]).toMatch(/value 'proces' from env 'XFED_RUNTIME' is invalid.*auto, container, process/);
  });
});
