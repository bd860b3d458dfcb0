import { open, type FileHandle } from 'node:fs/promises';
import { XfedError } from '../errors.js';
import type { Position } from './positions.js';

/**
 * The bytes of a suite file as text: UTF-8, with or without a byte order mark. Anything else is a
 * problem at the line and column where it is (the file as an editor shows it), never replacement
 * characters that would later compare unequal to what the author meant.
 */
export type DecodedSuite = { text: string } | { problems: (Position & { message: string })[] };

const UTF8_BOM = [0xef, 0xbb, 0xbf];
// Past this many invalid sequences the rest of the file says nothing new.
const MAX_REPORTED = 20;

export function decodeSuite(bytes: Uint8Array): DecodedSuite {
  const wide = otherEncoding(bytes);
  if (wide)
    return {
      problems: [
        { line: 1, col: 1, message: `the file is ${wide}; xfed reads suites as UTF-8: save it as UTF-8 (most editors offer it under "Save with encoding")` },
      ],
    };
  const body = UTF8_BOM.every((b, i) => bytes[i] === b) ? bytes.subarray(3) : bytes;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body);
  } catch {
    return { problems: invalidSequences(body) };
  }
  const controls = controlCharacters(text);
  return controls.length > 0 ? { problems: controls } : { text };
}

// What YAML 1.2 (section 5.1) does not allow in a file: C0 controls but tab, LF and CR; DEL; C1 controls but NEL; U+FFFE and U+FFFF.
// eslint-disable-next-line no-control-regex -- these control characters are what it finds
const NOT_PRINTABLE = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ufffe\uffff]/g;

/** Characters YAML does not allow, one problem per line: a binary file, or a control character pasted in. */
function controlCharacters(text: string): (Position & { message: string })[] {
  const problems: (Position & { message: string })[] = [];
  let line = 1;
  let lineStart = 0;
  let counted = 0;
  for (const match of text.matchAll(NOT_PRINTABLE)) {
    for (let i = text.indexOf('\n', counted); i >= 0 && i < match.index; i = text.indexOf('\n', i + 1)) [line, lineStart] = [line + 1, i + 1];
    counted = match.index;
    if (problems.at(-1)?.line === line) continue;
    const code = match[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    problems.push({
      line,
      col: match.index - lineStart + 1,
      message: `control character U+${code}, which YAML does not allow: remove it (a file with many is not text)`,
    });
    if (problems.length === MAX_REPORTED) break;
  }
  return problems;
}

/** UTF-16 or UTF-32, by their byte order marks, or by the zero bytes ASCII text gets in them. */
function otherEncoding(b: Uint8Array): string | undefined {
  if (b[0] === 0x00 && b[1] === 0x00 && b[2] === 0xfe && b[3] === 0xff) return 'UTF-32 (big-endian)';
  if (b[0] === 0xff && b[1] === 0xfe && b[2] === 0x00 && b[3] === 0x00) return 'UTF-32 (little-endian)';
  if (b[0] === 0xfe && b[1] === 0xff) return 'UTF-16 (big-endian)';
  if (b[0] === 0xff && b[1] === 0xfe) return 'UTF-16 (little-endian)';
  // Without a mark: YAML text starts with ASCII, which UTF-16 pairs with a zero byte.
  if (b.length >= 2 && b[0] === 0x00 && b[1] !== 0x00) return 'UTF-16 (big-endian)';
  if (b.length >= 2 && b[0] !== 0x00 && b[1] === 0x00) return 'UTF-16 (little-endian)';
  return undefined;
}

/** Every byte sequence that is not UTF-8 (RFC 3629 section 4), one problem per line. */
function invalidSequences(b: Uint8Array): (Position & { message: string })[] {
  const problems: (Position & { message: string })[] = [];
  let line = 1;
  let col = 1;
  let reportedLine = 0;
  for (let i = 0; i < b.length && problems.length < MAX_REPORTED;) {
    const length = sequenceLength(b, i);
    if (length === 0) {
      if (reportedLine !== line) {
        const hex = b[i]!.toString(16).padStart(2, '0');
        problems.push({
          line,
          col,
          message: `byte 0x${hex} is not UTF-8: save the file as UTF-8 (text from another encoding, such as Windows-1252, shows up like this)`,
        });
        reportedLine = line;
      }
      i += 1;
      col += 1;
      continue;
    }
    if (b[i] === 0x0a) {
      line += 1;
      col = 1;
    } else {
      // Columns count UTF-16 code units, as the positions of every other problem do.
      col += length === 4 ? 2 : 1;
    }
    i += length;
  }
  return problems;
}

/** The length of the UTF-8 sequence at `i`, or 0 where none starts (a stray continuation, an overlong form, a surrogate, a cut sequence). */
function sequenceLength(b: Uint8Array, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf) => i + k < b.length && b[i + k]! >= lo && b[i + k]! <= hi;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c === 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if (c === 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
  if (c >= 0xe1 && c <= 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (c === 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xf1 && c <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c === 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

const READ_ERRORS: Record<string, string> = { ENOENT: 'no such file', EISDIR: 'it is a directory', EACCES: 'permission denied' };

/**
 * The largest suite file xfed reads. The biggest real suites are a few hundred kilobytes; this
 * leaves room for generated ones, and keeps a wrong file (a log, an image, /dev/zero) from
 * filling memory.
 */
export const MAX_SUITE_BYTES = 16 * 1024 * 1024;

/** A file's bytes, read no further than the cap (a device or a pipe may never end); `what` names it in errors ('suite file'). */
export async function readCapped(file: string, what: string): Promise<Buffer> {
  const tooBig = () =>
    new XfedError(
      `${what} ${file} is larger than ${MAX_SUITE_BYTES / 1024 / 1024} MB, the most xfed reads${what === 'suite file' ? '; split it into several suites' : ''}`,
    );
  let handle: FileHandle | undefined;
  try {
    handle = await open(file, 'r');
    const st = await handle.stat();
    if (st.isFile() && st.size > MAX_SUITE_BYTES) throw tooBig();
    const buffer = Buffer.alloc(Math.min(st.isFile() ? st.size + 1 : 64 * 1024, MAX_SUITE_BYTES + 1));
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > MAX_SUITE_BYTES) throw tooBig();
      chunks.push(Buffer.from(buffer.subarray(0, bytesRead)));
    }
    return Buffer.concat(chunks, total);
  } catch (err) {
    if (err instanceof XfedError) throw err;
    const code = (err as NodeJS.ErrnoException).code ?? '';
    throw new XfedError(`cannot read ${what} ${file}: ${READ_ERRORS[code] ?? (err as Error).message}`, { cause: err });
  } finally {
    await handle?.close();
  }
}
