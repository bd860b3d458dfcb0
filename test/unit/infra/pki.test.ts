import { describe, expect, it } from '@jest/globals';
import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import { TestCa, selfSignedCertificate } from '../../../src/infra/pki.js';

describe('TestCa', () => {
  it('issues domain certificates that verify against it, with the bare domain and wildcard as SANs', async () => {
    const ca = await TestCa.create();
    const { certPem, keyPem } = await ca.issue('partner.test');
    const caCert = new X509Certificate(ca.certPem);
    const leaf = new X509Certificate(certPem);
    expect(caCert.ca).toBe(true);
    expect(leaf.ca).toBe(false);
    expect(leaf.checkIssued(caCert)).toBe(true);
    expect(leaf.verify(caCert.publicKey)).toBe(true);
    expect(leaf.subjectAltName).toBe('DNS:partner.test, DNS:*.partner.test');
    expect(leaf.checkHost('partner.test')).toBe('partner.test');
    expect(leaf.checkHost('xmpp.partner.test')).toBe('*.partner.test');
    expect(leaf.checkPrivateKey(await import('node:crypto').then((c) => c.createPrivateKey(keyPem)))).toBe(true);
  });

  it('issues certificates with the SANs and validity a renewal scenario asks for', async () => {
    const ca = await TestCa.create();
    const notAfter = new Date(Date.now() - 3_600_000);
    const { certPem } = await ca.issue('contoso.test', { sans: ['edge.contoso.test'], notAfter });
    const leaf = new X509Certificate(certPem);
    expect(leaf.subjectAltName).toBe('DNS:edge.contoso.test');
    expect(leaf.checkHost('contoso.test')).toBeUndefined();
    expect(new Date(leaf.validTo).getTime()).toBeLessThan(Date.now());
  });

  it('makes a real TLS handshake verify only with the CA trusted', async () => {
    const ca = await TestCa.create();
    const { certPem, keyPem } = await ca.issue('partner.test');
    const server = tls.createServer({ cert: certPem, key: keyPem }, (s) => s.end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    const handshake = (ca_?: string) =>
      new Promise<string>((resolve) => {
        const s = tls.connect({ host: '127.0.0.1', port, servername: 'partner.test', ...(ca_ ? { ca: ca_ } : {}) }, () => {
          resolve('ok');
          s.destroy();
        });
        s.on('error', (e) => resolve((e as NodeJS.ErrnoException).code ?? e.message));
      });
    try {
      expect(await handshake(ca.certPem)).toBe('ok');
      expect(await handshake()).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    } finally {
      server.close();
    }
  });
});

describe('selfSignedCertificate', () => {
  it('is its own issuer and carries the domain SANs', async () => {
    const { certPem } = await selfSignedCertificate('b.test');
    const cert = new X509Certificate(certPem);
    expect(cert.issuer).toBe(cert.subject);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.subjectAltName).toBe('DNS:b.test, DNS:*.b.test');
  });
});
