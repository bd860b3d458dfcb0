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
    await sweepLeftovers({ owner, docker: 'if-recorded', by: "the run's watchdog" });
    // A container or network the run asked for as it died may be created by the engine after the
    // first listing: one more look.
    if (marker.docker.length > 0) await sweepLeftovers({ owner, docker: 'always', by: "the run's watchdog" });
  }
}
process.exit(0);
