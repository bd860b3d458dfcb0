import { readFileSync } from 'node:fs';
import { InputError } from '../errors.js';

/**
 * File descriptors besides the users' connections: node's and Prosody's own (modules, logs,
 * S2S streams, the SIP side, the test DNS).
 */
const SPARE_FDS = 256;

/** The soft and hard RLIMIT_NOFILE from /proc/<pid>/limits text; Infinity for `unlimited`. */
export function openFilesLimit(limitsText: string): { soft: number; hard: number } | undefined {
  const line = limitsText.split('\n').find((l) => l.startsWith('Max open files'));
  const m = line && /^Max open files\s+(\S+)\s+(\S+)/.exec(line);
  if (!m) return undefined;
  const value = (v: string) => (v === 'unlimited' ? Infinity : Number(v));
  return { soft: value(m[1]!), hard: value(m[2]!) };
}

/** How many open files a load run of this many users needs in each of the generator and the partner Prosody. */
export function openFilesNeeded(users: number): number {
  return users + SPARE_FDS;
}

/**
 * N users hold N connections in the generator and N in the partner Prosody, which inherits xfed's
 * limits in the process runtime: a soft limit below that would fail logins midway with EMFILE, so
 * it is said before anything starts, with the fix. Where /proc is not there, nothing is checked.
 */
export function checkOpenFiles(users: number, limitsText: string | undefined = readLimits()): void {
  const limit = limitsText === undefined ? undefined : openFilesLimit(limitsText);
  const need = openFilesNeeded(users);
  if (!limit || limit.soft >= need) return;
  const raise = Math.max(4096, 2 ** Math.ceil(Math.log2(need)));
  const hard = limit.hard < raise ? ` (its hard limit is ${limit.hard}: raise that first, as root)` : '';
  throw new InputError(
    `the open files limit (RLIMIT_NOFILE) is ${limit.soft}, and ${users} users need at least ${need} (their connections in the load generator and in the partner Prosody, which inherits the limit)${hard}: run \`ulimit -n ${raise}\` before xfed, set LimitNOFILE=${raise} in a systemd unit, or give a container --ulimit nofile=${raise}:${raise}`,
  );
}

function readLimits(): string | undefined {
  try {
    return readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return undefined;
  }
}
