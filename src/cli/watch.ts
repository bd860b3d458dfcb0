import path from 'node:path';
import readline from 'node:readline';
import pc from 'picocolors';
import { XfedError } from '../errors.js';
import { parseDuration } from '../infra/duration.js';
import type { RuntimeChoice } from '../prosody/types.js';
import { loadSuite, type VariableSources } from '../scenario/loader.js';
import { lightBeacon } from '../watch/beacon.js';
import { Watch } from '../watch/engine.js';
import { TransitionHooks } from '../watch/hooks.js';
import { WatchMetrics } from '../watch/metrics.js';
import { OVERALL, type WatchRecord } from '../watch/records.js';
import { WatchServer } from '../watch/server.js';
import { formatWatchSummary } from '../watch/summary.js';
import { WatchTerminal, type Paint } from '../watch/terminal.js';
import { TimelineModel } from '../watch/timeline/model.js';
import { renderTimelinePage } from '../watch/timeline/page.js';
import { writeTimeline } from './timeline.js';
import { packageVersion } from './version.js';
import { COLOR, EXIT, reportError } from './output.js';

export interface WatchCommandOptions extends VariableSources {
  runtime: RuntimeChoice;
  baseImage?: string;
  checks?: string;
  phase?: string;
  interval: string;
  duration?: string;
  listen: string;
  out?: string;
  resume?: boolean;
  onChange?: string;
  onChangeTimeout: string;
  rehearse?: string;
  logPartSize: string;
  /** The demo: end the watch this long after the rehearsal's last phase was applied. */
  endAfterRehearsalMs?: number;
}

/**
 * `xfed watch SUITE`: the suite's checks in rounds until stopped, with the log, the live view, the
 * page and metrics, marks and hooks. Exit 0 when the federation was never down while watched, 1
 * when it was, 2 on bad input or a missing piece; 130/143 on SIGINT/SIGTERM (after the summary).
 */
export async function runWatch(file: string, opts: WatchCommandOptions): Promise<number> {
  let server: WatchServer | undefined;
  try {
    const intervalMs = parseDuration(opts.interval, '--interval');
    const durationMs = opts.duration !== undefined ? parseDuration(opts.duration, '--duration') : undefined;
    const rehearseMs = opts.rehearse !== undefined ? parseDuration(opts.rehearse, '--rehearse') : undefined;
    const hookTimeoutMs = parseDuration(opts.onChangeTimeout, '--on-change-timeout');
    const partBytes = parseSize(opts.logPartSize, '--log-part-size');
    const listen = parseListen(opts.listen);
    const { suite } = await loadSuite(file, opts);
    const out = opts.out ?? path.join('xfed-results', `watch-${suite.name}-${new Date().toISOString().replace(/[:.]/g, '-').replace('Z', '')}`);

    // Everything that reads the records: each is fed the same stream the log keeps.
    const model = new TimelineModel();
    const metrics = new WatchMetrics();
    // The watch and its view exist once the suite's checks are known; the server and the sink are made before.
    const late: { watch?: Watch; view?: WatchTerminal } = {};
    const live = process.stdout.isTTY === true && !process.env.CI;
    server = await WatchServer.listen(listen, {
      page: () => renderTimelinePage(model.toJSON(), { live: { dataUrl: '/timeline.json', evidenceUrl: '/evidence', markUrl: '/marks' } }),
      data: () => model.toJSON(),
      evidence: (id) => model.evidence(id),
      metrics: async () => ({ contentType: metrics.contentType, body: await metrics.exposition() }),
      mark: (text, source) => {
        if (!late.watch) throw new XfedError('the watch has not started yet');
        late.watch.mark(text, source);
      },
    });
    const hooks = opts.onChange
      ? new TransitionHooks({
          command: opts.onChange,
          timeoutMs: hookTimeoutMs,
          onRan: (r) => late.watch?.record(r),
          onNotice: (text) => late.watch?.record({ type: 'notice', at: new Date().toISOString(), text }),
        })
      : undefined;
    let rehearsed = 0;
    const sink = (r: WatchRecord) => {
      if (r.type === 'mark' && r.source === 'schedule' && ++rehearsed === late.watch?.rehearsalLength && opts.endAfterRehearsalMs !== undefined) {
        const w = late.watch;
        setTimeout(() => w.stop('the rehearsal ended'), opts.endAfterRehearsalMs).unref();
      }
      model.ingest(r);
      metrics.ingest(r);
      late.view?.ingest(r);
      // A check's first result is no change; its first failure is.
      if (r.type === 'transition' && hooks && !(r.from === 'unknown' && r.to === 'met'))
        hooks.run(r, {
          suite: suite.name,
          title: r.check === OVERALL ? 'the federation' : late.watch?.checks.find((c) => c.id === r.check)?.title,
          logFile: late.watch?.logFile,
          pageUrl: server?.url,
          // A single check's transition is told the federation's state too (the `*` one carries its own).
          ...(r.check !== OVERALL && late.watch ? late.watch.federation() : {}),
        });
    };

    const watch = await Watch.prepare(suite, {
      runtime: opts.runtime,
      baseImage: opts.baseImage,
      ...(opts.checks !== undefined
        ? {
            checks: opts.checks
              .split(',')
              .map((c) => c.trim())
              .filter(Boolean),
          }
        : {}),
      ...(opts.phase !== undefined ? { phase: opts.phase } : {}),
      intervalMs,
      ...(durationMs !== undefined ? { durationMs } : {}),
      ...(rehearseMs !== undefined ? { rehearseMs } : {}),
      out,
      resume: opts.resume === true,
      partBytes,
      listen: server.address,
      version: packageVersion(),
      sinks: [(r) => sink(r)],
      replay: (r) => model.ingest(r),
    });
    // The metrics, counters of this process, start from the standings (the page has the whole log, replayed).
    if (opts.resume) metrics.ingest(watch.standing());
    const keys = live && process.stdin.isTTY ? 'keys: m add a mark, q stop (Ctrl-C also stops)' : undefined;
    const view = new WatchTerminal({
      live,
      write: (s) => void process.stdout.write(s),
      paint: painter(),
      checks: watch.checks,
      header: [
        `xfed watch ${file}: ${suite.name}, ${watch.checks.length} check${watch.checks.length === 1 ? '' : 's'} every ${opts.interval}${opts.duration ? ` for ${opts.duration}` : ''}`,
        `  log ${watch.logFile}   live page ${server.url}/   metrics ${server.url}/metrics`,
      ],
      ...(keys ? { keys } : {}),
    });
    late.watch = watch;
    late.view = view;
    if (!live) {
      process.stdout.write(`xfed watch ${file}: ${suite.name}, checks ${watch.checks.map((c) => c.id).join(', ')} every ${opts.interval}\n`);
      process.stdout.write(`  log: ${watch.logFile}\n  live page: ${server.url}/\n  metrics: ${server.url}/metrics\n`);
    }
    const dark = lightBeacon({ pid: process.pid, url: server.url, suite: suite.name, out, startedAt: new Date().toISOString() });
    const stopKeys = keys ? listenToKeys(watch, view) : () => undefined;

    let downWhileWatched = false;
    await watch.run({
      // The hook under way ends (or is ended) before the log closes, so its record is kept.
      beforeStop: async () => void (await hooks?.close(5_000)),
      onEnd: async (s) => {
        stopKeys();
        view.close();
        dark();
        await server?.close();
        downWhileWatched = s.overall.outages.length > 0;
        const paint = painter();
        process.stdout.write(`\n${formatWatchSummary(s, { paint: (state, text) => paint(state, text) })}\n`);
        const html = path.join(out, 'timeline.html');
        try {
          await writeTimeline(watch!.logFile, html);
          process.stdout.write(`  timeline: ${html}\n  log: ${watch!.logFile}\n`);
        } catch (err) {
          process.stdout.write(`  not written: ${html}: ${(err as Error).message}\n`);
        }
      },
    });
    return downWhileWatched ? EXIT.unmet : EXIT.ok;
  } catch (err) {
    await server?.close();
    return reportError(err);
  }
}

/** In a terminal: `m` asks for a mark's text, `q` stops the watch, Ctrl-C is SIGINT as usual. */
function listenToKeys(watch: Watch, view: WatchTerminal): () => void {
  const stdin = process.stdin;
  let asking = false;
  const onData = (data: Buffer) => {
    const key = data.toString();
    if (asking) return;
    if (key === '\u0003') return void process.kill(process.pid, 'SIGINT');
    if (key === 'q') return watch.stop('stopped with q');
    if (key !== 'm') return;
    asking = true;
    stdin.setRawMode(false);
    view.hold();
    const rl = readline.createInterface({ input: stdin, output: process.stdout, terminal: true });
    rl.question('mark: ', (text) => {
      rl.close();
      watch.mark(text, 'key');
      asking = false;
      stdin.setRawMode(true);
      stdin.resume();
      view.resume();
    });
  };
  stdin.setRawMode(true);
  stdin.resume();
  stdin.on('data', onData);
  return () => {
    stdin.off('data', onData);
    if (stdin.isTTY) stdin.setRawMode(false);
    stdin.pause();
  };
}

function painter(): Paint {
  const c = pc.createColors(COLOR);
  return (state, text) =>
    state === 'met' ? c.green(text) : state === 'unmet' ? c.red(text) : state === 'error' ? c.yellow(text) : state === 'bold' ? c.bold(text) : c.dim(text);
}

/** `64MB`, `512KiB`, `1G`, or bytes. */
function parseSize(text: string, option: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]i?b?|b)?$/i.exec(text.trim());
  if (!m) throw new XfedError(`${option} ${text}: not a size (examples: 64MB, 512KB, 1GB)`);
  const unit = (m[2] ?? 'b').toLowerCase()[0]!;
  const bytes = Number(m[1]) * ({ b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[unit] ?? 1);
  if (bytes < 4096) throw new XfedError(`${option} ${text}: at least 4KB`);
  return Math.round(bytes);
}

/** `HOST:PORT`, `[IPv6]:PORT`, or `:PORT` (loopback); port 0 is any free port. */
function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new XfedError(`--listen ${text}: expected HOST:PORT (127.0.0.1:9464, [::1]:9464, :0 for any free loopback port)`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}
