// The sampler of a soak: runs `xfed watch` as a child process with the V8 inspector open, and
// measures it from outside (/proc and the inspector), so what it reports is what the process holds,
// not what it thinks it holds. Shared by bench/watch-soak.ts (30 minutes, figures) and
// test/integration/watch-soak.test.ts (minutes, limits).
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import path from 'node:path';
import { pollUntil, withDeadline } from '../../src/infra/deadline.js';
import { ROOT } from './cli-process.js';

/** One look at the watch and its Prosody children. Sizes in bytes; `t` in seconds since the first look. */
export interface SoakSample {
  t: number;
  rounds: number;
  rssBytes: number;
  /** V8 heap in use right after a full garbage collection: what the watch keeps. */
  heapAfterGcBytes: number;
  fds: number;
  sockets: number;
  /** Prosody processes under the watch (partner, simulated Edge), summed. */
  prosodyCount: number;
  prosodyRssBytes: number;
  prosodyFds: number;
  prosodySockets: number;
  logBytes: number;
}

export type Series = Exclude<keyof SoakSample, 't' | 'rounds'>;
const SERIES: Series[] = ['rssBytes', 'heapAfterGcBytes', 'fds', 'sockets', 'prosodyCount', 'prosodyRssBytes', 'prosodyFds', 'prosodySockets', 'logBytes'];

export interface SoakOptions {
  suite: string;
  interval: string;
  out: string;
  /** How long the watch may take to start its target and print its page's address. */
  startTimeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

interface ProcEntry {
  pid: number;
  ppid: number;
  /** Clock ticks since boot at which it started: with the pid, names one process even after pid reuse. */
  start: string;
  comm: string;
}

/** A minimal client of the V8 inspector protocol over Node's own WebSocket. */
class Inspector {
  private next = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private constructor(private readonly ws: WebSocket) {
    ws.addEventListener('message', (ev) => {
      const msg = JSON.parse(String(ev.data)) as { id?: number; result?: unknown; error?: { message: string } };
      const p = msg.id !== undefined ? this.pending.get(msg.id) : undefined;
      if (!p) return;
      this.pending.delete(msg.id!);
      if (msg.error) p.reject(new Error(`inspector: ${msg.error.message}`));
      else p.resolve(msg.result);
    });
    ws.addEventListener('close', () => {
      for (const p of this.pending.values()) p.reject(new Error('inspector: the connection closed'));
      this.pending.clear();
    });
  }

  static async connect(url: string, timeoutMs: number): Promise<Inspector> {
    const ws = new WebSocket(url);
    await withDeadline(
      new Promise<void>((resolve, reject) => {
        ws.addEventListener('open', () => resolve(), { once: true });
        ws.addEventListener('error', () => reject(new Error(`inspector: cannot connect to ${url}`)), { once: true });
      }),
      timeoutMs,
      `the inspector at ${url}`,
    );
    return new Inspector(ws);
  }

  call<T>(method: string, timeoutMs: number, params: object = {}): Promise<T> {
    const id = this.next++;
    const answer = new Promise<T>((resolve, reject) => this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject }));
    this.ws.send(JSON.stringify({ id, method, params }));
    return withDeadline(answer, timeoutMs, `the inspector's answer to ${method}`).finally(() => this.pending.delete(id));
  }

  close(): void {
    this.ws.close();
  }
}

/** Every process on the machine, with its parent: the process tree of /proc. */
function processTable(): ProcEntry[] {
  const out: ProcEntry[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const entry = readStat(Number(name));
    if (entry) out.push(entry);
  }
  return out;
}

function readStat(pid: number): ProcEntry | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name sits in parentheses and may itself hold spaces and parentheses.
    const close = stat.lastIndexOf(')');
    const fields = stat.slice(close + 2).split(' ');
    return { pid, ppid: Number(fields[1]), start: fields[19]!, comm: stat.slice(stat.indexOf('(') + 1, close) };
  } catch {
    return undefined; // it ended between the listing and the read
  }
}

function descendants(root: number): ProcEntry[] {
  const table = processTable();
  const found: ProcEntry[] = [];
  const parents = new Set([root]);
  // Parents are usually listed before their children; repeat until the set stops growing.
  for (let grew = true; grew;) {
    grew = false;
    for (const p of table)
      if (parents.has(p.ppid) && !parents.has(p.pid)) {
        parents.add(p.pid);
        found.push(p);
        grew = true;
      }
  }
  return found;
}

function commandLine(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

const isProsody = (p: ProcEntry) => commandLine(p.pid).some((arg) => path.basename(arg) === 'prosody');

function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** Open descriptors of a process and how many of them are sockets. */
function descriptors(pid: number): { fds: number; sockets: number } {
  let fds = 0;
  let sockets = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    fds++;
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) sockets++;
    } catch {
      // closed while being counted
    }
  }
  return { fds, sockets };
}

function alive(p: ProcEntry): boolean {
  return readStat(p.pid)?.start === p.start;
}

/** A running `xfed watch` under measurement. */
export class SoakedWatch {
  private out = '';
  private err = '';
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private inspector?: Inspector;
  private metricsUrl?: string;
  private firstAt?: number;
  /** Every process ever seen under the watch: none may outlive it. */
  private readonly seen = new Map<string, ProcEntry & { label: string }>();

  private constructor(
    readonly child: ChildProcess,
    private readonly logDir: string,
  ) {
    child.stdout!.on('data', (d: Buffer) => (this.out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (this.err += d.toString()));
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  get pid(): number {
    return this.child.pid!;
  }

  stdout(): string {
    return this.out;
  }

  stderr(): string {
    return this.err;
  }

  /** Starts the watch (no --duration: it runs until stopped) and waits for its page and inspector. */
  static async start(o: SoakOptions): Promise<SoakedWatch> {
    const args = ['--inspect=127.0.0.1:0', path.join(ROOT, 'bin', 'xfed.js'), 'watch', o.suite, '--interval', o.interval];
    args.push('--runtime', 'process', '--listen', '127.0.0.1:0', '--out', o.out);
    const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', ...o.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const w = new SoakedWatch(child, o.out);
    try {
      // Measured from the first round on: before it, Prosody is still starting.
      const [ws, page] = await withDeadline(
        Promise.all([
          w.waitFor(() => /Debugger listening on (ws:\/\/\S+)/.exec(w.err)?.[1]),
          w.waitFor(() => /live page: (http:\/\/\S+?)\/?$/m.exec(w.out)?.[1]),
          w.waitFor(() => /^\S+ target up in /m.exec(w.out)?.[0]),
        ]),
        o.startTimeoutMs ?? 60_000,
        'the watch to print its inspector, its page and that its target is up',
      );
      w.metricsUrl = `${page}/metrics`;
      w.inspector = await Inspector.connect(ws, 10_000);
      return w;
    } catch (err) {
      await w.stop(10_000).catch(() => undefined);
      throw new Error(`${(err as Error).message}\nstdout: ${w.out.slice(-2000)}\nstderr: ${w.err.slice(-2000)}`);
    }
  }

  private waitFor(probe: () => string | undefined): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const v = probe();
        if (v === undefined) return;
        this.child.stdout!.off('data', check);
        this.child.stderr!.off('data', check);
        resolve(v);
      };
      this.child.stdout!.on('data', check);
      this.child.stderr!.on('data', check);
      void this.exited.then((e) => reject(new Error(`the watch exited (${e.code ?? e.signal}) while starting`)));
      check();
    });
  }

  /** Rounds run so far, as the watch's metrics endpoint counts them. */
  private async rounds(): Promise<number> {
    const res = await fetch(this.metricsUrl!, { signal: AbortSignal.timeout(10_000) });
    const m = /^xfed_watch_rounds_total(?:\{[^}]*\})? (\S+)$/m.exec(await res.text());
    return m ? Number(m[1]) : 0;
  }

  private logBytes(): number {
    let bytes = 0;
    for (const name of readdirSync(this.logDir)) if (name.endsWith('.ndjson')) bytes += statSync(path.join(this.logDir, name)).size;
    return bytes;
  }

  async sample(): Promise<SoakSample> {
    await this.inspector!.call('HeapProfiler.collectGarbage', 30_000);
    const heap = await this.inspector!.call<{ usedSize: number }>('Runtime.getHeapUsage', 10_000);
    const rounds = await this.rounds();
    const now = Date.now();
    this.firstAt ??= now;
    const own = descriptors(this.pid);
    const kids = descendants(this.pid);
    this.remember(kids);
    const prosody = kids.filter(isProsody);
    let prosodyRss = 0;
    let prosodyFds = 0;
    let prosodySockets = 0;
    for (const p of prosody) {
      try {
        prosodyRss += rssBytes(p.pid);
        const d = descriptors(p.pid);
        prosodyFds += d.fds;
        prosodySockets += d.sockets;
      } catch {
        // a Prosody that ended while being measured: the count says so
      }
    }
    return {
      t: (now - this.firstAt) / 1000,
      rounds,
      rssBytes: rssBytes(this.pid),
      heapAfterGcBytes: heap.usedSize,
      fds: own.fds,
      sockets: own.sockets,
      prosodyCount: prosody.length,
      prosodyRssBytes: prosodyRss,
      prosodyFds,
      prosodySockets,
      logBytes: this.logBytes(),
    };
  }

  private remember(kids: ProcEntry[]): void {
    for (const k of kids) {
      const key = `${k.pid}/${k.start}`;
      if (!this.seen.has(key)) this.seen.set(key, { ...k, label: commandLine(k.pid).slice(0, 3).join(' ').slice(0, 120) || k.comm });
    }
  }

  /**
   * SIGINT, as an operator's Ctrl-C; SIGKILL if the watch has not ended within `timeoutMs`.
   * Returns how it ended and the processes it started that are still alive.
   */
  async stop(timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; killed: boolean; leftBehind: string[] }> {
    this.remember(descendants(this.pid));
    this.inspector?.close();
    this.child.kill('SIGINT');
    let killed = false;
    let end;
    try {
      end = await withDeadline(this.exited, timeoutMs, 'the watch to end after SIGINT');
    } catch {
      killed = true;
      this.child.kill('SIGKILL');
      end = await withDeadline(this.exited, 10_000, 'the watch to end after SIGKILL');
    }
    // Children end as they notice their parent is gone (a closed pipe, a watchdog's poll): within seconds.
    const leftBehind = await pollUntil(
      () => {
        const still = [...this.seen.values()].filter(alive);
        return still.length === 0 ? still : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 200, what: "the watch's children to end" },
    ).catch(() => [...this.seen.values()].filter(alive));
    // What a killed watch could not stop is stopped here, so a failed soak leaves nothing running.
    for (const p of leftBehind) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // ended meanwhile
      }
    }
    return { ...end, killed, leftBehind: leftBehind.map((p) => `${p.label} (pid ${p.pid})`) };
  }
}

/** Least-squares slope of y over x. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

export interface SeriesSummary {
  series: Series;
  min: number;
  max: number;
  /** Over the samples after the warm-up. */
  first: number;
  last: number;
  perHour: number;
  per1000Rounds: number;
}

/** Min/max over all samples; slopes over those after `warmupSec`. */
export function summarize(samples: SoakSample[], warmupSec: number): SeriesSummary[] {
  const after = samples.filter((s) => s.t >= warmupSec);
  return SERIES.map((series) => {
    const all = samples.map((s) => s[series]);
    const ys = after.map((s) => s[series]);
    return {
      series,
      min: Math.min(...all),
      max: Math.max(...all),
      first: ys[0] ?? NaN,
      last: ys.at(-1) ?? NaN,
      perHour: slope(
        after.map((s) => s.t / 3600),
        ys,
      ),
      per1000Rounds: slope(
        after.map((s) => s.rounds / 1000),
        ys,
      ),
    };
  });
}

const isBytes = (s: Series) => s.endsWith('Bytes');

/** `12.3 MiB` for byte series, the count otherwise. */
function formatValue(series: Series, v: number): string {
  if (!Number.isFinite(v)) return '-';
  if (!isBytes(series)) return Number.isInteger(v) ? String(v) : v.toFixed(2);
  const mib = v / 1024 / 1024;
  return Math.abs(mib) >= 1 ? `${mib.toFixed(2)} MiB` : `${(v / 1024).toFixed(1)} KiB`;
}

const SHORT: Record<Series, string> = {
  rssBytes: 'rss',
  heapAfterGcBytes: 'heap(gc)',
  fds: 'fds',
  sockets: 'sockets',
  prosodyCount: 'prosody',
  prosodyRssBytes: 'p.rss',
  prosodyFds: 'p.fds',
  prosodySockets: 'p.sockets',
  logBytes: 'log',
};

/** A fixed-width table: one row per sample. */
export function formatSamples(samples: SoakSample[]): string {
  const head = ['t', 'rounds', ...SERIES.map((s) => SHORT[s])];
  const rows = samples.map((s) => [`${Math.round(s.t)}s`, String(s.rounds), ...SERIES.map((k) => formatValue(k, s[k]))]);
  return table([head, ...rows]);
}

export function formatSummary(summary: SeriesSummary[], warmupSec: number): string {
  const head = ['series', 'min', 'max', `after ${Math.round(warmupSec)}s: first`, 'last', 'slope/hour', 'slope/1000 rounds'];
  const rows = summary.map((s) => [
    SHORT[s.series],
    formatValue(s.series, s.min),
    formatValue(s.series, s.max),
    formatValue(s.series, s.first),
    formatValue(s.series, s.last),
    formatValue(s.series, s.perHour),
    formatValue(s.series, s.per1000Rounds),
  ]);
  return table([head, ...rows]);
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')).join('\n');
}
