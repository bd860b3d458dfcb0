import type { Element } from '@xmpp/xml';
import net from 'node:net';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { withDeadline } from '../infra/deadline.js';
import { XmlStreamReader, streamErrorOf } from './stream-reader.js';

/**
 * A raw server-to-server probe (RFC 6120 4-6, XEP-0220, XEP-0178): xmpp.js has no S2S side, so
 * this opens the stream itself with node's net and tls, reads what the server offers before and
 * after STARTTLS, and inspects its certificate. Where the server offers SASL EXTERNAL and the probe
 * holds the partner's certificate, it tries the exchange (XEP-0178): an offer the server then
 * refuses is no offer. It never sends a stanza. Everything it reads goes through the bounded
 * parser (`bounded-xml.ts`), and each read has a deadline.
 */
export interface S2sProbeOptions {
  host: string;
  port: number;
  /** The domain the stream is for (and the certificate must name). */
  domain: string;
  /** Our domain, in the stream's `from`. */
  from: string;
  /** PEM certificates to verify the server's chain against (else the system's CAs). */
  ca?: string;
  /** Our certificate and key: a server that would accept SASL EXTERNAL from us offers it, and the probe tries it. */
  clientCert?: { certPem: string; keyPem: string };
  timeoutMs: number;
}

export interface CertificateReport {
  subject: string;
  issuer: string;
  validFrom: string;
  validTo: string;
  expired: boolean;
  /** DNS names of the subjectAltName extension. */
  sans: string[];
  /** The bare domain itself is a SAN (a wildcard does not cover it). */
  coversBareDomain: boolean;
  /** The chain verifies against the trusted CAs (and, if not, why). */
  trusted: boolean;
  trustError?: string;
}

export interface S2sProbeReport {
  connected: boolean;
  connectMs?: number;
  /** Features offered on the plain stream. */
  starttls?: 'required' | 'offered' | 'absent';
  dialbackBeforeTls?: boolean;
  /** The negotiated TLS version (`TLSv1.3`) and cipher, when STARTTLS succeeded. */
  tlsVersion?: string;
  cipher?: string;
  certificate?: CertificateReport;
  /** Features offered on the stream restarted over TLS. */
  saslMechanisms?: string[];
  dialbackAfterTls?: boolean;
  /** The SASL EXTERNAL exchange, when the server offered it and the probe had a certificate to try. */
  saslExternal?: SaslExternalOutcome;
  /** Where the probe stopped and why, when it could not go all the way. */
  error?: string;
  elapsedMs: number;
}

export type SaslExternalOutcome = { outcome: 'success' } | { outcome: 'failure'; condition: string; text?: string };

const STREAMS = 'http://etherx.jabber.org/streams';
const TLS_NS = 'urn:ietf:params:xml:ns:xmpp-tls';
const SASL_NS = 'urn:ietf:params:xml:ns:xmpp-sasl';
const DIALBACK_FEATURE = 'urn:xmpp:features:dialback';

const header = (o: S2sProbeOptions) =>
  `<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='${STREAMS}' xmlns:db='jabber:server:dialback' from='${o.from}' to='${o.domain}' version='1.0'>`;

async function features(reader: XmlStreamReader, timeoutMs: number, stage: string): Promise<Element> {
  const el = await reader.next(timeoutMs, `the stream features ${stage}`);
  const streamError = streamErrorOf(el);
  if (streamError) throw new Error(`the peer sent the stream error ${streamError} ${stage}`);
  if (el.getName() !== 'features') throw new Error(`expected stream features ${stage}, got <${el.name}/>`);
  return el;
}

export function inspectCertificate(pem: string | Buffer, domain: string): Omit<CertificateReport, 'trusted' | 'trustError'> {
  const cert = new X509Certificate(pem);
  const sans = (cert.subjectAltName ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('DNS:'))
    .map((s) => s.slice(4).toLowerCase());
  return {
    subject: cert.subject.replace(/\n/g, ', '),
    issuer: cert.issuer.replace(/\n/g, ', '),
    validFrom: new Date(cert.validFrom).toISOString(),
    validTo: new Date(cert.validTo).toISOString(),
    expired: new Date(cert.validTo).getTime() < Date.now() || new Date(cert.validFrom).getTime() > Date.now(),
    sans,
    coversBareDomain: sans.includes(domain.toLowerCase()),
  };
}

/** Probes the S2S listener of `domain` at `host:port`; never throws for what the server does. */
export async function probeS2s(o: S2sProbeOptions): Promise<S2sProbeReport> {
  const started = performance.now();
  const report: S2sProbeReport = { connected: false, elapsedMs: 0 };
  // Each read is bounded by timeoutMs, and the whole probe by three of them.
  const until = started + 3 * o.timeoutMs;
  const bound = () => Math.max(1, Math.round(Math.min(o.timeoutMs, until - performance.now())));
  const socket = net.connect({ host: o.host, port: o.port });
  socket.setNoDelay(true);
  let secure: tls.TLSSocket | undefined;
  try {
    await withDeadline(
      new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.on('error', reject);
      }),
      bound(),
      `a TCP connection to ${o.host}:${o.port}`,
    );
    report.connected = true;
    report.connectMs = performance.now() - started;
    const plain = new XmlStreamReader(socket);
    socket.write(header(o));
    const before = await features(plain, bound(), 'before STARTTLS');
    const starttls = before.getChild('starttls', TLS_NS);
    report.starttls = !starttls ? 'absent' : starttls.getChild('required') ? 'required' : 'offered';
    report.dialbackBeforeTls = before.getChild('dialback', DIALBACK_FEATURE) !== undefined;
    if (!starttls) {
      report.saslMechanisms = mechanisms(before);
      return report;
    }
    socket.write(`<starttls xmlns='${TLS_NS}'/>`);
    const proceed = await plain.next(bound(), 'the answer to STARTTLS');
    if (proceed.getName() !== 'proceed') throw new Error(`STARTTLS refused: <${proceed.name}/>`);
    plain.detach();
    secure = tls.connect({
      socket,
      servername: o.domain,
      ...(o.ca ? { ca: o.ca } : {}),
      ...(o.clientCert ? { cert: o.clientCert.certPem, key: o.clientCert.keyPem } : {}),
      // Verification is reported, not enforced: a bad certificate is what the probe is for.
      rejectUnauthorized: false,
      checkServerIdentity: () => undefined,
    });
    const tlsSocket = secure;
    await withDeadline(
      new Promise<void>((resolve, reject) => {
        tlsSocket.once('secureConnect', () => resolve());
        // `on`, not `once`: a reset can follow an alert, and a second error must not go unheard.
        tlsSocket.on('error', (err: NodeJS.ErrnoException) =>
          reject(new Error(`the TLS handshake failed: ${err.code === 'ECONNRESET' ? 'the peer reset the connection' : err.message}`)),
        );
        tlsSocket.once('close', () => reject(new Error('the TLS handshake failed: the peer closed the connection')));
      }),
      bound(),
      'the TLS handshake',
    );
    report.tlsVersion = secure.getProtocol() ?? undefined;
    report.cipher = secure.getCipher()?.name;
    const peer = secure.getPeerX509Certificate();
    if (peer) {
      const inspected = inspectCertificate(peer.toString(), o.domain);
      // RFC 6125 / XEP-0178: the domain must be a DNS SAN; `*.domain` does not cover `domain`.
      const chainError = secure.authorized ? undefined : String(secure.authorizationError);
      const nameError = inspected.coversBareDomain ? undefined : `the certificate does not name ${o.domain} (SANs: ${inspected.sans.join(', ') || 'none'})`;
      report.certificate = { ...inspected, trusted: !chainError && !nameError, ...(chainError || nameError ? { trustError: chainError ?? nameError } : {}) };
    }
    const reader = new XmlStreamReader(secure);
    secure.write(header(o));
    const after = await features(reader, bound(), 'after STARTTLS');
    report.saslMechanisms = mechanisms(after);
    report.dialbackAfterTls = after.getChild('dialback', DIALBACK_FEATURE) !== undefined;
    if (o.clientCert && report.saslMechanisms.includes('EXTERNAL')) {
      // XEP-0178 section 4: the authorization identity is the initiating domain.
      secure.write(`<auth xmlns='${SASL_NS}' mechanism='EXTERNAL'>${Buffer.from(o.from).toString('base64')}</auth>`);
      report.saslExternal = saslOutcome(await reader.next(bound(), 'the answer to SASL EXTERNAL'));
    }
    secure.write('</stream:stream>');
    return report;
  } catch (err) {
    report.error = (err as Error).message;
    return report;
  } finally {
    report.elapsedMs = performance.now() - started;
    secure?.destroy();
    socket.destroy();
  }
}

/** `<success/>`, or `<failure/>` with its condition and text (RFC 6120 6.4.5, 6.5). */
function saslOutcome(el: Element): SaslExternalOutcome {
  if (el.getName() === 'success') return { outcome: 'success' };
  if (el.getName() === 'failure') {
    const children = el.getChildElements();
    const text = children.find((c) => c.getName() === 'text')?.getText();
    return { outcome: 'failure', condition: children.find((c) => c.getName() !== 'text')?.getName() ?? 'no condition', ...(text ? { text } : {}) };
  }
  const streamError = streamErrorOf(el);
  throw new Error(streamError ? `the peer answered SASL EXTERNAL with the stream error ${streamError}` : `the peer answered SASL EXTERNAL with <${el.name}/>`);
}

function mechanisms(features: Element): string[] {
  return (features.getChild('mechanisms', SASL_NS)?.getChildren('mechanism') ?? []).map((m) => m.getText());
}
