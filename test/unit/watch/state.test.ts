import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { XfedError } from '../../../src/errors.js';
import { LOG_NAME, readWatchLog, WatchLog } from '../../../src/watch/log.js';
import { OVERALL, WATCH_FORMAT, type ProbeResult, type RecordOf, type WatchRecord, type WatchStart } from '../../../src/watch/records.js';
import { Standings } from '../../../src/watch/state.js';
import { formatWatchSummary, summarize } from '../../../src/watch/summary.js';
import { TimelineModel } from '../../../src/watch/timeline/model.js';

const T0 = Date.parse('2026-11-30T01:00:00.000Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();
const result = (check: string, state: ProbeResult['state'], s: number, extra: Partial<ProbeResult> = {}): ProbeResult => ({
  check,
  state,
  at: at(s),
  durationMs: 5,
  ...extra,
});

const START: WatchStart = {
  format: WATCH_FORMAT,
  suite: 'cutover',
  file: 'cutover.yaml',
  target: 'sim',
  checks: [
    { id: 'im', kind: 'im', title: 'alice IMs erin', phase: 'p', expected: 'pass' },
    { id: 'presence', kind: 'presence', title: 'bob sees frank', phase: 'p', expected: 'pass' },
  ],
  intervalMs: 1000,
  pid: 1,
  xfed: '0.1.0',
};

describe('Standings', () => {
  it('turns results into transitions of the check and of the federation, with evidence into a failure and the outage length out of it', () => {
    const s = new Standings();
    const first = [...s.apply(1, result('im', 'met', 1)), ...s.apply(1, result('presence', 'met', 2))];
    expect(first.map((t) => [t.check, t.from, t.to])).toEqual([
      ['im', 'unknown', 'met'],
      [OVERALL, 'unknown', 'met'],
      ['presence', 'unknown', 'met'],
    ]);
    expect(s.apply(2, result('im', 'met', 3))).toEqual([]);
    const evidence = [
      { at: T0, t: 0, from: 'partner-user' as const, to: 'partner-server' as const, protocol: 'xmpp' as const, label: 'message chat', wire: '<message/>' },
    ];
    const down = s.apply(3, result('im', 'unmet', 10, { actual: 'no answer' }), { actual: 'no answer', diagnosis: 'the Edge is down', evidence });
    expect(down).toEqual([
      { type: 'transition', at: at(10), round: 3, check: 'im', from: 'met', to: 'unmet', actual: 'no answer', diagnosis: 'the Edge is down', evidence },
      { type: 'transition', at: at(10), round: 3, check: OVERALL, from: 'met', to: 'unmet', failing: ['im'], first: 'im' },
    ]);
    // A second check failing while the federation is already down changes only its own state.
    expect(s.apply(3, result('presence', 'unmet', 11)).map((t) => t.check)).toEqual(['presence']);
    // What a single check's hook is told: the checks down now, and the one that began the outage.
    expect(s.federation()).toEqual({ failing: ['im', 'presence'], first: 'im' });
    // The first recovery leaves the federation down; the second ends its outage.
    const im = s.apply(4, result('im', 'met', 25));
    expect(s.federation()).toEqual({ failing: ['presence'], first: 'im' });
    expect(im).toEqual([{ type: 'transition', at: at(25), round: 4, check: 'im', from: 'unmet', to: 'met', outageMs: 15_000 }]);
    const back = s.apply(4, result('presence', 'met', 26));
    expect(back.map((t) => [t.check, t.to, t.outageMs])).toEqual([
      ['presence', 'met', 15_000],
      [OVERALL, 'met', 16_000],
    ]);
    expect(s.federation()).toEqual({});
  });

  it('counts a check that could not be judged as neither up nor down for the federation', () => {
    const s = new Standings();
    s.apply(1, result('im', 'met', 1));
    const t = s.apply(1, result('presence', 'error', 2, { actual: 'harness failure' }), { actual: 'harness failure' });
    expect(t.map((x) => [x.check, x.to])).toEqual([
      ['presence', 'error'],
      [OVERALL, 'error'],
    ]);
    expect(s.apply(2, result('im', 'unmet', 3)).map((x) => [x.check, x.to])).toEqual([
      ['im', 'unmet'],
      [OVERALL, 'unmet'],
    ]);
  });

  it('resumes from standings read back from a log, and drops checks no longer watched', () => {
    const s = new Standings({ im: { state: 'unmet', since: at(0) }, gone: { state: 'unmet', since: at(0) }, [OVERALL]: { state: 'unmet', since: at(0) } });
    s.keepOnly(['im']);
    const t = s.apply(1, result('im', 'met', 30));
    expect(t.map((x) => [x.check, x.from, x.to, x.outageMs])).toEqual([
      ['im', 'unmet', 'met', 30_000],
      [OVERALL, 'unmet', 'met', 30_000],
    ]);
  });
});

describe('summarize', () => {
  it('sums outages and availability per check and for the federation, and leaves the gap of a resume out', () => {
    const s = new Standings();
    const records: WatchRecord[] = [{ type: 'start', at: at(0), resumed: false, ...START }];
    const round = (n: number, results: ProbeResult[]) => {
      for (const r of results) records.push(...s.apply(n, r, { actual: r.actual ?? '' }));
      records.push({ type: 'round', at: results[0]!.at, round: n, durationMs: 10, results });
    };
    round(1, [result('im', 'met', 0, { latencyMs: 10 }), result('presence', 'met', 0)]);
    round(2, [result('im', 'unmet', 10, { actual: 'forbidden' }), result('presence', 'met', 10)]);
    round(3, [result('im', 'met', 20, { latencyMs: 30 }), result('presence', 'met', 20)]);
    records.push({ type: 'mark', at: at(21), text: 'moved batch 1', source: 'cli' });
    records.push({ type: 'stop', at: at(40), reason: 'SIGINT', rounds: 3 });
    // 60 s later the watch resumes; nothing is known of that minute.
    records.push({ type: 'start', at: at(100), resumed: true, ...START });
    round(4, [result('im', 'met', 100, { latencyMs: 20 }), result('presence', 'unmet', 100)]);
    records.push({ type: 'stop', at: at(110), reason: 'its duration ended', rounds: 4 });

    const summary = summarize(records);
    expect(summary.watchedMs).toBe(50_000);
    expect(summary.rounds).toBe(4);
    expect(summary.gaps).toEqual([{ from: at(40), to: at(100) }]);
    const im = summary.checks.find((c) => c.id === 'im')!;
    expect(im.outages).toEqual([{ check: 'im', from: at(10), to: at(20), ms: 10_000, actual: 'forbidden' }]);
    expect(im.time).toEqual({ met: 40_000, unmet: 10_000, error: 0 });
    expect(im.availability).toBeCloseTo(0.8);
    expect(im.latencyP50).toBe(20);
    const presence = summary.checks.find((c) => c.id === 'presence')!;
    // Still down at the end: its length so far.
    expect(presence.outages).toEqual([{ check: 'presence', from: at(100), ms: 10_000 }]);
    expect(summary.overall.outages.map((o) => [o.from, o.to, o.ms, o.first])).toEqual([
      [at(10), at(20), 10_000, 'im'],
      [at(100), undefined, 10_000, 'presence'],
    ]);
    const text = formatWatchSummary(summary);
    expect(text).toContain('federation: 60.00% available, 2 outages (20.0 s in all)');
    expect(text).toMatch(/01:00:10 - 01:00:20 {2}10.0 s: forbidden/);
    expect(text).toContain('still down');
    expect(text).toContain('1 operator mark');
  });

  it("gives the same availability as the timeline's page, rounded down as the page shows it", () => {
    const records: WatchRecord[] = [
      { type: 'start', at: at(0), resumed: false, ...START },
      { type: 'transition', at: at(0), round: 1, check: 'im', from: 'unknown', to: 'met' },
      { type: 'transition', at: at(89.706), round: 2, check: 'im', from: 'met', to: 'unmet' },
      { type: 'stop', at: at(100), reason: 'SIGINT', rounds: 2 },
    ];
    const summary = summarize(records);
    const model = new TimelineModel();
    for (const r of records) model.ingest(r);
    const lane = model.toJSON().lanes.find((l) => l.check === 'im')!;
    expect(summary.checks.find((c) => c.id === 'im')!.availability).toBe(lane.availability);
    // 89.706 %: rounded it would read 89.71 % here and 89.70 % on the page.
    expect(formatWatchSummary(summary)).toMatch(/^ {2}im +89\.70%/m);
  });

  it('keeps the gap of a resume when the log was rotated at the resumed start', () => {
    const records: WatchRecord[] = [
      { type: 'start', at: at(0), resumed: false, ...START },
      { type: 'transition', at: at(1), round: 1, check: 'im', from: 'unknown', to: 'met' },
      { type: 'stop', at: at(10), reason: 'SIGINT', rounds: 1 },
      // The first flush of the resumed watch rotated the log: the new part's head comes first.
      { type: 'part', at: at(70), part: 2, start: START, standings: { im: { state: 'met', since: at(1) } }, round: 1 },
      { type: 'start', at: at(70), resumed: true, ...START },
      { type: 'stop', at: at(80), reason: 'its duration ended', rounds: 2 },
    ];
    const summary = summarize(records);
    expect(summary.gaps).toEqual([{ from: at(10), to: at(70) }]);
    expect(summary.watchedMs).toBe(20_000);
    expect(summary.checks.find((c) => c.id === 'im')!.time.met).toBe(19_000);
  });
});

describe('WatchLog', () => {
  const dirs: string[] = [];
  const tmp = () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'xfed-watch-log-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });
  const head = (part: number): RecordOf<'part'> => ({
    type: 'part',
    at: at(part),
    part,
    start: START,
    standings: { im: { state: 'met', since: at(0) } },
    round: part,
  });
  const all = async (where: string, skipped: string[] = []) => {
    const out: WatchRecord[] = [];
    for await (const r of readWatchLog(where, { onSkipped: (w) => skipped.push(w) })) out.push(r);
    return out;
  };

  it('rotates past its part size, each part headed by the settings and standings, and reads back every part in order', async () => {
    const dir = tmp();
    const log = WatchLog.open(dir, { resume: false, partBytes: 4096, partHead: head });
    log.add({ type: 'start', at: at(0), resumed: false, ...START });
    log.flush();
    for (let i = 1; i <= 60; i++) {
      log.add({ type: 'round', at: at(i), round: i, durationMs: 3, results: [result('im', 'met', i)] });
      log.flush();
    }
    log.close();
    const parts = fs.readdirSync(dir).sort();
    expect(parts.length).toBeGreaterThan(2);
    expect(parts.at(-1)).toBe(LOG_NAME);
    for (const p of parts.filter((n) => n !== LOG_NAME)) expect(fs.statSync(path.join(dir, p)).size).toBeLessThan(4096 + 200);
    const records = await all(dir);
    expect(records.filter((r) => r.type === 'round').map((r) => (r as RecordOf<'round'>).round)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    const heads = records.filter((r) => r.type === 'part') as RecordOf<'part'>[];
    expect(heads.map((h) => h.part)).toEqual(Array.from({ length: parts.length - 1 }, (_, i) => i + 2));
    // A later part read alone still says what the watch is.
    const second = (await all(path.join(dir, parts[1]!)))[0] as RecordOf<'part'>;
    expect(second.start.suite).toBe('cutover');
  });

  it('refuses a directory that holds a log without --resume, and --resume without one', () => {
    const dir = tmp();
    WatchLog.open(dir, { resume: false, partHead: head }).close();
    expect(() => WatchLog.open(dir, { resume: false, partHead: head })).toThrow(/holds a watch already: add --resume/);
    expect(() => WatchLog.open(tmp(), { resume: true, partHead: head })).toThrow(/--resume: there is no watch log/);
  });

  it('skips a last line cut short by a kill, and names the file and line of any other bad line', async () => {
    const dir = tmp();
    const file = path.join(dir, LOG_NAME);
    const start = JSON.stringify({ type: 'start', at: at(0), resumed: false, ...START });
    fs.writeFileSync(file, `${start}\n{"type":"round","at":"${at(1)}","rou`);
    const skipped: string[] = [];
    expect((await all(dir, skipped)).map((r) => r.type)).toEqual(['start']);
    expect(skipped[0]).toMatch(/watch\.ndjson:2: the last line is cut short/);
    fs.writeFileSync(file, `${start}\nnot json\n${start}\n`);
    await expect(all(dir)).rejects.toThrow(new XfedError(`${file}:2: not a JSON record`));
    fs.writeFileSync(file, `${JSON.stringify({ type: 'start', at: at(0), format: 'xfed-watch/9' })}\n`);
    await expect(all(dir)).rejects.toThrow(/a log of format xfed-watch\/9/);
    await expect(all(path.join(dir, 'nope'))).rejects.toThrow(/no such watch log/);
  });
});
