import { describe, expect, it } from '@jest/globals';
import { LiveReporter } from '../../../src/report/live.js';

const task = 'building xfed/prosody:0123456789ab on local/debian:bookworm';

function reporter(live: boolean) {
  let screen = '';
  return { r: new LiveReporter({ live, color: false, write: (s) => (screen += s) }), screen: () => screen };
}

describe('setup progress in the live view', () => {
  it('plain (CI): one line per build step, and one when done', () => {
    const { r, screen } = reporter(false);
    const startedAt = Date.now() - 45_000;
    r.onProgress({ task, detail: 'step 1/8 ARG BASE_IMAGE=debian:bookworm-slim', startedAt });
    r.onProgress({ task, detail: 'step 3/8 RUN apt-get update', startedAt });
    r.onProgress({ task, startedAt, done: true });
    expect(screen()).toBe(
      `  ${task}: step 1/8 ARG BASE_IMAGE=debian:bookworm-slim\n` + `  ${task}: step 3/8 RUN apt-get update\n` + `  ${task}: done in 45 s\n`,
    );
  });

  it('live (terminal): one line redrawn in place, cut to the width with the elapsed time kept, cleared by the next event', () => {
    const { r, screen } = reporter(true);
    const startedAt = Date.now() - 45_000;
    r.onProgress({ task, detail: 'step 3/8 RUN apt-get update', startedAt });
    const redraw = '\r\x1b[2K';
    const line = screen().split(redraw).at(-1)!;
    // No terminal in a test: the width is taken as 80.
    expect(line).toBe(`  ${`${task}: step 3/8 RUN apt-get update`.slice(0, 80 - 3 - 7)} (45 s)`);
    expect(line.length).toBeLessThan(80);
    expect(screen()).not.toContain('\n');
    r.onProgress({ task, startedAt, done: true });
    expect(screen().endsWith(`${redraw}  ${task}: done in 45 s\n`)).toBe(true);
    r.onEnd();
  });
});
