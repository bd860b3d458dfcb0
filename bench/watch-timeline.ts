// The timeline's cost for a long watch: 4 h at 1 s with 20 checks (288k results), read by
// TimelineModel as `xfed timeline LOG` and a live watch do. Prints the time to read the records,
// to build the data the live page polls and the static page, their sizes, and the memory held.
// Run with --expose-gc for the heap figures. Prints figures; asserts nothing.
import { renderTimelinePage } from '../src/watch/timeline/page.js';
import { TimelineModel } from '../src/watch/timeline/model.js';
import { Standings } from '../src/watch/state.js';
import { WATCH_FORMAT, type CheckState, type ProbeResult, type WatchRecord, type WatchStart } from '../src/watch/records.js';
import type { FlowEvent } from '../src/targets/flow.js';

const CHECKS = 20;
const ROUNDS = 4 * 3600;
const T0 = Date.parse('2026-11-30T01:00:00.000Z');

/** The evidence of a failed IM: a dozen messages with wire text, as a real transition carries. */
function evidence(at: number): FlowEvent[] {
  // Through JSON, as read back from a log: flat strings of their own, none shared.
  return JSON.parse(JSON.stringify(events(at))) as FlowEvent[];
}

function events(at: number): FlowEvent[] {
  return Array.from({ length: 12 }, (_, i) => ({
    at: at + i,
    t: i,
    from: 'partner-user',
    to: 'edge',
    protocol: 'xmpp',
    label: `message chat ${i}`,
    wire: `<message to="erin@contoso.test" id="m${i}" type="chat"><body>${'x'.repeat(600)}</body></message>`,
  }));
}

/** `flapping`: check 0 changes state every round, each change into unmet with its evidence. */
function* records(flapping: boolean): Generator<WatchRecord> {
  const start: WatchStart = {
    format: WATCH_FORMAT,
    suite: 'bench',
    file: 'bench.yaml',
    target: 'sim',
    checks: Array.from({ length: CHECKS }, (_, i) => ({ id: `c${i}`, kind: 'im', title: `check ${i}`, phase: 'p', expected: 'pass' })),
    intervalMs: 1000,
    pid: 1,
    xfed: 'bench',
  };
  yield { type: 'start', at: new Date(T0).toISOString(), resumed: false, ...start };
  const standings = new Standings();
  for (let round = 1; round <= ROUNDS; round++) {
    const at = T0 + round * 1000;
    const results = start.checks.map((c, i): ProbeResult => {
      // Two checks down one minute in ten; check 0 flapping when asked.
      const down = (i === 0 && flapping && round % 2 === 0) || (i >= 1 && i <= 2 && round % 600 < 60);
      const state: CheckState = down ? 'unmet' : 'met';
      return {
        check: c.id,
        state,
        at: new Date(at + i * 20).toISOString(),
        durationMs: 20,
        ...(down ? { actual: 'no answer within 5 s' } : { latencyMs: 30 + (round % 17) }),
      };
    });
    for (const r of results) yield* standings.apply(round, r, r.state === 'unmet' ? { actual: r.actual, evidence: evidence(Date.parse(r.at)) } : {});
    yield { type: 'round', at: new Date(at).toISOString(), round, durationMs: 400, results };
    if (round % 1800 === 0) yield { type: 'mark', at: new Date(at).toISOString(), text: `moved batch ${round / 1800}`, source: 'cli' };
  }
  yield { type: 'stop', at: new Date(T0 + (ROUNDS + 1) * 1000).toISOString(), reason: 'duration reached', rounds: ROUNDS };
}

const gc = (globalThis as { gc?: () => void }).gc;
const heapMb = () => {
  gc?.();
  return process.memoryUsage().heapUsed / 1024 / 1024;
};
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(2)} MB`;

for (const flapping of [false, true]) {
  const before = heapMb();
  const model = new TimelineModel();
  let count = 0;
  const t0 = performance.now();
  for (const r of records(flapping)) {
    model.ingest(r);
    count++;
  }
  const read = performance.now() - t0;
  const held = heapMb() - before;
  const t1 = performance.now();
  const json = JSON.stringify(model.toJSON());
  const dataMs = performance.now() - t1;
  const t2 = performance.now();
  const page = renderTimelinePage(model.toJSON(), { ladders: model.ladders() });
  const pageMs = performance.now() - t2;
  console.log(
    `${flapping ? 'check 0 flapping every round' : 'two checks down 1 min in 10'}: ${count} records (${CHECKS * ROUNDS} results) read in ${(read / 1000).toFixed(2)} s ` +
      `(${Math.round(count / (read / 1000))} records/s); held ${gc ? `${held.toFixed(1)} MB of heap` : '? (run with --expose-gc)'}; ` +
      `data ${mb(json.length)} in ${dataMs.toFixed(0)} ms; static page ${mb(page.length)} in ${pageMs.toFixed(0)} ms`,
  );
}
console.log(`peak RSS ${mb(process.resourceUsage().maxRSS * 1024)}`);
