#!/usr/bin/env node
// The integration tests in two passes: most files two at a time (each waits on protocol events
// with its own bounds and counts only what its own runs left), then, one at a time, those that
// count what is left on the whole machine, hold it to a time bound, or measure it (jest.config.js
// names them). Both passes run even when the first fails, so one run shows every failure; the
// exit code is the worse.
// Arguments go to both passes (a file name narrows them; a pass with no file of it passes).
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const jest = path.join(root, 'node_modules', 'jest', 'bin', 'jest.js');
const workers = process.env.XFED_TEST_WORKERS ?? String(Math.min(2, os.availableParallelism()));
const passes = [
  ['integration', workers],
  ['integration-alone', '1'],
];

let worst = 0;
for (const [project, maxWorkers] of passes) {
  const r = spawnSync(
    process.execPath,
    [
      '--experimental-vm-modules',
      '--no-warnings=ExperimentalWarning',
      jest,
      '--selectProjects',
      project,
      '--maxWorkers',
      maxWorkers,
      '--passWithNoTests',
      ...process.argv.slice(2),
    ],
    { cwd: root, stdio: 'inherit' },
  );
  // Ctrl-C or a kill ends the run here: the second pass does not start.
  if (r.signal) process.exit(128 + os.constants.signals[r.signal]);
  if (r.error) {
    console.error(`xfed tests: could not run Jest: ${r.error.message}`);
    process.exit(1);
  }
  worst = Math.max(worst, r.status ?? 1);
}
process.exit(worst);
