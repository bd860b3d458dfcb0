import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { XfedError } from '../errors.js';
import { recordResults } from '../infra/reaper/marker.js';
import type { Reporter } from './reporter.js';
import type { RunResults } from './results.js';

/**
 * Writes `file` whole or not at all: a crash mid-write, a full disk or a read-only directory never
 * leaves half a file, and the file keeps its last complete content. A failure is an `XfedError`
 * that names the file and says why in words.
 */
async function writeAtomically(file: string, content: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(tmp, content);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw new XfedError(`cannot write ${file}: ${whyUnwritable(err as NodeJS.ErrnoException)}`, { cause: err });
  }
}

function whyUnwritable(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ENOSPC':
      return 'no space left on the device';
    case 'EDQUOT':
      return 'the disk quota is exceeded';
    case 'EROFS':
      return 'the file system is read-only';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOTDIR':
    case 'EEXIST':
      return 'a part of its path is a file, not a directory';
    default:
      return err.message;
  }
}

/**
 * One report file: writes go in order, and a failed one (said once by the reporter mux) neither
 * stops the run nor the writes after it. `unwritten` says why the newest write failed, until one succeeds.
 */
export class ReportFile {
  unwritten: string | undefined;
  private queue: Promise<void> = Promise.resolve();

  constructor(readonly path: string) {}

  write(content: string): Promise<void> {
    const next = this.queue
      .then(() => writeAtomically(this.path, content))
      .then(
        () => {
          this.unwritten = undefined;
        },
        (err: Error) => {
          this.unwritten = err.message;
          throw err;
        },
      );
    this.queue = next.catch(() => undefined);
    return next;
  }
}

/**
 * results.json, written after every step and check, so a crash or Ctrl-C keeps what was measured;
 * every other report is rendered from it. Writes are serialized: the last one holds the newest state.
 */
export class ResultsFileReporter implements Reporter {
  readonly output: ReportFile;
  /** While the run goes, the owner marker lists the file: a hard kill's reaper marks it `killed`. */
  private forget: (() => void) | undefined;

  constructor(readonly file: string) {
    this.output = new ReportFile(file);
  }

  onBegin(results: RunResults) {
    this.forget ??= recordResults(this.file);
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
  onNotice(_notice: unknown, results: RunResults) {
    return this.write(results);
  }
  async onEnd(results: RunResults) {
    try {
      await this.write(results);
    } finally {
      this.forget?.();
    }
  }

  private write(results: RunResults): Promise<void> {
    return this.output.write(JSON.stringify(results, null, 2));
  }
}
