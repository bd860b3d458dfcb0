#!/usr/bin/env node
// The integration tests in two passes: most files two at a time (each waits on protocol events
// with its own bounds and counts only what its own runs left), then, one at a time, those that
// count what is left on the whole machine, hold it to a time bound, or measure it (jest.config.js
// names them). A file that fails two at a time runs again alone: if it passes there, the run
// passes and names it, with its first failure printed above (a timing assumption that a busy
// machine broke, to be mended); if it fails alone too, the run fails. Both passes run even when
// the first fails, so one run shows every failure; the exit code is the worse. Arguments go to
// both passes (a file name narrows them; a pass with no file of it passes).
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const jest = path.join(root, 'node_modules', 'jest', 'bin', 'jest.js');
const workers = process.env.XFED_TEST_WORKERS ?? String(Math.min(2, os.availableParallelism()));
const args = process.argv.slice(2);

/** One Jest run; its exit status. Ctrl-C or a kill ends the whole script here. */
function jestRun(project, maxWorkers, extra) {
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
      ...extra,
    ],
    { cwd: root, stdio: 'inherit' },
  );
  if (r.signal) process.exit(128 + os.constants.signals[r.signal]);
  if (r.error) {
    console.error(`xfed tests: could not run Jest: ${r.error.message}`);
    process.exit(1);
  }
  return r.status ?? 1;
}

/** The files a Jest JSON report lists as failed, or undefined when there is no report to read. */
function failedFiles(report) {
  try {
    const results = JSON.parse(readFileSync(report, 'utf8')).testResults;
    return results.filter((r) => r.status === 'failed').map((r) => r.name);
  } catch {
    return undefined;
  } finally {
    rmSync(report, { force: true });
  }
}

const report = path.join(os.tmpdir(), `jest-integration-${process.pid}.json`);
let shared = jestRun('integration', workers, [...args, '--json', '--outputFile', report]);
const failed = failedFiles(report);
if (shared !== 0 && workers !== '1' && failed && failed.length > 0) {
  const names = failed.map((f) => path.relative(root, f)).join(', ');
  console.error(`\nxfed tests: failed ${workers} at a time, run again alone: ${names}`);
  shared = jestRun('integration', '1', ['--runTestsByPath', ...failed]);
  if (shared === 0) console.error(`\nxfed tests: FLAKY under load (failed ${workers} at a time, passed alone; the first failure is above): ${names}`);
}
const alone = jestRun('integration-alone', '1', args);
process.exit(Math.max(shared, alone));
