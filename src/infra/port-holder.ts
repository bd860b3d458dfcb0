import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import path from 'node:path';

/**
 * Who listens on a TCP port of this machine, as Linux's /proc tells it: `prosody (pid 4242)`.
 * Undefined where it cannot tell (another OS, another user's process, a port held in another
 * network namespace such as a container's).
 */
export function holderOfPort(port: number): string | undefined {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address is HEXIP:HEXPORT; state 0A is LISTEN; the inode is the 10th field.
      if (f.length > 9 && f[3] === '0A' && Number.parseInt(f[1]!.split(':')[1]!, 16) === port) inodes.add(f[9]!);
    }
  }
  if (inodes.size === 0) return undefined;
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return undefined;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode && inodes.has(inode)) {
        // The executable's name: `comm` can be a thread's name instead (Node 24 calls it MainThread).
        const name = (() => {
          try {
            return path.basename(readlinkSync(`/proc/${pid}/exe`));
          } catch {
            try {
              return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
            } catch {
              return 'a process';
            }
          }
        })();
        return `${name} (pid ${pid})`;
      }
    }
  }
  return undefined;
}
