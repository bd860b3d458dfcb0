import { formatMs } from '../report/format.js';
import { OVERALL, type CheckState, type ProbeResult, type WatchedCheck, type WatchRecord } from './records.js';

export type Paint = (state: CheckState | 'muted' | 'bold', text: string) => string;

const SYMBOL: Record<CheckState | 'unknown', string> = { met: '✔', unmet: '✘', error: '!', unknown: '·' };
/** Transitions shown under the table in a terminal. */
const LATEST = 6;
/** Outside a terminal, a line says the watch is alive at least this often. */
const HEARTBEAT_MS = 60_000;

interface Row {
  check: WatchedCheck;
  state?: CheckState;
  since?: string;
  last?: ProbeResult;
  met: number;
  judged: number;
}

/**
 * The watch in the terminal. In a terminal (`live`): the state of every check (since when, its
 * last latency, its share of met rounds), the latest transitions and marks, redrawn in place after
 * each round and change. Elsewhere (CI, a pipe, a file): one line per transition, mark, notice and
 * hook that failed, and a line a minute that says the watch is alive.
 */
export class WatchTerminal {
  private readonly rows = new Map<string, Row>();
  private readonly latest: string[] = [];
  private overall: { state?: CheckState; since?: string } = {};
  private drawn = 0;
  private lastLine = 0;
  private held = false;
  private status = 'starting the target';

  constructor(
    private readonly o: {
      live: boolean;
      write: (s: string) => void;
      paint: Paint;
      checks: readonly WatchedCheck[];
      /** Shown in the header: where the page and the log are. */
      header: string[];
      /** The keys the live view answers, shown at the bottom. */
      keys?: string;
    },
  ) {
    for (const check of o.checks) this.rows.set(check.id, { check, met: 0, judged: 0 });
  }

  ingest(r: WatchRecord): void {
    const p = this.o.paint;
    const time = r.at.slice(11, 19);
    switch (r.type) {
      case 'start':
        this.line(
          `${time} watch ${r.resumed ? 'resumed' : 'started'}: ${r.checks.length} check${r.checks.length === 1 ? '' : 's'} every ${formatMs(r.intervalMs)}`,
        );
        break;
      case 'ready':
        this.status = `target up in ${formatMs(r.setupMs)} (${r.runtime} runtime)`;
        this.line(`${time} ${this.status}`);
        break;
      case 'round': {
        for (const result of r.results) {
          const row = this.rows.get(result.check);
          if (!row) continue;
          row.last = result;
          if (result.state !== 'error') row.judged++;
          if (result.state === 'met') row.met++;
        }
        const met = r.results.filter((x) => x.state === 'met').length;
        this.status = `round ${r.round}: ${met}/${r.results.length} met in ${formatMs(r.durationMs)}`;
        if (!this.o.live && Date.now() - this.lastLine >= HEARTBEAT_MS) this.line(`${time} ${this.status}`);
        break;
      }
      case 'transition': {
        if (r.check === OVERALL) this.overall = { state: r.to, since: r.at };
        else {
          const row = this.rows.get(r.check);
          if (row) Object.assign(row, { state: r.to, since: r.at });
        }
        // A check's first result is no news unless it is a failure.
        if (r.from === 'unknown' && r.to === 'met') break;
        const who = r.check === OVERALL ? 'federation' : r.check;
        const outage = r.outageMs !== undefined ? ` after ${formatMs(r.outageMs)} down` : '';
        const why = r.to !== 'met' ? `: ${r.actual ?? (r.first ? `first failing: ${r.first}` : '')}` : '';
        this.push(p(r.to, `${time} ${SYMBOL[r.to]} ${who} ${r.from} -> ${r.to}${outage}${why}`));
        break;
      }
      case 'mark':
        this.push(p('bold', `${time} ▌ mark (${r.source}): ${r.text}`));
        break;
      case 'notice':
        this.push(p('muted', `${time} ${r.text}`));
        break;
      case 'hook':
        if (r.exitCode !== 0)
          this.push(
            p(
              'error',
              `${time} the --on-change hook for ${r.check} ${r.timedOut ? 'timed out' : r.signal ? `ended by ${r.signal}` : `exited ${r.exitCode}`}${r.output ? `: ${r.output.trim().split('\n').at(-1)}` : ''}`,
            ),
          );
        break;
      case 'facts': {
        const cert = r.certificate ? `, certificate ${r.certificate.daysLeft} days left` : '';
        this.push(p('muted', `${time} Edge ${r.edge ?? ''}: ${r.tlsVersion ?? 'no TLS'}${cert}${r.error ? ` (${r.error})` : ''}`));
        break;
      }
      case 'stop':
        this.status = `stopped: ${r.reason}`;
        break;
      case 'part':
        break;
    }
    if (this.o.live && !this.held) this.draw();
  }

  /** Stops drawing while the operator types a mark; `resume` draws again. */
  hold(): void {
    this.held = true;
    this.clear();
  }

  resume(): void {
    this.held = false;
    this.draw();
  }

  /** Leaves the last picture on the screen. */
  close(): void {
    this.held = true;
  }

  private push(text: string): void {
    this.latest.push(text);
    if (this.latest.length > LATEST) this.latest.shift();
    if (!this.o.live) this.line(text);
  }

  private line(text: string): void {
    this.lastLine = Date.now();
    if (!this.o.live) this.o.write(`${text}\n`);
  }

  private clear(): void {
    if (this.drawn > 0) this.o.write(`\x1b[${this.drawn}A\x1b[0J`);
    this.drawn = 0;
  }

  private draw(): void {
    const p = this.o.paint;
    const width = Math.max(10, ...[...this.rows.keys()].map((id) => id.length));
    const cols = process.stdout.columns || 100;
    const cut = (s: string) => (s.length > cols - 1 ? `${s.slice(0, cols - 2)}…` : s);
    const lines: string[] = [...this.o.header.map((h) => p('muted', cut(h)))];
    const o = this.overall.state;
    lines.push(
      p(
        o ?? 'bold',
        cut(
          `${SYMBOL[o ?? 'unknown']} federation ${o ?? 'not yet judged'}${this.overall.since ? ` since ${this.overall.since.slice(11, 19)}` : ''}   ${this.status}`,
        ),
      ),
    );
    for (const row of this.rows.values()) {
      const state = row.state ?? 'unknown';
      const since = row.since ? row.since.slice(11, 19) : '--:--:--';
      const latency = row.last?.latencyMs !== undefined ? formatMs(row.last.latencyMs) : '';
      const share = row.judged > 0 ? `${((row.met / row.judged) * 100).toFixed(1)}%` : '';
      const text = `  ${SYMBOL[state]} ${row.check.id.padEnd(width)} ${state.padEnd(7)} since ${since} ${latency.padStart(8)} ${share.padStart(7)}  ${row.state === 'met' ? row.check.title : (row.last?.actual ?? row.check.title)}`;
      lines.push(row.state ? p(row.state, cut(text)) : cut(text));
    }
    if (this.latest.length > 0) lines.push(p('muted', 'latest:'), ...this.latest.map((l) => `  ${cut(l)}`));
    if (this.o.keys) lines.push(p('muted', this.o.keys));
    this.clear();
    this.o.write(`${lines.join('\n')}\n`);
    this.drawn = lines.length;
  }
}
