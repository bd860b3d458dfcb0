#!/usr/bin/env node
// Runs before `npm test` and `npm run demo`: makes sure xfed can run Prosody on this machine.
// Installs Prosody (with lua-unbound, which the process runtime needs for its test DNS) where apt
// and root are available; otherwise says exactly what to install. `--demo`: a Docker engine alone
// is enough, so nothing is installed when one answers.
//
// Debian's prosody package also installs a system service that listens on 5222 and 5269 (apt-get
// starts it where systemd runs). xfed never uses it, and it takes 5269 from a partner a suite
// publishes there, so it is stopped and disabled, unless XFED_KEEP_SYSTEM_PROSODY=1. Only the
// packaged server is touched: the one run by the `prosody` user from /etc/prosody, never the
// servers xfed starts (`prosody -F --config <dir>/xfed-...`, run by the user who runs xfed).
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const demo = process.argv.includes('--demo');
const run = (cmd, args, opts = {}) => spawnSync(cmd, args, { encoding: 'utf8', timeout: 600_000, ...opts });
const say = (line) => process.stderr.write(`xfed: ${line}\n`);
const isRoot = process.getuid?.() === 0;

function prosodyReady() {
  // An empty config of its own, readable by all: /etc/prosody's is readable by root and the prosody
  // group only, and prosodyctl run by root reads its config as the prosody user.
  const dir = mkdtempSync(path.join(tmpdir(), 'xfed-about-'));
  chmodSync(dir, 0o755);
  const config = path.join(dir, 'prosody.cfg.lua');
  writeFileSync(config, '', { mode: 0o644 });
  try {
    const about = run('prosodyctl', ['--config', config, 'about'], { timeout: 15_000 });
    return about.status === 0 && /luaunbound:\s+\S/.test(about.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function dockerAnswers() {
  return run('docker', ['info', '--format', '{{.ServerVersion}}'], { timeout: 15_000 }).status === 0;
}

/** The process ids of the packaged Prosody: its user's, from /etc/prosody, in this PID namespace (not a container's). */
function packagedProsodyPids() {
  const id = run('id', ['-u', 'prosody'], { timeout: 5_000 });
  if (id.status !== 0) return [];
  const uid = id.stdout.trim();
  const ownNamespace = readlinkSync('/proc/self/ns/pid');
  const pids = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] !== uid) continue;
      try {
        if (readlinkSync(`/proc/${pid}/ns/pid`) !== ownNamespace) continue;
      } catch {
        // Hidden from a user who is not root, who is only told what to run; the config still tells.
      }
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (!argv.some((a) => /(^|\/)prosody$/.test(a))) continue;
      const at = argv.findIndex((a) => a === '--config' || a === '-c');
      const config = at >= 0 ? argv[at + 1] : (argv.find((a) => a.startsWith('--config='))?.slice(9) ?? '/etc/prosody/prosody.cfg.lua');
      if (config?.startsWith('/etc/prosody/')) pids.push(Number(pid));
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return pids;
}

/** Ends `pids` with SIGTERM; each gets 10 s to exit (tail --pid waits for that, without polling here). */
function terminate(pids) {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // Already gone.
    }
  }
  for (const pid of pids) run('timeout', ['10', 'tail', `--pid=${pid}`, '-f', '/dev/null'], { timeout: 15_000 });
  return packagedProsodyPids().length === 0;
}

/** Stops and disables Debian's Prosody service where it runs or starts at boot, in one line. */
function quietSystemProsody() {
  const keep = process.env.XFED_KEEP_SYSTEM_PROSODY === '1';
  const why = 'it listens on 5222 and 5269, where partners of xfed suites need to be; XFED_KEEP_SYSTEM_PROSODY=1 keeps it';
  if (existsSync('/run/systemd/system')) {
    const active = run('systemctl', ['is-active', '--quiet', 'prosody.service'], { timeout: 15_000 }).status === 0;
    const enabled = run('systemctl', ['is-enabled', '--quiet', 'prosody.service'], { timeout: 15_000 }).status === 0;
    if (!active && !enabled) return;
    if (keep) return active && say('the system Prosody service runs on 5222 and 5269: kept, as XFED_KEEP_SYSTEM_PROSODY=1 asks');
    if (!isRoot) return say(`the system Prosody service is ${active ? 'running' : 'enabled'}; ${why}. Stop it: sudo systemctl disable --now prosody`);
    const done = run('systemctl', ['disable', '--now', 'prosody.service'], { timeout: 120_000 });
    return say(
      done.status === 0
        ? `stopped and disabled the system Prosody service (systemctl disable --now prosody): ${why}`
        : `could not stop the system Prosody service (systemctl disable --now prosody: ${done.stderr.trim() || `exit ${done.status}`})`,
    );
  }
  // No systemd: the init script, whose start-stop-daemon may not find the server it started
  // (Debian 12's names lua5.2; Prosody runs on lua5.4), so what still runs is ended directly.
  const running = packagedProsodyPids();
  const enabled =
    existsSync('/etc/init.d/prosody') &&
    [2, 3, 4, 5].some((level) => existsSync(`/etc/rc${level}.d`) && readdirSync(`/etc/rc${level}.d`).some((f) => /^S\d*prosody$/.test(f)));
  if (running.length === 0 && !enabled) return;
  if (keep) return running.length > 0 && say('the system Prosody runs on 5222 and 5269: kept, as XFED_KEEP_SYSTEM_PROSODY=1 asks');
  if (!isRoot) {
    const how = [running.length > 0 && `sudo kill ${running.join(' ')}`, enabled && 'sudo update-rc.d prosody disable'].filter(Boolean).join(' && ');
    return say(`the system Prosody is ${running.length > 0 ? 'running' : 'enabled at boot'}; ${why}. Stop it: ${how}`);
  }
  if (running.length > 0) {
    if (existsSync('/etc/init.d/prosody')) run('/etc/init.d/prosody', ['stop'], { timeout: 60_000 });
    const left = packagedProsodyPids();
    if (left.length > 0 && !terminate(left)) {
      return say(`could not stop the system Prosody: pid ${packagedProsodyPids().join(', ')} still runs 10 s after SIGTERM`);
    }
  }
  const disabled = enabled && run('update-rc.d', ['prosody', 'disable'], { timeout: 60_000 }).status === 0;
  const done = [running.length > 0 && 'stopped the system Prosody service', disabled && 'disabled its start at boot (update-rc.d prosody disable)'];
  say(`${done.filter(Boolean).join(' and ') || 'could not disable the system Prosody service (update-rc.d prosody disable failed)'}: ${why}`);
}

if (prosodyReady()) {
  quietSystemProsody();
  process.exit(0);
}
if (demo && dockerAnswers()) {
  quietSystemProsody();
  process.exit(0);
}

const hasApt = run('apt-get', ['--version']).status === 0;
if (isRoot && hasApt) {
  say('installing Prosody and lua-unbound with apt-get (once; the process runtime needs them)...');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = run('apt-get', ['update', '-q'], { env, stdio: 'inherit' });
  const install =
    update.status === 0 && run('apt-get', ['install', '-y', '-q', '--no-install-recommends', 'prosody', 'lua-unbound'], { env, stdio: 'inherit' });
  if (install && install.status === 0 && prosodyReady()) {
    quietSystemProsody();
    process.exit(0);
  }
  say('apt-get could not install prosody and lua-unbound; see its output above');
  process.exit(2);
}

const fix = 'install Prosody 0.12 with lua-unbound (Debian/Ubuntu: sudo apt-get install prosody lua-unbound)';
if (dockerAnswers()) {
  say(`Prosody is not installed, so only the container runtime can run here; to run both, ${fix}`);
  process.exit(0);
}
say(`neither Prosody nor a Docker engine is available: ${fix}, or start a Docker engine`);
process.exit(2);
