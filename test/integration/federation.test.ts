import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Federation } from '../../src/partner/federation.js';
import type { PartnerServer } from '../../src/partner/partner-server.js';
import type { PartnerOptions } from '../../src/partner/types.js';
import { XmppUser } from '../../src/xmpp/client.js';
import { sendIm, subscribeAndApprove } from '../../src/xmpp/exchange.js';
import { RUNTIMES, describeRuntime } from '../helpers/support.js';

/** The TLS versions a partner's S2S streams were encrypted with, from its log (its c2s ones left out). */
const s2sVersions = (p: PartnerServer) =>
  p
    .logs()
    .filter((l) => /^s2s\w+\s+info\s+Stream encrypted/.test(l))
    .map((l) => /\((TLSv[\d.]+) /.exec(l)?.[1]);

/** Two partner domains, each its own Prosody, federating over real S2S. */
async function pair(fed: Federation, tag: string, s2s: PartnerOptions['s2s'], logLevel: PartnerOptions['logLevel'] = 'info') {
  const a = await fed.addPartner({ domains: [`a${tag}.test`], users: ['alice'], s2s, logLevel });
  const b = await fed.addPartner({ domains: [`b${tag}.test`], users: ['bob'], s2s, logLevel });
  const login = (p: PartnerServer, name: string) => {
    const acc = p.account(name);
    return XmppUser.connect({ jid: acc.jid, password: acc.password, endpoint: p.c2s, trustPem: p.trustPem, available: true });
  };
  const alice = await login(a, 'alice');
  const bob = await login(b, 'bob');
  return { a, b, alice, bob, stop: async () => Promise.all([alice.stop(), bob.stop(), a.stop(), b.stop()]) };
}

for (const kind of RUNTIMES) {
  describeRuntime(kind, 'two partner domains federate', () => {
    let fed: Federation;
    beforeAll(async () => {
      fed = await Federation.start({ runtime: kind });
    });
    afterAll(() => fed?.stop());

    describe('(a) CA-issued certificates, SASL EXTERNAL, TLS required', () => {
      let t: Awaited<ReturnType<typeof pair>>;
      beforeAll(async () => {
        t = await pair(fed, '1', { certificates: 'ca', auth: 'certificate', tls: 'required', secureAuth: true });
      });
      afterAll(() => t?.stop());

      it('delivers IM in both directions, text intact', async () => {
        const body = 'Grüße 👋 <b>&amp; "quoted"</b>';
        const there = await sendIm(t.alice, t.bob, body);
        expect(there).toMatchObject({ delivered: true });
        expect(there.stanza.getChildText('body')).toBe(body);
        const back = await sendIm(t.bob, t.alice, 'pong');
        expect(back).toMatchObject({ delivered: true });
      });

      it('authenticated each S2S stream with SASL EXTERNAL over TLS, not dialback', async () => {
        await t.a.waitForLog(/Accepting SASL EXTERNAL identity from b1\.test/, 2_000);
        await t.b.waitForLog(/Accepting SASL EXTERNAL identity from a1\.test/, 2_000);
        expect([...t.a.logs(), ...t.b.logs()].some((l) => /Stream encrypted \(TLSv1\.[23]/.test(l))).toBe(true);
        expect(t.a.s2sSecurity.auth).toBe('certificate');
      });

      it('approves a presence subscription across the federation', async () => {
        const sub = await subscribeAndApprove(t.alice, t.bob);
        expect(sub.presence.attrs.from).toMatch(/^bob@b1\.test\//);
        expect(sub.presence.attrs.type).toBeUndefined();
      });
    });

    describe('(b) self-signed certificates, dialback, secure auth off', () => {
      let t: Awaited<ReturnType<typeof pair>>;
      beforeAll(async () => {
        t = await pair(fed, '2', { certificates: 'self-signed', auth: 'dialback', tls: 'required', secureAuth: false }, 'debug');
      });
      afterAll(() => t?.stop());

      it('delivers IM in both directions', async () => {
        expect(await sendIm(t.alice, t.bob, 'hello over dialback')).toMatchObject({ delivered: true });
        expect(await sendIm(t.bob, t.alice, 'and back')).toMatchObject({ delivered: true });
      });

      it('authenticated with dialback over TLS, never SASL EXTERNAL', async () => {
        await t.b.waitForLog(/verified dialback key\.\.\. it is valid/, 2_000);
        await t.a.waitForLog(/verified dialback key\.\.\. it is valid/, 2_000);
        expect([...t.a.logs(), ...t.b.logs()].some((l) => /SASL EXTERNAL/.test(l) && /Accepting/.test(l))).toBe(false);
        expect(t.a.logs().some((l) => /Stream encrypted/.test(l))).toBe(true);
      });

      it('approves a presence subscription across the federation', async () => {
        const sub = await subscribeAndApprove(t.bob, t.alice);
        expect(sub.presence.attrs.from).toMatch(/^alice@a2\.test\//);
      });
    });

    describe('(c) self-signed certificates with secure authentication: refused', () => {
      let t: Awaited<ReturnType<typeof pair>>;
      beforeAll(async () => {
        t = await pair(fed, '3', { certificates: 'self-signed', auth: 'dialback', tls: 'required', secureAuth: true });
      });
      afterAll(() => t?.stop());

      it('bounces the message with the S2S error stanza within a second', async () => {
        // The 1 s bound is the wait's deadline: no error stanza by then fails the test.
        const outcome = await sendIm(t.alice, t.bob, 'this must not arrive', 1_000);
        expect(outcome.delivered).toBe(false);
        expect(outcome.stanza.attrs.type).toBe('error');
        expect(outcome.error).toBe('remote-server-timeout');
        expect(outcome.errorText).toMatch(/certificate is not trusted/);
        await t.a.waitForLog(/Forbidding insecure connection to\/from b3\.test because its certificate is not trusted/, 1_000);
      });

      it('refuses the other direction the same way', async () => {
        const outcome = await sendIm(t.bob, t.alice, 'nor this', 1_000);
        expect(outcome).toMatchObject({ delivered: false, error: 'remote-server-timeout' });
      });
    });

    describe('(d) TLS version ranges (partner.s2s.tlsVersions)', () => {
      it('a server that stops at TLS 1.2 federates over TLS 1.2; one that insists on TLS 1.3 fails against it', async () => {
        const legacy = await fed.addPartner({ domains: ['tls12only.test'], users: ['carol'], s2s: { tlsVersions: { max: 'TLSv1.2' } } });
        const modern = await fed.addPartner({ domains: ['tls13only.test'], users: ['dan'], s2s: { tlsVersions: { min: 'TLSv1.3' } } });
        const any = await fed.addPartner({ domains: ['anytls.test'], users: ['erin'] });
        const login = (p: PartnerServer, name: string) => {
          const acc = p.account(name);
          return XmppUser.connect({ jid: acc.jid, password: acc.password, endpoint: p.c2s, trustPem: p.trustPem, available: true });
        };
        const [carol, dan, erin] = await Promise.all([login(legacy, 'carol'), login(modern, 'dan'), login(any, 'erin')]);
        try {
          expect(await sendIm(carol, erin, 'over TLS 1.2')).toMatchObject({ delivered: true });
          await legacy.waitForLog(/^s2s\w+\s+info\s+Stream encrypted \(TLSv1\.2 /, 2_000);
          expect(new Set(s2sVersions(legacy))).toEqual(new Set(['TLSv1.2']));
          // Prosody's default range (1.2 and 1.3) meets a 1.3-only server at 1.3.
          expect(await sendIm(dan, erin, 'over TLS 1.3')).toMatchObject({ delivered: true });
          await modern.waitForLog(/^s2s\w+\s+info\s+Stream encrypted \(TLSv1\.3 /, 2_000);
          expect(new Set(s2sVersions(modern))).toEqual(new Set(['TLSv1.3']));
          const refused = await sendIm(dan, carol, 'no common version', 5_000);
          expect(refused).toMatchObject({ delivered: false, error: 'remote-server-timeout' });
          expect(refused.errorText).toMatch(/negotiation of encrypted connection: .*(protocol version|unsupported protocol)/);
        } finally {
          await Promise.all([carol.stop(), dan.stop(), erin.stop(), legacy.stop(), modern.stop(), any.stop()]);
        }
      });
    });
  });
}
