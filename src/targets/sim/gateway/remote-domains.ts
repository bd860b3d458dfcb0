import { promises as dns } from 'node:dns';
import type { Endpoint } from '../../../infra/endpoint.js';

/**
 * Whether a remote XMPP domain exists, for RFC 7247 section 7.1 note 4: <remote-server-not-found/>
 * is 404 when the domain does not exist and 408 when it cannot be resolved. The Edge's bounce
 * carries only the condition (its text is the Edge's own wording), so the gateway asks the DNS the
 * Edge resolves with: NXDOMAIN for both the domain's `_xmpp-server._tcp` SRV name and the domain
 * itself is "does not exist"; anything else (records that lead nowhere, a server that does not
 * answer, a DNS failure) is "cannot be resolved".
 */
export type RemoteDomains = (domain: string) => Promise<'absent' | 'unresolvable'>;

export function remoteDomainsVia(server: Endpoint, timeoutMs: number): RemoteDomains {
  return async (domain) => {
    const resolver = new dns.Resolver({ timeout: timeoutMs, tries: 1 });
    resolver.setServers([`${server.host}:${server.port}`]);
    // c-ares names NXDOMAIN ENOTFOUND; a name that exists without records of the type is ENODATA.
    const nxdomain = (lookup: Promise<unknown>) =>
      lookup.then(
        () => false,
        (err: NodeJS.ErrnoException) => err.code === dns.NOTFOUND,
      );
    const [srv, host] = await Promise.all([nxdomain(resolver.resolveSrv(`_xmpp-server._tcp.${domain}`)), nxdomain(resolver.resolve4(domain))]);
    return srv && host ? 'absent' : 'unresolvable';
  };
}
