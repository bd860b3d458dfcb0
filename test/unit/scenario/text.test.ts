import { describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { XfedError } from '../../../src/errors.js';
import { loadSuite, MAX_SUITE_BYTES, ScenarioError } from '../../../src/scenario/loader.js';
import { decodeSuite } from '../../../src/scenario/text.js';

const bytes = (...parts: (string | number[])[]): Uint8Array =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));
const problemsOf = (b: Uint8Array): string[] => {
  const d = decodeSuite(b);
  return 'problems' in d ? d.problems.map((p) => `${p.line}:${p.col}: ${p.message.split(/:|,/)[0]}`) : [];
};

describe('decodeSuite', () => {
  it('reads UTF-8 with or without a byte order mark, keeping no mark in the text', () => {
    expect(decodeSuite(bytes('suite: café\n'))).toEqual({ text: 'suite: café\n' });
    expect(decodeSuite(bytes([0xef, 0xbb, 0xbf], 'suite: café\n'))).toEqual({ text: 'suite: café\n' });
    expect(decodeSuite(bytes('a: 😀 𝄞 €\n'))).toEqual({ text: 'a: 😀 𝄞 €\n' });
  });

  it('names UTF-16 and UTF-32, with or without their marks', () => {
    const say = (b: Uint8Array) => problemsOf(b)[0];
    expect(say(Buffer.from('\ufeffsuite: x\n', 'utf16le'))).toBe('1:1: the file is UTF-16 (little-endian); xfed reads suites as UTF-8');
    expect(say(Buffer.from('suite: x\n', 'utf16le'))).toBe('1:1: the file is UTF-16 (little-endian); xfed reads suites as UTF-8');
    const be = Buffer.from('\ufeffsuite: x\n', 'utf16le').swap16();
    expect(say(be)).toBe('1:1: the file is UTF-16 (big-endian); xfed reads suites as UTF-8');
    expect(say(be.subarray(2))).toBe('1:1: the file is UTF-16 (big-endian); xfed reads suites as UTF-8');
    expect(say(bytes([0xff, 0xfe, 0, 0], [0x73, 0, 0, 0]))).toBe('1:1: the file is UTF-32 (little-endian); xfed reads suites as UTF-8');
    expect(say(bytes([0, 0, 0xfe, 0xff], [0, 0, 0, 0x73]))).toBe('1:1: the file is UTF-32 (big-endian); xfed reads suites as UTF-8');
  });

  it('reports each class of invalid sequence at its line and column, never as replacement characters', () => {
    const at = (b: Uint8Array) => problemsOf(b);
    // Latin-1 é; a stray continuation byte; an overlong '/'; a UTF-16 surrogate; 0xF5 (above U+10FFFF); a cut sequence at the end.
    expect(at(bytes('suite: caf', [0xe9], '\n'))).toEqual(['1:11: byte 0xe9 is not UTF-8']);
    expect(at(bytes('a: b\nc: ', [0x80], '\n'))).toEqual(['2:4: byte 0x80 is not UTF-8']);
    expect(at(bytes('a: ', [0xc0, 0xaf]))).toEqual(['1:4: byte 0xc0 is not UTF-8']);
    expect(at(bytes('a: ', [0xed, 0xa0, 0x80]))).toEqual(['1:4: byte 0xed is not UTF-8']);
    expect(at(bytes('a: ', [0xf5, 0x80, 0x80, 0x80]))).toEqual(['1:4: byte 0xf5 is not UTF-8']);
    expect(at(bytes('a: b\n', 'c: ', [0xe2, 0x82]))).toEqual(['2:4: byte 0xe2 is not UTF-8']);
    // Columns count characters, as an editor shows them: 'é€' before the bad byte are two columns.
    expect(at(bytes('a: é€', [0xff]))).toEqual(['1:6: byte 0xff is not UTF-8']);
  });

  it('reports characters YAML does not allow, such as the NUL bytes of a binary file, where they are', () => {
    expect(problemsOf(bytes('suite: a', [0], 'b\n'))).toEqual(['1:9: control character U+0000']);
    expect(problemsOf(bytes('a: 1\n\tb: "x', [0x1b], '[0m"\n'))).toEqual(['2:7: control character U+001B']);
    expect(problemsOf(bytes('a: \u0085 \u00a0 \t\r\n'))).toEqual([]);
    expect(problemsOf(bytes('a: \u009b\n'))).toEqual(['1:4: control character U+009B']);
    // A character outside the Basic Multilingual Plane is two columns, as in every other position.
    expect(problemsOf(bytes('a: 😀', [0x7f]))).toEqual(['1:6: control character U+007F']);
    expect(problemsOf(bytes('a: 😀', [0xff]))).toEqual(['1:6: byte 0xff is not UTF-8']);
  });

  it('reports one problem per line and at most 20', () => {
    expect(problemsOf(bytes([0xff, 0xff, 0xff], '\n', [0xfe]))).toEqual(['1:1: byte 0xff is not UTF-8', '2:1: byte 0xfe is not UTF-8']);
    expect(problemsOf(bytes(...Array.from({ length: 50 }, () => [0xff, 0x0a])))).toHaveLength(20);
  });
});

describe('loadSuite reads no more than the cap', () => {
  it('refuses a larger file by its size, and a device that never ends once past the cap', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'xfed-text-'));
    try {
      const big = path.join(dir, 'big.yaml');
      await writeFile(big, Buffer.alloc(MAX_SUITE_BYTES + 1, 0x20));
      const err = await loadSuite(big).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(XfedError);
      expect((err as Error).message).toBe(`suite file ${big} is larger than 16 MB, the most xfed reads; split it into several suites`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const zero = await loadSuite('/dev/zero').catch((e: unknown) => e);
    expect((zero as Error).message).toBe('suite file /dev/zero is larger than 16 MB, the most xfed reads; split it into several suites');
  });

  it('reports an encoding problem as a ScenarioError with the file', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'xfed-text-'));
    try {
      const file = path.join(dir, 'latin1.yaml');
      await writeFile(file, bytes('suite: caf', [0xe9], '\n'));
      const err = await loadSuite(file).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ScenarioError);
      expect((err as ScenarioError).problems[0]).toMatchObject({ file, line: 1, col: 11 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
