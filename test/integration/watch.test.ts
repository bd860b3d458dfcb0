import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pollUntil, withDeadline } from '../../src/infra/deadline.js';
import { TestDnsServer } from '../../src/infra/dns.js';
import { freePort } from '../../src/infra/ports.js';
import { readWatchLog } from '../../src/watch/log.js';
import { OVERALL, type RecordOf, type WatchRecord } from '../../src/watch/records.js';
import { launchChromium } from '../helpers/browser.js';
import { ROOT, runCli, startCli } from '../helpers/cli-process.js';
import { REHEARSAL, REHEARSAL_BREAK_ONLY } from '../helpers/watch-suites.js';

/** Every record of the log in `dir`, in order. */
async function records(dir: string): Promise<WatchRecord[]> {
  const out: WatchRecord[] = [];
  for await (const r of readWatchLog(dir)) out.push(r);
  return out;
}
const ofType = <T extends WatchRecord['type']>(rs: WatchRecord[], type: T) => rs.filter((r) => r.type === type) as RecordOf<T>[];

const browserMissing = !fs.existsSync(process.env.XFED_CHROMIUM ?? '/usr/bin/chromium');

/** The real watch's live page in headless Chromium: the lanes, the outage and its ladder, a mark from its form. */
async function checkLivePage(url: string): Promise<void> {
  if (browserMissing) {
    if (process.env.XFED_REQUIRE_BROWSER === '1') throw new Error('a browser is required (XFED_REQUIRE_BROWSER=1) but Chromium is missing');
    return;
  }
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())));
    await page.goto(`${url}/`, { timeout: 10_000 });
    await page.locator('g.lane[data-check="im-erin"] rect.outage').first().waitFor({ timeout: 10_000 });
    expect(await page.$$eval('g.lane', (els) => els.map((e) => e.getAttribute('data-check')))).toEqual([OVERALL, 'im-erin', 'ping-domain']);
    await page.locator('g.lane[data-check="im-erin"] rect.outage').first().click();
    await page.locator('#outage').waitFor({ state: 'visible', timeout: 5_000 });
    // The live page fetches the ladder (/evidence) once the panel is open.
    await page.locator('#outage-ladder .ladder').waitFor({ timeout: 10_000 });
    expect(await page.locator('#outage-ladder .arrow > span').allTextContents()).toContain('message chat');
    await page.locator('#mark-text').fill('from the page');
    await page.locator('#mark-form button').click();
    await page.locator('g.mark text.mark-label', { hasText: 'from the page' }).waitFor({ timeout: 10_000 });
    expect(errors).toEqual([]);
  } finally {
    await browser.close();
  }
}

describe('xfed watch against the simulation', () => {
  let dir: string;
  let suite: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'xfed-watch-'));
    suite = path.join(dir, 'rehearsal.yaml');
    await writeFile(suite, REHEARSAL);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('records the break and the recovery a rehearsal causes, with marks, hooks, metrics and the page, and closes the log on SIGINT', async () => {
    const out = path.join(dir, 'run');
    const hookLog = path.join(dir, 'hooks.ndjson');
    const hook = `printf '%s %s %s %s [%s|%s]\\n' "$XFED_CHECK" "$XFED_FROM" "$XFED_TO" "\${XFED_OUTAGE_SECONDS:-}" "\${XFED_FAILING:-}" "\${XFED_FIRST:-}" >> ${hookLog}`;
    const watch = startCli(
      ['watch', suite, '--phase', 'baseline', '--interval', '500ms', '--rehearse', '3s', '--runtime', 'process', '--out', out, '--on-change', hook],
      { env: { XFED_WATCH_DIR: path.join(dir, 'beacons') } },
    );
    try {
      await watch.waitForOutput(/live page: (http:\/\/\S+)\//, 60_000);
      const url = /live page: (http:\/\/\S+)\//.exec(watch.stdout())![1]!;
      // The break comes after the first rehearsal step, the recovery after the second.
      await watch.waitForOutput(/im-erin unmet -> met after/, 60_000);
      // A mark from another process finds the watch through its beacon.
      const mark = await runCli(['mark', 'moved batch 1'], { env: { XFED_WATCH_DIR: path.join(dir, 'beacons') }, timeoutMs: 20_000 });
      expect(mark).toMatchObject({ code: 0, stderr: '' });
      expect(mark.stdout).toContain(`on the watch at ${url}: moved batch 1`);
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toMatch(/^xfed_check_success\{[^}]*check="im-erin"[^}]*\} 1$/m);
      expect(metrics).toMatch(/^xfed_check_transitions_total\{[^}]*check="im-erin"[^}]*to="unmet"[^}]*\} 1$/m);
      const page = await fetch(`${url}/`);
      expect(page.headers.get('content-type')).toMatch(/text\/html/);
      expect(await page.text()).toContain('im-erin');
      const data = (await (await fetch(`${url}/timeline.json`)).json()) as { lanes: { check: string; outages: { evidence?: string }[] }[] };
      const outage = data.lanes.find((l) => l.check === 'im-erin')!.outages[0]!;
      const ladder = await (await fetch(`${url}/evidence?id=${encodeURIComponent(outage.evidence!)}`)).text();
      expect(ladder).toContain('message chat');
      expect((await fetch(`${url}/marks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(400);
      expect((await fetch(`${url}/marks`, { method: 'POST', body: 'x'.repeat(10_000) })).status).toBe(413);
      await checkLivePage(url);
      watch.child.kill('SIGINT');
      const end = await watch.exit(30_000);
      expect(end.code).toBe(130);
    } finally {
      watch.child.kill('SIGKILL');
    }
    expect(watch.stderr()).toBe('');
    const rs = await records(out);
    expect(rs[0]).toMatchObject({ type: 'start', resumed: false, suite: 'watch-rehearsal', checks: [{ id: 'im-erin' }, { id: 'ping-domain' }] });
    expect(rs.at(-1)).toMatchObject({ type: 'stop', reason: 'interrupted by SIGINT' });
    const transitions = ofType(rs, 'transition').filter((t) => t.check === 'im-erin');
    expect(transitions.map((t) => `${t.from}->${t.to}`)).toEqual(['unknown->met', 'met->unmet', 'unmet->met']);
    expect(transitions[1]!.actual).toMatch(/forbidden/);
    expect(transitions[1]!.evidence!.some((e) => e.label.includes('message chat'))).toBe(true);
    expect(transitions[2]!.outageMs).toBeGreaterThan(0);
    const overall = ofType(rs, 'transition').filter((t) => t.check === OVERALL);
    expect(overall.map((t) => t.to)).toEqual(['met', 'unmet', 'met']);
    expect(overall[1]).toMatchObject({ first: 'im-erin', failing: ['im-erin'] });
    expect(ofType(rs, 'mark').map((m) => [m.source, m.text])).toEqual([
      ['schedule', expect.stringMatching(/^erin-moved: /)],
      ['schedule', expect.stringMatching(/^erin-back: /)],
      ['cli', 'moved batch 1'],
      ...(browserMissing ? [] : [['page', 'from the page']]),
    ]);
    // Every round is on disk with both checks, and the facts of the Edge were probed.
    const rounds = ofType(rs, 'round');
    expect(rounds.length).toBeGreaterThan(4);
    expect(rounds.every((r) => r.results.length === 2 || r === rounds.at(-1))).toBe(true);
    expect(ofType(rs, 'facts')[0]).toMatchObject({ tlsVersion: expect.stringMatching(/^TLSv1/), certificate: { daysLeft: expect.any(Number) } });
    // The hooks ran for the changes, not for the first results, and their runs are in the log.
    const hookLines = (await readFile(hookLog, 'utf8')).trim().split('\n');
    // A single check's hook is told the federation's state too: the checks unmet, the first of them.
    expect(hookLines).toEqual([
      'im-erin met unmet  [im-erin|im-erin]',
      '* met unmet  [im-erin|im-erin]',
      expect.stringMatching(/^im-erin unmet met \d+ \[\|\]$/),
      expect.stringMatching(/^\* unmet met \d+ \[\|\]$/),
    ]);
    expect(ofType(rs, 'hook').every((h) => h.exitCode === 0)).toBe(true);
    // The summary was printed, and the timeline written.
    expect(watch.stdout()).toMatch(/federation: \d+\.\d+% available, 1 outage/);
    expect(fs.readFileSync(path.join(out, 'timeline.html'), 'utf8')).toContain('<html');
    // The beacon is gone: no mark can reach a stopped watch.
    const late = await runCli(['mark', 'too late'], { env: { XFED_WATCH_DIR: path.join(dir, 'beacons') }, timeoutMs: 20_000 });
    expect(late).toMatchObject({ code: 2, stderr: 'xfed: no watch is running on this machine (start one with xfed watch, or name one with --url)\n' });

    // --resume continues the same log after a gap; without it the directory is refused.
    const again = await runCli(['watch', suite, '--phase', 'baseline', '--interval', '1s', '--duration', '2s', '--runtime', 'process', '--out', out], {
      timeoutMs: 60_000,
    });
    expect(again).toMatchObject({
      code: 2,
      stdout: '',
      stderr: `xfed: ${path.join(out, 'watch.ndjson')} holds a watch already: add --resume to continue it, or choose another --out\n`,
    });
    const resumed = await runCli(
      [
        'watch',
        suite,
        '--phase',
        'baseline',
        '--interval',
        '1s',
        '--duration',
        '3s',
        '--runtime',
        'process',
        '--out',
        out,
        '--resume',
        '--log-part-size',
        '4KB',
      ],
      { timeoutMs: 60_000 },
    );
    // The outage of the first watch counts: exit 1.
    expect(resumed.code).toBe(1);
    // The log is now in parts: each rotated one begins with the watch's settings and standings.
    expect(fs.readdirSync(out).filter((f) => /^watch-\d{4}\.ndjson$/.test(f)).length).toBeGreaterThan(0);
    const all = await records(out);
    expect(ofType(all, 'part').length).toBeGreaterThan(0);
    expect(ofType(all, 'start').map((s) => s.resumed)).toEqual([false, true]);
    expect(all.at(-1)).toMatchObject({ type: 'stop', reason: 'its duration (3.0 s) ended' });
    // The resumed watch knew im-erin was met: no new transition from unknown.
    expect(ofType(all, 'transition').filter((t) => t.check === 'im-erin')).toHaveLength(3);
    const timeline = await runCli(['timeline', out, '--out', path.join(dir, 'again.html')], { timeoutMs: 30_000 });
    expect(timeline.code).toBe(1);
    expect(timeline.stdout).toMatch(/not watched: \d\d:\d\d:\d\d-\d\d:\d\d:\d\d \(between a watch and its --resume\)/);
    expect(timeline.stdout).toContain(`timeline: ${path.join(dir, 'again.html')}`);
  }, 240_000);

  it('draws the live view in a terminal, where m adds a mark and q stops the watch', async () => {
    const out = path.join(dir, 'tty');
    // script(1) gives the watch a real terminal; the test types into it.
    const cmd = [
      process.execPath,
      path.join(ROOT, 'bin', 'xfed.js'),
      'watch',
      suite,
      '--phase',
      'baseline',
      '--interval',
      '1s',
      '--runtime',
      'process',
      '--out',
      out,
    ]
      .map((a) => `'${a}'`)
      .join(' ');
    // CI systems set CI, which makes the watch print plain lines even in a terminal: this test is
    // about the live view, so its terminal is not a CI one.
    const { CI: _ci, ...env } = process.env;
    const tty = spawn('script', ['-qfc', cmd, '/dev/null'], {
      cwd: ROOT,
      env: { ...env, NO_COLOR: '1', COLUMNS: '160', TERM: process.env.TERM ?? 'xterm' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let screen = '';
    tty.stdout.on('data', (d: Buffer) => (screen += d.toString()));
    const seen = async (pattern: RegExp) => {
      try {
        await withDeadline(
          new Promise<void>((resolve) => {
            const look = () => pattern.test(screen) && resolve();
            tty.stdout.on('data', look);
            look();
          }),
          30_000,
          `the terminal to show ${pattern}`,
        );
      } catch (e) {
        throw new Error(`${(e as Error).message} (the screen so far: ${JSON.stringify(screen.slice(-800))})`);
      }
    };
    const exited = new Promise<number | null>((resolve) => tty.once('exit', resolve));
    try {
      await seen(/✔ im-erin +met +since/);
      expect(screen).toContain('keys: m add a mark, q stop (Ctrl-C also stops)');
      tty.stdin.write('m');
      await seen(/mark: /);
      tty.stdin.write('batch 2 moved\r');
      await seen(/mark \(key\): batch 2 moved/);
      tty.stdin.write('q');
      expect(await withDeadline(exited, 30_000, 'the watch to stop')).toBe(0);
    } finally {
      tty.kill('SIGKILL');
    }
    expect(screen).toMatch(/ended: stopped with q/);
    expect(ofType(await records(out), 'mark')).toMatchObject([{ source: 'key', text: 'batch 2 moved' }]);
  }, 90_000);

  it('repeats a subscribe check as a new subscription each round, not as a subscription already held', async () => {
    const out = path.join(dir, 'subscribe');
    const smoke = path.join(ROOT, 'scenarios', 'smoke.yaml');
    const r = await runCli(['watch', smoke, '--checks', 'subscribe-erin', '--interval', '500ms', '--duration', '4s', '--runtime', 'process', '--out', out], {
      timeoutMs: 60_000,
    });
    expect(r.code).toBe(0);
    const rounds = ofType(await records(out), 'round');
    expect(rounds.length).toBeGreaterThan(2);
    expect(rounds.flatMap((x) => x.results.map((y) => y.state))).toEqual(rounds.map(() => 'met'));
  }, 60_000);

  it("starts the target again when a part of xfed's own breaks under it (its partner Prosody killed), and goes on", async () => {
    const out = path.join(dir, 'restart');
    const watch = startCli(['watch', suite, '--phase', 'baseline', '--interval', '500ms', '--runtime', 'process', '--out', out]);
    try {
      await watch.waitForOutput(/target up in/, 60_000);
      // The partner Prosody of this watch: its config lives in a work directory named after the watch's pid.
      const partner = spawnSync('pgrep', ['-f', `xfed-partner\\.test-${watch.child.pid}\\.`], { encoding: 'utf8' })
        .stdout.trim()
        .split('\n')[0]!;
      expect(partner).toMatch(/^\d+$/);
      process.kill(Number(partner), 'SIGKILL');
      await watch.waitForOutput(/xfed's own part broke .*: the target starts again/, 60_000);
      await watch.waitForOutput(/target up in[^]*target up in/, 60_000);
      await watch.waitForOutput(/(im-erin|federation) error -> met/, 60_000);
      watch.child.kill('SIGTERM');
      expect((await watch.exit(30_000)).code).toBe(143);
    } finally {
      watch.child.kill('SIGKILL');
    }
    const rs = await records(out);
    expect(ofType(rs, 'ready')).toHaveLength(2);
    expect(rs.at(-1)).toMatchObject({ type: 'stop', reason: 'interrupted by SIGTERM' });
    // The harness's failure is no outage of the federation: error, then met again.
    expect(ofType(rs, 'transition').filter((t) => t.to === 'unmet')).toEqual([]);
    expect(ofType(rs, 'transition').some((t) => t.check === OVERALL && t.from === 'error' && t.to === 'met')).toBe(true);
  }, 120_000);

  it('starts the target again where the rehearsal had brought it, not at its start', async () => {
    const out = path.join(dir, 'restart-rehearsed');
    // One rehearsal phase, which breaks im-erin and is not undone.
    const oneStep = path.join(dir, 'one-step.yaml');
    await writeFile(oneStep, REHEARSAL_BREAK_ONLY);
    const watch = startCli(['watch', oneStep, '--phase', 'baseline', '--interval', '500ms', '--rehearse', '1s', '--runtime', 'process', '--out', out]);
    try {
      await watch.waitForOutput(/im-erin met -> unmet/, 60_000);
      const partner = spawnSync('pgrep', ['-f', `xfed-partner\\.test-${watch.child.pid}\\.`], { encoding: 'utf8' })
        .stdout.trim()
        .split('\n')[0]!;
      expect(partner).toMatch(/^\d+$/);
      process.kill(Number(partner), 'SIGKILL');
      await watch.waitForOutput(/target up in[^]*target up in/, 60_000);
      // The first round on the new target, read from the log (each round is flushed as it ends).
      await pollUntil(
        async () => {
          const rs = await records(out);
          const again = rs.findIndex((r, i) => r.type === 'ready' && i > rs.findIndex((q) => q.type === 'ready'));
          return again >= 0 && rs.slice(again).some((r) => r.type === 'round') ? true : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 200, what: 'a round on the target started again' },
      );
      watch.child.kill('SIGTERM');
      expect((await watch.exit(30_000)).code).toBe(143);
    } finally {
      watch.child.kill('SIGKILL');
    }
    const rs = await records(out);
    const again = rs.findLastIndex((r) => r.type === 'ready');
    expect(ofType(rs, 'ready')).toHaveLength(2);
    // erin is still on the 2019 pool after the restart: im-erin is unmet there, never met.
    const after = ofType(rs.slice(again), 'round').flatMap((r) => r.results.filter((p) => p.check === 'im-erin'));
    expect(after.length).toBeGreaterThan(0);
    expect(after.map((p) => p.state)).toEqual(after.map(() => 'unmet'));
    // Still no outage of ping-domain, whose checks the harness's failure only interrupted.
    expect(ofType(rs, 'transition').filter((t) => t.check === 'ping-domain' && t.to === 'unmet')).toEqual([]);
  }, 120_000);

  it('says once that rounds run back to back when a round outlasts the interval', async () => {
    const out = path.join(dir, 'slow');
    const r = await runCli(['watch', suite, '--phase', 'baseline', '--interval', '1ms', '--duration', '3s', '--runtime', 'process', '--out', out], {
      timeoutMs: 60_000,
    });
    expect(r.code).toBe(0);
    const notices = ofType(await records(out), 'notice').filter((n) => n.text.includes('back to back'));
    expect(notices).toHaveLength(1);
    expect(notices[0]!.text).toMatch(/^a round took .*, longer than the interval \(1 ms\): rounds run back to back$/);
  }, 90_000);

  it('refuses bad input in one line before anything starts', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      const cases: [string[], RegExp][] = [
        [['--listen', `127.0.0.1:${port}`], new RegExp(`^xfed: --listen 127\\.0\\.0\\.1:${port} is taken by .*: choose another port`)],
        [['--listen', 'nonsense'], /^xfed: --listen nonsense: expected HOST:PORT/],
        [['--interval', 'often'], /^xfed: --interval often: not a duration \(examples: 500ms, 30s, 5m, 4h, 1h30m\)$/],
        [['--checks', 'im-eirn'], /^xfed: --checks: no check 'im-eirn' in .*rehearsal\.yaml \(did you mean 'im-erin'\?\)$/],
        [['--phase', 'baseline', '--checks', 'im-erin'], /^xfed: give --checks or --phase, not both$/],
        [['--phase', 'nope'], /^xfed: --phase: no phase 'nope' in /],
      ];
      for (const [args, message] of cases) {
        const r = await runCli(['watch', suite, '--runtime', 'process', '--out', path.join(dir, 'bad'), ...args], { timeoutMs: 30_000 });
        expect({ args, code: r.code, lines: r.stderr.trim().split('\n').length }).toEqual({ args, code: 2, lines: 1 });
        expect(r.stderr.trim()).toMatch(message);
      }
    } finally {
      taken.close();
    }
    expect(fs.existsSync(path.join(dir, 'bad', 'watch.ndjson'))).toBe(false);
  }, 120_000);
});

describe('xfed watch against an unreachable Edge', () => {
  let dir: string;
  let dns: TestDnsServer;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'xfed-watch-lab-'));
    dns = new TestDnsServer();
    await dns.start(0, '127.0.0.1');
  });
  afterAll(async () => {
    await dns.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('starts anyway and records the outage from the first round', async () => {
    // A loopback port nobody listens on: the Edge is down.
    const closed = await freePort('127.0.0.1');
    const file = path.join(dir, 'lab.yaml');
    await writeFile(
      file,
      `
suite: lab-down
partner: { domains: [partner.test], users: [alice] }
target:
  gateway:
    domain: contoso.test
    edge: { host: 127.0.0.1, port: ${closed} }
    resolver: { host: 127.0.0.1, port: ${dns.port} }
    listen: { host: 127.0.0.1, port: ${await freePort('127.0.0.1')} }
    partner: { partnerType: Federated }
    users: [{ name: erin, role: echo }]
phases:
  - name: federation
    checks:
      - { id: probe, kind: s2s-probe, timeout: 1s }
      - { id: ping-domain, kind: ping, from: alice, timeout: 1s }
`,
    );
    const out = path.join(dir, 'out');
    const r = await runCli(['watch', file, '--interval', '1s', '--duration', '4s', '--runtime', 'process', '--out', out], { timeoutMs: 90_000 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    const rs = await records(out);
    const first = ofType(rs, 'round')[0]!;
    expect(first.results.map((x) => [x.check, x.state])).toEqual([
      ['probe', 'unmet'],
      ['ping-domain', 'unmet'],
    ]);
    const overall = ofType(rs, 'transition').filter((t) => t.check === OVERALL);
    expect(overall).toHaveLength(1);
    expect(overall[0]).toMatchObject({ from: 'unknown', to: 'unmet', round: 1, first: 'probe' });
    expect(r.stdout).toMatch(/federation: 0\.00% available, 1 outage/);
    expect(r.stdout).toContain('still down');
    expect(fs.existsSync(path.join(out, 'timeline.html'))).toBe(true);
  }, 120_000);

  it('refuses to start, in one line, on what only the user can fix: a password variable that is not set', async () => {
    const file = path.join(dir, 'lab-no-password.yaml');
    await writeFile(
      file,
      `
suite: lab-no-password
partner: { domains: [partner.test], users: [alice] }
target:
  gateway:
    domain: contoso.test
    resolver: { host: 127.0.0.1, port: ${dns.port} }
    listen: { host: 127.0.0.1, port: ${await freePort('127.0.0.1')} }
    partner: { partnerType: Federated }
    users:
      - { name: erin, role: echo, login: { passwordEnv: XFED_TEST_UNSET_PASSWORD } }
phases:
  - name: federation
    checks:
      - { id: ping-domain, kind: ping, from: alice, timeout: 1s }
`,
    );
    const out = path.join(dir, 'no-password');
    const r = await runCli(['watch', file, '--runtime', 'process', '--out', out], { env: { XFED_TEST_UNSET_PASSWORD: '' }, timeoutMs: 60_000 });
    expect(r).toMatchObject({
      code: 2,
      stderr: 'xfed: target.gateway.users erin: the environment variable XFED_TEST_UNSET_PASSWORD (login.passwordEnv) is not set\n',
    });
  }, 60_000);
});
