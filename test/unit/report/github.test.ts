import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseReporters, reportPaths } from '../../../src/report/files.js';
import { annotations, escapeData, escapeProperty, GithubReporter, renderJobSummary, workflowCommand } from '../../../src/report/github.js';
import type { CheckResult, RunResults } from '../../../src/report/results.js';
import { didYouMean } from '../../../src/scenario/suggest.js';

const parse = (specs: string[], paths = {}) => parseReporters(specs, paths, didYouMean);

describe('reporter lists (--reporter, XFED_REPORTER, --junit/--html/--json)', () => {
  it('with nothing chosen: the live view and all three files in --out, as before', () => {
    expect(parse([])).toEqual({ console: 'live', files: { json: null, junit: null, html: null }, github: false });
  });

  it('a console reporter alone keeps all three files', () => {
    for (const name of ['plain', 'list']) expect(parse([name])).toEqual({ console: 'lines', files: { json: null, junit: null, html: null }, github: false });
    expect(parse(['live']).console).toBe('live');
  });

  it('Playwright-style lists, repeated flags, paths per file; results.json is always kept', () => {
    expect(parse(['list,junit=out/j.xml', 'html'])).toEqual({ console: 'lines', files: { junit: 'out/j.xml', html: null, json: null }, github: false });
    expect(parse([' junit , github '])).toEqual({ console: 'live', files: { junit: null, json: null }, github: true });
    expect(parse(['json=r.json'])).toEqual({ console: 'live', files: { json: 'r.json' }, github: false });
    // The Markdown summary only when named; with it, only the files named (and results.json).
    expect(parse(['markdown']).files).toEqual({ markdown: null, json: null });
    // A path stays when the same reporter is named again without one.
    expect(parse(['junit=a.xml', 'junit']).files.junit).toBe('a.xml');
  });

  it('the per-file options choose their reporter and win over a path in the list', () => {
    expect(parse(['list'], { junit: 'x.xml' })).toEqual({ console: 'lines', files: { junit: 'x.xml', json: null }, github: false });
    expect(parse(['junit=a.xml'], { junit: 'b.xml' }).files.junit).toBe('b.xml');
  });

  it('unknown names and misuse are one line each, with did-you-mean', () => {
    expect(() => parse(['list,junt'])).toThrow(
      /^unknown reporter 'junt' \(did you mean 'junit'\?\); reporters: live, list, plain, json, junit, html, markdown, github$/,
    );
    expect(() => parse(['xunit'])).toThrow(/unknown reporter 'xunit' \(did you mean 'junit'\?\)/);
    expect(() => parse(['teamcity'])).toThrow(/^unknown reporter 'teamcity'; reporters:/);
    expect(() => parse(['junit='])).toThrow("reporter 'junit=' names no file");
    expect(() => parse(['list=out.txt'])).toThrow("reporter 'list' writes no file, so it takes no '=out.txt'");
    expect(() => parse(['live,list'])).toThrow("two console reporters, 'live' and 'list'");
    for (const bad of [['junt'], ['junit='], ['live,plain']]) expect(() => parse(bad)).not.toThrow(/\n/);
  });

  it('paths: given ones as given, the others in the run directory; several suites get a folder each beside a given path', () => {
    const choice = parse(['junit=ci/junit.xml,html']);
    expect(reportPaths(choice, 'out')).toEqual({
      results: path.join('out', 'results.json'),
      junit: 'ci/junit.xml',
      html: path.join('out', 'report.html'),
      markdown: undefined,
    });
    expect(reportPaths(choice, 'out/smoke', 'smoke')).toEqual({
      results: path.join('out/smoke', 'results.json'),
      junit: path.join('ci', 'smoke', 'junit.xml'),
      html: path.join('out/smoke', 'report.html'),
    });
    expect(reportPaths(parse(['list']), 'd')).toEqual({
      results: path.join('d', 'results.json'),
      junit: path.join('d', 'junit.xml'),
      html: path.join('d', 'report.html'),
    });
  });
});

describe('workflow commands', () => {
  it('escape data as @actions/core does: %, CR, LF; properties also : and ,', () => {
    expect(escapeData('100% done\r\nnext: a,b')).toBe('100%25 done%0D%0Anext: a,b');
    expect(escapeProperty('100% done\r\nnext: a,b')).toBe('100%25 done%0D%0Anext%3A a%2Cb');
    // Already-encoded text is encoded again, so it reads back as written.
    expect(escapeData('%0A')).toBe('%250A');
  });

  it('a command is one line, whatever its text holds', () => {
    const line = workflowCommand('error', { file: 'suites/a,b.yaml', line: 12, title: 'x: y' }, 'expected pass\ngot error: forbidden');
    expect(line).toBe('::error file=suites/a%2Cb.yaml,line=12,title=x%3A y::expected pass%0Agot error: forbidden\n');
    expect(line.trimEnd()).not.toMatch(/[\r\n]/);
    expect(workflowCommand('notice', {}, 'hi')).toBe('::notice::hi\n');
  });
});

const check = (over: Partial<CheckResult>): CheckResult => ({
  id: 'im-erin',
  kind: 'im',
  title: 'alice IMs erin',
  phase: 'p1',
  met: true,
  durationMs: 10,
  expectation: 'pass',
  outcome: { status: 'pass' },
  expected: 'pass',
  actual: 'pass',
  evidence: [],
  ...over,
});

function results(over: Partial<RunResults> = {}): RunResults {
  return {
    format: 'xfed-results/1',
    suite: { name: 'smoke', file: 'scenarios/smoke.yaml' },
    target: 'sim',
    runtime: 'process',
    startedAt: '2026-01-01T00:00:00.000Z',
    durationMs: 5000,
    setupMs: 1000,
    status: 'complete',
    summary: { phases: 1, checks: 4, met: 1, unmet: 2, harness: 1, notPossible: 1 },
    phases: [
      {
        name: 'p1',
        steps: [
          { index: 0, action: 'move-user', description: 'move bob', ok: true, durationMs: 1, line: 8 },
          { index: 1, action: 'srv-record', description: 'drop SRV', ok: false, durationMs: 1, skipped: 'the run stopped before it' },
        ],
        checks: [
          check({ line: 20 }),
          check({
            id: 'im-bob',
            title: 'alice IMs bob | carol',
            met: false,
            expected: 'pass',
            actual: 'error service-unavailable',
            failure: 'federation',
            line: 21,
          }),
          check({ id: 'ping', met: false, expected: 'pass', actual: 'not run', error: 'the partner Prosody died', failure: 'harness', line: 22 }),
          check({ id: 'presence', notPossible: 'xfed does not drive the lab user', line: 23 }),
        ],
      },
    ],
    ...over,
  };
}

describe('annotations', () => {
  it('an error per unmet check and harness failure, a notice per check not possible, at the suite line, relative to the workspace', () => {
    const out = annotations(results(), process.cwd());
    expect(out).toEqual([
      '::error file=scenarios/smoke.yaml,line=21,title=xfed smoke%3A p1/im-bob unmet::alice IMs bob | carol: expected pass, got error service-unavailable\n',
      '::error file=scenarios/smoke.yaml,line=22,title=xfed smoke%3A p1/ping harness failure::alice IMs erin: xfed could not run or judge the check (not a federation failure): the partner Prosody died\n',
      '::notice file=scenarios/smoke.yaml,line=23,title=xfed smoke%3A p1/presence not possible::alice IMs erin: xfed does not drive the lab user\n',
    ]);
  });

  it('a failed step is an error, and the stop of a run without one says why', () => {
    const r = results({ status: 'failed', reason: 'step 1 (move-user) failed: no such user' });
    r.phases[0]!.steps[0] = { ...r.phases[0]!.steps[0]!, ok: false, error: 'no such user' };
    const out = annotations(r, '/elsewhere');
    expect(out[0]).toBe(
      `::error file=${path.resolve('scenarios/smoke.yaml')},line=8,title=xfed smoke%3A step move-user failed in phase p1::move bob: no such user\n`,
    );
    expect(out.filter((l) => l.includes('the run failed'))).toEqual([]);
    const stopped = annotations(results({ status: 'interrupted', reason: 'SIGINT', phases: [] }), process.cwd());
    expect(stopped).toEqual(['::error file=scenarios/smoke.yaml,title=xfed smoke%3A the run interrupted::SIGINT\n']);
  });
});

describe('job summary', () => {
  it('says the verdict and the counts, tables what was unmet with expected beside got, and lists the reports', () => {
    const md = renderJobSummary(results(), ['out/report.html', 'out/junit.xml'], 'https://github.example/o/r/actions/runs/1');
    expect(md).toMatch(/^### ❌ xfed: smoke \(complete, 1 unmet, 1 harness failure\)\n/);
    expect(md).toContain('**1** met, **2** unmet (1 harness), **1** not possible of 4 checks in 1 phase;');
    expect(md).toContain('| phase | check | verdict | expected | got |');
    // A pipe in a title does not break the table.
    expect(md).toContain('| p1 | im-bob: alice IMs bob \\| carol | unmet | pass | error service-unavailable |');
    expect(md).toContain('| p1 | ping: alice IMs erin | harness failure | pass | not run: the partner Prosody died |');
    expect(md).toContain('Reports: out/report.html, out/junit.xml ([artifacts of this run](https://github.example/o/r/actions/runs/1))');
    // A step the run never reached is not a failed step.
    expect(md).not.toContain('failed step');
  });

  it('a clean run is green and has no table', () => {
    const r = results({ summary: { phases: 1, checks: 1, met: 1, unmet: 0 } });
    r.phases[0]!.checks = [check({})];
    const md = renderJobSummary(r, []);
    expect(md).toMatch(/^### ✅ xfed: smoke \(complete\)/);
    expect(md).not.toContain('|');
  });

  it('a stopped run says so, with its failed step', () => {
    const r = results({ status: 'failed', reason: 'step failed' });
    r.phases[0]!.steps[0] = { ...r.phases[0]!.steps[0]!, ok: false, error: 'no such user' };
    const md = renderJobSummary(r, []);
    expect(md).toContain('> **The run stopped early:** step failed; the checks after it are listed as not run.');
    expect(md).toContain('| p1 | move-user: move bob | no such user |');
  });
});

describe('GithubReporter', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'xfed-github-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('writes the annotations and appends the summary (two suites, two sections)', async () => {
    const file = path.join(dir, 'summary.md');
    let log = '';
    const reporter = () => new GithubReporter({ write: (s) => (log += s), summaryFile: file, reports: [], workspace: process.cwd() });
    await reporter().onEnd(results());
    await reporter().onEnd(results({ suite: { name: 'second', file: 'x.yaml' } }));
    expect(log.split('\n').filter((l) => l.startsWith('::error')).length).toBe(4);
    const md = await readFile(file, 'utf8');
    expect(md.match(/^### /gm)).toHaveLength(2);
  });

  it('a summary file it cannot write is said, with the file and why', async () => {
    const r = new GithubReporter({ write: () => undefined, summaryFile: path.join(dir, 'no', 'such', 'dir', 'summary.md'), reports: [], workspace: dir });
    await expect(r.onEnd(results())).rejects.toThrow(/^cannot write the job summary .*summary\.md: ENOENT/);
    expect(r.output.unwritten).toMatch(/^cannot write the job summary/);
  });
});
