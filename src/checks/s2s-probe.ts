import { z } from 'zod';
import { edgeS2sPolicy } from '../sfb/partner-profile.js';
import { probeS2s, type S2sProbeReport } from '../xmpp/s2s-probe.js';
import { defineCheck } from './check.js';
import { fail, pass } from './expectation.js';

function summary(r: S2sProbeReport): string {
  const parts = [`STARTTLS ${r.starttls ?? '?'}`];
  if (r.tlsVersion) parts.push(r.tlsVersion);
  if (r.certificate)
    parts.push(
      `certificate ${r.certificate.trusted ? 'trusted' : `not trusted (${r.certificate.trustError})`}, SANs ${r.certificate.sans.join(' ')}, valid to ${r.certificate.validTo.slice(0, 10)}`,
    );
  parts.push(`SASL ${r.saslMechanisms?.join(' ') || 'none'}`, `dialback ${(r.dialbackAfterTls ?? r.dialbackBeforeTls) ? 'offered' : 'not offered'}`);
  if (r.saslExternal) parts.push(`SASL EXTERNAL tried: ${r.saslExternal.outcome === 'success' ? 'accepted' : 'refused'}`);
  return parts.join('; ');
}

/**
 * Opens a raw S2S stream to the SfB domain and compares what it offers with the partner profile
 * the SfB side holds (New-CsXmppAllowedPartner): STARTTLS required or not, SASL EXTERNAL offered
 * to the partner's certificate (and accepted when tried: XEP-0178), dialback offered; and checks
 * the certificate (chain, expiry, the bare domain as a SAN). Needs no SfB user. A peer that breaks
 * the stream (not XML, a flood, a reset, silence) is refused S2S, with what it did.
 */
export const s2sProbeCheck = defineCheck({
  kind: 's2s-probe',
  fields: { tls: z.enum(['TLSv1.2', 'TLSv1.3']).optional().describe('The TLS version the Edge must negotiate') },
  description: 'A raw S2S stream to the SfB domain: STARTTLS, TLS version, certificate, SASL EXTERNAL and dialback offered, compared with the partner profile',
  failures: { s2s: { refused: [] }, certificate: { expired: [], 'name-mismatch': [], untrusted: [] }, probe: { mismatch: [] } },
  references: [
    'RFC 6120 sections 5 and 6 (STARTTLS, SASL)',
    'XEP-0178 (SASL EXTERNAL for S2S)',
    'XEP-0220 (dialback)',
    'docs/sfb-xmpp-federation.md section 2 (the bare-domain SAN) and section 3 (the negotiation matrix)',
  ],
  title: (c, setup) => `S2S probe of ${setup.sfbDomain}${c.tls ? ` (${c.tls})` : ''}`,
  async run(check, ctx) {
    const where = await ctx.target.locateEdge(ctx.timeoutMs);
    if (typeof where === 'string') return { outcome: fail({ s2s: 'refused' }, where) };
    const me = ctx.target.partnerIdentity();
    const report = await probeS2s({
      host: where.host,
      port: where.port,
      domain: ctx.target.sfbDomain,
      from: me.domain,
      ca: me.trustPem,
      ...(me.certPem && me.keyPem ? { clientCert: { certPem: me.certPem, keyPem: me.keyPem } } : {}),
      timeoutMs: ctx.timeoutMs,
    });
    ctx.target.flow.record({
      from: 'partner-server',
      to: 'edge',
      protocol: 'xmpp',
      label: `S2S probe via ${where.via}`,
      wire: JSON.stringify(report, null, 2),
    });
    const latencyMs = report.connectMs;
    const latency = latencyMs !== undefined ? { latencyMs } : {};
    if (!report.connected || (report.error && report.starttls === undefined))
      return { outcome: fail({ s2s: 'refused' }, report.error ?? 'no connection'), ...latency };
    const cert = report.certificate;
    if (cert?.expired) return { outcome: fail({ certificate: 'expired' }, summary(report)), ...latency };
    if (cert && !cert.coversBareDomain) return { outcome: fail({ certificate: 'name-mismatch' }, summary(report)), ...latency };
    if (cert && !cert.trusted) return { outcome: fail({ certificate: 'untrusted' }, summary(report)), ...latency };
    if (report.error) return { outcome: fail({ s2s: 'refused' }, `${report.error}; ${summary(report)}`), ...latency };
    const external = report.saslExternal;
    if (external?.outcome === 'failure') {
      // A partner whose EXTERNAL fails falls back to dialback where the Edge offers it (Prosody
      // does); without it the stream is refused.
      const dialback = report.dialbackAfterTls === true;
      const said = `${external.condition}${external.text ? ` (${JSON.stringify(external.text)})` : ''}`;
      const text = `the Edge offered SASL EXTERNAL and then refused the partner's certificate: <failure/> ${said}${dialback ? '; a partner may fall back to dialback, which the Edge offers' : ''} (${summary(report)})`;
      return { outcome: fail(dialback ? { probe: 'mismatch' } : { s2s: 'refused' }, text), ...latency };
    }

    const differences: string[] = [];
    if (check.tls && report.tlsVersion !== check.tls) differences.push(`TLS ${report.tlsVersion ?? 'none'}, expected ${check.tls}`);
    const profile = ctx.target.allowedProfile();
    if (profile) {
      const policy = edgeS2sPolicy(profile);
      const starttls = policy.tls === 'required' ? 'required' : policy.tls === 'optional' ? 'offered' : 'absent';
      if (report.starttls !== starttls)
        differences.push(`STARTTLS ${report.starttls}, the profile (TlsNegotiation ${profile.tlsNegotiation}) means ${starttls}`);
      const external = report.saslMechanisms?.includes('EXTERNAL') ?? false;
      if (external !== policy.offerSaslExternal)
        differences.push(
          `SASL EXTERNAL ${external ? 'offered' : 'not offered'}, the profile (SaslNegotiation ${profile.saslNegotiation}) means ${policy.offerSaslExternal ? 'offered' : 'not offered'}`,
        );
      const dialback = (report.dialbackAfterTls ?? report.dialbackBeforeTls) === true;
      if (dialback !== policy.offerDialback)
        differences.push(`dialback ${dialback ? 'offered' : 'not offered'}, the profile means ${policy.offerDialback ? 'offered' : 'not offered'}`);
    }
    if (differences.length > 0) return { outcome: fail({ probe: 'mismatch' }, `${differences.join('; ')} (${summary(report)})`), ...latency };
    return { outcome: pass(summary(report)), ...latency };
  },
});
