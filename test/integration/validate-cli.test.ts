import { describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startCli } from '../helpers/cli-process.js';

// `xfed validate` as users run it: one line per problem, exit 2, never a stack trace or a hang,
// whatever the file holds.
async function validate(...files: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const run = startCli(['validate', ...files]);
  const { code } = await run.exit(60_000);
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

describe('xfed validate (the process)', () => {
  it('reports files that are not UTF-8 text, and a file past the cap, one line each', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'xfed-validate-cli-'));
    try {
      const files = {
        latin1: path.join(dir, 'latin1.yaml'),
        utf16: path.join(dir, 'utf16.yaml'),
        binary: path.join(dir, 'image.yaml'),
        huge: path.join(dir, 'huge.yaml'),
      };
      await writeFile(files.latin1, Buffer.concat([Buffer.from('suite: caf'), Buffer.from([0xe9]), Buffer.from('\n')]));
      await writeFile(files.utf16, Buffer.from('\ufeffsuite: x\n', 'utf16le'));
      await writeFile(files.binary, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]));
      await writeFile(files.huge, Buffer.alloc(17 * 1024 * 1024, 0x20));
      const { code, stdout, stderr } = await validate(...Object.values(files), '/dev/zero');
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expect(stderr.trimEnd().split('\n')).toEqual([
        `${files.latin1}:1:11: byte 0xe9 is not UTF-8: save the file as UTF-8 (text from another encoding, such as Windows-1252, shows up like this)`,
        `${files.utf16}:1:1: the file is UTF-16 (little-endian); xfed reads suites as UTF-8: save it as UTF-8 (most editors offer it under "Save with encoding")`,
        `${files.binary}:1:1: byte 0x89 is not UTF-8: save the file as UTF-8 (text from another encoding, such as Windows-1252, shows up like this)`,
        `suite file ${files.huge} is larger than 16 MB, the most xfed reads; split it into several suites`,
        'suite file /dev/zero is larger than 16 MB, the most xfed reads; split it into several suites',
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
