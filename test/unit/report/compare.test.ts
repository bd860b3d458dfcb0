import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parse } from 'parse5';
import { XfedError } from '../../../src/errors.js';
import { compareResults } from '../../../src/report/compare.js';
import { readResultsFile } from '../../../src/report/read-results.js';
import { renderComparisonHtml } from '../../../src/report/compare-html.js';
import { renderComparisonMarkdown, renderComparisonText } from '../../../src/report/compare-render.js';
import { percentile } from '../../../src/report/percentile.js';
import { loadResults, RESULTS_DIR } from '../../fixtures/results/load.js';

const ids = (xs: { id: string }[]) => xs.map((x) => x.id);

describe('percentile (nearest rank)', () => {
  it.each([
    // The textbook example: 15, 20, 35, 40, 50.
    [[15, 20, 35, 40, 50], 5, 15],
    [[15, 20, 35, 40, 50], 30, 20],
    [[15, 20, 35, 40, 50], 40, 20],
    [[15, 20, 35, 40, 50], 50, 35],
    [[15, 20, 35, 40, 50], 100, 50],
    [[3, 1, 2], 50, 2],
    [[7], 95, 7],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95, 10],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90, 9],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0, 1],
  ])('of %j at p%d is %d', (values, p, expected) => {
    expect(percentile(values, p)).toBe(expected);
  });

  it('has no answer for no values, clamps p, does not sort its input in place', () => {
    expect(percentile([], 50)).toBeUndefined();
    const values = [5, 1, 3];
    expect(percentile(values, 150)).toBe(5);
    expect(percentile(values, -5)).toBe(1);
    expect(values).toEqual([5, 1, 3]);
  });

  it('does not round a rank up by floating-point error', () => {
    // (28 / 100) * 25 is 7.000000000000001 in floating point; the rank is 7.
    const values = Array.from({ length: 25 }, (_, i) => i + 1);
    expect(percentile(values, 28)).toBe(7);
  });
});

describe('compareResults', () => {
  const c = compareResults(loadResults('base.json'), loadResults('new.json'));

  it('sorts checks matched by phase + id into regressed, fixed, still failing, new and gone', () => {
    expect(ids(c.regressed)).toEqual(['im-frank', 'im-erin-after']);
    expect(ids(c.fixed)).toEqual(['presence-judy-moved']);
    expect(ids(c.stillFailing)).toEqual(['im-erin-2019edge']);
    expect(ids(c.new)).toEqual(['sub-frank']);
    expect(ids(c.gone)).toEqual(['ping-edge']);
    expect(ids(c.stillMet)).toEqual(['im-erin', 'presence-erin', 'im-judy', 'dns-srv', 'im-judy-moved', 's2s-refused']);
    expect(c.hasRegression).toBe(true);
    expect(c.regressed[0]).toMatchObject({ phase: 'baseline', base: { met: true }, next: { met: false, error: expect.stringContaining('could not log in') } });
    expect(c.new[0]!.base).toBeUndefined();
    expect(c.gone[0]!.next).toBeUndefined();
    expect(c.notes).toEqual([]);
  });

  it('computes p50/p95 of all latencies of each run, and per-check changes', () => {
    // base: 3 9 12 13 14 15 20 25 31 (9 values); next: 4 11 16 18 22 27 40 (7 values).
    expect(c.latency.samples).toEqual({ base: 9, next: 7 });
    expect(c.latency.p50).toEqual({ base: 14, next: 18, deltaMs: 4, deltaPct: expect.closeTo(28.571, 3) });
    expect(c.latency.p95).toEqual({ base: 31, next: 40, deltaMs: 9, deltaPct: expect.closeTo(29.032, 3) });
    expect(c.latency.checks.map((x) => [x.id, x.baseMs, x.nextMs, x.deltaMs])).toEqual([
      ['im-erin', 12, 18, 6],
      ['presence-erin', 20, 22, 2],
      ['im-judy', 14, 16, 2],
      ['dns-srv', 3, 4, 1],
      ['im-judy-moved', 9, 11, 2],
      ['presence-judy-moved', 25, 27, 2],
    ]);
    expect(c.latency.checks[0]!.deltaPct).toBe(50);
  });

  it('finds nothing to report between a run and itself', () => {
    const same = compareResults(loadResults('new.json'), loadResults('new.json'));
    expect(same.hasRegression).toBe(false);
    expect([same.regressed, same.fixed, same.new, same.gone].map((x) => x.length)).toEqual([0, 0, 0, 0]);
    expect(same.stillMet.length + same.stillFailing.length).toBe(11);
    expect(same.latency.p95).toEqual({ base: 40, next: 40, deltaMs: 0, deltaPct: 0 });
  });

  it('matches by phase as well as id, and says when the runs do not compare like for like', () => {
    const base = loadResults('base.json');
    const next = loadResults('base.json');
    const moved = next.phases[0]!.checks.pop()!;
    next.phases[1]!.checks.push({ ...moved, phase: 'move-judy' });
    next.target = 'gateway';
    next.status = 'interrupted';
    next.reason = 'SIGINT';
    next.phases[2]!.checks.forEach((x) => (x.latencyMs = undefined));
    const r = compareResults(base, next);
    expect(r.new.map((x) => `${x.phase}/${x.id}`)).toEqual(['move-judy/im-frank']);
    expect(r.gone.map((x) => `${x.phase}/${x.id}`)).toEqual(['baseline/im-frank']);
    expect(r.hasRegression).toBe(false);
    expect(r.notes).toEqual([
      'base ran on sim/process, next on gateway/process: latencies may not compare',
      'the next run is interrupted (SIGINT): checks it did not reach count as not run (or gone, in files that do not list them)',
    ]);
    expect(r.latency.samples).toEqual({ base: 9, next: 8 });
  });

  it('has no percentiles for a run that measured no latency', () => {
    const next = loadResults('new.json');
    next.phases.forEach((p) => p.checks.forEach((x) => delete x.latencyMs));
    const r = compareResults(loadResults('base.json'), next);
    expect(r.latency.p50).toEqual({ base: 14, next: undefined });
    expect(r.latency.checks).toEqual([]);
    expect(renderComparisonMarkdown(r)).toContain('| p50 | 14 ms | - | - | - |');
  });
});

describe('comparison renderers', () => {
  const c = compareResults(loadResults('base.json'), loadResults('new.json'));

  it('markdown has the verdict, the regression rows and the latency table', () => {
    const md = renderComparisonMarkdown(c);
    expect(md).toContain('❌ **2 regressions**; 1 fixed, 1 still failing, 1 new, 1 gone, 6 still met');
    expect(md).toContain('### ❌ Regressed (2)');
    expect(md).toContain(
      `| move-judy | im-erin-after | alice IMs erin after judy's move | met | expected pass, got error remote-server-timeout "Component unavailable" |`,
    );
    expect(md).toContain('| new-edge | sub-frank | alice subscribes to frank (held for approval) | met |');
    expect(md).toContain('| p50 | 14 ms | 18 ms | +4 ms | +28.6% |');
    expect(md).toContain('| p95 | 31 ms | 40 ms | +9 ms | +29.0% |');
    expect(md).toContain('| baseline | im-erin | 12 ms | 18 ms | +6 ms | +50.0% |');
  });

  it('markdown cells cannot break the table or inject HTML', () => {
    const next = loadResults('new.json');
    next.phases[1]!.checks[1]!.actual = 'a | b\nc <img src=x onerror=alert(1)> *bold*';
    const md = renderComparisonMarkdown(compareResults(loadResults('base.json'), next));
    const row = md.split('\n').find((l) => l.startsWith('| move-judy | im-erin-after'))!;
    expect(row).toBe(
      `| move-judy | im-erin-after | alice IMs erin after judy's move | met | expected pass, got a \\| b c &lt;img src=x onerror=alert(1)&gt; \\*bold\\* |`,
    );
    expect(md).not.toContain('<img');
    expect(renderComparisonMarkdown(compareResults(loadResults('new.json'), loadResults('new.json')))).toContain('✅ **no regression**');
  });

  it('text names every section, colours only when asked', () => {
    const plain = renderComparisonText(c, { color: false });
    for (const s of ['REGRESSED (2)', 'FIXED (1)', 'STILL FAILING (1)', 'NEW (1)', 'GONE (1)']) expect(plain).toContain(s);
    expect(plain).toContain(
      '  ✗ move-judy/im-erin-after  alice IMs erin after judy\'s move\n      was met; now expected pass, got error remote-server-timeout "Component unavailable"',
    );
    expect(plain).toContain('  p95  31 ms -> 40 ms  (+9 ms, +29.0%)');
    expect(plain).toContain('    move-judy/im-judy-moved         9 ms -> 11 ms  +2 ms +22.2%');
    expect(plain.split('\n').at(-1)).toBe('2 REGRESSIONS; 1 fixed, 1 still failing, 1 new, 1 gone, 6 still met');
    expect(plain).not.toContain('\u001b');
    const colored = renderComparisonText(c, { color: true });
    expect(colored).toContain('\u001b[31m');
    expect(stripVTControlCharacters(colored)).toBe(plain);
  });

  it('html is self-contained, escaped, with no script at all', () => {
    const next = loadResults('new.json');
    next.phases[1]!.checks[1]!.actual = '<script>alert(1)</script>';
    const html = renderComparisonHtml(compareResults(loadResults('base.json'), next));
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain("script-src 'none'");
    const tags: string[] = [];
    const walk = (n: { nodeName: string; childNodes?: unknown[] }) => {
      tags.push(n.nodeName);
      (n.childNodes as (typeof n)[] | undefined)?.forEach(walk);
    };
    walk(parse(html) as never);
    expect(tags).not.toContain('script');
    expect(html).toContain('<h2 class="unmet">Regressed (2)</h2>');
    expect(html).toContain('<td class="nw">move-judy</td><td class="nw"><code>im-erin-after</code></td>');
  });
});

describe('readResultsFile', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'xfed-results-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const write = async (name: string, text: string) => {
    const file = path.join(dir, name);
    await writeFile(file, text);
    return file;
  };
  async function failure(file: string): Promise<XfedError> {
    const err = await readResultsFile(file).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(XfedError);
    expect((err as Error).message).not.toContain('\n');
    expect((err as Error).message).toContain(file);
    return err as XfedError;
  }

  it('reads a valid results file as it is', async () => {
    const r = await readResultsFile(path.join(RESULTS_DIR, 'base.json'));
    expect(r).toEqual(loadResults('base.json'));
  });

  it('names a file that is missing or not JSON, with line and column', async () => {
    expect((await failure(path.join(dir, 'nope.json'))).message).toBe(`cannot read results file ${path.join(dir, 'nope.json')}: no such file`);
    const bad = await write('bad.json', '{\n  "format": "xfed-results/1",\n  "suite": {,\n}');
    expect((await failure(bad)).message).toMatch(new RegExp(`^${bad} is not JSON: .* at line 3, column 13$`));
    const cut = await write('cut.json', '{\n  "format": "xfed-results/1",\n');
    expect((await failure(cut)).message).toMatch(/is not JSON: .*at line 3, column 1$/);
    const trailing = await write('trailing.json', '{"format": "xfed-results/1"}\n}');
    expect((await failure(trailing)).message).toMatch(/is not JSON: .* at line 2, column 1$/);
  });

  it('names another format, or a top level that is not an object', async () => {
    expect((await failure(await write('junit.json', '{"format":"junit"}'))).message).toMatch(
      /is not an xfed results file: it has format "junit", expected "xfed-results\/1"$/,
    );
    expect((await failure(await write('noformat.json', '{"suite":{}}'))).message).toMatch(/it has no "format" field, expected "xfed-results\/1"$/);
    expect((await failure(await write('array.json', '[1]'))).message).toMatch(/is not an xfed results file: the top level is an array, not an object$/);
  });

  it('names the first missing or mistyped field by its path', async () => {
    const r = loadResults('base.json') as unknown as Record<string, unknown> & { phases: { checks: Record<string, unknown>[] }[] };
    delete r.phases[1]!.checks[0]!.evidence;
    expect((await failure(await write('missing.json', JSON.stringify(r)))).message).toMatch(
      /is not a valid xfed results file: missing field phases\[1\]\.checks\[0\]\.evidence$/,
    );
    const t = loadResults('base.json') as unknown as Record<string, unknown>;
    t.durationMs = '21 s';
    expect((await failure(await write('type.json', JSON.stringify(t)))).message).toMatch(
      /: field durationMs: Invalid input: expected number, received string$/,
    );
    const l = loadResults('base.json');
    (l.phases[0]!.checks[0]!.evidence[2] as { from: string }).from = 'mars';
    expect((await failure(await write('lane.json', JSON.stringify(l)))).message).toMatch(
      /: field phases\[0\]\.checks\[0\]\.evidence\[2\]\.from: Invalid option: expected one of/,
    );
    const s = loadResults('base.json') as unknown as Record<string, unknown>;
    delete s.summary;
    expect((await failure(await write('summary.json', JSON.stringify(s)))).message).toMatch(/missing field summary$/);
  });
});
