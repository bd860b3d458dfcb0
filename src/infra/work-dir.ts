import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { guardOnExit } from './exit-guard.js';
import { recordDir, thisOwner } from './reaper/marker.js';
import type { TeardownStack } from './teardown.js';

/**
 * A fresh `xfed-<name>-<owner>-` directory under the system temp dir, removed by `teardown`, and
 * also when the process dies before that: the exit guard, and after a hard kill the watchdog or
 * `xfed clean`, which find it through the owner marker or the owner id in its name.
 */
export async function workDirFor(teardown: TeardownStack, name: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `xfed-${name}-${thisOwner().owner}-`));
  const forget = recordDir(dir);
  const unguard = guardOnExit(() => rmSync(dir, { recursive: true, force: true }));
  // Forgotten only once gone: what teardown failed to remove stays for the watchdog.
  teardown.defer(`work directory ${dir}`, () => rm(dir, { recursive: true, force: true }).then(forget).finally(unguard));
  return dir;
}
