import { describe, expect, it } from '@jest/globals';
import { LoadProgress } from '../../../src/load/report/progress.js';
import { series } from './report-fixture.js';

function progress(live: boolean, users?: number) {
  let screen = '';
  return { p: new LoadProgress({ live, color: false, write: (s) => (screen += s), users }), screen: () => screen };
}

const REDRAW = '\r\x1b[2K';

describe('LoadProgress', () => {
  it('plain (CI, a pipe): one line per 5 s of the run, rates averaged, the worst p99, the errors so far; the rest at the end', () => {
    const { p, screen } = progress(false, 100);
    const seconds = series({ seconds: 23 });
    for (const s of seconds) p.second(s);
    expect(screen().split('\n').filter(Boolean)).toHaveLength(4);
    p.end();
    expect(screen().split('\n').filter(Boolean)).toEqual([
      '  0:04  online 50/100  sent 0/s  delivered 0/s  p99 -  errors 0',
      '  0:09  online 100/100  sent 0/s  delivered 0/s  p99 -  errors 0',
      '  0:14  online 100/100  sent 50/s  delivered 50/s  p99 54 ms  errors 0',
      '  0:19  online 100/100  sent 50/s  delivered 50/s  p99 59 ms  errors 0',
      '  0:22  online 100/100  sent 50/s  delivered 50/s  p99 62 ms  errors 2',
    ]);
    expect(screen()).not.toContain('\r');
  });

  it('plain: every notice on its own line, as it comes', () => {
    const { p, screen } = progress(false);
    p.second(series()[0]!);
    p.notice('the rate asked (800/s) was not reached:\n612/s sent');
    expect(screen()).toBe('  ! the rate asked (800/s) was not reached: 612/s sent\n');
    p.end();
    expect(screen()).toBe('  ! the rate asked (800/s) was not reached: 612/s sent\n  0:00  online 10  sent 0/s  delivered 0/s  p99 -  errors 0\n');
  });

  it('live (terminal): one line redrawn in place each second, a notice above it, cleared at the end', () => {
    const { p, screen } = progress(true, 100);
    const seconds = series();
    p.second(seconds[11]!);
    expect(screen()).toBe(`${REDRAW}  0:11  online 100/100  sent 50/s  delivered 50/s  p99 51 ms  errors 0`);
    p.second(seconds[20]!);
    expect(screen().split(REDRAW).at(-1)).toBe('  0:20  online 100/100  sent 50/s  delivered 50/s  p99 60 ms  errors 2');
    expect(screen()).not.toContain('\n');
    p.notice('restarting the edge');
    expect(screen().endsWith(`${REDRAW}  ! restarting the edge\n`)).toBe(true);
    p.second(seconds[21]!);
    p.end();
    expect(screen().endsWith(`${REDRAW}  0:21  online 100/100  sent 50/s  delivered 50/s  p99 61 ms  errors 2${REDRAW}`)).toBe(true);
  });

  it('a p99 of 0 with IMs delivered is one the engine does not give (Tsung): its mean is shown, named, never p99 0 ms', () => {
    const { p, screen } = progress(true);
    p.second({ ...series()[15]!, p50: 14, p99: 0, max: 0 });
    expect(screen()).toBe(`${REDRAW}  0:15  online 100  sent 50/s  delivered 50/s  mean 14 ms  errors 0`);
    p.second({ ...series()[16]!, p50: 0, p99: 0, max: 0 });
    expect(screen().split(REDRAW).at(-1)).toBe('  0:16  online 100  sent 50/s  delivered 50/s  p99 -  errors 0');
  });

  it('live: cut to the terminal width, so the line never wraps', () => {
    const { p, screen } = progress(true, 100_000);
    p.second({ t: 3725, online: 99_999, logins: 0, sent: 123_456, delivered: 123_000, errors: 1_000_000, p50: 1, p99: 2, max: 3 });
    const line = screen().split(REDRAW).at(-1)!;
    expect(line.startsWith('  1:02:05  online 99999/100000')).toBe(true);
    // No terminal in a test: the width is taken as 80.
    expect(line.length).toBeLessThanOrEqual(79);
  });
});
