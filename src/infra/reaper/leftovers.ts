import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pollUntil } from '../deadline.js';
import { identify, isRunning, parseOwnerId, type ProcessIdentity } from './liveness.js';
import { listMarkers, OWNER_ENV, RUN_LABEL, type OwnerMarker } from './marker.js';

/**
 * What a dead xfed process left behind, found from its marker and, without one, from what carries
 * its owner id: Prosody's environment, Docker labels, work directory names. Only owners that are
 * gone count; a live run's things are never listed.
 */
export interface Leftover {
  kind: 'process' | 'container' | 'network' | 'directory' | 'results' | 'marker';
  /** What it is, one line: `process 4711 (prosody partner.test)`. */
  what: string;
  /** The owner id (`<pid>.<start>`) of the run that left it. */
  owner: string;
}

interface Found extends Leftover {
  remove(): Promise<void>;
}

export interface Sweep {
  /** Only this owner's leftovers (the watchdog of one run); all dead owners' when absent. */
  owner?: string;
  /** Not this owner's (a watchdog's sweep at start leaves its own run to itself). */
  except?: string;
  /**
   * When to ask Docker: `always` (`xfed clean`), or `if-recorded` (a sweep at start: only when a
   * dead owner's marker names containers or networks).
   */
  docker: 'always' | 'if-recorded';
  /** Who marks a killed run's results, for its `reason`. */
  by: string;
}

export interface SweepReport {
  leftovers: Leftover[];
  /** Why Docker could not be asked, one line, when it could not. */
  dockerProblem?: string;
}

/** Finds the leftovers of dead owners; `remove` (default true) removes them, in an order that works. */
export async function sweepLeftovers(opts: Sweep & { remove?: boolean }): Promise<SweepReport> {
  const deadOwner = ownerFilter(opts.owner, opts.except);
  const markers = listMarkers().filter(({ marker }) => deadOwner(`${marker.owner.pid}.${marker.owner.startTime}`, marker.owner));
  const found: Found[] = [...processes(markers, deadOwner)];
  let dockerProblem: string | undefined;
  if (opts.docker === 'always' || markers.some(({ marker }) => marker.docker.length > 0)) {
    try {
      found.push(...(await dockerLeftovers(deadOwner)));
    } catch (err) {
      dockerProblem = (err as Error).message;
    }
  }
  found.push(...directories(markers, deadOwner), ...(await runningResults(markers, opts.by)));
  for (const { file, marker } of markers) {
    found.push({
      kind: 'marker',
      what: `marker ${file}`,
      owner: `${marker.owner.pid}.${marker.owner.startTime}`,
      remove: async () => rmSync(file, { force: true }),
    });
  }
  if (opts.remove !== false) {
    // In order: processes before the directories they write to, containers before their network,
    // the marker last so an interrupted sweep is taken up again.
    for (const kind of ['process', 'container', 'network', 'directory', 'results', 'marker'] as const) {
      await Promise.all(found.filter((f) => f.kind === kind).map((f) => f.remove().catch(() => undefined)));
    }
  }
  return { leftovers: found.map(({ kind, what, owner }) => ({ kind, what, owner })), ...(dockerProblem ? { dockerProblem } : {}) };
}

type OwnerFilter = (owner: string, id?: ProcessIdentity) => boolean;

function ownerFilter(only: string | undefined, except: string | undefined): OwnerFilter {
  const verdicts = new Map<string, boolean>();
  return (owner, id) => {
    if ((only !== undefined && owner !== only) || owner === except) return false;
    let dead = verdicts.get(owner);
    if (dead === undefined) {
      const identity = id ?? parseOwnerId(owner);
      dead = identity !== undefined && !isRunning(identity);
      verdicts.set(owner, dead);
    }
    return dead;
  };
}

type MarkerEntry = { file: string; marker: OwnerMarker };

/** Processes of dead owners (Prosody, hook commands): the marker's, verified by start time, and any with the owner's id in its environment. */
function* processes(markers: MarkerEntry[], deadOwner: OwnerFilter): Generator<Found> {
  const seen = new Set<number>();
  for (const { marker } of markers) {
    for (const p of marker.processes) {
      if (!isRunning(p)) continue;
      seen.add(p.pid);
      yield killProcess(p, p.label.startsWith('hook: ') ? p.label : `prosody ${p.label}`, `${marker.owner.pid}.${marker.owner.startTime}`);
    }
  }
  for (const { pid, owner } of processesWithOwnerEnv()) {
    if (seen.has(pid) || !deadOwner(owner)) continue;
    const id = identify(pid);
    if (id) yield killProcess(id, readCommand(pid), owner);
  }
}

function killProcess(id: ProcessIdentity, command: string, owner: string): Found {
  return {
    kind: 'process',
    what: `process ${id.pid} (${command})`,
    owner,
    remove: async () => {
      // The start time is checked again right before the signal: never a reused PID, and never a
      // process whose start time is unknown (no /proc).
      if (id.startTime === 0 || !isRunning(id)) return;
      process.kill(id.pid, 'SIGKILL');
      await pollUntil(() => (isRunning(id) ? undefined : true), { timeoutMs: 5_000, intervalMs: 20, what: `process ${id.pid} to end` });
    },
  };
}

/** Processes of this user whose environment names an xfed owner (started by xfed, or by what xfed started). */
function processesWithOwnerEnv(): Array<{ pid: number; owner: string }> {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((n) => /^\d+$/.test(n));
  } catch {
    return [];
  }
  const out: Array<{ pid: number; owner: string }> = [];
  const key = `${OWNER_ENV}=`;
  const ownPidNamespace = pidNamespace('self');
  for (const pid of pids) {
    let environ: string;
    try {
      environ = readFileSync(`/proc/${pid}/environ`, 'latin1');
    } catch {
      continue; // another user's process, or gone
    }
    const entry = environ.split('\0').find((e) => e.startsWith(key));
    // An xfed in a container (xfed's own image) names its owner by a PID of its own namespace,
    // which means nothing here: its processes are never judged from outside.
    if (entry && pidNamespace(pid) === ownPidNamespace) out.push({ pid: Number(pid), owner: entry.slice(key.length) });
  }
  return out;
}

/** The PID namespace of a process (`pid:[4026531836]`), or undefined when it is gone or not readable. */
function pidNamespace(pid: string): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return undefined;
  }
}

function readCommand(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).slice(0, 4).join(' ');
  } catch {
    return 'gone';
  }
}

const DOCKER_TIMEOUT_MS = 30_000;

function docker(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('docker', args, { env: process.env, timeout: DOCKER_TIMEOUT_MS, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'the docker command is not installed' : (stderr.trim().split('\n')[0] ?? err.message);
      reject(new Error(why || err.message));
    });
  });
}

/** Containers labelled with a dead owner's id, and networks named after one (`xfed-<owner>-<random>`). */
async function dockerLeftovers(deadOwner: OwnerFilter): Promise<Found[]> {
  const [containers, networks] = await Promise.all([
    docker(['ps', '-a', '--filter', `label=${RUN_LABEL}`, '--format', `{{.ID}}\t{{.Names}}\t{{.Label "${RUN_LABEL}"}}`]),
    docker(['network', 'ls', '--filter', 'name=xfed-', '--format', '{{.ID}}\t{{.Name}}']),
  ]);
  const rows = (text: string) =>
    text
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split('\t') as [string, string, string?]);
  const found: Found[] = [];
  for (const [id, name, owner] of rows(containers)) {
    if (owner && deadOwner(owner)) {
      found.push({ kind: 'container', what: `container ${name}`, owner, remove: () => docker(['rm', '-f', '-v', id]).then(() => undefined) });
    }
  }
  for (const [id, name] of rows(networks)) {
    const owner = /^xfed-(\d+\.\d+)-[0-9a-f]{8}$/.exec(name)?.[1];
    if (owner && deadOwner(owner)) {
      found.push({ kind: 'network', what: `network ${name}`, owner, remove: () => docker(['network', 'rm', id]).then(() => undefined) });
    }
  }
  return found;
}

/** Work directories: those a dead owner's marker lists, and `xfed-<name>-<owner>-XXXXXX` ones of a dead owner. */
function directories(markers: MarkerEntry[], deadOwner: OwnerFilter): Found[] {
  const dirs = new Map<string, string>();
  for (const { marker } of markers) {
    for (const dir of marker.dirs) if (existsSync(dir)) dirs.set(dir, `${marker.owner.pid}.${marker.owner.startTime}`);
  }
  let names: string[] = [];
  try {
    names = readdirSync(os.tmpdir());
  } catch {
    // no temp dir to look into
  }
  for (const name of names) {
    const owner = /^xfed-.+-(\d+\.\d+)-[A-Za-z0-9]{6}$/.exec(name)?.[1];
    if (owner && deadOwner(owner)) dirs.set(path.join(os.tmpdir(), name), owner);
  }
  return [...dirs].map(([dir, owner]) => ({
    kind: 'directory',
    what: `directory ${dir}`,
    owner,
    remove: async () => rmSync(dir, { recursive: true, force: true }),
  }));
}

async function runningResults(markers: MarkerEntry[], by: string): Promise<Found[]> {
  const out: Found[] = [];
  for (const { marker } of markers) {
    const owner = `${marker.owner.pid}.${marker.owner.startTime}`;
    for (const file of marker.results) {
      if ((await resultsStatus(file)) !== 'running') continue;
      const reason = `the xfed process (pid ${marker.owner.pid}) ended without finishing the run (killed, out of memory, or crashed); marked by ${by}`;
      out.push({ kind: 'results', what: `results ${file} (running -> killed)`, owner, remove: () => markResultsKilled(file, reason).then(() => undefined) });
    }
  }
  return out;
}

async function resultsStatus(file: string): Promise<string | undefined> {
  try {
    return (JSON.parse(await readFile(file, 'utf8')) as { status?: string }).status;
  } catch {
    return undefined;
  }
}

/**
 * Marks a results.json (report/results.ts) `status: "killed"` with a reason, if it still says
 * `running`; written whole or not at all. The rest of the file is what the run had measured.
 */
export async function markResultsKilled(file: string, reason: string): Promise<boolean> {
  let results: { status?: string; reason?: string };
  try {
    results = JSON.parse(await readFile(file, 'utf8')) as typeof results;
  } catch {
    return false;
  }
  if (results.status !== 'running') return false;
  results.status = 'killed';
  results.reason = reason;
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(results, null, 2));
  await rename(tmp, file);
  return true;
}
