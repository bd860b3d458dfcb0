import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { parse, type DefaultTreeAdapterMap } from 'parse5';
import { renderHtml } from '../../../src/report/html.js';
import type { FlowEvent } from '../../../src/targets/flow.js';
import { loadResults } from '../../fixtures/results/load.js';

type Node = DefaultTreeAdapterMap['node'];
type Element = DefaultTreeAdapterMap['element'];

/** Every element of the document as a browser's HTML parser builds it. */
function elements(html: string): Element[] {
  const out: Element[] = [];
  const walk = (n: Node) => {
    if ('tagName' in n) out.push(n);
    if ('childNodes' in n) n.childNodes.forEach(walk);
    if ('content' in n && n.content) walk(n.content);
  };
  walk(parse(html));
  return out;
}
const attr = (e: Element, name: string) => e.attrs.find((a) => a.name === name)?.value;
const classes = (e: Element) => (attr(e, 'class') ?? '').split(/\s+/);
const byClass = (els: Element[], tag: string, cls: string) => els.filter((e) => e.tagName === tag && classes(e).includes(cls));
function text(n: Node): string {
  if (n.nodeName === '#text') return (n as DefaultTreeAdapterMap['textNode']).value;
  return 'childNodes' in n ? n.childNodes.map(text).join('') : '';
}
function within(root: Element): Element[] {
  const out: Element[] = [];
  const walk = (n: Node) => {
    if ('tagName' in n) out.push(n);
    if ('childNodes' in n) n.childNodes.forEach(walk);
  };
  root.childNodes.forEach(walk);
  return out;
}

describe('renderHtml', () => {
  it('has a verdict matrix with one cell per check, coloured by verdict, each linking to its check', () => {
    const r = loadResults('new.json');
    const els = elements(renderHtml(r));
    const cells = els.filter((e) => e.tagName === 'a' && classes(e).includes('cell'));
    expect(cells).toHaveLength(11);
    const verdicts = cells.map((c) => classes(c).find((k) => ['met', 'unmet', 'error'].includes(k)));
    expect(verdicts.filter((v) => v === 'met')).toHaveLength(8);
    expect(verdicts.filter((v) => v === 'unmet')).toHaveLength(2);
    expect(verdicts.filter((v) => v === 'error')).toHaveLength(1);
    const rows = byClass(els, 'div', 'cells').map((d) => within(d).filter((e) => e.tagName === 'a').length);
    expect(rows).toEqual([5, 3, 3]);
    const articleIds = new Set(byClass(els, 'article', 'check').map((a) => attr(a, 'id')));
    expect(articleIds.size).toBe(11);
    for (const c of cells) expect(articleIds.has(attr(c, 'href')!.slice(1))).toBe(true);
    expect(text(cells[4]!)).toBe('! im-frank');
  });

  it('draws one ladder per check with one row per event: arrows between lanes, notes on one lane', () => {
    const r = loadResults('base.json');
    const els = elements(renderHtml(r));
    const articles = byClass(els, 'article', 'check');
    const checks = r.phases.flatMap((p) => p.checks);
    expect(articles).toHaveLength(checks.length);
    articles.forEach((a, i) => {
      const inner = within(a);
      expect(byClass(inner, 'div', 'ladder')).toHaveLength(1);
      expect(byClass(inner, 'details', 'ev')).toHaveLength(checks[i]!.evidence.length);
    });
    const first = byClass(within(articles[0]!), 'details', 'ev');
    const arrow = (d: Element) => byClass(within(d), 'span', 'arrow')[0]!;
    // partner-user -> partner-server: starts on lane 1, spans 2 lanes, points right.
    expect(classes(arrow(first[0]!))).toEqual(expect.arrayContaining(['r', 'c1', 'w2']));
    // sfb-user -> sip-pool: starts on lane 5, points left.
    expect(classes(arrow(first[5]!))).toEqual(expect.arrayContaining(['l', 'c5', 'w2']));
    expect(classes(first[0]!)).toContain('xmpp');
    expect(classes(first[3]!)).toContain('sip');
    expect(byClass(within(first[0]!), 'span', 'off').map(text)).toEqual(['+0.0 ms']);
    expect(byClass(within(first[11]!), 'span', 'off').map(text)).toEqual(['+7.8 ms']);
    // The wire text is in the details body, CRLF and all.
    expect(text(byClass(within(first[3]!), 'pre', 'wire')[0]!)).toContain('MESSAGE sip:erin@contoso.test SIP/2.0\nVia:');
    // DNS look-ups are notes on the partner server's lane.
    const dns = byClass(within(articles[3]!), 'details', 'ev');
    expect(dns.map((d) => classes(byClass(within(d), 'span', 'note')[0]!))).toEqual([
      expect.arrayContaining(['note', 'c2']),
      expect.arrayContaining(['note', 'c2']),
    ]);
  });

  it('shows header facts, steps with ok/failed, expected vs actual, and an empty ladder for no evidence', () => {
    const r = loadResults('new.json');
    r.phases[2]!.steps[1] = { ...r.phases[2]!.steps[1]!, ok: false, error: 'DNS server did not answer' };
    r.phases[0]!.checks[4]!.evidence = [];
    const html = renderHtml(r);
    const els = elements(html);
    // Complete, but with failures: the badge says so, in the colour of failure.
    expect(text(els.find((e) => e.tagName === 'h1')!)).toBe('cutover-night complete, 2 unmet, 1 harness failure');
    expect(html).toContain('<span class="badge failed">complete, 2 unmet, 1 harness failure</span>');
    const facts = Object.fromEntries(els.filter((e) => e.tagName === 'dt').map((dt) => [text(dt), text(els[els.indexOf(dt) + 1]!)]));
    expect(facts).toMatchObject({ target: 'sim', runtime: 'process', duration: '27.5 s', setup: '8.2 s', started: '2025-03-21T21:00:00.000Z' });
    expect(html).toContain(
      '<strong class="met">8 met</strong>, <strong class="unmet">3 unmet</strong> (<strong class="error">1 of them harness failures</strong>: xfed broke, not the system under test) of 11 checks in 3 phases',
    );
    const steps = els.filter((e) => e.tagName === 'li');
    expect(steps.map((s) => byClass(within(s), 'span', 'badge').map(text)[0])).toEqual(['ok', 'ok', 'failed']);
    expect(text(steps[2]!)).toContain('DNS server did not answer');
    const frank = byClass(els, 'article', 'check')[4]!;
    expect(classes(frank)).toContain('error');
    expect(text(frank)).toContain('harness failure');
    expect(text(byClass(within(frank), 'div', 'ladder')[0]!)).toContain('No messages recorded');
    const vs = byClass(within(byClass(els, 'article', 'check')[6]!), 'table', 'vs')[0]!;
    expect(
      within(vs)
        .filter((e) => e.tagName === 'td')
        .map(text),
    ).toEqual(['pass', 'error remote-server-timeout "Component unavailable"', 'Component unavailable']);
    expect(byClass(els, 'div', 'banner')).toHaveLength(0);
  });

  it('labels a federation failure and a harness failure apart, with the diagnosis of a silence', () => {
    const r = loadResults('new.json');
    Object.assign(r.phases[1]!.checks[1]!, {
      failure: 'federation',
      actual: 'answer none ("timed out after 2000 ms waiting for the echo")',
      diagnosis: "a kill-edge step killed the legacy Edge's Prosody (SIGKILL): partners' connections are refused",
    });
    const els = elements(renderHtml(r));
    const checks = byClass(els, 'article', 'check');
    const silent = checks.find((c) => text(c).includes('answer none'))!;
    expect(byClass(within(silent), 'span', 'badge').map(text)).toEqual(['federation failure']);
    const vs = byClass(within(silent), 'table', 'vs')[0]!;
    expect(
      within(vs)
        .filter((e) => e.tagName === 'th')
        .map(text),
    ).toEqual(['expected', 'actual', 'wire text', 'diagnosis']);
    expect(text(vs)).toContain("a kill-edge step killed the legacy Edge's Prosody");
    expect(byClass(within(checks[4]!), 'span', 'badge').map(text)).toEqual(['harness failure']);
  });

  it('puts a banner on a run that did not complete', () => {
    for (const status of ['interrupted', 'failed', 'running'] as const) {
      const r = loadResults('new.json');
      r.status = status;
      r.reason = 'SIGINT <Ctrl-C>';
      const banner = byClass(elements(renderHtml(r)), 'div', 'banner');
      expect(banner).toHaveLength(1);
      expect(attr(banner[0]!, 'role')).toBe('alert');
      expect(text(banner[0]!)).toContain('SIGINT <Ctrl-C>');
    }
  });

  it('escapes hostile data: no markup from the data becomes an element, no script from it runs', () => {
    const r = loadResults('new.json');
    const c = r.phases[0]!.checks[0]!;
    const evil = `<script>alert("x")</script><img src=x onerror=alert(1)><a href="https://evil.example/">`;
    c.id = `"><svg onload=alert(2)>`;
    c.title = evil;
    c.actual = evil;
    c.evidence[0]!.label = evil;
    c.evidence[0]!.actor = evil;
    c.evidence[1]!.wire = `${evil}</pre></details><script src="http://evil.example/x.js"></script>`;
    r.suite.name = `</title><script>alert(3)</script>`;
    r.phases[0]!.steps = [{ index: 0, action: '<b>', description: evil, ok: false, durationMs: 1, error: evil }];
    r.status = 'failed';
    r.reason = evil;
    const html = renderHtml(r);
    const els = elements(html);
    const scripts = els.filter((e) => e.tagName === 'script');
    expect(scripts).toHaveLength(1);
    expect(attr(scripts[0]!, 'src')).toBeUndefined();
    expect(text(scripts[0]!)).toContain("closest('button[data-wire]')");
    expect(els.filter((e) => ['img', 'svg', 'iframe', 'object', 'embed', 'link', 'base', 'form'].includes(e.tagName))).toEqual([]);
    for (const e of els) for (const a of e.attrs) expect(a.name).not.toMatch(/^on/);
    for (const e of els.filter((x) => attr(x, 'href') !== undefined)) expect(attr(e, 'href')).toMatch(/^#/);
    expect(els.filter((e) => attr(e, 'src') !== undefined)).toEqual([]);
    // The text survives, as text.
    expect(text(els.find((e) => e.tagName === 'title')!)).toBe('xfed: </title><script>alert(3)</script> (failed, 2 unmet, 1 harness failure)');
    expect(text(byClass(els, 'pre', 'wire')[1]!)).toContain('<script src="http://evil.example/x.js"></script>');
    expect(text(byClass(els, 'article', 'check')[0]!)).toContain(evil);
  });

  it('is self-contained: no URL outside escaped wire text, and a CSP that admits only its own style and script', () => {
    const r = loadResults('base.json');
    r.phases[0]!.checks[0]!.evidence[0]!.wire = '<iq><query xmlns="http://jabber.org/protocol/disco#info"/></iq> https://example.test/';
    const html = renderHtml(r);
    expect(html).toContain('http://jabber.org/protocol/disco#info');
    const outsideWire = html.replace(/<pre class="wire">[\s\S]*?<\/pre>/g, '');
    expect(outsideWire).not.toMatch(/https?:\/\//);
    expect(outsideWire).not.toMatch(/\bsrc=|url\(|@import/);
    const els = elements(html);
    const csp = attr(
      els.find((e) => attr(e, 'http-equiv') === 'Content-Security-Policy')!,
      'content',
    )!;
    const sha = (s: string) => `'sha256-${createHash('sha256').update(s).digest('base64')}'`;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain(`script-src ${sha(text(els.find((e) => e.tagName === 'script')!))}`);
    expect(csp).toContain(`style-src ${sha(text(els.find((e) => e.tagName === 'style')!))}`);
  });

  it('keeps a 60-event ladder to one row per event under a sticky lane header', () => {
    const r = loadResults('base.json');
    const base = r.phases[0]!.checks[0]!.evidence;
    const events: FlowEvent[] = Array.from({ length: 60 }, (_, i) => ({ ...base[i % base.length]!, t: base[0]!.t + i * 1.25 }));
    r.phases[0]!.checks[0]!.evidence = events;
    const els = elements(renderHtml(r));
    const ladder = byClass(els, 'div', 'ladder')[0]!;
    const inner = within(ladder);
    expect(byClass(inner, 'details', 'ev')).toHaveLength(60);
    expect(byClass(inner, 'div', 'lh')).toHaveLength(1);
    expect(byClass(inner, 'span', 'off').map(text).at(-1)).toBe('+73.8 ms');
    expect(text(els.find((e) => e.tagName === 'style')!)).toMatch(/\.lh\{position:sticky/);
  });
});
