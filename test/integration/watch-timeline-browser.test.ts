import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { withDeadline } from '../../src/infra/deadline.js';
import { OVERALL, type WatchRecord } from '../../src/watch/records.js';
import { TimelineModel } from '../../src/watch/timeline/model.js';
import { renderTimelinePage } from '../../src/watch/timeline/page.js';
import { describeWithBrowser, launchChromium } from '../helpers/browser.js';
import { CHECKS, cutoverNight, iso } from '../helpers/watch-records.js';

// What the page functions below see in the browser (this project's TypeScript has no DOM library).
declare const document: {
  activeElement: { classList: { contains(name: string): boolean } } | null;
  querySelector(selector: string): { getAttribute(name: string): string | null } | null;
};
declare const window: object;

/** What a page did that a self-contained, error-free page must not: console errors, page errors, requests. */
function watchPage(page: Page): { errors: string[]; requests: string[] } {
  const seen = { errors: [] as string[], requests: [] as string[] };
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') seen.errors.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => seen.errors.push(`pageerror: ${e.message}`));
  page.on('request', (r) => seen.requests.push(`${r.method()} ${r.url()}`));
  return seen;
}

/** SVG x of a time, from the drawn axis: two ticks carry their time (data-t) and their x. */
async function axisScale(page: Page): Promise<(t: number) => number> {
  const ticks = await page.$$eval('text.tick[data-t]', (els) => els.map((e) => [Number(e.getAttribute('data-t')), Number(e.getAttribute('x'))] as const));
  expect(ticks.length).toBeGreaterThanOrEqual(3);
  const [t1, x1] = ticks[0]!;
  const [t2, x2] = ticks.at(-1)!;
  return (t) => x1 + ((t - t1) * (x2 - x1)) / (t2 - t1);
}

const rectOf = (page: Page, selector: string) =>
  page.$eval(selector, (e) => ({ x: Number(e.getAttribute('x')), width: Number(e.getAttribute('width')), y: Number(e.getAttribute('y')) }));

describeWithBrowser('the timeline page in headless Chromium', () => {
  let browser: Browser;
  let dir: string;

  beforeAll(async () => {
    browser = await launchChromium();
    dir = await mkdtemp(path.join(os.tmpdir(), 'xfed-timeline-'));
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('draws a static timeline from file:// with lanes, outages where the records put them, the mark and the ladders', async () => {
    const night = cutoverNight();
    const model = new TimelineModel();
    for (const r of night.records) model.ingest(r);
    const file = path.join(dir, 'timeline.html');
    await writeFile(file, renderTimelinePage(model.toJSON(), { ladders: model.ladders() }));

    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const seen = watchPage(page);
    await page.goto(pathToFileURL(file).href);

    // One lane per check, the overall one on top.
    expect(await page.$$eval('g.lane', (els) => els.map((e) => e.getAttribute('data-check')))).toEqual([OVERALL, ...CHECKS.map((c) => c.id)]);
    const x = await axisScale(page);

    // Each outage is shaded from its start to its end, in its own lane and in the overall one.
    for (const { check, from, to } of Object.values(night.outages)) {
      for (const lane of [check, OVERALL]) {
        const shaded = await page.$$eval(`g.lane[data-check="${lane}"] rect.outage`, (els) =>
          els.map((e) => ({ x: Number(e.getAttribute('x')), width: Number(e.getAttribute('width')) })),
        );
        expect(shaded.some((r) => Math.abs(r.x - x(from)) < 1 && Math.abs(r.x + r.width - x(to)) < 1)).toBe(true);
      }
    }
    expect(await page.locator('rect.outage').count()).toBe(4);
    // Nothing was measured in the gap: it is drawn as a gap, where it was.
    const gap = await rectOf(page, 'rect.gap');
    expect(gap.x).toBeCloseTo(x(night.gap.from), 0);
    expect(gap.x + gap.width).toBeCloseTo(x(night.gap.to), 0);
    expect(await page.$$eval('rect.span', (els) => els.filter((e) => e.classList.contains('s-unmet')).length)).toBe(4);

    // The mark: a line at its time, with its text as text (markup in it stays text).
    const mark = page.locator('g.mark');
    expect(await mark.locator('text.mark-label').textContent()).toBe(night.mark.text);
    expect(Number(await mark.locator('line').getAttribute('x1'))).toBeCloseTo(x(night.mark.at), 0);
    expect(await page.locator('g.mark b, #marks b').count()).toBe(0);

    // Facts and the summary table.
    expect(await page.locator('#facts').textContent()).toContain('TLSv1.2');
    expect(await page.locator('#facts').textContent()).toContain('90 days left');
    expect(await page.locator('#availability tbody tr').count()).toBe(4);
    expect(await page.locator('#outages tbody tr').count()).toBe(4);

    // Hover: the time (local and UTC), the lane, its state.
    const imOutage = page.locator(`g.lane[data-check="${night.outages.im.check}"] rect.outage`);
    await imOutage.hover();
    const tip = await page.locator('#tip').textContent();
    expect(tip).toContain('UTC');
    expect(tip).toContain('state: unmet');
    expect(tip).toContain('outage: ');

    // Clicking the outage opens the ladder of its evidence.
    await imOutage.click();
    await page.locator('#outage').waitFor({ state: 'visible', timeout: 5_000 });
    expect(await page.locator('#outage-ladder .arrow > span').allTextContents()).toEqual(['message chat', 'stream error: remote-server-timeout']);

    // The overall outage shows its first failing check's ladder, and so does the keyboard.
    await page.locator('#outage-close').click();
    const overallPresence = page.locator(`g.lane[data-check="${OVERALL}"] rect.outage`).nth(1);
    await overallPresence.focus();
    await page.keyboard.press('Enter');
    await page.locator('#outage').waitFor({ state: 'visible', timeout: 5_000 });
    expect(await page.locator('#outage-title').textContent()).toBe('Outage of federation (all checks)');
    expect(await page.locator('#outage-ladder .arrow > span, #outage-ladder .note').allTextContents()).toEqual(['presence probe', 'presence unavailable']);
    expect(await page.locator('#outage-facts').textContent()).toContain('erin seen as offline');

    // Tab reaches the outages.
    await page.locator('body').focus();
    let reached = false;
    for (let i = 0; i < 40 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = await page.evaluate(() => document.activeElement?.classList.contains('outage') ?? false);
    }
    expect(reached).toBe(true);

    await page.screenshot({ path: path.join(dir, 'static.png'), fullPage: true });
    expect(seen.errors).toEqual([]);
    expect(seen.requests).toEqual([`GET ${pathToFileURL(file).href}`]);
    await page.close();
  });

  it('updates the live page from polled data without a reload, loads ladders from the server and posts marks', async () => {
    const night = cutoverNight();
    // The first 12 rounds: no outage yet.
    const firstOutage = night.records.findIndex((r) => r.type === 'transition' && r.to === 'unmet');
    const model = new TimelineModel();
    for (const r of night.records.slice(0, firstOutage)) model.ingest(r);
    const live = { dataUrl: '/timeline.json', evidenceUrl: '/evidence', markUrl: '/marks', pollMs: 200 };
    const marks: { type: string; body: string }[] = [];
    let markArrived: () => void = () => undefined;
    const marked = new Promise<void>((resolve) => (markArrived = resolve));
    const served: string[] = [];
    const server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      served.push(`${req.method} ${url.pathname}${url.search}`);
      const send = (status: number, type: string, body: string) => res.writeHead(status, { 'content-type': type }).end(body);
      if (req.method === 'GET' && url.pathname === '/') return send(200, 'text/html; charset=utf-8', renderTimelinePage(model.toJSON(), { live }));
      if (req.method === 'GET' && url.pathname === live.dataUrl) return send(200, 'application/json', JSON.stringify(model.toJSON()));
      if (req.method === 'GET' && url.pathname === live.evidenceUrl) {
        const ladder = model.evidence(url.searchParams.get('id') ?? '');
        return ladder === undefined ? send(404, 'text/plain', 'no such outage') : send(200, 'text/html; charset=utf-8', ladder);
      }
      if (req.method === 'POST' && url.pathname === live.markUrl) {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString('utf8')));
        req.on('end', () => {
          marks.push({ type: req.headers['content-type'] ?? '', body });
          model.ingest({ type: 'mark', at: iso(night.at(260)), text: (JSON.parse(body) as { text: string }).text, source: 'page' });
          send(201, 'application/json', body);
          markArrived();
        });
        return;
      }
      send(404, 'text/plain', 'not found');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    try {
      const seen = watchPage(page);
      await page.goto(`${origin}/`);
      expect(await page.locator('g.lane').count()).toBe(4);
      expect(await page.locator('rect.outage').count()).toBe(0);
      await page.evaluate(() => Object.assign(window, { loadedOnce: true }));

      // The watch goes on: the outage begins and goes on; the page shows it at its next poll.
      const more: WatchRecord[] = night.records.slice(
        firstOutage,
        night.records.findIndex((r) => r.type === 'round' && r.round === 18),
      );
      for (const r of more) model.ingest(r);
      const ongoing = page.locator(`g.lane[data-check="im-partner-to-sfb"] rect.outage.open`);
      await ongoing.waitFor({ timeout: 10_000 });
      expect(await page.evaluate(() => (window as { loadedOnce?: boolean }).loadedOnce)).toBe(true);
      expect(await page.locator('#live-status').textContent()).toMatch(/^live, updated \d\d:\d\d:\d\d$/);
      expect(await page.locator('#overall-state').textContent()).toBe('federation broken');

      // A redraw keeps the keyboard focus on the outage, and the outage grows while it goes on.
      await ongoing.focus();
      const before = Number(await ongoing.getAttribute('width'));
      const round18 = night.records.findIndex((r) => r.type === 'round' && r.round === 18);
      for (const r of night.records.slice(round18, round18 + 1)) model.ingest(r);
      await page.waitForFunction((w) => Number(document.querySelector('rect.outage.open')?.getAttribute('width')) > w, before, { timeout: 10_000 });
      expect(await page.evaluate(() => document.activeElement?.classList.contains('outage'))).toBe(true);

      // Its ladder comes from the server.
      await ongoing.click();
      await page.locator('#outage-ladder .ladder').waitFor({ timeout: 10_000 });
      expect(await page.locator('#outage-ladder .arrow > span').allTextContents()).toEqual(['message chat', 'stream error: remote-server-timeout']);
      expect(served).toContain(`GET ${live.evidenceUrl}?id=${model.toJSON().lanes[1]!.outages[0]!.id}`);

      // The mark form posts JSON, and the mark appears at the next poll.
      await page.locator('#mark-text').fill('moved batch 2 <i>x</i>');
      await page.locator('#mark-form button[type=submit]').click();
      await withDeadline(marked, 10_000, 'the page to POST the mark');
      expect(marks).toEqual([{ type: 'application/json', body: JSON.stringify({ text: 'moved batch 2 <i>x</i>' }) }]);
      await page.locator('g.mark text.mark-label', { hasText: 'moved batch 2 <i>x</i>' }).waitFor({ timeout: 10_000 });
      expect(await page.locator('#mark-text').inputValue()).toBe('');

      expect(seen.errors).toEqual([]);
      expect(seen.requests.every((r) => r.split(' ')[1]!.startsWith(`${origin}/`))).toBe(true);
      expect(served.filter((s) => s === 'GET /')).toHaveLength(1);
      expect(served.filter((s) => s === `GET ${live.dataUrl}`).length).toBeGreaterThanOrEqual(2);
    } finally {
      await page.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
