import { access, constants, readdir, readFile } from 'node:fs/promises';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { delimiter, join } from 'node:path';
import { EnvironmentError } from '../../errors.js';

/** A host for Tsung's client nodes: the name the scenario gives, and the loopback address it resolves to. */
export interface TsungHost {
  readonly name: string;
  readonly ip: string;
}

/** Where Tsung's controller runs: its Erlang node is named by this address (`tsung -I`). */
export const CONTROLLER_IP = '127.0.0.1';

/**
 * The client hosts of `--tsung-hosts`: each must be this machine (a loopback address, or a name
 * that resolves to one), because xfed starts every node here and lets nothing listen beyond
 * loopback. Erlang's long node names need an address or a dotted name.
 */
export async function resolveHosts(names: readonly string[]): Promise<TsungHost[]> {
  const out: TsungHost[] = [];
  for (const raw of names) {
    const name = raw.trim();
    if (name === '') throw new EnvironmentError('--tsung-hosts: an empty host name');
    let ip = name;
    if (isIP(name) === 0) {
      if (!name.includes('.'))
        throw new EnvironmentError(
          `--tsung-hosts ${name}: Erlang's long node names need a dotted name or an address; use a loopback address such as 127.0.0.2`,
        );
      ip = await lookup(name, { family: 4 }).then(
        (r) => r.address,
        () => {
          throw new EnvironmentError(`--tsung-hosts ${name}: the name does not resolve; use a loopback address such as 127.0.0.2`);
        },
      );
    } else if (isIP(name) === 6) throw new EnvironmentError(`--tsung-hosts ${name}: an IPv6 address; use an IPv4 loopback address such as 127.0.0.2`);
    if (!ip.startsWith('127.'))
      throw new EnvironmentError(
        `--tsung-hosts ${name}: resolves to ${ip}, not a loopback address; xfed starts Tsung's client nodes on this machine only (127.0.0.0/8)`,
      );
    out.push({ name, ip });
  }
  return out;
}

/** The tsung command: the given path, or `tsung` on PATH; one line naming the package when it is missing. */
export async function findTsung(tsungPath?: string): Promise<string> {
  const candidates = tsungPath ? [tsungPath] : (process.env.PATH ?? '').split(delimiter).map((d) => join(d, 'tsung'));
  for (const c of candidates) {
    if (
      await access(c, constants.X_OK).then(
        () => true,
        () => false,
      )
    )
      return c;
  }
  throw new EnvironmentError(
    tsungPath
      ? `${tsungPath}: no executable tsung there; install Debian's tsung package (apt-get install tsung) or give its path`
      : "tsung is not installed (not on PATH): install Debian's tsung package (apt-get install tsung)",
  );
}

/**
 * The shell Tsung's controller runs instead of ssh to start a client node on a host (`tsung -r`):
 * the node starts here, its distribution bound to the host's loopback address. Nodes on the
 * controller's own address start without it.
 */
export function remoteShell(hosts: readonly TsungHost[]): string {
  const cases = hosts.map((h) => `  '${h.name.replace(/'/g, '')}') ip='{${h.ip.split('.').join(',')}}' ;;`).join('\n');
  return `#!/bin/sh
# Written by xfed load: starts a Tsung client node on this machine, bound to its loopback address.
host="$1"; shift
case "$host" in
${cases}
  *) echo "xfed: $host is not one of the Tsung hosts of this run" >&2; exit 1 ;;
esac
ERL_ZFLAGS="-kernel inet_dist_use_interface $ip" exec "$@"
`;
}

/** One process of a Tsung run as /proc shows it (`beam`: an Erlang VM, the controller or a client node). */
export interface NodeProcess {
  readonly pid: number;
  readonly beam: boolean;
  readonly cpuTicks: number;
  readonly rssBytes: number;
}

// Linux's USER_HZ, the unit of utime and stime in /proc/<pid>/stat, is 100 on every architecture Node runs on.
export const TICKS_PER_SECOND = 100;

/**
 * The processes of one Tsung run: the controller, its client nodes, their helpers (erl_child_setup,
 * inet_gethost) and epmd all inherit the run's own HOME (`HOME=<its directory>`), and nothing else
 * on the machine has it.
 */
export async function tsungProcesses(home: string): Promise<NodeProcess[]> {
  const out: NodeProcess[] = [];
  const entries = await readdir('/proc').catch(() => [] as string[]);
  await Promise.all(
    entries
      .filter((e) => /^\d+$/.test(e))
      .map(async (e) => {
        const env = await readFile(`/proc/${e}/environ`, 'utf8').catch(() => '');
        if (!env.split('\0').includes(`HOME=${home}`)) return;
        const args = (await readFile(`/proc/${e}/cmdline`, 'utf8').catch(() => '')).split('\0');
        const [stat, status] = await Promise.all([readFile(`/proc/${e}/stat`, 'utf8').catch(() => ''), readFile(`/proc/${e}/status`, 'utf8').catch(() => '')]);
        // Fields after the command name (in parentheses, which may hold spaces): utime and stime are the 12th and 13th.
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const rss = /VmRSS:\s+(\d+) kB/.exec(status);
        out.push({
          pid: Number(e),
          beam: (args[0] ?? '').endsWith('beam.smp'),
          cpuTicks: Number(fields[11] ?? 0) + Number(fields[12] ?? 0),
          rssBytes: rss ? Number(rss[1]) * 1024 : 0,
        });
      }),
  );
  return out;
}
