import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Resolver } from 'node:dns/promises';
import { TestDnsServer, type DnsQueryLog } from '../../src/infra/dns.js';

describe('TestDnsServer (real UDP and TCP on loopback)', () => {
  const dns = new TestDnsServer();
  const resolver = new Resolver({ timeout: 2_000, tries: 1 });
  const queries: DnsQueryLog[] = [];

  beforeAll(async () => {
    await dns.start();
    dns.on('query', (q: DnsQueryLog) => queries.push(q));
    resolver.setServers([`127.0.0.1:${dns.port}`]);
  });
  afterAll(() => dns.stop());

  it('serves the SRV and A records of an XMPP server', async () => {
    dns.publishXmppServer('partner.test', { host: 'xmpp.partner.test', address: '127.0.0.1', port: 5269 });
    expect(await resolver.resolveSrv('_xmpp-server._tcp.partner.test')).toEqual([
      { name: 'xmpp.partner.test', port: 5269, priority: 0, weight: 5 },
    ]);
    expect(await resolver.resolve4('xmpp.partner.test')).toEqual(['127.0.0.1']);
    expect(queries.at(-1)).toMatchObject({ name: 'xmpp.partner.test', type: 'A', rcode: 'NOERROR', answers: 1 });
  });

  it('answers NXDOMAIN for unknown names', async () => {
    await expect(resolver.resolveSrv('_xmpp-server._tcp.nowhere.test')).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });

  it('changes records live: repoint, then remove', async () => {
    dns.setSrv('_xmpp-server._tcp.contoso.test', [{ priority: 0, weight: 5, port: 5269, target: 'legacy-edge.contoso.test' }]);
    expect((await resolver.resolveSrv('_xmpp-server._tcp.contoso.test'))[0]!.name).toBe('legacy-edge.contoso.test');
    dns.setSrv('_xmpp-server._tcp.contoso.test', [{ priority: 0, weight: 5, port: 5269, target: 'edge2019.contoso.test' }]);
    expect((await resolver.resolveSrv('_xmpp-server._tcp.contoso.test'))[0]!.name).toBe('edge2019.contoso.test');
    dns.remove('_xmpp-server._tcp.contoso.test');
    await expect(resolver.resolveSrv('_xmpp-server._tcp.contoso.test')).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });

  it('listens on loopback only', () => {
    expect(dns.host).toBe('127.0.0.1');
  });
});
