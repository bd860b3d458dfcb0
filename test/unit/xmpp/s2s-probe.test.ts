import { describe, expect, it } from '@jest/globals';
import net from 'node:net';
import { TestCa } from '../../../src/infra/pki.js';
import { inspectCertificate, probeS2s } from '../../../src/xmpp/s2s-probe.js';

describe('inspectCertificate', () => {
  it('reads the SANs and whether the bare domain is one of them', async () => {
    const ca = await TestCa.create();
    const good = inspectCertificate((await ca.issue('contoso.test')).certPem, 'contoso.test');
    expect(good).toMatchObject({ sans: ['contoso.test', '*.contoso.test'], coversBareDomain: true, expired: false });
    const wildcardOnly = inspectCertificate((await ca.issue('contoso.test', { sans: ['*.contoso.test'] })).certPem, 'contoso.test');
    expect(wildcardOnly.coversBareDomain).toBe(false);
  });

  it('sees an expired certificate', async () => {
    const ca = await TestCa.create();
    const day = 86_400_000;
    const pem = (await ca.issue('contoso.test', { notBefore: new Date(Date.now() - 10 * day), notAfter: new Date(Date.now() - day) })).certPem;
    expect(inspectCertificate(pem, 'contoso.test').expired).toBe(true);
  });
});

describe('probeS2s against what is not an XMPP server', () => {
  it('reports a refused connection without throwing', async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const { port } = server.address() as net.AddressInfo;
    await new Promise<void>((r) => server.close(() => r()));
    const report = await probeS2s({ host: '127.0.0.1', port, domain: 'contoso.test', from: 'partner.test', timeoutMs: 2_000 });
    expect(report).toMatchObject({ connected: false, error: expect.stringMatching(/ECONNREFUSED/) });
  });

  it('reports a server that speaks no XMPP, within the bound', async () => {
    const sockets: net.Socket[] = [];
    const server = net.createServer((s) => {
      sockets.push(s);
      s.end('HTTP/1.1 400 Bad Request\r\n\r\n');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const { port } = server.address() as net.AddressInfo;
      const report = await probeS2s({ host: '127.0.0.1', port, domain: 'contoso.test', from: 'partner.test', timeoutMs: 2_000 });
      expect(report.connected).toBe(true);
      expect(report.error).toMatch(/not XML; the first bytes were .HTTP\/1\.1 400 Bad Request.*\(an HTTP server\)|closed the connection/);
    } finally {
      sockets.forEach((s) => s.destroy());
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('gives up on a silent server after its bound', async () => {
    const sockets: net.Socket[] = [];
    const server = net.createServer((s) => sockets.push(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const { port } = server.address() as net.AddressInfo;
      const report = await probeS2s({ host: '127.0.0.1', port, domain: 'contoso.test', from: 'partner.test', timeoutMs: 300 });
      expect(report.error).toMatch(/timed out after 300 ms waiting for the stream features before STARTTLS/);
    } finally {
      sockets.forEach((s) => s.destroy());
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
