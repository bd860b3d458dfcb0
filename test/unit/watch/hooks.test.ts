import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pollUntil, withDeadline } from '../../../src/infra/deadline.js';
import { readMarker, thisOwner } from '../../../src/infra/reaper/marker.js';
import { TransitionHooks, type HookContext, type TransitionHooksOptions } from '../../../src/watch/hooks.js';
import type { RecordOf } from '../../../src/watch/records.js';
import { ROOT } from '../../helpers/cli-process.js';

type Transition = RecordOf<'transition'>;
type HookRecord = RecordOf<'hook'>;

/** Every wait of these tests on a hook: far above what a shell needs, far below Jest's timeout. */
const BOUND_MS = 20_000;

let tmp: string;
const saved = { stateDir: process.env.XFED_STATE_DIR, noWatchdog: process.env.XFED_NO_WATCHDOG };
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'hooks-unit-'));
  // The owner marker of this test process goes to its own directory, read below.
  process.env.XFED_STATE_DIR = path.join(tmp, 'state');
  process.env.XFED_NO_WATCHDOG = '1';
});
afterAll(async () => {
  for (const [name, value] of [
    ['XFED_STATE_DIR', saved.stateDir],
    ['XFED_NO_WATCHDOG', saved.noWatchdog],
  ] as const) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  await rm(tmp, { recursive: true, force: true });
});

const context: HookContext = { suite: 'cutover-night', logFile: '/var/log/xfed/watch.ndjson', pageUrl: 'http://127.0.0.1:9464/' };

function transition(over: Partial<Transition> = {}): Transition {
  return { type: 'transition', at: '2026-11-30T01:02:03.000Z', round: 7, check: 'im-a2e', from: 'met', to: 'unmet', ...over };
}

/** Hooks whose records are collected; `records(n)` waits, within the bound, until n have come. */
function hooks(command: string, options: Partial<TransitionHooksOptions> = {}) {
  const ran: HookRecord[] = [];
  const notices: string[] = [];
  const waiters: Array<() => void> = [];
  const hooks = new TransitionHooks({
    command,
    timeoutMs: 10_000,
    cwd: tmp,
    onRan: (r) => {
      ran.push(r);
      for (const w of waiters.splice(0)) w();
    },
    onNotice: (text) => notices.push(text),
    ...options,
  });
  const records = async (n: number) => {
    while (ran.length < n) await withDeadline(new Promise<void>((resolve) => waiters.push(resolve)), BOUND_MS, `hook record ${ran.length + 1} of ${n}`);
    return ran;
  };
  return { hooks, ran, notices, records };
}

/** Processes of process group `pgid` that still run (a zombie has ended: only its parent has not collected it yet). */
function liveMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Waits, within the bound, until nothing of the group runs: kill(-pgid, 0) fails, or only zombies are left. */
async function groupGone(pgid: number): Promise<void> {
  await pollUntil(
    () => {
      try {
        process.kill(-pgid, 0);
      } catch (err) {
        return (err as NodeJS.ErrnoException).code === 'ESRCH' ? true : undefined;
      }
      return liveMembers(pgid).length === 0 ? true : undefined;
    },
    { timeoutMs: 5_000, intervalMs: 20, what: `process group ${pgid} to end: ${liveMembers(pgid).join(', ')}` },
  );
}

/** The hook processes the owner marker of this process lists. */
function markedHooks(): Array<{ pid: number; label: string }> {
  const marker = readMarker(path.join(process.env.XFED_STATE_DIR!, `${thisOwner().owner}.json`));
  return (marker?.processes ?? []).filter((p) => p.label.startsWith('hook: '));
}

function parseEnv(file: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of readFileSync(file, 'utf8').split('\0').filter(Boolean)) {
    const i = entry.indexOf('=');
    env[entry.slice(0, i)] = entry.slice(i + 1);
  }
  return env;
}

describe('--on-change hooks', () => {
  it('give the hook the transition in its environment, each value one line, the event as JSON without the evidence', async () => {
    const { hooks: h, records } = hooks('env -0 > "env-$XFED_ROUND"', {
      // A stale value in the inherited environment must not reach a hook it does not apply to.
      env: { ...process.env, XFED_OUTAGE_SECONDS: '999', KEPT: 'yes' },
    });
    const evidence = [
      { at: 1, t: 1, from: 'partner-user' as const, to: 'edge' as const, protocol: 'xmpp' as const, label: 'message chat', wire: '<message/>' },
    ];
    h.run(
      transition({
        check: '*',
        round: 7,
        actual: 'no answer\nwithin 5 s\r\n\tfrom erin\u2028(quoted)',
        diagnosis: 'the Edge refused the S2S stream',
        failing: ['im-a2e', 'presence-e2a'],
        first: 'im-a2e',
        evidence,
      }),
      context,
    );
    h.run(transition({ round: 9, from: 'unmet', to: 'met', outageMs: 61_400 }), { ...context, title: 'IM partner -> SfB', failing: [] });
    const [broke, back] = await records(2);
    expect(broke).toMatchObject({ type: 'hook', check: '*', to: 'unmet', exitCode: 0, timedOut: false, output: '' });
    expect(back).toMatchObject({ type: 'hook', check: 'im-a2e', to: 'met', exitCode: 0 });

    const first = parseEnv(path.join(tmp, 'env-7'));
    expect(first).toMatchObject({
      XFED_CHECK: '*',
      XFED_CHECK_TITLE: 'the federation as a whole',
      XFED_FROM: 'met',
      XFED_TO: 'unmet',
      XFED_AT: '2026-11-30T01:02:03.000Z',
      XFED_ROUND: '7',
      XFED_ACTUAL: 'no answer within 5 s from erin (quoted)',
      XFED_DIAGNOSIS: 'the Edge refused the S2S stream',
      XFED_FAILING: 'im-a2e,presence-e2a',
      XFED_FIRST: 'im-a2e',
      XFED_SUITE: 'cutover-night',
      XFED_LOG: '/var/log/xfed/watch.ndjson',
      XFED_URL: 'http://127.0.0.1:9464/',
      XFED_OWNER_RUN: thisOwner().owner,
      KEPT: 'yes',
    });
    expect(first.XFED_OUTAGE_SECONDS).toBeUndefined();
    expect(first.XFED_TEXT).toBe(
      'cutover-night: federation broken at 2026-11-30T01:02:03.000Z (round 7): 2 checks unmet, first im-a2e: no answer within 5 s from erin (quoted); the Edge refused the S2S stream',
    );
    for (const [name, value] of Object.entries(first)) if (name.startsWith('XFED_')) expect(value).not.toMatch(/[\n\r\t\u2028]/);
    expect(JSON.parse(first.XFED_EVENT_JSON!)).toEqual({
      type: 'transition',
      at: '2026-11-30T01:02:03.000Z',
      round: 7,
      check: '*',
      from: 'met',
      to: 'unmet',
      actual: 'no answer within 5 s from erin (quoted)',
      diagnosis: 'the Edge refused the S2S stream',
      failing: ['im-a2e', 'presence-e2a'],
      first: 'im-a2e',
    });

    const second = parseEnv(path.join(tmp, 'env-9'));
    expect(second).toMatchObject({
      XFED_CHECK: 'im-a2e',
      XFED_CHECK_TITLE: 'IM partner -> SfB',
      XFED_FROM: 'unmet',
      XFED_TO: 'met',
      XFED_OUTAGE_SECONDS: '61',
      XFED_OUTAGE_MS: '61400',
      XFED_FAILING: '',
      XFED_TEXT: 'cutover-night: im-a2e (IM partner -> SfB) met again at 2026-11-30T01:02:03.000Z (round 9) after 1m 01s',
    });
    expect(second.XFED_ACTUAL).toBeUndefined();
    expect(second.XFED_FIRST).toBeUndefined();
  });

  it('cut a value that would make the environment too big, and say so with an ellipsis', async () => {
    const { hooks: h, records } = hooks('printf %s "$XFED_ACTUAL" > actual; printf %s "$XFED_EVENT_JSON" > event.json');
    h.run(transition({ actual: 'x'.repeat(1_000_000) }), context);
    expect((await records(1))[0]).toMatchObject({ exitCode: 0 });
    const actual = readFileSync(path.join(tmp, 'actual'), 'utf8');
    expect(actual).toMatch(/^x+…$/);
    expect(actual.length).toBe(2000);
    // The event keeps the cut value, and stays JSON.
    expect(JSON.parse(readFileSync(path.join(tmp, 'event.json'), 'utf8'))).toMatchObject({ actual });
  });

  it('run a burst one at a time, in the order of the transitions', async () => {
    const { hooks: h, records } = hooks('echo "$XFED_ROUND" >> order');
    for (let round = 1; round <= 20; round++) h.run(transition({ round }), context);
    const ran = await records(20);
    const rounds = Array.from({ length: 20 }, (_, i) => String(i + 1));
    expect(readFileSync(path.join(tmp, 'order'), 'utf8').trim().split('\n')).toEqual(rounds);
    // One at a time: each began after the one before had ended.
    for (let i = 1; i < ran.length; i++) expect(Date.parse(ran[i]!.at)).toBeGreaterThanOrEqual(Date.parse(ran[i - 1]!.at) + ran[i - 1]!.durationMs);
    expect(h.dropped).toBe(0);
  });

  it('end a hook that outlives its timeout, with everything it started', async () => {
    const { hooks: h, records } = hooks('echo $$; sleep 30 & sleep 30', { timeoutMs: 300, killGraceMs: 500 });
    h.run(transition(), context);
    const [r] = await records(1);
    expect(r).toMatchObject({ exitCode: null, signal: 'SIGTERM', timedOut: true });
    expect(r!.durationMs).toBeLessThan(5_000);
    await groupGone(Number(r!.output.trim()));
    expect(markedHooks()).toEqual([]);
  });

  it('kill a hook that ignores SIGTERM once the grace has passed', async () => {
    const { hooks: h, records } = hooks("trap '' TERM; echo $$; sleep 30", { timeoutMs: 300, killGraceMs: 300 });
    h.run(transition(), context);
    const [r] = await records(1);
    expect(r).toMatchObject({ exitCode: null, signal: 'SIGKILL', timedOut: true });
    await groupGone(Number(r!.output.trim()));
  });

  it('end what a hook left running in the background when it exits', async () => {
    const { hooks: h, records } = hooks('echo $$; sleep 30 > /dev/null 2>&1 &');
    h.run(transition(), context);
    const [r] = await records(1);
    expect(r).toMatchObject({ exitCode: 0, timedOut: false });
    await groupGone(Number(r!.output.trim()));
  });

  it('keep the last 2 KiB of what a hook prints, however much it prints', async () => {
    const { hooks: h, records } = hooks("yes | head -c 10000000; echo; yes 'é' | head -c 10001; echo; echo done.");
    h.run(transition(), context);
    const [r] = await records(1);
    expect(r).toMatchObject({ exitCode: 0, timedOut: false });
    // 2048 bytes end in 680 times 'é\n' and 'done.\n', after the last byte of an 'é' the cut split:
    // that byte is left out, not shown as U+FFFD.
    expect(r!.output).toBe(`\n${'é\n'.repeat(680)}done.\n`);
    expect(Buffer.byteLength(r!.output)).toBe(2047);
  });

  it('report a command that does not exist as exit code 127, with the shell saying why', async () => {
    const { hooks: h, records } = hooks('./no-such-notify.sh');
    h.run(transition(), context);
    const [r] = await records(1);
    expect(r).toMatchObject({ exitCode: 127, timedOut: false, check: 'im-a2e', to: 'unmet' });
    expect(r!.output).toMatch(/no-such-notify\.sh: not found/);
  });

  it("report a hook's exit code and what it printed on both streams", async () => {
    const { hooks: h, records } = hooks('echo posting; echo "webhook: 403 Forbidden" >&2; exit 3');
    h.run(transition(), context);
    const [r] = await records(1);
    expect(r).toMatchObject({ exitCode: 3, timedOut: false });
    expect(r!.output).toContain('posting\n');
    expect(r!.output).toContain('webhook: 403 Forbidden\n');
  });

  it('drop the oldest waiting transitions when too many wait, and say so once, then how many when caught up', async () => {
    const { hooks: h, records, notices } = hooks('echo "$XFED_ROUND" >> flapping', { maxPending: 3 });
    // The first starts at once; of the nine that wait, six are dropped.
    for (let round = 1; round <= 10; round++) h.run(transition({ round, to: round % 2 ? 'unmet' : 'met' }), context);
    expect(h.dropped).toBe(6);
    // The notice comes as the queue runs empty, right after the last record.
    const ran = await records(4);
    expect(readFileSync(path.join(tmp, 'flapping'), 'utf8').trim().split('\n')).toEqual(['1', '8', '9', '10']);
    expect(ran.map((r) => r.to)).toEqual(['unmet', 'met', 'unmet', 'met']);
    expect(notices).toEqual([
      '--on-change: 3 transitions wait for their hook (the command takes longer than the transitions come); the oldest waiting ones are dropped until it catches up',
      '--on-change caught up: 6 transitions got no hook (dropped while 3 were waiting)',
    ]);
  });

  it('a hook that cannot start (its directory is gone) is a record saying why', async () => {
    const { hooks: h, records } = hooks('true', { cwd: path.join(tmp, 'removed') });
    h.run(transition(), context);
    const [r] = await records(1);
    expect(r).toMatchObject({ exitCode: null, timedOut: false, check: 'im-a2e' });
    expect(r!.output).toBe(`could not start /bin/sh in ${path.join(tmp, 'removed')}: spawn /bin/sh ENOENT`);
  });

  it('close: the running hook gets its grace and is then ended, the waiting ones are dropped and counted', async () => {
    const { hooks: h, ran } = hooks('sleep 30 & sleep 30', { killGraceMs: 500 });
    for (let round = 1; round <= 3; round++) h.run(transition({ round }), context);
    // Recorded in the owner marker as it started, for the watchdog after a hard kill.
    const [marked] = markedHooks();
    expect(marked).toMatchObject({ label: 'hook: sleep 30 & sleep 30' });
    const closing = h.close(300);
    h.run(transition({ round: 4 }), context);
    expect(await closing).toEqual({ dropped: 2, killed: true });
    expect(ran).toHaveLength(1);
    expect(ran[0]).toMatchObject({ exitCode: null, signal: 'SIGTERM', timedOut: false });
    expect(ran[0]!.durationMs).toBeLessThan(5_000);
    await groupGone(marked!.pid);
    expect(markedHooks()).toEqual([]);
  });

  it('close: a hook that ends within the grace is waited for', async () => {
    const { hooks: h, ran } = hooks('exit 0');
    h.run(transition(), context);
    expect(await h.close(BOUND_MS)).toEqual({ dropped: 0, killed: false });
    expect(ran).toMatchObject([{ exitCode: 0, timedOut: false }]);
  });
});

describe('docs/examples/on-change-webhook.sh', () => {
  const script = path.join(ROOT, 'docs', 'examples', 'on-change-webhook.sh');
  const received: Array<{ path: string; type: string | undefined; body: unknown }> = [];
  let status = 200;
  let server: http.Server;
  let base: string;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        received.push({ path: req.url ?? '', type: req.headers['content-type'], body: JSON.parse(body) });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const secretPath = '/services/T000/B000/s3cr3t-token';
  const webhook = (env: Record<string, string>) => hooks(`sh ${script}`, { env: { ...process.env, WEBHOOK_URL: `${base}${secretPath}`, ...env } });
  const broken = transition({ check: '*', actual: 'no <message/> & no error', failing: ['im-a2e'], first: 'im-a2e' });

  it('posts the sentence to Slack, escaped, and nothing for a single check by default', async () => {
    received.length = 0;
    const { hooks: h, records } = webhook({});
    h.run(transition(), context);
    h.run(broken, context);
    const ran = await records(2);
    expect(ran.map((r) => r.exitCode)).toEqual([0, 0]);
    expect(received).toEqual([
      {
        path: secretPath,
        type: 'application/json',
        body: {
          text: 'cutover-night: federation broken at 2026-11-30T01:02:03.000Z (round 7): 1 check unmet, first im-a2e: no &lt;message/&gt; &amp; no error (timeline: http://127.0.0.1:9464/)',
        },
      },
    ]);
  });

  it('posts an Adaptive Card to Teams, every check with WEBHOOK_CHECKS=all', async () => {
    received.length = 0;
    const { hooks: h, records } = webhook({ WEBHOOK_FORMAT: 'teams', WEBHOOK_CHECKS: 'all' });
    h.run(transition({ actual: 'said "no" \\ twice' }), { ...context, title: 'IM partner -> SfB' });
    expect((await records(1))[0]).toMatchObject({ exitCode: 0 });
    expect(received).toHaveLength(1);
    expect(received[0]!.body).toMatchObject({
      type: 'message',
      attachments: [
        {
          contentType: 'application/vnd.microsoft.card.adaptive',
          content: {
            type: 'AdaptiveCard',
            body: [
              {
                type: 'TextBlock',
                text: 'cutover-night: im-a2e (IM partner -> SfB) unmet at 2026-11-30T01:02:03.000Z (round 7): said "no" \\ twice (timeline: http://127.0.0.1:9464/)',
              },
            ],
          },
        },
      ],
    });
  });

  it('fails when the webhook refuses, without printing its address', async () => {
    status = 500;
    const { hooks: h, records } = webhook({});
    h.run(broken, context);
    const [r] = await records(1);
    status = 200;
    expect(r!.exitCode).not.toBe(0);
    expect(r!.output).toMatch(/error: 500/);
    expect(r!.output).not.toContain('s3cr3t');
  });

  it('says what is missing without WEBHOOK_URL', async () => {
    const { hooks: h, records } = hooks(`sh ${script}`, { env: { PATH: process.env.PATH } });
    h.run(broken, context);
    const [r] = await records(1);
    expect(r!.exitCode).not.toBe(0);
    expect(r!.output).toMatch(/set WEBHOOK_URL to the address of the incoming webhook/);
  });
});
