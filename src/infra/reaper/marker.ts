import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { projectRoot } from '../project-root.js';
import { identify, isRunning, ownerId, type ProcessIdentity } from './liveness.js';

/**
 * The owner marker: one small JSON file per xfed process that starts something (a CLI run, a Jest
 * worker using the API), listing what it started as it starts it. When that process is gone
 * without having released everything, the marker says what to remove: its watchdog reads it at
 * once, the next xfed process and `xfed clean` later (docs/architecture.md, "Hard kills").
 */
export interface OwnerMarker {
  format: 'xfed-owner/1';
  owner: ProcessIdentity;
  /** What the owner was running (its command line), for `xfed clean`'s listing. */
  command: string;
  createdAt: string;
  /** Processes it started: Prosody instances by their label, hook commands as `hook: <command>`. */
  processes: Array<ProcessIdentity & { label: string }>;
  /** Temp directories (work directories of servers). */
  dirs: string[];
  /** Names of containers and networks about to be created or created (labelled org.xfed.run too). */
  docker: string[];
  /** results.json files of runs still going. */
  results: string[];
  /** The watchdog started for this process (absent with XFED_NO_WATCHDOG=1). */
  watchdog?: ProcessIdentity;
}

/** Marks the processes xfed starts (Prosody, hook commands and their children): the run that started one is in its environment (found without a marker). */
export const OWNER_ENV = 'XFED_OWNER_RUN';
/** Docker labels of containers and networks: the owner id, and the owner's PID for people reading `docker ps`. */
export const RUN_LABEL = 'org.xfed.run';
const OWNER_PID_LABEL = 'org.xfed.owner-pid';

/**
 * Where markers live: `XFED_STATE_DIR`, else a per-user directory in the temp dir that CI's
 * `$TMPDIR/xfed-*` leftover check does not match (it holds state, not leftovers), and that a
 * reboot empties along with the processes it names.
 */
function stateDir(): string {
  return process.env.XFED_STATE_DIR ?? path.join(os.tmpdir(), `.xfed-owners-${process.getuid?.() ?? 'user'}`);
}

function markerFile(owner: string): string {
  return path.join(stateDir(), `${owner}.json`);
}

/** Every marker in the state dir (unreadable or half-written ones are skipped). */
export function listMarkers(): Array<{ file: string; marker: OwnerMarker }> {
  let names: string[];
  try {
    names = readdirSync(stateDir()).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  const out: Array<{ file: string; marker: OwnerMarker }> = [];
  for (const name of names) {
    const file = path.join(stateDir(), name);
    const marker = readMarker(file);
    if (marker) out.push({ file, marker });
  }
  return out;
}

export function readMarker(file: string): OwnerMarker | undefined {
  try {
    const marker = JSON.parse(readFileSync(file, 'utf8')) as OwnerMarker;
    return marker.format === 'xfed-owner/1' ? marker : undefined;
  } catch {
    return undefined;
  }
}

/** Written whole or not at all (rename), synchronously: the record must exist before the thing does. */
function writeMarker(file: string, marker: OwnerMarker): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(marker));
  renameSync(tmp, file);
}

let self: { id: ProcessIdentity; owner: string } | undefined;
/** This process's identity and owner id (`<pid>.<start time>`). */
export function thisOwner(): { id: ProcessIdentity; owner: string } {
  if (!self) {
    const id = identify(process.pid)!;
    self = { id, owner: ownerId(id) };
  }
  return self;
}

/** The labels every container and network of this process carries. */
export function ownerLabels(): Record<string, string> {
  return { [RUN_LABEL]: thisOwner().owner, [OWNER_PID_LABEL]: String(process.pid) };
}

/**
 * The marker of this process: the file is the state, read and written whole at every change, so
 * that every copy of this module in the process agrees (a test runner such as Jest loads xfed's
 * modules afresh for each test file). Created with the watchdog at the first record; a later copy
 * of the module finds the file and its running watchdog and starts no second one.
 */
function ownMarker(): { file: string; marker: OwnerMarker } {
  const { id, owner } = thisOwner();
  const file = markerFile(owner);
  const existing = readMarker(file);
  // Another copy of this module made it: kept while its watchdog runs (or none was wanted).
  if (existing && (existing.watchdog === undefined || isRunning(existing.watchdog))) return { file, marker: existing };
  const marker: OwnerMarker = {
    format: 'xfed-owner/1',
    owner: id,
    // The program and its command only: the arguments may carry values (`--var NAME=VALUE`).
    command: process.argv
      .slice(0, 3)
      .map((a) => path.basename(a))
      .join(' '),
    createdAt: new Date().toISOString(),
    processes: existing?.processes ?? [],
    dirs: existing?.dirs ?? [],
    docker: existing?.docker ?? [],
    results: [...(existing?.results ?? []), ...waitingResults],
  };
  waitingResults.clear();
  const watchdog = startWatchdog(file);
  if (watchdog) marker.watchdog = watchdog;
  writeMarker(file, marker);
  // Everything released: nothing for the watchdog, which finds no marker and ends. Otherwise the
  // marker stays and the watchdog removes what is listed once this process is gone.
  process.on('exit', () => {
    const m = readMarker(file);
    if (m && m.processes.length + m.dirs.length + m.docker.length + m.results.length === 0) rmSync(file, { force: true });
  });
  return { file, marker };
}

type Lists = Pick<OwnerMarker, 'processes' | 'dirs' | 'docker' | 'results'>;

function change<K extends keyof Lists>(list: K, edit: (entries: string[]) => void): void {
  const own = ownMarker();
  const entries = own.marker[list].map((e) => JSON.stringify(e));
  edit(entries);
  own.marker[list] = entries.map((e) => JSON.parse(e) as Lists[K][number]) as OwnerMarker[K];
  writeMarker(own.file, own.marker);
}

function record<K extends keyof Lists>(list: K, entry: Lists[K][number]): () => void {
  const key = JSON.stringify(entry);
  change(list, (entries) => entries.push(key));
  let forgotten = false;
  return () => {
    if (forgotten) return;
    forgotten = true;
    change(list, (entries) => {
      const i = entries.indexOf(key);
      if (i >= 0) entries.splice(i, 1);
    });
  };
}

/**
 * Records a process this process started (a Prosody, a suite's hook command); returns a function
 * that forgets it once it is stopped. One already gone is not recorded: its PID alone could name another process later.
 */
export function recordProcess(pid: number, label: string): () => void {
  const id = identify(pid);
  return id ? record('processes', { ...id, label }) : () => undefined;
}

export function recordDir(dir: string): () => void {
  return record('dirs', dir);
}

/** Records a container or network by name before it is created, so a kill during its creation is covered. */
export function recordDocker(name: string): () => void {
  return record('docker', name);
}

/** Results files waiting for this process's first resource: a file alone is no reason for a watchdog. */
const waitingResults = new Set<string>();

/**
 * Records a results.json while its run goes. Alone it starts no marker (a reporter in a unit test
 * starts nothing): it joins the marker when the run starts its first resource.
 */
export function recordResults(file: string): () => void {
  const entry = path.resolve(file);
  if (readMarker(markerFile(thisOwner().owner))) return record('results', entry);
  waitingResults.add(entry);
  return () => {
    if (waitingResults.delete(entry)) return;
    change('results', (entries) => {
      const i = entries.indexOf(JSON.stringify(entry));
      if (i >= 0) entries.splice(i, 1);
    });
  };
}

/**
 * The watchdog runs from dist (`watchdog.js` beside this file) or from sources (`watchdog.ts`
 * through tsx, which a clone has and a built package does not need).
 */
function watchdogCommand(): { args: string[]; cwd: string } {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const js = path.join(here, 'watchdog.js');
  if (existsSync(js)) return { args: [js], cwd: os.tmpdir() };
  // `--import tsx` resolves from the working directory: the package root holds node_modules/tsx.
  return { args: ['--import', 'tsx', path.join(here, 'watchdog.ts')], cwd: projectRoot() };
}

/**
 * A detached process holding the read end of a pipe from this one: the kernel closes the pipe
 * however this process ends (SIGKILL, OOM kill), and the watchdog then reaps what the marker
 * lists. Detached, so a Ctrl-C to the terminal's process group leaves it to finish its work;
 * unreferenced, so it never keeps this process alive.
 */
function startWatchdog(file: string): ProcessIdentity | undefined {
  if (process.env.XFED_NO_WATCHDOG === '1') return undefined;
  const { args, cwd } = watchdogCommand();
  const child = spawn(process.execPath, [...args, file], { detached: true, stdio: ['pipe', 'ignore', 'ignore'], cwd });
  child.on('error', () => undefined);
  child.stdin!.on('error', () => undefined);
  child.unref();
  // An active handle is never collected: the pipe stays open as long as this process lives.
  (child.stdin as unknown as Socket).unref();
  return child.pid !== undefined ? identify(child.pid) : undefined;
}
