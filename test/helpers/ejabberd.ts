import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { withDeadline } from '../../src/infra/deadline.js';
import { guardOnExit } from '../../src/infra/exit-guard.js';
import { LineLog } from '../../src/infra/line-log.js';
import type { KeyAndCert } from '../../src/infra/pki.js';
import { freePort } from '../../src/infra/ports.js';

/**
 * ejabberd from Debian's packages, standing in for a legacy gateway endpoint: a second real XMPP
 * server that is not Prosody, on loopback only. Started as the ejabberd user (ejabberdctl insists)
 * with a config, spool and logs of its own; Debian's ejabberdctl.cfg is replaced by ours, since it
 * would override the config path, and its Erlang distribution and epmd are kept on loopback.
 */
export interface EjabberdStandIn {
  domain: string;
  c2s: { host: string; port: number };
  s2s: { host: string; port: number };
  log: LineLog;
  register(user: string, password: string): void;
  /** Registers the account, or gives an existing one this password. */
  setPassword(user: string, password: string): void;
  /** `ejabberdctl restart`: every session ends (stream error system-shutdown) and the listeners come back. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const EJABBERDCTL = '/usr/sbin/ejabberdctl';

export function ejabberdMissing(): string | undefined {
  if (!existsSync(EJABBERDCTL)) return 'ejabberd is not installed (apt-get install ejabberd)';
  if (spawnSync('id', ['ejabberd'], { stdio: 'ignore' }).status !== 0) return 'the ejabberd user does not exist (apt-get install ejabberd)';
  if (process.getuid?.() !== 0) return 'starting ejabberd as its own user needs root';
  return undefined;
}

export interface EjabberdOptions {
  domain: string;
  cert: KeyAndCert;
  /** CAs ejabberd trusts for peers' certificates (SASL EXTERNAL) and its own chain. */
  caPem: string;
  s2sTls?: 'required' | 'optional';
  /** Offer and use server dialback (XEP-0220) beside SASL EXTERNAL. */
  dialback?: boolean;
  /** A DNS server on loopback that ejabberd resolves S2S peers with (SRV, then A), as a lab's. */
  resolver?: { host: string; port: number };
  /** Reuse these ports (a restart with another certificate keeps the DNS records right). */
  ports?: { c2s: number; s2s: number };
  /** Refuse TLS 1.3 (and anything below 1.2) on c2s and s2s, as an older Edge does. */
  tls12Only?: boolean;
}

export async function startEjabberd(opts: EjabberdOptions): Promise<EjabberdStandIn> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'xfed-ejabberd-'));
  const unguardDir = guardOnExit(() => spawnSync('rm', ['-rf', dir]));
  const c2sPort = opts.ports?.c2s ?? (await freePort());
  const s2sPort = opts.ports?.s2s ?? (await freePort());
  const node = `xfed${process.pid}${Date.now().toString(36)}@localhost`;
  await mkdir(path.join(dir, 'spool'));
  await mkdir(path.join(dir, 'logs'));
  await writeFile(path.join(dir, 'cert.pem'), `${opts.cert.keyPem.trim()}\n${opts.cert.certPem.trim()}\n`);
  await writeFile(path.join(dir, 'ca.pem'), opts.caPem);
  // Erlang's resolver: our host entry, then (given a resolver) DNS at that address and port only.
  // Without resolv_conf "", Erlang rereads /etc/resolv.conf before each query and replaces the
  // nameserver with the machine's, which must never see test names.
  const dns = opts.resolver
    ? `{lookup, [file, dns]}.\n{nameserver, {${opts.resolver.host.split('.').join(',')}}, ${opts.resolver.port}}.\n`
    : '{lookup, [file]}.\n';
  const tlsOptions = opts.tls12Only ? '["no_sslv3", "no_tlsv1", "no_tlsv1_1", "no_tlsv1_3"]' : undefined;
  await writeFile(path.join(dir, 'inetrc'), `{resolv_conf, ""}.\n{hosts_file, ""}.\n${dns}{host, {127,0,0,1}, ["localhost"]}.\n`);
  await writeFile(
    path.join(dir, 'ejabberdctl.cfg'),
    [
      `EJABBERD_CONFIG_PATH=${dir}/ejabberd.yml`,
      `EJABBERD_PID_PATH=${dir}/ejabberd.pid`,
      'ERL_OPTIONS="-kernel inet_dist_use_interface {127,0,0,1}"',
      'ERL_EPMD_ADDRESS=127.0.0.1',
      // ejabberdctl sets ERL_INETRC to $CONFIG_DIR/inetrc after reading this file.
      `CONFIG_DIR=${dir}`,
      '',
    ].join('\n'),
  );
  await writeFile(
    path.join(dir, 'ejabberd.yml'),
    `hosts:
  - ${opts.domain}
loglevel: ${process.env.XFED_EJABBERD_LOGLEVEL ?? 'info'}
certfiles:
  - ${dir}/cert.pem
ca_file: ${dir}/ca.pem
listen:
  - port: ${c2sPort}
    ip: 127.0.0.1
    module: ejabberd_c2s
    starttls_required: true
${tlsOptions ? `    protocol_options: ${tlsOptions}\n` : ''}  - port: ${s2sPort}
    ip: 127.0.0.1
    module: ejabberd_s2s_in
s2s_use_starttls: ${opts.s2sTls ?? 'required'}
${tlsOptions ? `s2s_protocol_options: ${tlsOptions}\n` : ''}s2s_dns_timeout: 3
s2s_max_retry_delay: 1
auth_method: internal
auth_password_format: scram
acl:
  local:
    user_regexp: ""
access_rules:
  local:
    allow: local
  c2s:
    allow: all
  s2s:
    allow: all
modules:
  mod_disco: {}
  mod_ping: {}
  mod_roster: {}
${opts.dialback ? '  mod_s2s_dialback: {}\n' : ''}`,
  );
  // ejabberd runs as its own user: it must own what it writes.
  for (const p of ['', 'spool', 'logs', 'cert.pem', 'ca.pem', 'inetrc', 'ejabberdctl.cfg', 'ejabberd.yml']) chownUser(path.join(dir, p));
  const ctl = (args: string[]) => [
    '-u',
    'ejabberd',
    '--',
    EJABBERDCTL,
    '--ctl-config',
    `${dir}/ejabberdctl.cfg`,
    '--spool',
    `${dir}/spool`,
    '--logs',
    `${dir}/logs`,
    '--node',
    node,
    ...args,
  ];
  const log = new LineLog();
  const child: ChildProcess = spawn('runuser', ctl(['foreground']), { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  child.stdout!.on('data', (d: Buffer) => log.write(d));
  child.stderr!.on('data', (d: Buffer) => log.write(d));
  const killAll = () => {
    // The whole process group: runuser, the shell, beam; then the node's epmd if it is the last.
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
    spawnSync('pkill', ['-9', '-f', `beam.*${node.split('@')[0]}`], { stdio: 'ignore' });
  };
  const unguard = guardOnExit(killAll);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    // Gracefully first, so every process of the tree is reaped by its parent; killed if it lingers.
    spawnSync('runuser', ctl(['stop']), { stdio: 'ignore', timeout: 15_000 });
    await withDeadline(exited, 10_000, 'ejabberd to exit').catch(() => {
      killAll();
      return withDeadline(exited, 5_000, 'ejabberd to exit after SIGKILL').catch(() => undefined);
    });
    unguard();
    spawnSync('epmd', ['-kill'], { stdio: 'ignore', env: { ...process.env, ERL_EPMD_ADDRESS: '127.0.0.1' } });
    await rm(dir, { recursive: true, force: true });
    unguardDir();
  };
  try {
    await withDeadline(
      new Promise<void>((resolve, reject) => {
        log.onLine((l) => {
          if (/Start accepting TCP connections at 127\.0\.0\.1:\d+ for ejabberd_s2s_in/.test(l)) resolve();
          if (/\[critical\]|Failed to start/.test(l)) reject(new Error(`ejabberd did not start: ${l}`));
        });
        void exited.then(() => reject(new Error(`ejabberd exited during startup:\n${log.all().slice(-10).join('\n')}`)));
      }),
      30_000,
      'ejabberd to listen',
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    domain: opts.domain,
    c2s: { host: '127.0.0.1', port: c2sPort },
    s2s: { host: '127.0.0.1', port: s2sPort },
    log,
    restart: async () => {
      const from = log.mark();
      // Not spawnSync: the sessions it ends are seen as it ends them.
      await new Promise<void>((resolve, reject) =>
        execFile('runuser', ctl(['restart']), { timeout: 20_000 }, (err, stdout, stderr) =>
          err ? reject(new Error(`ejabberdctl restart: ${stdout}${stderr}`)) : resolve(),
        ),
      );
      await log.waitFor(/Start accepting TCP connections at 127\.0\.0\.1:\d+ for ejabberd_s2s_in/, {
        timeoutMs: 30_000,
        since: from,
        what: 'ejabberd to listen again',
      });
    },
    register: (user, password) => {
      const r = spawnSync('runuser', ctl(['register', user, opts.domain, password]), { encoding: 'utf8', timeout: 20_000 });
      if (r.status !== 0) throw new Error(`ejabberdctl register ${user}: ${r.stdout}${r.stderr}`);
    },
    setPassword: (user, password) => {
      const r = spawnSync('runuser', ctl(['register', user, opts.domain, password]), { encoding: 'utf8', timeout: 20_000 });
      if (r.status === 0) return;
      // change_password lives in mod_admin_extra; unregister and register are ejabberd's own.
      const u = spawnSync('runuser', ctl(['unregister', user, opts.domain]), { encoding: 'utf8', timeout: 20_000 });
      const again = spawnSync('runuser', ctl(['register', user, opts.domain, password]), { encoding: 'utf8', timeout: 20_000 });
      if (again.status !== 0) throw new Error(`ejabberdctl unregister and register ${user}: ${u.stdout}${u.stderr}${again.stdout}${again.stderr}`);
    },
    stop,
  };
}

function chownUser(p: string): void {
  owner ??= {
    uid: Number(spawnSync('id', ['-u', 'ejabberd'], { encoding: 'utf8' }).stdout.trim()),
    gid: Number(spawnSync('id', ['-g', 'ejabberd'], { encoding: 'utf8' }).stdout.trim()),
  };
  chownSync(p, owner.uid, owner.gid);
}

/** The ejabberd user's ids, asked once per process. */
let owner: { uid: number; gid: number } | undefined;
