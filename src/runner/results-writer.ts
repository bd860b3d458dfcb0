import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { renderHtml } from '../report/html.js';
import { renderJunit } from '../report/junit.js';
import type { RunResults } from '../report/results.js';

/**
 * Writes a run's files into its output directory: results.json after every step and check
 * (atomically, so a crash never leaves half a file), and at the end junit.xml and report.html,
 * rendered from those results.
 */
export class ResultsWriter {
  private ready: Promise<unknown> | undefined;
  private queue: Promise<void> = Promise.resolve();

  constructor(readonly dir: string) {}

  get files(): { results: string; junit: string; html: string } {
    return { results: path.join(this.dir, 'results.json'), junit: path.join(this.dir, 'junit.xml'), html: path.join(this.dir, 'report.html') };
  }

  /** Writes are serialized: the last one always holds the newest state. */
  write(results: RunResults): Promise<void> {
    const snapshot = JSON.stringify(results, null, 2);
    this.queue = this.queue.then(() => this.atomic(this.files.results, snapshot));
    return this.queue;
  }

  async finish(results: RunResults): Promise<void> {
    await this.write(results);
    await this.atomic(this.files.junit, renderJunit(results));
    await this.atomic(this.files.html, renderHtml(results));
  }

  private async atomic(file: string, content: string): Promise<void> {
    this.ready ??= mkdir(this.dir, { recursive: true });
    await this.ready;
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, content);
    await rename(tmp, file);
  }
}
