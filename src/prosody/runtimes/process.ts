import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, chmodSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { EnvironmentError, StartupError } from '../../errors.js';
import { withDeadline } from '../../infra/deadline.js';
import { guardOnExit } from '../../infra/exit-guard.js';
import { TestDnsServer } from '../../infra/dns.js';
import { LineLog } from '../../infra/line-log.js';
import { freePort } from '../../infra/ports.js';
import { OWNER_ENV, recordProcess, thisOwner } from '../../infra/reaper/marker.js';
import { TeardownStack } from '../../infra/teardown.js';
import { waitUntilServing } from '../readiness.js';
import { relevantLogLines, serveInstance, type ProsodyInstance, type ProsodyInstanceSpec, type ProsodyRuntime } from './runtime.js';

const LOOPBACK = '127.0.0.1';
const STOP_GRACE_MS = 5_000;

/** The `prosody` binary and its version, or undefined when it is not on PATH. */
export function findProsodyBinary(): { path: string; version: string; unbound: boolean } | undefined {
  const bin = onPath('prosody');
  if (!bin) return undefined;
  const ctl = path.join(path.dirname(bin), 'prosodyctl');
  // An empty config of its own, readable by anyone: the system's (/etc/prosody) is readable by root
  // and the prosody group only, so `prosodyctl about` fails for other users without it.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'xfed-about-'));
  const config = path.join(dir, 'prosody.cfg.lua');
  writeFileSync(config, '');
  chmodSync(dir, 0o755);
  const about = (() => {
    try {
      return spawnSync(ctl, ['--config', config, 'about'], { encoding: 'utf8', timeout: 10_000 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  })();
  const version = /Prosody\s+(\S+)/.exec(about.stdout ?? '')?.[1] ?? 'unknown';
  // Without lua-unbound Prosody reads /etc/resolv.conf only and never asks the test DNS.
  const unbound = /luaunbound:\s+\S/.test(about.stdout ?? '');
  return { path: bin, version, unbound };
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/**
 * Prosody as local processes on loopback. Each instance gets its own directory, pidfile and free
 * ports; a test DNS server on loopback serves the SRV and A records of every domain, so servers
 * find each other the way federation does (SRV first).
 */
export class ProcessRuntime implements ProsodyRuntime {
  readonly kind = 'process' as const;
  private readonly teardown = new TeardownStack('process runtime');

  private constructor(
    readonly dns: TestDnsServer,
    private readonly binary: string,
  ) {}

  static async start(): Promise<ProcessRuntime> {
    const bin = findProsodyBinary();
    if (!bin) {
      throw new EnvironmentError('prosody is not installed: install it (apt-get install prosody lua-unbound) or use --runtime container');
    }
    if (!bin.unbound) {
      throw new EnvironmentError(`Prosody ${bin.version} has no lua-unbound, so it cannot use the test DNS: install it (apt-get install lua-unbound)`);
    }
    const dns = new TestDnsServer();
    await dns.start();
    const runtime = new ProcessRuntime(dns, bin.path);
    runtime.teardown.defer('test DNS server', () => dns.stop());
    return runtime;
  }

  describe(): string[] {
    return [`test DNS ${this.dns.host}:${this.dns.port} (UDP and TCP; SRV and A records of every domain)`, `prosody ${this.binary}`];
  }

  /**
   * Free ports are picked before Prosody binds them, so another process can take one in between:
   * that startup failure is retried with new ports (never when the ports were given).
   */
  async startProsody(spec: ProsodyInstanceSpec): Promise<ProsodyInstance> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.startOnce(spec);
      } catch (err) {
        const portTaken = err instanceof StartupError && /Failed to open server port/.test(err.message);
        if (!portTaken || spec.reusePorts || spec.s2sListen || attempt >= 3) throw err;
      }
    }
  }

  private async startOnce(spec: ProsodyInstanceSpec): Promise<ProsodyInstance> {
    const c2sPort = spec.reusePorts?.c2s ?? (await freePort(LOOPBACK));
    const s2sPort = spec.s2sListen?.port ?? spec.reusePorts?.s2s ?? (await freePort(LOOPBACK));
    const componentPort = spec.componentListener ? (spec.reusePorts?.component ?? (await freePort(LOOPBACK))) : undefined;
    const configPath = path.join(spec.hostDir, 'prosody.cfg.lua');
    const config = spec.renderConfig({
      root: spec.hostDir,
      c2sPort,
      s2sPort,
      ...(componentPort !== undefined ? { componentPort } : {}),
      interfaces: [LOOPBACK],
      ...(spec.s2sListen ? { s2sInterfaces: [spec.s2sListen.host] } : {}),
      dnsForward: `${this.dns.host}@${this.dns.port}`,
      runAsRoot: process.getuid?.() === 0,
    });
    await writeFile(configPath, config, { mode: 0o644 });

    const log = new LineLog();
    const child = spawn(this.binary, ['-F', '--config', configPath], {
      cwd: spec.hostDir,
      stdio: ['ignore', 'pipe', 'pipe'],
      // The owner id in its environment finds it after a hard kill even where the marker missed it.
      env: { ...process.env, HOME: spec.hostDir, [OWNER_ENV]: thisOwner().owner },
    });
    const forget = child.pid !== undefined ? recordProcess(child.pid, spec.label) : () => undefined;
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.once('exit', (code, signal) => {
        log.end();
        resolve({ code, signal });
      });
    });
    child.stdout!.on('data', (d: Buffer) => log.write(d));
    child.stderr!.on('data', (d: Buffer) => log.write(d));
    const spawnError = new Promise<never>((_, reject) => child.once('error', reject));

    const unguard = guardOnExit(() => child.kill('SIGKILL'));
    // Forgotten only once it exited: one that would not stay listed for the watchdog.
    const stop = () => stopChild(child, exited).then(forget).finally(unguard);
    const release = this.teardown.defer(`prosody ${spec.label}`, stop);

    const c2s = { host: LOOPBACK, port: c2sPort };
    const s2s = { host: spec.s2sListen?.host ?? LOOPBACK, port: s2sPort };
    try {
      await Promise.race([
        spawnError,
        waitUntilServing({
          log,
          c2s,
          s2s,
          domain: spec.readinessDomain,
          timeoutMs: spec.startTimeoutMs,
          exited,
          label: spec.label,
          probeC2s: spec.probeC2s !== false,
        }),
      ]);
      await expectPidfile(path.join(spec.hostDir, 'prosody.pid'), child.pid!, spec.label);
    } catch (err) {
      await release();
      if (err instanceof StartupError) throw err;
      throw new StartupError(`Prosody for ${spec.label} did not start: ${(err as Error).message}`, relevantLogLines(log.all()));
    }

    const ports = { c2s: c2sPort, s2s: s2sPort, ...(componentPort !== undefined ? { component: componentPort } : {}) };
    const component = componentPort !== undefined ? { component: { host: LOOPBACK, port: componentPort } } : {};
    const kill = async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await withDeadline(exited, STOP_GRACE_MS, 'prosody to exit after SIGKILL');
    };
    return serveInstance({ spec, dns: this.dns, endpoints: { c2s, s2s, peerAddress: s2s, ...component, ports }, log, exited, kill, release });
  }

  async closedAddress(): Promise<{ host: string; port: number }> {
    return { host: LOOPBACK, port: await freePort(LOOPBACK) };
  }

  async stop(): Promise<void> {
    await this.teardown.close();
  }
}

async function expectPidfile(pidFile: string, pid: number, label: string): Promise<void> {
  // The pidfile is written before the listeners open, so by now it must hold our PID; another
  // PID means a second Prosody shares this directory and ours will hang.
  const content = await readFile(pidFile, 'utf8').catch(() => '');
  if (Number(content.trim()) !== pid) {
    throw new StartupError(`Prosody for ${label}: pidfile ${pidFile} holds '${content.trim()}', not its PID ${pid}`);
  }
}

async function stopChild(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  try {
    await withDeadline(exited, STOP_GRACE_MS, 'prosody to exit after SIGTERM');
  } catch {
    child.kill('SIGKILL');
    await withDeadline(exited, STOP_GRACE_MS, 'prosody to exit after SIGKILL');
  }
}
