import type { SuiteTarget } from '../targets/index.js';
import { probeS2s } from '../xmpp/s2s-probe.js';
import type { EdgeFacts } from './records.js';

/** The bound on one facts probe of the Edge's S2S port, whatever the checks' timeouts. */
const FACTS_TIMEOUT_MS = 5_000;

/** Where the partner finds the Edge, the TLS version it negotiates and its certificate, by a raw S2S probe (no stanza sent). */
export async function edgeFacts(target: SuiteTarget): Promise<EdgeFacts> {
  const where = await target.locateEdge(FACTS_TIMEOUT_MS);
  if (typeof where === 'string') return { error: where };
  const me = target.partnerIdentity();
  const report = await probeS2s({
    host: where.host,
    port: where.port,
    domain: target.sfbDomain,
    from: me.domain,
    ca: me.trustPem,
    ...(me.certPem && me.keyPem ? { clientCert: { certPem: me.certPem, keyPem: me.keyPem } } : {}),
    timeoutMs: FACTS_TIMEOUT_MS,
  });
  const cert = report.certificate;
  return {
    edge: `${where.host}:${where.port} (${where.via})`,
    ...(report.tlsVersion ? { tlsVersion: report.tlsVersion } : {}),
    ...(cert
      ? {
          certificate: {
            subject: cert.subject,
            notAfter: new Date(cert.validTo).toISOString(),
            daysLeft: Math.floor((Date.parse(cert.validTo) - Date.now()) / 86_400_000),
            trusted: cert.trusted,
            coversBareDomain: cert.coversBareDomain,
          },
        }
      : {}),
    ...(report.error ? { error: report.error } : !report.connected ? { error: 'no connection' } : {}),
  };
}
