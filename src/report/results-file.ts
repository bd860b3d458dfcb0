import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Reporter } from './reporter.js';
import type { RunResults } from './results.js';

/** Writes `file` whole or not at all: a crash mid-write never leaves half a file. */
export async function writeAtomically(file: string, content: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, content);
  await rename(tmp, file);
}

/**
 * results.json, written after every step and check, so a crash or Ctrl-C keeps what was measured;
 * every other report is rendered from it. Writes are serialized: the last one holds the newest state.
 */
export class ResultsFileReporter implements Reporter {
  private queue: Promise<void> = Promise.resolve();

  constructor(readonly file: string) {}

  onBegin(results: RunResults) {
    return this.write(results);
  }
  onSetup(results: RunResults) {
    return this.write(results);
  }
  onStep(_step: unknown, _phase: unknown, results: RunResults) {
    return this.write(results);
  }
  onCheckEnd(_check: unknown, _phase: unknown, results: RunResults) {
    return this.write(results);
  }
  onEnd(results: RunResults) {
    return this.write(results);
  }

  private write(results: RunResults): Promise<void> {
    const snapshot = JSON.stringify(results, null, 2);
    this.queue = this.queue.then(() => writeAtomically(this.file, snapshot));
    return this.queue;
  }
}
