import { describe, expect, it } from '@jest/globals';
import { OVERALL, type WatchRecord, type WatchedCheck } from '../../../src/watch/records.js';
import { TimelineModel, type TimelineData, type TimelineLane } from '../../../src/watch/timeline/model.js';
import { ScriptedWatch, cutoverNight, lostImEvidence } from '../../helpers/watch-records.js';

const T0 = Date.parse('2026-11-30T01:00:00.000Z');
const at = (s: number) => T0 + s * 1000;

function read(records: readonly WatchRecord[], opts?: ConstructorParameters<typeof TimelineModel>[0]): { model: TimelineModel; data: TimelineData } {
  const model = new TimelineModel(opts);
  for (const r of records) model.ingest(r);
  return { model, data: model.toJSON() };
}

const lane = (data: TimelineData, check: string): TimelineLane => {
  const found = data.lanes.find((l) => l.check === check);
  if (!found) throw new Error(`no lane ${check}`);
  return found;
};

const spans = (l: TimelineLane) => l.spans.map((s) => [s.from, s.to, s.state]);

describe('TimelineModel', () => {
  const night = cutoverNight(T0);
  const { model, data } = read(night.records);
  const { im, presence } = night.outages;

  it('has the overall lane first, then one lane per check in the suite order, titled from the start record', () => {
    expect(data.lanes.map((l) => l.check)).toEqual([OVERALL, 'im-partner-to-sfb', 'im-sfb-to-partner', 'presence-of-sfb']);
    expect(lane(data, 'presence-of-sfb')).toMatchObject({ title: 'alice sees erin available', kind: 'presence', phase: 'federated', expected: 'pass' });
    expect(data.settings?.suite).toBe('cutover night');
    expect(data.range).toEqual({ from: at(0), to: at(610) });
    expect(data.rounds).toBe(50);
    expect(data.stopped).toEqual({ at: at(610), reason: 'SIGINT', rounds: 50 });
  });

  it('keeps each state as run-length spans from the result that changed it, and none across the gap', () => {
    const first = at(10) + 100;
    expect(spans(lane(data, 'im-partner-to-sfb'))).toEqual([
      [first, im.from, 'met'],
      [im.from, im.to, 'unmet'],
      [im.to, night.gap.from, 'met'],
      [at(410) + 100, at(610), 'met'],
    ]);
    // Nothing is known of the gap: no lane has a span inside it.
    for (const l of data.lanes) for (const s of l.spans) expect(s.to <= night.gap.from || s.from >= night.gap.to).toBe(true);
    expect(data.gaps).toEqual([night.gap]);
  });

  it('pairs the transitions into and out of unmet as outages, with what was seen and the length the watch measured', () => {
    const imLane = lane(data, 'im-partner-to-sfb');
    expect(imLane.outages).toEqual([
      expect.objectContaining({
        check: im.check,
        from: im.from,
        to: im.to,
        recoveredTo: 'met',
        ms: 90_000,
        actual: 'no answer within 5 s',
        diagnosis: 'the gateway never answered',
        round: 13,
      }),
    ]);
    expect(imLane.outages[0]!.open).toBeUndefined();
    const recovery = night.records.find((r) => r.type === 'transition' && r.check === im.check && r.from === 'unmet');
    expect(recovery).toMatchObject({ outageMs: imLane.outages[0]!.ms });
    expect(lane(data, 'presence-of-sfb').outages).toEqual([expect.objectContaining({ from: presence.from, to: presence.to, ms: 70_000 })]);
    expect(lane(data, 'im-sfb-to-partner').outages).toEqual([]);
  });

  it('counts availability as time met over time met or unmet, and the results of each state', () => {
    const imLane = lane(data, 'im-partner-to-sfb');
    const met = imLane.stats.ms.met;
    expect(imLane.stats.ms.unmet).toBe(90_000);
    expect(imLane.availability).toBeCloseTo(met / (met + 90_000), 10);
    expect(imLane.stats.results).toEqual({ met: 41, unmet: 9, error: 0 });
    expect(imLane.stats).toMatchObject({ outages: 1, downMs: 90_000, longestMs: 90_000 });
    expect(lane(data, 'im-sfb-to-partner').availability).toBe(1);
    // Stopped: nothing is measured now, but the last state is kept.
    expect(imLane).toMatchObject({ state: 'unknown', last: 'met' });
  });

  it('draws the overall lane from the federation transitions, each outage pointing at its first failing check and its evidence', () => {
    const overall = lane(data, OVERALL);
    expect(overall.title).toBe('federation (all checks)');
    const [first, second] = overall.outages;
    expect(first).toMatchObject({ from: im.from, to: im.to, failing: [im.check], first: im.check, evidence: lane(data, im.check).outages[0]!.id });
    expect(second).toMatchObject({ from: presence.from, to: presence.to, first: presence.check, evidence: lane(data, presence.check).outages[0]!.id });
    expect(model.evidence(first!.id)).toBe(model.evidence(lane(data, im.check).outages[0]!.id));
    expect(overall.latency.points).toEqual([]);
  });

  it('renders an outage evidence as the message ladder, escaped, and knows no other id', () => {
    const id = lane(data, im.check).outages[0]!.id;
    const ladder = model.evidence(id)!;
    expect(ladder).toContain('class="ladder"');
    expect(ladder).toContain('message chat');
    expect(ladder).toContain('stream error: remote-server-timeout');
    expect(ladder).toContain('&lt;message to=&quot;erin@contoso.test&quot;');
    expect(ladder).not.toContain('<message to=');
    expect(model.evidence('o999')).toBeUndefined();
    expect(model.evidence('')).toBeUndefined();
    // The static page embeds one ladder per check outage; the overall outages point at them.
    expect(Object.keys(model.ladders()).sort()).toEqual([lane(data, im.check).outages[0]!.id, lane(data, presence.check).outages[0]!.id].sort());
    // Evidence stays out of the data the page polls.
    expect(JSON.stringify(data)).not.toContain('remote-server-timeout');
  });

  it('keeps marks, facts changes and notices with their times', () => {
    expect(data.marks).toEqual([{ at: night.mark.at, text: night.mark.text, source: 'cli' }]);
    expect(data.facts.map((f) => [f.at, f.tlsVersion, f.certificate?.daysLeft])).toEqual([
      [at(6), 'TLSv1.3', 90],
      [at(500), 'TLSv1.2', 90],
    ]);
    expect(data.notices.map((n) => n.text)).toEqual([
      'target ready (process, setup 4.2 s)',
      'watch resumed',
      'target ready (process, setup 4.2 s)',
      'watch stopped: SIGINT (50 rounds)',
    ]);
  });

  it('plots latency per bucket (min, max, average, samples) only where it was measured', () => {
    const points = lane(data, 'im-partner-to-sfb').latency.points;
    expect(points).toHaveLength(41);
    for (const [t, min, max, avg, n] of points) {
      expect(n).toBe(1);
      expect(min).toBe(avg);
      expect(max).toBe(avg);
      // Buckets of 1 s: none in the rounds the IM went unanswered (13 to 21, every 10 s).
      expect(t < at(130) || t > at(210)).toBe(true);
    }
    expect(lane(data, 'im-partner-to-sfb').latency.width).toBe(1000);
  });
});

describe('TimelineModel across a resume, rotation parts and open outages', () => {
  const checks: WatchedCheck[] = [{ id: 'im', kind: 'im', title: 'alice IMs erin', phase: 'p', expected: 'pass' }];

  it('cuts an outage open when the watch died at the gap, and opens a new one from the first result after the resume', () => {
    const w = new ScriptedWatch(checks, 1000).start(at(0));
    for (let s = 1; s <= 10; s++) w.roundAt(at(s), s >= 5 ? { im: { state: 'unmet', actual: 'no answer', evidence: lostImEvidence(at(s)) } } : {});
    // Killed after round 10; resumed at 60 s with the standings read back (still unmet: no transition).
    w.start(at(60), true);
    for (let s = 61; s <= 70; s++) w.roundAt(at(s), s <= 64 ? { im: { state: 'unmet', actual: 'still no answer' } } : {});
    const { data } = read(w.records);
    const l = lane(data, 'im');
    expect(data.gaps).toEqual([{ from: at(10) + 100, to: at(60) }]);
    expect(l.outages).toEqual([
      expect.objectContaining({ from: at(5) + 100, open: 'gap', ms: at(10) + 100 - (at(5) + 100) }),
      expect.objectContaining({ from: at(61) + 100, to: at(65) + 100, ms: 4000, actual: 'still no answer' }),
    ]);
    expect(l.outages[0]!.to).toBeUndefined();
    expect(l.stats).toMatchObject({ outages: 2, downMs: 5000 + 4000 });
    // The gap is neither met nor unmet.
    expect(l.stats.ms).toEqual({ met: 4000 + 5000, unmet: 5000 + 4000, error: 0 });
    expect(lane(data, OVERALL).outages.map((o) => o.open ?? 'closed')).toEqual(['gap', 'closed']);
  });

  it('reads a rotated log whole as if it were one part, and a later part alone from its standings', () => {
    const w = new ScriptedWatch(checks, 1000).start(at(0));
    for (let s = 1; s <= 10; s++) w.roundAt(at(s), s >= 4 && s <= 7 ? { im: { state: 'unmet', actual: 'no answer', evidence: lostImEvidence(at(s)) } } : {});
    const cut = w.records.length;
    // Rotated mid-outage? No: after it. Then a second outage starts in part 2.
    w.part(at(10) + 500, 2);
    for (let s = 11; s <= 20; s++) w.roundAt(at(s), s >= 15 ? { im: 'unmet' } : {});
    const whole = read(w.records).data;
    const withoutPart = read(w.records.filter((r) => r.type !== 'part')).data;
    expect(whole.lanes).toEqual(withoutPart.lanes);
    expect(whole.beginsAtPart).toBeUndefined();

    const alone = read(w.records.slice(cut));
    expect(alone.data.beginsAtPart).toBe(2);
    expect(alone.data.settings?.checks).toEqual(checks);
    // Met since the recovery at 8 s, which the standings say; then unmet from 15 s, ongoing.
    expect(spans(lane(alone.data, 'im'))).toEqual([
      [at(8) + 100, at(15) + 100, 'met'],
      [at(15) + 100, at(20) + 100, 'unmet'],
    ]);
    expect(lane(alone.data, 'im').outages).toEqual([expect.objectContaining({ from: at(15) + 100, open: 'ongoing', ms: 5000 })]);
  });

  it('starts a part read alone mid-outage from the standing, and says its evidence is in an earlier part', () => {
    const w = new ScriptedWatch(checks, 1000).start(at(0));
    for (let s = 1; s <= 5; s++) w.roundAt(at(s), s >= 3 ? { im: { state: 'unmet', evidence: lostImEvidence(at(s)) } } : {});
    const cut = w.records.length;
    w.part(at(5) + 500, 3);
    for (let s = 6; s <= 8; s++) w.roundAt(at(s), s <= 6 ? { im: 'unmet' } : {});
    const { model, data } = read(w.records.slice(cut));
    const [outage] = lane(data, 'im').outages;
    expect(outage).toMatchObject({ from: at(3) + 100, to: at(7) + 100, ms: 4000 });
    expect(outage!.evidence).toBeUndefined();
    expect(model.evidence(outage!.id)).toContain('began before the records read here');
    expect(lane(data, OVERALL).outages).toEqual([expect.objectContaining({ from: at(3) + 100, to: at(7) + 100 })]);
  });

  it('leaves an outage ongoing at the end of a live watch, and marks one the watch stopped in', () => {
    const w = new ScriptedWatch(checks, 1000).start(at(0));
    for (let s = 1; s <= 6; s++) w.roundAt(at(s), s >= 4 ? { im: 'unmet' } : {});
    const live = lane(read(w.records).data, 'im');
    expect(live.state).toBe('unmet');
    expect(live.outages).toEqual([expect.objectContaining({ from: at(4) + 100, open: 'ongoing', ms: 2000 })]);
    expect(live.stats.downMs).toBe(2000);
    w.stop(at(7));
    const stopped = read(w.records).data;
    expect(lane(stopped, 'im').outages).toEqual([expect.objectContaining({ open: 'stopped', ms: at(7) - (at(4) + 100) })]);
    expect(lane(stopped, 'im').state).toBe('unknown');
  });

  it('ends an outage when the check goes into error, and counts error time neither way', () => {
    const w = new ScriptedWatch(checks, 1000).start(at(0));
    for (let s = 1; s <= 9; s++)
      w.roundAt(at(s), { im: s >= 3 && s < 5 ? 'unmet' : s >= 5 && s < 7 ? { state: 'error', actual: 'the partner Prosody died' } : 'met' });
    const l = lane(read(w.records).data, 'im');
    expect(l.outages).toEqual([expect.objectContaining({ from: at(3) + 100, to: at(5) + 100, recoveredTo: 'error', ms: 2000 })]);
    expect(l.stats.ms).toEqual({ met: 4000, unmet: 2000, error: 2000 });
    expect(l.availability).toBeCloseTo(4000 / 6000, 10);
    expect(l.spans.map((s) => s.state)).toEqual(['met', 'unmet', 'error', 'met']);
  });

  it('ignores a record whose time is not a time, and one of a type it does not know', () => {
    const w = new ScriptedWatch(checks, 1000).start(at(0)).roundAt(at(1), {});
    const model = new TimelineModel();
    for (const r of w.records) model.ingest(r);
    model.ingest({ type: 'mark', at: 'yesterday', text: 'x', source: 'cli' });
    model.ingest({ type: 'future-kind', at: new Date(at(2)).toISOString() } as unknown as WatchRecord);
    expect(model.ignored).toBe(2);
    expect(model.toJSON().marks).toEqual([]);
  });

  it('lets the oldest evidence go past its budget, and says so instead of a ladder', () => {
    const w = new ScriptedWatch(checks, 1000).start(at(0));
    for (let s = 1; s <= 40; s++) w.roundAt(at(s), s % 4 === 0 ? { im: { state: 'unmet', evidence: lostImEvidence(at(s)) } } : {});
    const { model, data } = read(w.records, { evidenceBudgetBytes: 1000 });
    const outages = lane(data, 'im').outages;
    expect(outages).toHaveLength(10);
    expect(model.evidence(outages[0]!.id)).toContain('let go to bound memory');
    expect(model.evidence(outages.at(-1)!.id)).toContain('class="ladder"');
    expect(outages[0]!.evidence).toBeUndefined();
    expect(Object.keys(model.ladders()).length).toBeLessThan(10);
  });
});

describe('TimelineModel bounds', () => {
  it('stays within its limits for 4 h at 1 s with 20 checks (288k results), one of them flapping every round', () => {
    const checks: WatchedCheck[] = Array.from({ length: 20 }, (_, i) => ({ id: `c${i}`, kind: 'im', title: `check ${i}`, phase: 'p', expected: 'pass' }));
    const w = new ScriptedWatch(checks, 1000).start(at(0));
    const model = new TimelineModel();
    for (const r of w.records.splice(0)) model.ingest(r);
    const rounds = 4 * 3600;
    for (let s = 1; s <= rounds; s++) {
      // c0 flaps every round; c1 is down 60 s of every 10 minutes; the others stay met.
      w.roundAt(at(s), { c0: s % 2 === 0 ? 'unmet' : 'met', c1: s % 600 < 60 ? { state: 'unmet', evidence: lostImEvidence(at(s)) } : 'met' });
      for (const r of w.records.splice(0)) model.ingest(r);
    }
    const data = model.toJSON();
    const flapping = lane(data, 'c0');
    expect(flapping.spans.length).toBeLessThanOrEqual(2000);
    expect(flapping.spans.some((s) => s.state === 'mixed')).toBe(true);
    // Merged spans still cover the time exactly, and their mix sums to it.
    for (let i = 1; i < flapping.spans.length; i++) expect(flapping.spans[i]!.from).toBe(flapping.spans[i - 1]!.to);
    const mixed = flapping.spans.filter((s) => s.mix).reduce((n, s) => n + s.mix!.met + s.mix!.unmet + s.mix!.error, 0);
    const plain = flapping.spans.filter((s) => !s.mix).reduce((n, s) => n + s.to - s.from, 0);
    expect(mixed + plain).toBe(flapping.stats.ms.met + flapping.stats.ms.unmet);
    // The counts stay exact when the list of outages is cut to its first and latest ones.
    expect(flapping.stats.outages).toBe(rounds / 2);
    expect(flapping.outages.length).toBeLessThanOrEqual(100 + 2 * 400);
    expect(flapping.outages.length + flapping.outagesOmitted).toBe(rounds / 2);
    expect(flapping.availability).toBeCloseTo(0.5, 3);
    // Down in rounds 1-59, then 60 s from every 600th, the last one from the last round on.
    expect(lane(data, 'c1').outages).toHaveLength(25);
    expect(lane(data, 'c1').outages.at(-1)).toMatchObject({ open: 'ongoing', from: at(rounds) + 200, ms: data.range.to - (at(rounds) + 200) });
    expect(lane(data, 'c1').stats.downMs).toBe(59_000 + 23 * 60_000 + lane(data, 'c1').outages.at(-1)!.ms);
    for (const l of data.lanes) expect(l.latency.points.length).toBeLessThanOrEqual(1500);
    expect(lane(data, 'c5').latency.points.reduce((n, p) => n + p[4], 0)).toBe(rounds);
    // What the live page polls stays small.
    expect(JSON.stringify(data).length).toBeLessThan(4 * 1024 * 1024);
  }, 120_000);
});
