import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { parse, type DefaultTreeAdapterMap } from 'parse5';
import { renderLoadHtml, writeLoadHtml } from '../../../src/load/report/html.js';
import type { LoadResults } from '../../../src/load/results.js';
import { failedResults, heldResults, series } from './report-fixture.js';

type Node = DefaultTreeAdapterMap['node'];
type Element = DefaultTreeAdapterMap['element'];

/** Every element of the document as a browser's HTML parser builds it, and the parse errors it met. */
function parsed(html: string): { els: Element[]; errors: string[] } {
  const errors: string[] = [];
  const els: Element[] = [];
  const walk = (n: Node) => {
    if ('tagName' in n) els.push(n);
    if ('childNodes' in n) n.childNodes.forEach(walk);
  };
  walk(parse(html, { onParseError: (e) => errors.push(`${e.code} at ${e.startLine}:${e.startCol}`) }));
  return { els, errors };
}
const attr = (e: Element, name: string) => e.attrs.find((a) => a.name === name)?.value;
function text(n: Node): string {
  if (n.nodeName === '#text') return (n as DefaultTreeAdapterMap['textNode']).value;
  return 'childNodes' in n ? n.childNodes.map(text).join('') : '';
}
const byId = (els: Element[], id: string) => els.find((e) => attr(e, 'id') === id);
const inside = (root: Element, tag: string) => {
  const out: Element[] = [];
  const walk = (n: Node) => {
    if ('tagName' in n && n.tagName === tag) out.push(n);
    if ('childNodes' in n) n.childNodes.forEach(walk);
  };
  walk(root);
  return out;
};

describe('renderLoadHtml', () => {
  it('is well-formed HTML with the verdict and the figures as tables', () => {
    const { els, errors } = parsed(renderLoadHtml(heldResults()));
    expect(errors).toEqual([]);
    const ids = els.map((e) => attr(e, 'id')).filter((id) => id !== undefined);
    expect(new Set(ids).size).toBe(ids.length);
    const h1 = els.find((e) => e.tagName === 'h1')!;
    expect(text(h1)).toBe('xfed load: smoke held');
    const figures = byId(els, 'figures')!;
    const rows = inside(figures, 'tr').map((tr) => inside(tr, 'th').map(text).concat(inside(tr, 'td').map(text).slice(0, 1)));
    expect(rows).toEqual(
      expect.arrayContaining([
        ['logins', '100/100'],
        ['login rate', '10/s'],
        ['subscriptions', '100/100'],
        ['IM rate asked', '50/s'],
        ['lost', '0'],
        ['duplicates', '0'],
        ['reordered', '0'],
      ]),
    );
    const latency = inside(byId(els, 'latency')!, 'tr').map((tr) => [...inside(tr, 'th'), ...inside(tr, 'td')].map(text));
    expect(latency[0]).toEqual(['', 'samples', 'min', 'mean', 'p50', 'p95', 'p99', 'max', '']);
    expect(latency.find((r) => r[0] === 'round trip')!.slice(1, 8)).toEqual(['1000', '6 ms', '13 ms', '12 ms', '35 ms', '58 ms', '79 ms']);
    expect(latency.find((r) => r[0] === 'one way')).toBeDefined();
    expect(text(byId(els, 'generator')!)).toContain('88 MB');
  });

  it('draws throughput, latency, users online and errors over time, with the start of the IMs on the time axis', () => {
    const { els } = parsed(renderLoadHtml(heldResults()));
    for (const id of ['chart-throughput', 'chart-latency', 'chart-online', 'chart-errors']) {
      const figure = byId(els, id)!;
      expect(figure.tagName).toBe('figure');
      const svg = inside(figure, 'svg');
      expect(svg).toHaveLength(1);
      const paths = inside(svg[0]!, 'path');
      expect(paths.length).toBeGreaterThan(0);
      for (const p of paths) expect(attr(p, 'd')).toMatch(/^M[\d.]+ [\d.]+(L[\d.]+ [\d.]+)+$/);
    }
    const lines = (id: string) => inside(byId(els, id)!, 'path').map((p) => text(p));
    expect(lines('chart-throughput')).toEqual(['sent', 'delivered']);
    // max under the others: in a second of few IMs it is the p99.
    expect(lines('chart-latency')).toEqual(['max', 'p50', 'p99']);
    expect(lines('chart-online')).toEqual(['online', 'logins per second']);
    const marks = inside(byId(els, 'chart-throughput')!, 'g').map(text);
    expect(marks).toEqual(['IMs start']);
  });

  it('leaves a gap in the latency where a second delivered nothing, rather than a fall to zero', () => {
    const r = heldResults();
    const gap = { ...r, engine: { ...r.engine, series: series({ gapAt: 20 }) } };
    const { els } = parsed(renderLoadHtml(gap));
    const p99 = inside(byId(els, 'chart-latency')!, 'path').find((p) => text(p) === 'p99')!;
    // One stretch before the gap, one after it.
    expect(attr(p99, 'd')!.match(/M/g)).toHaveLength(2);
  });

  it("leaves out a per-second figure the engine does not give (Tsung's p99 and max), and says so", () => {
    const r = heldResults();
    const tsung: LoadResults = { ...r, engine: { ...r.engine, engine: 'tsung', series: series().map((s) => ({ ...s, p99: 0, max: 0 })) } };
    const { els } = parsed(renderLoadHtml(tsung));
    const chart = byId(els, 'chart-latency')!;
    expect(inside(chart, 'path').map(text)).toEqual(['mean (Tsung)']);
    expect(text(chart)).toContain('p99 and max per second: not measured by the tsung engine');
  });

  it('marks the restart on the time axis and says the storm, the failures and the notices', () => {
    const { els, errors } = parsed(renderLoadHtml(failedResults()));
    expect(errors).toEqual([]);
    expect(text(els.find((e) => e.tagName === 'h1')!)).toBe('xfed load: smoke not held');
    // The IMs started at 10 s, the restart 5 s later.
    const marks = inside(byId(els, 'chart-latency')!, 'g');
    expect(marks.map(text)).toEqual(['IMs start', 'edge restart']);
    const x = (g: Element) => Number(attr(inside(g, 'line')[0]!, 'x1'));
    expect(x(marks[1]!)).toBeGreaterThan(x(marks[0]!));
    expect(text(byId(els, 'storm')!)).toContain('90 of 97 subscriptions came back; the rest never did.');
    expect(text(byId(els, 'notices')!)).toContain('the rate asked (50/s) was not reached: 47/s sent');
    const reasons = els.filter((e) => e.tagName === 'ul' && attr(e, 'class') === 'reasons').flatMap((u) => inside(u, 'li').map(text));
    expect(reasons).toEqual(['3 of 100 logins failed (timeout 2, not-authorized 1)', '15 IMs lost']);
    expect(text(byId(els, 'figures')!)).toContain('remote-server-timeout 12, service-unavailable 3');
  });

  it('escapes hostile text everywhere it can appear, and loads nothing from anywhere', () => {
    const evil = '<script>alert(1)</script><img src=x onerror=alert(2)>"\'&';
    const r = failedResults();
    const hostile: LoadResults = {
      ...r,
      suite: evil,
      startedAt: evil,
      verdict: { held: false, reasons: [evil] },
      engine: {
        ...r.engine,
        logins: { ...r.engine.logins, failed: { [evil]: 1 } },
        messages: { ...r.engine.messages, errors: { [evil]: 3 } },
        notices: [evil, 'see https://example.com/x'],
      },
    };
    const html = renderLoadHtml(hostile);
    const { els, errors } = parsed(html);
    expect(errors).toEqual([]);
    // The only script-ish elements are none at all, and no element carries an event handler.
    expect(els.filter((e) => e.tagName === 'script' || e.tagName === 'img')).toEqual([]);
    expect(els.flatMap((e) => e.attrs.map((a) => a.name)).filter((n) => n.startsWith('on'))).toEqual([]);
    // Said as text, whole.
    expect(text(byId(els, 'notices')!)).toContain(evil);
    expect(text(els.find((e) => e.tagName === 'title')!)).toContain(evil);
    // Nothing to fetch: no src or href anywhere, a URL only as text, and a CSP that forbids any load.
    expect(els.filter((e) => attr(e, 'src') !== undefined || attr(e, 'href') !== undefined)).toEqual([]);
    expect(html.replace('see https://example.com/x', '')).not.toMatch(/https?:|\/\/[a-z]/i);
    const csp = attr(
      els.find((e) => attr(e, 'http-equiv') === 'Content-Security-Policy')!,
      'content',
    )!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'none'");
  });

  it('keeps a run of hours to a bounded page, merging seconds', () => {
    const r = heldResults();
    const long = Array.from({ length: 6 * 3600 }, (_, t) => ({
      t,
      online: 100,
      logins: 0,
      sent: 50,
      delivered: 50,
      errors: 0,
      p50: 10,
      p99: t === 5000 ? 900 : 40,
      max: 60,
    }));
    const html = renderLoadHtml({ ...r, engine: { ...r.engine, series: long } });
    expect(html.length).toBeLessThan(400_000);
    // The worst second survives the merge.
    const { els } = parsed(html);
    const ticks = inside(byId(els, 'chart-latency')!, 'text').map(text);
    expect(ticks).toContain('1k ms');
  });

  it('with no per-second figures, says so instead of drawing empty charts', () => {
    const r = heldResults();
    const { els } = parsed(renderLoadHtml({ ...r, engine: { ...r.engine, series: [] } }));
    expect(inside(byId(els, 'over-time')!, 'svg')).toEqual([]);
    expect(text(byId(els, 'over-time')!)).toContain('No per-second figures were recorded.');
  });
});

describe('writeLoadHtml', () => {
  it('writes the page to the file', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'xfed-load-html-'));
    try {
      const file = path.join(dir, 'out', 'report.html');
      await writeLoadHtml(heldResults(), file);
      const html = await readFile(file, 'utf8');
      expect(html).toBe(renderLoadHtml(heldResults()));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
