/**
 * The watchdog of one xfed process (started by marker.ts with the first thing that process starts):
 * `watchdog <marker file>`, its stdin the read end of a pipe from that process. It first sweeps
 * what dead xfed processes left behind (the "sweep at start"), then waits for the pipe to end,
 * which happens however its process ends, and removes what the marker still lists. A run that
 * released everything removed its marker before ending, and the watchdog just exits.
 */
import path from 'node:path';
import { pollUntil } from '../deadline.js';
import { isRunning } from './liveness.js';
import { sweepLeftovers } from './leftovers.js';
import { readMarker } from './marker.js';

/** How long the engine may take to make what a dying run asked it for. */
const DOCKER_SETTLE_MS = 10_000;

const markerFile = process.argv[2];
if (!markerFile) process.exit(2);
const owner = path.basename(markerFile, '.json');

const sweptAtStart = sweepLeftovers({ except: owner, docker: 'if-recorded', by: 'the next xfed run' }).catch(() => undefined);

const ownerEnded = new Promise<void>((resolve) => {
  process.stdin.on('end', resolve);
  process.stdin.on('close', resolve);
  process.stdin.on('error', () => resolve());
  process.stdin.resume();
});

await ownerEnded;
await sweptAtStart;
const marker = readMarker(markerFile);
if (marker) {
  // The kernel closes a dying process's files before it becomes a zombie: wait for the rest of its
  // exit. One that still runs after that closed the pipe itself and is not ours to judge.
  const gone = await pollUntil(() => (isRunning(marker.owner) ? undefined : true), { timeoutMs: 10_000, intervalMs: 5, what: 'the owner to end' }).catch(
    () => false,
  );
  if (gone) {
    const by = "the run's watchdog";
    const seen = new Set<string>();
    /** Notes the containers and networks a sweep found (and tried to remove); says whether it found none. */
    const sweep = async (docker: 'if-recorded' | 'always') => {
      const engine = (await sweepLeftovers({ owner, docker, by })).leftovers.filter((l) => l.kind === 'container' || l.kind === 'network');
      for (const l of engine) seen.add(l.what.slice(l.kind.length + 1));
      return engine.length === 0;
    };
    await sweep('if-recorded');
    // A container or network the run asked for as it died may be made by the engine after a
    // listing, later still on a busy machine: look again until every name the marker recorded was
    // found, and a look finds nothing left; for a bounded time (a name whose creation never reached
    // the engine never comes).
    if (marker.docker.length > 0) {
      await pollUntil(
        async () => {
          const clean = await sweep('always');
          return clean && marker.docker.every((name) => seen.has(name)) ? true : undefined;
        },
        { timeoutMs: DOCKER_SETTLE_MS, intervalMs: 250, what: "the run's containers and networks" },
      ).catch(() => undefined);
    }
  }
}
process.exit(0);
