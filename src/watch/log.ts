import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { EnvironmentError, XfedError } from '../errors.js';
import { WATCH_FORMAT, type RecordOf, type WatchRecord } from './records.js';

/** The file a watch appends to; earlier parts are `watch-0001.ndjson`, `watch-0002.ndjson`... */
export const LOG_NAME = 'watch.ndjson';
const PART = /^watch-(\d{4,})\.ndjson$/;

/** A log part is rotated once it passes this size (64 MiB): a 4 h watch at 1 s of 20 checks writes about 34 MB. */
const DEFAULT_PART_BYTES = 64 * 1024 * 1024;

/**
 * The append-only log of a watch. Records are buffered for a round and then written and flushed to
 * disk (fdatasync) together, so a crash or a kill -9 loses at most the round under way. A part past
 * its size is renamed `watch-NNNN.ndjson` and the next part begins with a `part` record that repeats
 * the watch's settings and the standings, so each part reads on its own.
 */
export class WatchLog {
  private pending: string[] = [];
  private size: number;

  private constructor(
    readonly dir: string,
    private fd: number,
    private nextPart: number,
    private readonly partBytes: number,
    private readonly partHead: (part: number) => RecordOf<'part'>,
  ) {
    this.size = fs.fstatSync(fd).size;
  }

  get file(): string {
    return path.join(this.dir, LOG_NAME);
  }

  /**
   * Opens the log in `dir`: a new one, or (`resume`) the one there, to continue it. A directory that
   * already holds a log is refused without `resume`, and `resume` without one is refused too, so a
   * typo never starts a second history beside the first.
   */
  static open(dir: string, o: { resume: boolean; partBytes?: number; partHead: (part: number) => RecordOf<'part'> }): WatchLog {
    try {
      fs.mkdirSync(dir, { recursive: true });
    } catch (err) {
      throw new EnvironmentError(`cannot create the watch's directory ${dir}: ${(err as Error).message}`);
    }
    const parts = logParts(dir);
    const exists = fs.existsSync(path.join(dir, LOG_NAME));
    if (exists && !o.resume) throw new XfedError(`${path.join(dir, LOG_NAME)} holds a watch already: add --resume to continue it, or choose another --out`);
    if (!exists && o.resume) throw new XfedError(`--resume: there is no watch log in ${dir} (${LOG_NAME})`);
    let fd: number;
    try {
      fd = fs.openSync(path.join(dir, LOG_NAME), 'a');
    } catch (err) {
      throw new EnvironmentError(`cannot write the watch log in ${dir}: ${(err as Error).message}`);
    }
    const last = parts.length > 0 ? Number(PART.exec(path.basename(parts.at(-1)!))![1]) : 0;
    return new WatchLog(dir, fd, last + 1, o.partBytes ?? DEFAULT_PART_BYTES, o.partHead);
  }

  /** Keeps a record for the next flush. */
  add(record: WatchRecord): void {
    this.pending.push(`${JSON.stringify(record)}\n`);
  }

  /** Writes what was added and flushes it to disk; rotates first when the part is full. */
  flush(): void {
    if (this.pending.length === 0 || this.fd < 0) return;
    if (this.size >= this.partBytes) this.rotate();
    const text = this.pending.join('');
    this.pending = [];
    const bytes = Buffer.from(text);
    let written = 0;
    while (written < bytes.length) written += fs.writeSync(this.fd, bytes, written);
    fs.fdatasyncSync(this.fd);
    this.size += bytes.length;
  }

  close(): void {
    if (this.fd < 0) return;
    this.flush();
    fs.closeSync(this.fd);
    this.fd = -1;
  }

  private rotate(): void {
    fs.closeSync(this.fd);
    const name = path.join(this.dir, `watch-${String(this.nextPart).padStart(4, '0')}.ndjson`);
    fs.renameSync(path.join(this.dir, LOG_NAME), name);
    this.fd = fs.openSync(path.join(this.dir, LOG_NAME), 'a');
    this.size = 0;
    const head = `${JSON.stringify(this.partHead(this.nextPart + 1))}\n`;
    this.nextPart++;
    this.pending.unshift(head);
  }
}

/** The rotated parts in `dir`, oldest first (not the current `watch.ndjson`). */
function logParts(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => PART.test(n))
    .sort((a, b) => Number(PART.exec(a)![1]) - Number(PART.exec(b)![1]))
    .map((n) => path.join(dir, n));
}

/** The files of the log that `where` names (its directory, or its `watch.ndjson`), oldest first. */
function logFiles(where: string): string[] {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(where);
  } catch {
    throw new XfedError(`${where}: no such watch log (give a watch's --out directory or its ${LOG_NAME})`);
  }
  const dir = stat.isDirectory() ? where : path.dirname(where);
  // A rotated part reads on its own (it begins with the settings and standings); only the
  // directory or its watch.ndjson bring every part along.
  if (!stat.isDirectory() && path.basename(where) !== LOG_NAME) return [where];
  const current = path.join(dir, LOG_NAME);
  const files = [...logParts(dir), ...(fs.existsSync(current) ? [current] : [])];
  if (files.length === 0) throw new XfedError(`${where}: no watch log in it (${LOG_NAME})`);
  return files;
}

/**
 * Reads the records of a log, part after part, as they were written. A last line cut short (the
 * process was killed while writing it) is skipped and said; any other line that is not a record of
 * this format is an error naming the file and line.
 */
export async function* readWatchLog(where: string, o: { onSkipped?: (why: string) => void } = {}): AsyncGenerator<WatchRecord> {
  const files = logFiles(where);
  let any = false;
  for (const [fi, file] of files.entries()) {
    const lines = readline.createInterface({ input: fs.createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
    let n = 0;
    let held: { line: string; n: number } | undefined;
    for await (const line of lines) {
      n++;
      if (held) {
        yield parseRecord(held.line, file, held.n);
        held = undefined;
      }
      if (line.trim() === '') continue;
      held = { line, n };
    }
    if (held) {
      const record = tryParse(held.line);
      if (record) yield checkRecord(record, file, held.n);
      else if (fi === files.length - 1) o.onSkipped?.(`${file}:${held.n}: the last line is cut short (the watch was killed while writing it); skipped`);
      else yield parseRecord(held.line, file, held.n);
    }
    any ||= n > 0;
  }
  if (!any) throw new XfedError(`${where}: the watch log is empty`);
}

function tryParse(line: string): unknown {
  try {
    return JSON.parse(line) as unknown;
  } catch {
    return undefined;
  }
}

function parseRecord(line: string, file: string, n: number): WatchRecord {
  const record = tryParse(line);
  if (record === undefined) throw new XfedError(`${file}:${n}: not a JSON record`);
  return checkRecord(record, file, n);
}

const TYPES = new Set<string>(['start', 'part', 'ready', 'round', 'transition', 'mark', 'facts', 'hook', 'notice', 'stop']);

function checkRecord(record: unknown, file: string, n: number): WatchRecord {
  const r = record as { type?: unknown; at?: unknown; format?: unknown; start?: { format?: unknown } };
  if (typeof r !== 'object' || r === null || typeof r.type !== 'string' || typeof r.at !== 'string')
    throw new XfedError(`${file}:${n}: not a watch record (no type and time)`);
  if (!TYPES.has(r.type)) throw new XfedError(`${file}:${n}: unknown record type '${r.type}'`);
  const format = r.type === 'start' ? r.format : r.type === 'part' ? r.start?.format : WATCH_FORMAT;
  if (format !== WATCH_FORMAT) throw new XfedError(`${file}:${n}: a log of format ${String(format)}, not ${WATCH_FORMAT}`);
  return record as WatchRecord;
}
