import { getServers } from 'node:dns';
import { lookup } from 'node:dns/promises';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { InputError, XfedError } from '../../errors.js';
import type { Endpoint } from '../../infra/endpoint.js';
import type { Redactor } from '../../infra/redact.js';
import type { ProsodyRuntime } from '../../prosody/runtimes/runtime.js';
import { resolveHost, resolverAt } from '../locate.js';
import type { EdgeLocation } from '../target.js';
import type { LabSpec } from './spec.js';

/*
 * What a lab target reads before anything starts, so that every mistake in a suite's inputs (a
 * missing password variable, an unreadable file, a DNS server that does not answer) is one line
 * and exit 2 before a server is started.
 */

export const S2S_PORT = 5269;
export const C2S_PORT = 5222;
const DNS_PORT = 53;

/** A driven user's password and where it came from (`$XFED_ERIN_PASSWORD`), for a failed login to name. */
interface LabPassword {
  value: string;
  source: string;
}

/** The passwords of the users xfed drives, from their environment variables, registered as secrets. */
export function readPasswords(spec: LabSpec, redactor: Redactor): Map<string, LabPassword> {
  const passwords = new Map<string, LabPassword>();
  for (const user of spec.users) {
    if (!user.login) continue;
    const name = user.login.passwordEnv;
    const value = process.env[name];
    // A name that does not look like one may be the password itself, written where its variable goes: not repeated.
    const named = /^[A-Z_][A-Z0-9_]*$/.test(name)
      ? `the environment variable ${name} (login.passwordEnv) is not set`
      : 'the environment variable named in login.passwordEnv is not set (if that is the password itself, move it into a variable and name the variable there)';
    if (!value) throw new InputError(`target.gateway.users ${user.name}: ${named}`);
    redactor.add(value);
    passwords.set(user.name, { value, source: `$${user.login.passwordEnv}` });
  }
  return passwords;
}

/** A file a suite names, relative to the suite's directory. */
export async function readSuiteFile(baseDir: string, file: string, what: string): Promise<string> {
  // A key pasted where its file name goes is not repeated on the console.
  if (/-----BEGIN|[\r\n]/.test(file)) throw new InputError(`${what}: expected a file name, got PEM text (put it in a file and name the file here)`);
  const full = path.resolve(baseDir, file);
  try {
    return await readFile(full, 'utf8');
  } catch (err) {
    throw new InputError(`${what}: cannot read ${full}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** A suite's address as an IP and port (names resolved the way the system resolves them). */
export async function addressOf(a: { host: string; port?: number | undefined }, defaultPort: number, what: string): Promise<Endpoint> {
  const port = a.port ?? defaultPort;
  if (/^\d+\.\d+\.\d+\.\d+$/.test(a.host) || a.host.includes(':')) return { host: a.host, port };
  try {
    return { host: (await lookup(a.host, { family: 4 })).address, port };
  } catch (err) {
    throw new XfedError(`${what}: cannot resolve ${a.host}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** The DNS server the lab's names are asked of: the suite's, else this machine's first. */
export async function labResolver(spec: LabSpec): Promise<Endpoint> {
  if (spec.resolver) return addressOf(spec.resolver, DNS_PORT, 'target.gateway.resolver');
  const first = getServers()[0];
  if (!first) throw new InputError('target.gateway.resolver is not set and this machine has no DNS server configured');
  const m = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(first)!;
  return { host: m[1]!, port: m[2] ? Number(m[2]) : DNS_PORT };
}

/**
 * A resolver that does not answer would make every check fail for a reason that is not the
 * Edge's: it is said once, before anything starts. "No such name" is an answer.
 */
export async function expectAnswers(resolver: Endpoint, domain: string, what: string): Promise<void> {
  const dns = resolverAt(resolver, 3_000);
  try {
    await dns.resolveSrv(`_xmpp-server._tcp.${domain}`);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (['ENOTFOUND', 'ENODATA', 'ENONAME', 'NOTFOUND', 'NODATA'].some((c) => code.endsWith(c))) return;
    throw new XfedError(`${what}: the DNS server ${resolver.host}:${resolver.port} does not answer (${code || (err as Error).message})`);
  }
}

/**
 * Pins the SfB domain's SRV record in xfed's DNS to one Edge, bypassing the lab's record: a name
 * keeps being resolved by the lab's DNS, an address gets a name of xfed's own.
 */
export async function pinEdge(
  runtime: ProsodyRuntime,
  domain: string,
  edge: { host: string; port?: number | undefined },
  resolver: Endpoint,
): Promise<EdgeLocation> {
  const port = edge.port ?? S2S_PORT;
  const dns = resolverAt(resolver, 3_000);
  const [address] = await resolveHost(dns, edge.host);
  if (!address) throw new XfedError(`target.gateway.edge: ${edge.host} has no A record at ${resolver.host}:${resolver.port}`);
  if (address === edge.host) runtime.dns.publishXmppServer(domain, { host: `pinned-edge.${domain}`, address, port });
  else runtime.dns.setSrv(`_xmpp-server._tcp.${domain}`, [{ priority: 0, weight: 5, port, target: edge.host }]);
  return { host: address, port, via: `pinned edge ${edge.host}:${port} (SRV bypassed)` };
}
