import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** What a running watch tells other xfed commands on this machine (`xfed mark`): where it answers. */
export interface Beacon {
  pid: number;
  url: string;
  suite: string;
  /** Its log's directory. */
  out: string;
  startedAt: string;
}

/**
 * One file per running watch, named by its pid, in a registry beside the owner markers
 * (`.xfed-owners-<uid>`); a file whose process is gone (a hard kill) is stale and removed whenever
 * the registry is read: by `xfed mark`, and by each watch as it starts.
 */
const beaconDir = () => process.env.XFED_WATCH_DIR ?? path.join(os.tmpdir(), `.xfed-watches-${process.getuid?.() ?? 0}`);
const BEACON_IN_OUT = 'watch.url.json';

/** Tells this machine's xfed commands where this watch answers; the returned function takes it back. */
export function lightBeacon(beacon: Beacon): () => void {
  runningWatches();
  const files = [path.join(beaconDir(), `${beacon.pid}.json`), path.join(beacon.out, BEACON_IN_OUT)];
  fs.mkdirSync(beaconDir(), { recursive: true, mode: 0o700 });
  for (const file of files) fs.writeFileSync(file, `${JSON.stringify(beacon)}\n`, { mode: 0o600 });
  return () => {
    for (const file of files) fs.rmSync(file, { force: true });
    // The directory goes with the last watch (another one still running keeps it).
    try {
      fs.rmdirSync(beaconDir());
    } catch {
      // Not empty, or gone already.
    }
  };
}

/** The watches running on this machine (or the one whose log is in `out`), oldest first. */
export function runningWatches(out?: string): Beacon[] {
  const files = out
    ? [path.join(out, BEACON_IN_OUT)]
    : (() => {
        try {
          return fs
            .readdirSync(beaconDir())
            .filter((n) => /^\d+\.json$/.test(n))
            .map((n) => path.join(beaconDir(), n));
        } catch {
          return [];
        }
      })();
  const found: Beacon[] = [];
  for (const file of files) {
    let beacon: Beacon;
    try {
      beacon = JSON.parse(fs.readFileSync(file, 'utf8')) as Beacon;
    } catch {
      continue;
    }
    if (alive(beacon.pid)) found.push(beacon);
    else if (!out) fs.rmSync(file, { force: true });
  }
  return found.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
