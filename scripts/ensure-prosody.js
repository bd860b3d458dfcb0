#!/usr/bin/env node
// Runs before `npm test` and `npm run demo`: makes sure xfed can run Prosody on this machine.
// Installs Prosody (with lua-unbound, which the process runtime needs for its test DNS) where apt
// and root are available; otherwise says exactly what to install. `--demo`: a Docker engine alone
// is enough, so nothing is installed when one answers.
import { spawnSync } from 'node:child_process';

const demo = process.argv.includes('--demo');
const run = (cmd, args, opts = {}) => spawnSync(cmd, args, { encoding: 'utf8', timeout: 600_000, ...opts });

function prosodyReady() {
  const about = run('prosodyctl', ['about'], { timeout: 15_000 });
  return about.status === 0 && /luaunbound:\s+\S/.test(about.stdout);
}

function dockerAnswers() {
  return run('docker', ['info', '--format', '{{.ServerVersion}}'], { timeout: 15_000 }).status === 0;
}

if (prosodyReady()) process.exit(0);
if (demo && dockerAnswers()) process.exit(0);

const isRoot = process.getuid?.() === 0;
const hasApt = run('apt-get', ['--version']).status === 0;
if (isRoot && hasApt) {
  process.stderr.write('xfed: installing Prosody and lua-unbound with apt-get (once; the process runtime needs them)...\n');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = run('apt-get', ['update', '-q'], { env, stdio: 'inherit' });
  const install =
    update.status === 0 && run('apt-get', ['install', '-y', '-q', '--no-install-recommends', 'prosody', 'lua-unbound'], { env, stdio: 'inherit' });
  if (install && install.status === 0 && prosodyReady()) process.exit(0);
  process.stderr.write('xfed: apt-get could not install prosody and lua-unbound; see its output above\n');
  process.exit(2);
}

const fix = 'install Prosody 0.12 with lua-unbound (Debian/Ubuntu: sudo apt-get install prosody lua-unbound)';
if (dockerAnswers()) {
  process.stderr.write(`xfed: Prosody is not installed, so only the container runtime can run here; to run both, ${fix}\n`);
  process.exit(0);
}
process.stderr.write(`xfed: neither Prosody nor a Docker engine is available: ${fix}, or start a Docker engine\n`);
process.exit(2);
