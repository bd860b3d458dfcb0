import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { EnvironmentError } from '../../errors.js';
import { pollUntil } from '../../infra/deadline.js';
import { freePort } from '../../infra/ports.js';
import { OWNER_ENV, recordProcess, thisOwner } from '../../infra/reaper/marker.js';
import type { EngineEvents, LoadEngine } from '../engine.js';
import type { LoadPlan } from '../profile.js';
import type { EngineResult, LoadSecond } from '../results.js';
import { CONTROLLER_IP, findTsung, remoteShell, resolveHosts, TICKS_PER_SECOND, tsungProcesses, type TsungHost } from './nodes.js';
import { jabberPluginCountingEvery } from './plugin.js';
import { DUMP_INTERVAL_MS, renderScenario, renderUsers, schedules, TSUNG_DTD } from './scenario.js';
import { latencyFromSample, parseTsungLog, samplesOf, totalsOf, type TsungDump } from './stats.js';

export interface TsungEngineOptions {
  /** Client hosts (`--tsung-hosts`), each a loopback address or a dotted name resolving to one; default the controller's. */
  readonly hosts?: readonly string[];
  /** Client nodes started on each host (default 2 on the controller's host alone, 1 per host given). */
  readonly nodesPerHost?: number;
  /** The tsung command (default `tsung` on PATH). */
  readonly tsungPath?: string;
}

const STAMP = /@@@\d+,(\d+);(\d+);(\d+)@@@/;

/**
 * Tsung's stamp in a body (`@@@<node hash>,<mega>;<secs>;<micro>@@@`): the IM's due time, as the
 * scenario makes it (epoch ms). Undefined for any other body.
 */
export function tsungStampOf(body: string): number | undefined {
  const m = STAMP.exec(body);
  if (!m) return undefined;
  return (Number(m[1]) * 1_000_000 + Number(m[2])) * 1000 + Math.floor(Number(m[3]) / 1000);
}

/**
 * The load on Tsung's distributed engine: the plan becomes a Tsung scenario (scenario.ts), its
 * controller starts client nodes on this machine (several, on loopback addresses, through a
 * private epmd), and its statistics are read back into xfed's results.
 */
export function tsungEngine(opts: TsungEngineOptions = {}): LoadEngine {
  return {
    name: 'tsung',
    run: (plan, events, signal) => runTsung(plan, events, signal, opts),
    stampOf: tsungStampOf,
  };
}

/** What Tsung cannot give, said once in the results. */
const UNDERCOUNT =
  "Tsung's jabber plugin could not be rebuilt to count every echo (it needs Tsung's sources and erlc): it counts one echo per chunk of the stream it reads, so under heavy load echoes go uncounted and the loss it shows may be too high";
const CANNOT = [
  'Tsung cannot tell duplicates or reordering, nor classify stanza errors: those figures are 0',
  "the per-second latency is Tsung's mean of the interval (in p50); p99 and max per second are 0",
];

async function runTsung(plan: LoadPlan, events: EngineEvents, signal: AbortSignal, opts: TsungEngineOptions): Promise<EngineResult> {
  const tsung = await findTsung(opts.tsungPath);
  await readFile(TSUNG_DTD).catch(() => {
    throw new EnvironmentError(`${TSUNG_DTD} is missing: install Debian's tsung package (apt-get install tsung)`);
  });
  const given = opts.hosts && opts.hosts.length > 0;
  const hosts: TsungHost[] = given ? await resolveHosts(opts.hosts!) : [{ name: CONTROLLER_IP, ip: CONTROLLER_IP }];
  const nodesPerHost = opts.nodesPerHost ?? (given ? 1 : 2);
  const id = `xfed${randomBytes(4).toString('hex')}`;
  // A directory per run: Tsung names its log directory by the minute, so two runs in one minute would share it.
  const dir = join(plan.workDir, 'tsung', id);
  await mkdir(dir, { recursive: true });
  const files = { users: join(dir, 'users.csv'), scenario: join(dir, 'tsung.xml'), rsh: join(dir, 'rsh.sh'), logs: join(dir, 'log') };
  await writeFile(files.users, renderUsers(plan));
  await writeFile(files.scenario, renderScenario(plan, { hosts: hosts.map((h) => h.name), nodesPerHost, usersPath: files.users }));
  await writeFile(files.rsh, remoteShell(hosts));
  await chmod(files.rsh, 0o755);

  const started: Array<() => Promise<void>> = [];
  const sampler = new NodeSampler(dir);
  const notices: string[] = [];
  const notice = (text: string) => {
    notices.push(text);
    events.notice?.(text);
  };
  try {
    // A private epmd on loopback addresses only, so the run's nodes meet nobody else's and leave nothing behind.
    const epmdPort = await freePort();
    const ips = [...new Set([CONTROLLER_IP, ...hosts.map((h) => h.ip)])];
    const env = { ...process.env, HOME: dir, ERL_EPMD_PORT: String(epmdPort), [OWNER_ENV]: thisOwner().owner };
    const epmd = spawn('epmd', ['-port', String(epmdPort), '-address', ips.join(',')], { env, stdio: 'ignore' });
    // A missing epmd shows as its exit below.
    epmd.on('error', () => undefined);
    started.push(stopper(epmd, 'epmd'));
    await pollUntil(() => (epmd.exitCode !== null ? null : accepts(epmdPort)), { timeoutMs: 10_000, intervalMs: 20, what: `epmd on port ${epmdPort}` }).then(
      (ok) => {
        if (ok === null) throw new EnvironmentError("epmd (Erlang) could not start: install Debian's tsung package, which brings it (apt-get install tsung)");
      },
    );

    // Tsung's plugin counts only the first echo of each chunk it reads; the nodes load one that counts them all (plugin.ts):
    // ERL_ZFLAGS ends erl's command line, so its -pa comes first in the code path, and the controller gives its -pa to the client nodes.
    const plugin = await jabberPluginCountingEvery(join(plan.workDir, 'tsung', 'plugin'));
    if (!plugin) notice(UNDERCOUNT);
    const output: string[] = [];
    const child = spawn(tsung, ['-I', CONTROLLER_IP, '-n', '-i', id, '-l', files.logs, '-r', files.rsh, '-f', files.scenario, 'start'], {
      // Where a crashing node writes its erl_crash.dump: with the run's files.
      cwd: dir,
      env: {
        ...env,
        ERL_ZFLAGS: `-kernel inet_dist_use_interface {${CONTROLLER_IP.split('.').join(',')}} -tsung_controller dumpstats_interval ${DUMP_INTERVAL_MS}${plugin ? ` -pa ${plugin}` : ''}`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const failedToStart = new Promise<Error>((resolve) => child.once('error', resolve));
    started.push(stopper(child, 'tsung', sampler));
    const onLine = (chunk: Buffer) =>
      output.push(
        ...chunk
          .toString('utf8')
          .split('\n')
          .filter((l) => l.trim() !== ''),
      );
    child.stdout.on('data', onLine);
    child.stderr.on('data', onLine);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

    const p = plan.profile;
    const boundMs = p.rampMs + p.durationMs + p.graceMs + 120_000;
    const live = new LiveView(plan, events, notice, sampler);
    const logDir = () => output.map((l) => /^Log directory is: (.+)$/.exec(l.trim())?.[1]).find((d) => d !== undefined);
    const tick = setInterval(() => {
      sampler.sample().catch(() => undefined);
      const d = logDir();
      if (d) live.read(join(d, 'tsung.log')).catch(() => undefined);
    }, DUMP_INTERVAL_MS);
    let code: number | null;
    let aborted = false;
    try {
      let timer: NodeJS.Timeout | undefined;
      let onAbort: (() => void) | undefined;
      code = await new Promise<number | null>((resolve, reject) => {
        timer = setTimeout(() => {
          notice(`Tsung ran past its bound of ${Math.round(boundMs / 1000)} s and was stopped`);
          resolve(null);
        }, boundMs);
        onAbort = () => {
          aborted = true;
          resolve(null);
        };
        signal.addEventListener('abort', onAbort, { once: true });
        if (signal.aborted) onAbort();
        void exited.then(resolve);
        void failedToStart.then((err) => reject(new EnvironmentError(`${tsung} could not start: ${err.message}`)));
      }).finally(() => {
        clearTimeout(timer);
        if (onAbort) signal.removeEventListener('abort', onAbort);
      });
    } finally {
      clearInterval(tick);
    }
    await sampler.sample();
    const d = logDir();
    const logText = d ? await readFile(join(d, 'tsung.log'), 'utf8').catch(() => '') : '';
    const dumps = parseTsungLog(logText);
    if (code !== null && (code !== 0 || dumps.length === 0)) throw new EnvironmentError(`tsung failed (exit ${code}): ${await whyTsungFailed(output, d)}`);
    if (code === null && !aborted && dumps.length === 0) throw new EnvironmentError(`tsung did not start: ${await whyTsungFailed(output, d)}`);
    if (aborted) notice('stopped early: the figures are those of the part that ran');
    const fullstats = d ? await readFile(join(d, 'tsung-fullstats.log'), 'utf8').catch(() => '') : '';
    await live.read(undefined, dumps);
    return resultOf(plan, dumps, fullstats, sampler, live, [...notices, ...CANNOT]);
  } finally {
    for (const stop of started.reverse()) await stop().catch(() => undefined);
    await sampler.killLeftovers();
  }
}

/** Whether something accepts on this loopback port now. */
function accepts(port: number): Promise<true | undefined> {
  return new Promise((resolve) => {
    const s = connect({ host: CONTROLLER_IP, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(undefined));
  });
}

/** Stops a child (its whole process group when it leads one) and waits for it, bounded. */
function stopper(child: ChildProcess, what: string, sampler?: NodeSampler): () => Promise<void> {
  const forget = child.pid ? recordProcess(child.pid, what) : () => undefined;
  return async () => {
    if (child.exitCode === null && child.signalCode === null && child.pid) {
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      const kill = (sig: NodeJS.Signals) => {
        try {
          process.kill(-child.pid!, sig);
        } catch {
          child.kill(sig);
        }
      };
      kill('SIGTERM');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 3_000).unref())]);
      if (child.exitCode === null && child.signalCode === null) kill('SIGKILL');
    }
    await sampler?.killLeftovers();
    forget();
  };
}

/** The line of Tsung's output or controller log that says why it failed. */
async function whyTsungFailed(output: readonly string[], logDir: string | undefined): Promise<string> {
  const telling = (l: string) => /error|abort|can't|cannot|fail|crash/i.test(l);
  const fromOutput = output.find(telling);
  if (fromOutput) return fromOutput.trim();
  if (logDir) {
    for (const f of (await readdir(logDir).catch(() => [] as string[])).filter((n) => n.startsWith('tsung_controller'))) {
      const lines = (await readFile(join(logDir, f), 'utf8').catch(() => '')).split('\n');
      const i = lines.findIndex(telling);
      if (i >= 0) return [lines[i], lines[i + 1]].filter(Boolean).join(' ').replace(/\s+/g, ' ').trim();
    }
  }
  return output.at(-1)?.trim() ?? 'no output';
}

/** CPU and peak memory of the run's Erlang processes, from /proc, once a second. */
class NodeSampler {
  private readonly ticks = new Map<number, number>();
  peakRss = 0;
  peakBeams = 0;
  private lastRss = 0;
  constructor(private readonly home: string) {}

  async sample(): Promise<void> {
    // The Erlang VMs only: epmd and the tsung script are not the generator.
    const ps = (await tsungProcesses(this.home)).filter((p) => p.beam);
    for (const p of ps) this.ticks.set(p.pid, Math.max(this.ticks.get(p.pid) ?? 0, p.cpuTicks));
    this.lastRss = ps.reduce((a, p) => a + p.rssBytes, 0);
    this.peakRss = Math.max(this.peakRss, this.lastRss);
    this.peakBeams = Math.max(this.peakBeams, ps.length);
  }

  get rssNow(): number {
    return this.lastRss;
  }

  get cpuSeconds(): number {
    return [...this.ticks.values()].reduce((a, t) => a + t, 0) / TICKS_PER_SECOND;
  }

  /** Client nodes are started detached, outside the controller's process group: whatever is left goes now. */
  async killLeftovers(): Promise<void> {
    const kill = async () => {
      const left = await tsungProcesses(this.home);
      for (const p of left) {
        try {
          process.kill(p.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      return left.length === 0 ? true : undefined;
    };
    await pollUntil(kill, { timeoutMs: 5_000, intervalMs: 50, what: "the Tsung run's processes to end" }).catch(() => undefined);
  }
}

/** Tsung's dumps as they come: the live seconds, the steady signal, the restart under load. */
class LiveView {
  private seen = 0;
  private firstLoginAt: number | undefined;
  private steadyAt: number | undefined;
  readonly series: LoadSecond[] = [];
  rssAllOnline: number | undefined;

  constructor(
    private readonly plan: LoadPlan,
    private readonly events: EngineEvents,
    private readonly notice: (text: string) => void,
    private readonly sampler: NodeSampler,
  ) {}

  async read(path: string | undefined, dumps?: TsungDump[]): Promise<void> {
    const all = dumps ?? parseTsungLog(await readFile(path!, 'utf8'));
    // The last dump of a file being written may be incomplete: it is read again next time.
    const complete = dumps ? all.length : all.length - 1;
    for (; this.seen < complete; this.seen++) this.add(all[this.seen]!);
  }

  private add(d: TsungDump): void {
    const count = (name: string) => d.samples.get(name)?.count ?? d.counters.get(name)?.count ?? 0;
    const logins = count('xfed_login');
    if (this.firstLoginAt === undefined && logins === 0) return;
    this.firstLoginAt ??= d.at - 1;
    const sent = count('tr_im');
    const latency = d.samples.get('xmpp_msg_latency');
    const errors = [...d.counters].filter(([k]) => k.startsWith('error_') || k === 'timeout').reduce((a, [, v]) => a + v.count, 0);
    const prev = this.series.at(-1);
    const s: LoadSecond = {
      t: d.at - this.firstLoginAt,
      online: Math.max(0, d.users),
      logins,
      sent,
      delivered: latency?.count ?? 0,
      errors,
      p50: latency && latency.count > 0 ? latency.mean : 0,
      p99: 0,
      max: 0,
    };
    if (prev && prev.t === s.t) return;
    this.series.push(s);
    this.events.second?.(s);
    if (this.steadyAt === undefined && (sent > 0 || count('tr_presence') > 0)) {
      this.steadyAt = d.at;
      this.rssAllOnline = this.sampler.rssNow;
      this.events.steady?.();
      const restart = this.plan.profile.restart;
      if (restart && this.events.restart) {
        const timer = setTimeout(() => {
          this.events.restart!(restart.what).catch((err: Error) => this.notice(`the ${restart.what} restart failed: ${err.message}`));
        }, restart.atMs);
        timer.unref();
        this.notice(
          `the ${restart.what} restarts ${restart.atMs} ms into the IMs; Tsung cannot tell when each subscription is back, so there are no storm figures`,
        );
      }
    }
  }
}

function resultOf(plan: LoadPlan, dumps: TsungDump[], fullstats: string, sampler: NodeSampler, live: LiveView, notices: string[]): EngineResult {
  const p = plan.profile;
  const { samples, counters } = totalsOf(dumps);
  const full = samplesOf(fullstats, ['xfed_login', 'xfed_subscribe', 'xmpp_msg_latency', 'xfed_send_lag']);
  const partial = new Set<string>();
  const stats = (name: string) => {
    const h = full.get(name);
    const tsungCount = samples.get(name)?.totalCount ?? 0;
    if (h && h.count > 0 && h.count >= tsungCount) return h.stats();
    if (tsungCount > 0) partial.add(name);
    return latencyFromSample(samples.get(name));
  };
  const total = (name: string) => samples.get(name)?.totalCount ?? counters.get(name) ?? 0;
  const attempted = Math.min(plan.users.length, counters.get('users_count') ?? plan.users.length);
  const loggedIn = total('xfed_login');
  const notAuthorized = Math.min(counters.get('match') ?? 0, attempted - loggedIn);
  const failed: Record<string, number> = {};
  if (notAuthorized > 0) failed['not-authorized'] = notAuthorized;
  let rest = attempted - loggedIn - notAuthorized;
  for (const [k, v] of counters) {
    if (rest <= 0) break;
    if (!(k.startsWith('error_') || k === 'timeout') || v === 0) continue;
    const n = Math.min(v, rest);
    failed[k.replace(/^error_/, '')] = n;
    rest -= n;
  }
  if (rest > 0) failed['unknown'] = rest;
  const loginSeconds = live.series.filter((s) => s.logins > 0);
  const loginSpan = loginSeconds.length > 0 ? loginSeconds.at(-1)!.t - loginSeconds[0]!.t + 1 : 1;
  const scheduled = schedules(plan).reduce((a, s) => a + s.filter((e) => e.kind === 'm').length, 0);
  const sent = total('tr_im');
  const delivered = total('xmpp_msg_latency');
  const durationS = Math.max(p.durationMs, 1) / 1000;
  const subscribed = total('xfed_subscribe');
  const subscribeFailed = loggedIn - subscribed;
  const rateAchieved = sent / durationS;
  if (sent < scheduled) notices.unshift(`Tsung sent ${sent} of ${scheduled} scheduled IMs (${rateAchieved.toFixed(1)}/s of ${p.rate}/s)`);
  const result: EngineResult = {
    engine: 'tsung',
    logins: { attempted, succeeded: loggedIn, failed, time: stats('xfed_login'), rateAchieved: loggedIn / loginSpan },
    ...(p.subscribe
      ? {
          subscriptions: {
            attempted: loggedIn,
            succeeded: subscribed,
            failed: subscribeFailed > 0 ? { timeout: subscribeFailed } : {},
            time: stats('xfed_subscribe'),
          },
        }
      : {}),
    messages: {
      scheduled,
      sent,
      delivered,
      lost: Math.max(0, sent - delivered),
      duplicates: 0,
      reordered: 0,
      errors: {},
      rateTarget: p.rate,
      rateAchieved,
      throughput: delivered / durationS,
      roundTrip: stats('xmpp_msg_latency'),
      sendLag: stats('xfed_send_lag'),
    },
    presence: { sent: total('tr_presence'), errors: 0 },
    series: live.series,
    generator: {
      cpuSeconds: sampler.cpuSeconds,
      peakRssBytes: sampler.peakRss,
      ...(live.rssAllOnline !== undefined ? { rssAllOnlineBytes: live.rssAllOnline } : {}),
      processes: sampler.peakBeams,
    },
    notices,
  };
  if (partial.size > 0)
    notices.unshift(`Tsung's full statistics were cut short (${[...partial].join(', ')}): those figures are Tsung's mean, min and max, without percentiles`);
  return result;
}
