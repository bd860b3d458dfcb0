import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { guardOnExit } from './exit-guard.js';
import type { TeardownStack } from './teardown.js';

/**
 * A fresh `xfed-<name>-` directory under the system temp dir, removed by `teardown`, and also
 * when the process dies before that (the exit guard).
 */
export async function workDirFor(teardown: TeardownStack, name: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `xfed-${name}-`));
  const unguard = guardOnExit(() => rmSync(dir, { recursive: true, force: true }));
  teardown.defer(`work directory ${dir}`, () => rm(dir, { recursive: true, force: true }).finally(unguard));
  return dir;
}
