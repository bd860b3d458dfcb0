import { Standings } from '../../src/watch/state.js';
import { WATCH_FORMAT, type CheckState, type EdgeFacts, type WatchedCheck, type WatchRecord, type WatchStart } from '../../src/watch/records.js';
import type { FlowEvent } from '../../src/targets/flow.js';

export const CHECKS: WatchedCheck[] = [
  { id: 'im-partner-to-sfb', kind: 'im', title: 'alice@partner.test IMs erin', phase: 'federated', expected: 'pass' },
  { id: 'im-sfb-to-partner', kind: 'im', title: 'erin IMs alice@partner.test', phase: 'federated', expected: 'pass' },
  { id: 'presence-of-sfb', kind: 'presence', title: 'alice sees erin available', phase: 'federated', expected: 'pass' },
];

/** One check's result in a scripted round: a state, or the state with what it measured and saw. */
export type Scripted = CheckState | { state: CheckState; latencyMs?: number; actual?: string; diagnosis?: string; evidence?: FlowEvent[] };

/**
 * A watch's log as the engine writes it, from a script of rounds: the transitions come from the
 * watch's own Standings (as each result is judged), then the round record.
 */
export class ScriptedWatch {
  readonly records: WatchRecord[] = [];
  private standings = new Standings();
  private round = 0;
  readonly settings: WatchStart;

  constructor(
    checks: WatchedCheck[] = CHECKS,
    readonly intervalMs = 10_000,
  ) {
    this.settings = {
      format: WATCH_FORMAT,
      suite: 'cutover night',
      file: 'scenarios/cutover.yaml',
      target: 'sim',
      checks,
      intervalMs,
      pid: 4242,
      xfed: '0.0.0-test',
    };
  }

  start(at: number, resumed = false): this {
    // A resumed watch reads its standings back from the log, as the engine does.
    if (resumed) this.standings = new Standings(this.standings.snapshot());
    this.records.push({ type: 'start', at: iso(at), resumed, ...this.settings });
    return this;
  }

  ready(at: number): this {
    this.records.push({ type: 'ready', at: iso(at), setupMs: 4200, runtime: 'process' });
    return this;
  }

  /** A round beginning at `at`; check i ends at at + 100 * (i + 1). */
  roundAt(at: number, results: Record<string, Scripted>): this {
    this.round++;
    const probes = this.settings.checks.map((c, i) => {
      const s = results[c.id] ?? 'met';
      const r = typeof s === 'string' ? { state: s } : s;
      const probe = {
        check: c.id,
        state: r.state,
        at: iso(at + 100 * (i + 1)),
        durationMs: 100,
        latencyMs: r.latencyMs ?? (r.state === 'met' ? 40 + i * 10 + (this.round % 5) : undefined),
        ...(r.actual ? { actual: r.actual } : {}),
      };
      if (probe.latencyMs === undefined) delete probe.latencyMs;
      const details = {
        ...(r.actual ? { actual: r.actual } : {}),
        ...(r.diagnosis ? { diagnosis: r.diagnosis } : {}),
        ...(r.evidence ? { evidence: r.evidence } : {}),
      };
      this.records.push(...this.standings.apply(this.round, probe, details));
      return probe;
    });
    this.records.push({ type: 'round', at: iso(at), round: this.round, durationMs: 100 * probes.length, results: probes });
    return this;
  }

  mark(at: number, text: string): this {
    this.records.push({ type: 'mark', at: iso(at), text, source: 'cli' });
    return this;
  }

  facts(at: number, facts: EdgeFacts): this {
    this.records.push({ type: 'facts', at: iso(at), ...facts });
    return this;
  }

  stop(at: number, reason = 'SIGINT'): this {
    this.records.push({ type: 'stop', at: iso(at), reason, rounds: this.round });
    return this;
  }

  /** A part record as a rotated log begins a later part with. */
  part(at: number, part: number): this {
    this.records.push({ type: 'part', at: iso(at), part, start: this.settings, standings: this.standings.snapshot(), round: this.round });
    return this;
  }
}

export const iso = (ms: number): string => new Date(ms).toISOString();

/** The messages of an IM that got no answer: the partner's stanza reaches the Edge, the gateway never answers. */
export function lostImEvidence(at: number, labels = ['message chat', 'stream error: remote-server-timeout']): FlowEvent[] {
  return labels.map((label, i) => ({
    at: at + i * 50,
    t: 1000 + i * 50,
    from: i === 0 ? 'partner-user' : 'edge',
    to: i === 0 ? 'edge' : 'partner-server',
    protocol: 'xmpp',
    label,
    actor: 'alice@partner.test',
    wire: i === 0 ? '<message to="erin@contoso.test" type="chat"><body>ping</body></message>' : '<stream:error><remote-server-timeout/></stream:error>',
  }));
}

/**
 * A realistic night: 3 checks every 10 s; an outage of the partner-to-SfB IM (rounds 13 to 21)
 * with a mark just before it; a crash and a resume after round 30 (a gap); an outage of presence
 * after the resume (recovered) and a TLS change. Times of interest are returned beside the records.
 */
export function cutoverNight(t0 = Date.parse('2026-11-30T01:00:00.000Z')) {
  const w = new ScriptedWatch();
  const at = (s: number) => t0 + s * 1000;
  w.start(at(0))
    .ready(at(5))
    .facts(at(6), { edge: 'edge.contoso.test:5269', tlsVersion: 'TLSv1.3', certificate: certificate(90) });
  const imLost = { state: 'unmet' as const, actual: 'no answer within 5 s', diagnosis: 'the gateway never answered', evidence: lostImEvidence(at(130)) };
  for (let r = 1; r <= 30; r++) {
    if (r === 12) w.mark(at(125), 'moved batch 1 <b>& "co"</b>');
    w.roundAt(at(r * 10), r >= 13 && r <= 21 ? { 'im-partner-to-sfb': r === 13 ? imLost : { state: 'unmet', actual: 'no answer within 5 s' } } : {});
  }
  // The watch is killed after round 30 (no stop record) and resumed 100 s later.
  w.start(at(400), true).ready(at(402));
  const presenceLost = {
    state: 'unmet' as const,
    actual: 'erin seen as offline',
    evidence: lostImEvidence(at(450), ['presence probe', 'presence unavailable']),
  };
  for (let r = 0; r < 20; r++) {
    const s = 410 + r * 10;
    if (s === 500) w.facts(at(500), { edge: 'edge.contoso.test:5269', tlsVersion: 'TLSv1.2', certificate: certificate(90) });
    w.roundAt(at(s), s >= 450 && s < 520 ? { 'presence-of-sfb': s === 450 ? presenceLost : 'unmet' } : {});
  }
  w.stop(at(610));
  return {
    records: w.records,
    t0,
    at,
    /** When each outage began and ended (a check's result ends 100 ms per check after its round's start). */
    outages: {
      im: { check: 'im-partner-to-sfb', from: at(130) + 100, to: at(220) + 100 },
      presence: { check: 'presence-of-sfb', from: at(450) + 300, to: at(520) + 300 },
    },
    gap: { from: at(300) + 300, to: at(400) },
    mark: { at: at(125), text: 'moved batch 1 <b>& "co"</b>' },
  };
}

function certificate(daysLeft: number): NonNullable<EdgeFacts['certificate']> {
  return { subject: 'CN=edge.contoso.test', notAfter: '2027-02-28T00:00:00.000Z', daysLeft, trusted: true, coversBareDomain: true };
}
