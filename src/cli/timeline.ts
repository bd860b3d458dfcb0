import fs from 'node:fs';
import path from 'node:path';
import pc from 'picocolors';
import { readWatchLog } from '../watch/log.js';
import { formatWatchSummary, SummaryBuilder, type WatchSummary } from '../watch/summary.js';
import { TimelineModel } from '../watch/timeline/model.js';
import { renderTimelinePage } from '../watch/timeline/page.js';
import { COLOR, EXIT, reportError } from './output.js';

/**
 * Renders a watch's log (every part of it) into one self-contained HTML file: the lanes, the
 * outages with the message ladder of each one's first failing check, the marks. Returns its summary.
 */
export async function writeTimeline(log: string, file: string, onSkipped?: (why: string) => void): Promise<WatchSummary> {
  const model = new TimelineModel();
  const summary = new SummaryBuilder();
  for await (const r of readWatchLog(log, onSkipped ? { onSkipped } : {})) {
    model.ingest(r);
    summary.ingest(r);
  }
  const data = model.toJSON();
  const ladders = model.ladders();
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.writeFileSync(file, renderTimelinePage(data, { ladders }));
  return summary.result();
}

/** `xfed timeline LOG`: 0 when the log shows no outage of the federation, 1 when it does, 2 on a bad log. */
export async function runTimeline(log: string, opts: { out?: string }): Promise<number> {
  try {
    const dir = fs.existsSync(log) && fs.statSync(log).isDirectory() ? log : path.dirname(log);
    const file = opts.out ?? path.join(dir, 'timeline.html');
    const summary = await writeTimeline(log, file, (why) => process.stderr.write(`${why}\n`));
    const c = pc.createColors(COLOR);
    const paint = (state: string, text: string) =>
      state === 'met' ? c.green(text) : state === 'unmet' ? c.red(text) : state === 'error' ? c.yellow(text) : c.dim(text);
    process.stdout.write(`${formatWatchSummary(summary, { paint })}\n  timeline: ${file}\n`);
    return summary.overall.outages.length > 0 ? EXIT.unmet : EXIT.ok;
  } catch (err) {
    return reportError(err);
  }
}
