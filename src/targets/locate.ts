import { Resolver } from 'node:dns/promises';
import type { Endpoint } from '../infra/endpoint.js';
import type { EdgeLocation } from './target.js';

/**
 * Where a federating server finds the S2S listener of `domain`, asking `resolver`: the SRV
 * record `_xmpp-server._tcp` first (lowest priority), then the domain's own A record on 5269.
 * A string says why there is none.
 */
export async function locateXmppServer(domain: string, resolver: Endpoint, timeoutMs: number): Promise<EdgeLocation | string> {
  const dns = resolverAt(resolver, timeoutMs);
  const srv = await dns.resolveSrv(`_xmpp-server._tcp.${domain}`).catch(() => []);
  const [first] = [...srv].sort((a, b) => a.priority - b.priority);
  const name = first?.name ?? domain;
  const addresses = await resolveHost(dns, name);
  if (addresses.length === 0) return first ? `the SRV target ${name} has no A record` : `no SRV record for ${domain} and no A record`;
  return { host: addresses[0]!, port: first?.port ?? 5269, via: first ? `SRV ${name}:${first.port}` : `A ${domain}:5269` };
}

/** A DNS client that asks only `server`, once, within `timeoutMs` (never the machine's resolvers). */
export function resolverAt(server: Endpoint, timeoutMs: number): Resolver {
  const dns = new Resolver({ timeout: timeoutMs, tries: 1 });
  dns.setServers([`${server.host}:${server.port}`]);
  return dns;
}

/** A host's IPv4 addresses (an address is its own answer). */
export async function resolveHost(dns: Resolver, host: string): Promise<string[]> {
  if (/^\d+\.\d+\.\d+\.\d+$/.test(host)) return [host];
  return dns.resolve4(host).catch(() => []);
}
