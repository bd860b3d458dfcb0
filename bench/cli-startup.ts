// Whole-process time of the CLI's quick commands, from an installed package (packed and installed
// into an empty directory, production dependencies only) and from this clone (bin/xfed.js, which
// runs dist/ when it is fresh). Prints the median, the fastest and the slowest of N runs; asserts
// nothing. Aims on a 2-core machine: 150 ms for --version and --help, 400 ms for validate.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { percentile } from '../src/report/percentile.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '10' } } });
const runs = Number(values.runs);
const root = path.resolve(import.meta.dirname, '..');

const work = mkdtempSync(path.join(os.tmpdir(), 'xfed-bench-cli-'));
try {
  process.stdout.write('packing and installing xfed into an empty directory...\n');
  const tarball = execFileSync('npm', ['pack', '--silent', '--pack-destination', work], { cwd: root, encoding: 'utf8' }).trim().split('\n').pop()!;
  execFileSync('npm', ['init', '-y'], { cwd: work, stdio: 'ignore' });
  execFileSync('npm', ['install', '--omit=dev', '--no-audit', '--no-fund', '--loglevel=error', path.join(work, tarball)], { cwd: work, stdio: 'ignore' });

  const places = [
    { name: 'installed', bin: path.join(work, 'node_modules', 'xfed', 'bin', 'xfed.js'), suite: path.join(work, 'node_modules', 'xfed', 'scenarios') },
    { name: 'clone', bin: path.join(root, 'bin', 'xfed.js'), suite: path.join(root, 'scenarios') },
  ];
  const commands = (suites: string) => [
    { name: 'xfed --version', args: ['--version'] },
    { name: 'xfed --help', args: ['--help'] },
    { name: 'xfed validate sfb2019-cutover.yaml', args: ['validate', path.join(suites, 'sfb2019-cutover.yaml')] },
  ];
  const ms = (x: number) => `${x.toFixed(0)} ms`;
  console.log(`\nwhole-process time, ${runs} runs each (node ${process.version}, ${os.cpus().length} cores)`);
  console.log(`${'command'.padEnd(38)}${'from'.padEnd(11)}${'median'.padStart(8)}${'min'.padStart(8)}${'max'.padStart(8)}`);
  for (const place of places) {
    for (const command of commands(place.suite)) {
      const times: number[] = [];
      // One unmeasured run first: the page cache, not the CLI, decides a cold first start.
      for (let i = 0; i <= runs; i++) {
        const start = process.hrtime.bigint();
        const r = spawnSync(process.execPath, [place.bin, ...command.args], { cwd: work, stdio: 'ignore' });
        const took = Number(process.hrtime.bigint() - start) / 1e6;
        if (r.status !== 0) throw new Error(`${command.name} (${place.name}) exited ${r.status}`);
        if (i > 0) times.push(took);
      }
      console.log(
        `${command.name.padEnd(38)}${place.name.padEnd(11)}${ms(percentile(times, 50)!).padStart(8)}${ms(Math.min(...times)).padStart(8)}${ms(Math.max(...times)).padStart(8)}`,
      );
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
