import { z } from 'zod';
import { DomainName } from '../infra/format.js';
import { resolveHost, resolverAt } from '../targets/locate.js';
import { defineCheck, NoAnswer } from './check.js';
import { fail, pass } from './expectation.js';

/** The `_xmpp-server._tcp` SRV record of a domain and the addresses it points to, as the partner resolves them. */
export const dnsCheck = defineCheck({
  kind: 'dns',
  fields: { domain: DomainName.optional(), target: z.string().optional().describe('Expected SRV target host') },
  failures: { dns: { nxdomain: [], mismatch: ['target'] } },
  references: ['RFC 6120 section 3.2.1 (SRV lookup)', 'docs/sfb-xmpp-federation.md section 2'],
  title: (c, setup) => `SRV _xmpp-server._tcp.${c.domain ?? setup.sfbDomain}${c.target ? ` -> ${c.target}` : ''}`,
  async run(check, ctx) {
    const domain = check.domain ?? ctx.target.sfbDomain;
    const resolver = resolverAt(ctx.target.resolver, ctx.timeoutMs);
    const name = `_xmpp-server._tcp.${domain}`;
    const started = performance.now();
    let records: Array<{ name: string; port: number; priority: number; weight: number }>;
    try {
      // In the order a partner tries them (RFC 2782: the lowest priority first).
      records = (await resolver.resolveSrv(name)).sort((a, b) => a.priority - b.priority || b.weight - a.weight);
    } catch (err) {
      const code = (err as { code?: string }).code;
      // An answer that says the name has no record is the outcome; no answer at all is a silence.
      if (code !== 'ENOTFOUND' && code !== 'ENODATA')
        throw new NoAnswer(
          `${name}: the DNS server ${ctx.target.resolver.host}:${ctx.target.resolver.port} gave no answer (${code ?? (err as Error).message})`,
        );
      return { outcome: fail({ dns: 'nxdomain' }, `${name}: ${code}`), latencyMs: performance.now() - started };
    }
    const latencyMs = performance.now() - started;
    // What each record points to, as the partner will connect to it.
    const addresses = await Promise.all(records.map((r) => resolveHost(resolver, r.name)));
    const described = records.map((r, i) => `${r.priority} ${r.weight} ${r.port} ${r.name} -> ${addresses[i]!.join(', ') || 'no A record'}`).join('; ');
    ctx.target.flow.record({ from: 'partner-server', to: 'partner-server', protocol: 'dns', label: `SRV ${name}`, wire: described });
    if (check.target && !records.some((r) => r.name === check.target)) return { outcome: fail({ dns: 'mismatch' }, described), latencyMs };
    return { outcome: pass(described), latencyMs };
  },
});
