import { describe, expect, it } from '@jest/globals';
import { formatLoadSummary } from '../../../src/load/report/summary.js';
import { failedResults, heldResults, NO_SAMPLES } from './report-fixture.js';

describe('formatLoadSummary', () => {
  it('a run that held: the verdict, then every figure on its own labelled line', () => {
    const text = formatLoadSummary(heldResults());
    expect(text.split('\n')).toEqual([
      'xfed load: smoke (simulation, process runtime, engine xfed)',
      '  100 users on 2 domains, logging in over 10.0 s; 50 IMs/s for 20.0 s',
      '  ✓ held',
      '  logins         100/100 at 10/s   p50 8 ms  p95 19 ms  p99 30 ms  max 45 ms',
      '  subscriptions  100/100   p50 20 ms  p95 40 ms  p99 60 ms  max 90 ms',
      '  IMs            rate 50/s asked, 50/s sent, 50/s delivered',
      '                 sent 1000  delivered 1000  lost 0  duplicates 0  reordered 0',
      '  round trip     p50 12 ms  p95 35 ms  p99 58 ms  max 79 ms   scheduled send to echo received',
      '  one way        p50 6 ms  p95 18 ms  p99 30 ms  max 41 ms   scheduled send to the SIP MESSAGE',
      "  send lag       p50 0.2 ms  p95 0.8 ms  p99 1.5 ms  max 3 ms   the generator's own lateness",
      '  generator      CPU 3.2 s, peak RSS 92 MB (1 process), 88 MB with every user online',
    ]);
    // No colour unless asked.
    expect(text).not.toContain('\x1b[');
  });

  it('a run that failed: the reasons, the failures by reason, the shortfall of the rate, the storm, the notices', () => {
    const text = formatLoadSummary(failedResults());
    expect(text).toContain('xfed load: smoke (gateway, container runtime, engine xfed)');
    expect(text).toContain('the Edge restarted 5.0 s into the IMs');
    expect(text).toContain('  ✗ not held\n    - 3 of 100 logins failed (timeout 2, not-authorized 1)\n    - 15 IMs lost');
    expect(text).toContain('  logins         97/100 at 10/s');
    expect(text).toContain('                 failed: timeout 2, not-authorized 1');
    expect(text).toContain('rate 50/s asked, 47/s sent, 46.3/s delivered');
    expect(text).toContain('sent 940 of 1000 scheduled  delivered 925  lost 15  duplicates 1  reordered 3');
    // Largest count first.
    expect(text).toContain('errors: remote-server-timeout 12, service-unavailable 3');
    expect(text).toContain('  presence       100 changes sent, 2 errors');
    expect(text).toContain('  storm          the Edge restarted 5.0 s into the IMs; 90/97 subscriptions back, the rest never');
    expect(text).toContain('each back after: p50 900 ms  p95 1.9 s  p99 3.0 s  max 3.5 s');
    expect(text).toContain('  notices        the rate asked (50/s) was not reached: 47/s sent');
    // The simulation alone measures one way.
    expect(text).not.toContain('one way');
  });

  it('colours failures red when asked, and keeps hostile text to one line without control characters', () => {
    const r = failedResults();
    const hostile = { ...r, suite: 'evil\x1b[2J\nsuite', verdict: { held: false, reasons: ['line one\nline two\x07'] } };
    const text = formatLoadSummary(hostile, { color: true });
    expect(text).toContain('\x1b[31m');
    expect(text).not.toContain('\x1b[2J');
    expect(text).not.toContain('\x07');
    expect(text).toContain('evil[2J suite');
    expect(text).toContain('line one line two');
  });

  it('says there were no samples rather than printing zeros', () => {
    const r = heldResults();
    const none = { ...r, engine: { ...r.engine, messages: { ...r.engine.messages, delivered: 0, roundTrip: NO_SAMPLES } } };
    expect(formatLoadSummary(none)).toContain('  round trip     no samples');
  });
});
