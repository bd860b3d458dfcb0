import { readFileSync } from 'node:fs';

/**
 * A process as the kernel knows it: its PID plus the time it started (clock ticks after boot,
 * field 22 of /proc/<pid>/stat, proc(5)) and the boot it belongs to. A PID alone is reused; the
 * triple is not, so a leftover recorded as "PID 4711" is never mistaken for a newer process.
 */
export interface ProcessIdentity {
  pid: number;
  /** Clock ticks after boot; 0 where /proc is missing (then only the PID is checked). */
  startTime: number;
  bootId?: string;
}

interface ProcStat {
  startTime: number;
  /** One letter of proc(5): Z (zombie) and X (dead) have exited already. */
  state: string;
}

/** The stat of a running PID, or undefined when there is none (or no /proc). */
function procStat(pid: number): ProcStat | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces and ')': split after the last one.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0]!, startTime: Number(fields[19]) };
  } catch {
    return undefined;
  }
}

const HAS_PROC = procStat(process.pid) !== undefined;

let cachedBootId: string | undefined;
function currentBootId(): string | undefined {
  if (!HAS_PROC) return undefined;
  cachedBootId ??= readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  return cachedBootId;
}

/** The identity of a running process, or undefined when it is gone. */
export function identify(pid: number): ProcessIdentity | undefined {
  if (!HAS_PROC) return pidExists(pid) ? { pid, startTime: 0 } : undefined;
  const stat = procStat(pid);
  if (!stat || stat.state === 'Z' || stat.state === 'X') return undefined;
  return { pid, startTime: stat.startTime, bootId: currentBootId()! };
}

/**
 * Whether the process of `id` still runs: same PID, same start time, same boot. A zombie counts
 * as gone: after `kill -9` the PID stays until its parent reaps it, and the run is over by then.
 */
export function isRunning(id: ProcessIdentity): boolean {
  const now = identify(id.pid);
  if (!now) return false;
  if (id.bootId && now.bootId && id.bootId !== now.bootId) return false;
  return !HAS_PROC || id.startTime === 0 || now.startTime === id.startTime;
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** `<pid>.<start time>`: names one process for ever (labels, directory names, marker files). */
export function ownerId(id: ProcessIdentity): string {
  return `${id.pid}.${id.startTime}`;
}

/** The identity an owner id names (its boot is the current one: ids carry none). */
export function parseOwnerId(text: string): ProcessIdentity | undefined {
  const m = /^(\d+)\.(\d+)$/.exec(text);
  return m ? { pid: Number(m[1]), startTime: Number(m[2]) } : undefined;
}
