import { sfbDomainOf } from '../scenario/target-spec.js';
import { Resolver } from 'node:dns/promises';
import { fail, pass, type CheckKindHandler } from './check.js';

/** The `_xmpp-server._tcp` SRV record of a domain, as the servers of the run resolve it. */
export const dnsCheck: CheckKindHandler<'dns'> = {
  kind: 'dns',
  title: (c, suite) => `SRV _xmpp-server._tcp.${c.domain ?? sfbDomainOf(suite)}${c.target ? ` -> ${c.target}` : ''}`,
  async run(check, ctx) {
    const dns = ctx.target.resolver;
    const domain = check.domain ?? ctx.target.sfbDomain;
    const resolver = new Resolver({ timeout: ctx.timeoutMs, tries: 1 });
    resolver.setServers([`${dns.host}:${dns.port}`]);
    const name = `_xmpp-server._tcp.${domain}`;
    const started = performance.now();
    let records: Array<{ name: string; port: number; priority: number; weight: number }>;
    try {
      records = await resolver.resolveSrv(name);
    } catch (err) {
      const code = (err as { code?: string }).code;
      return { outcome: fail({ dns: 'nxdomain' }, `${name}: ${code ?? (err as Error).message}`), latencyMs: performance.now() - started };
    }
    const latencyMs = performance.now() - started;
    const described = records.map((r) => `${r.priority} ${r.weight} ${r.port} ${r.name}`).join('; ');
    ctx.target.flow.record({ from: 'partner-server', to: 'partner-server', protocol: 'dns', label: `SRV ${name}`, wire: described });
    if (check.target && !records.some((r) => r.name === check.target)) return { outcome: fail({ dns: 'mismatch' }, described), latencyMs };
    return { outcome: pass(described), latencyMs };
  },
};
