import { describe, expect, it } from '@jest/globals';
import { TestCa } from '../../src/infra/pki.js';
import { XmppUser } from '../../src/xmpp/client.js';
import { probeS2s } from '../../src/xmpp/s2s-probe.js';
import { ejabberdGate } from '../helpers/ejabberd-gate.js';
import { startEjabberd } from '../helpers/ejabberd.js';

// The S2S probe against a second real XMPP server that is not Prosody: ejabberd, standing in for
// a legacy gateway endpoint. CI installs it; elsewhere the tests are skipped with the reason.
const ejabberd = ejabberdGate('ejabberd stand-in');

describe(
  's2s-probe against ejabberd',
  ejabberd.tests(() => {
    const day = 86_400_000;

    it('reads STARTTLS, TLS 1.3, a trusted certificate naming the domain, and SASL EXTERNAL; a user logs in over c2s', async () => {
      ejabberd.check();
      const ca = await TestCa.create();
      const ej = await startEjabberd({ domain: 'contoso.test', cert: await ca.issue('contoso.test'), caPem: ca.certPem });
      try {
        const report = await probeS2s({ ...ej.s2s, domain: 'contoso.test', from: 'partner.test', ca: ca.certPem, timeoutMs: 5_000 });
        expect(report).toMatchObject({
          connected: true,
          starttls: 'required',
          tlsVersion: 'TLSv1.3',
          certificate: { trusted: true, coversBareDomain: true, expired: false },
        });
        expect(report.saslMechanisms).toContain('EXTERNAL');
        ej.register('erin', 'erin-secret');
        const erin = await XmppUser.connect({ jid: 'erin@contoso.test', password: 'erin-secret', endpoint: ej.c2s, trustPem: ca.certPem });
        expect(await erin.ping('contoso.test')).toBeGreaterThan(0);
        await erin.stop();
      } finally {
        await ej.stop();
      }
      const closed = await probeS2s({ ...ej.s2s, domain: 'contoso.test', from: 'partner.test', ca: ca.certPem, timeoutMs: 2_000 });
      expect(closed).toMatchObject({ connected: false, error: expect.stringMatching(/ECONNREFUSED/) });
    });

    it('names the certificate problems of a broken renewal: expired, bare domain missing, untrusted', async () => {
      ejabberd.check();
      const ca = await TestCa.create();
      const other = await TestCa.create();
      const cases = [
        [await ca.issue('contoso.test', { notBefore: new Date(Date.now() - 30 * day), notAfter: new Date(Date.now() - day) }), { expired: true }],
        [await ca.issue('contoso.test', { sans: ['*.contoso.test', 'sip.contoso.test'] }), { coversBareDomain: false, trusted: false }],
        [await other.issue('contoso.test'), { trusted: false, coversBareDomain: true }],
      ] as const;
      for (const [cert, want] of cases) {
        const ej = await startEjabberd({ domain: 'contoso.test', cert, caPem: ca.certPem });
        try {
          const report = await probeS2s({ ...ej.s2s, domain: 'contoso.test', from: 'partner.test', ca: ca.certPem, timeoutMs: 5_000 });
          expect(report.certificate).toMatchObject(want);
        } finally {
          await ej.stop();
        }
      }
    });
  }),
);
