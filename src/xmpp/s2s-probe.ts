import { Parser, type Element } from '@xmpp/xml';
import net from 'node:net';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { withDeadline } from '../infra/deadline.js';

/**
 * A raw server-to-server probe (RFC 6120 4-6, XEP-0220, XEP-0178): xmpp.js has no S2S side, so
 * this opens the stream itself with node's net and tls, reads what the server offers before and
 * after STARTTLS, and inspects its certificate. It never authenticates nor sends a stanza.
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
  /** Our certificate and key, so a server that would accept SASL EXTERNAL from us offers it. */
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
  /** Where the probe stopped and why, when it could not go all the way. */
  error?: string;
  elapsedMs: number;
}

const STREAMS = 'http://etherx.jabber.org/streams';
const TLS_NS = 'urn:ietf:params:xml:ns:xmpp-tls';
const SASL_NS = 'urn:ietf:params:xml:ns:xmpp-sasl';
const DIALBACK_FEATURE = 'urn:xmpp:features:dialback';

/** Reads XML elements from a socket, one promise at a time, with a bound on each. */
class StreamReader {
  private readonly parser = new Parser();
  private readonly queue: Element[] = [];
  private waiter: ((el: Element | Error) => void) | undefined;
  private failure: Error | undefined;

  constructor(socket: net.Socket | tls.TLSSocket) {
    this.parser.on('element', (el: Element) => this.push(el));
    this.parser.on('error', (err: Error) => this.fail(new Error(`invalid XML from the server: ${err.message}`)));
    this.parser.on('end', () => this.fail(new Error('the server closed the stream')));
    socket.on('data', (d: Buffer) => this.parser.write(d.toString('utf8')));
    socket.on('close', () => this.fail(new Error('the server closed the connection')));
    socket.on('error', (err: Error) => this.fail(err));
  }

  next(timeoutMs: number, what: string): Promise<Element> {
    const el = this.queue.shift();
    if (el) return Promise.resolve(el);
    if (this.failure) return Promise.reject(this.failure);
    return withDeadline(
      new Promise<Element>((resolve, reject) => {
        this.waiter = (x) => (x instanceof Error ? reject(x) : resolve(x));
      }),
      timeoutMs,
      what,
    ).finally(() => (this.waiter = undefined));
  }

  private push(el: Element): void {
    if (this.waiter) this.waiter(el);
    else this.queue.push(el);
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.waiter?.(err);
  }
}

const header = (o: S2sProbeOptions) =>
  `<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='${STREAMS}' xmlns:db='jabber:server:dialback' from='${o.from}' to='${o.domain}' version='1.0'>`;

async function features(reader: StreamReader, o: S2sProbeOptions, stage: string): Promise<Element> {
  const el = await reader.next(o.timeoutMs, `the stream features ${stage}`);
  if (el.getName() === 'error') {
    const condition =
      el
        .getChildElements()
        .find((c) => c.getName() !== 'text')
        ?.getName() ?? 'unknown';
    throw new Error(`stream error ${condition} ${stage}`);
  }
  if (el.getName() !== 'features') throw new Error(`expected stream features ${stage}, got <${el.getName()}/>`);
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
  const socket = net.connect({ host: o.host, port: o.port });
  socket.setNoDelay(true);
  let secure: tls.TLSSocket | undefined;
  try {
    await withDeadline(
      new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('error', reject);
      }),
      o.timeoutMs,
      `a TCP connection to ${o.host}:${o.port}`,
    );
    report.connected = true;
    report.connectMs = performance.now() - started;
    const plain = new StreamReader(socket);
    socket.write(header(o));
    const before = await features(plain, o, 'before STARTTLS');
    const starttls = before.getChild('starttls', TLS_NS);
    report.starttls = !starttls ? 'absent' : starttls.getChild('required') ? 'required' : 'offered';
    report.dialbackBeforeTls = before.getChild('dialback', DIALBACK_FEATURE) !== undefined;
    if (!starttls) {
      report.saslMechanisms = mechanisms(before);
      return report;
    }
    socket.write(`<starttls xmlns='${TLS_NS}'/>`);
    const proceed = await plain.next(o.timeoutMs, 'the answer to STARTTLS');
    if (proceed.getName() !== 'proceed') throw new Error(`STARTTLS refused: <${proceed.getName()}/>`);
    socket.removeAllListeners('data');
    secure = tls.connect({
      socket,
      servername: o.domain,
      ...(o.ca ? { ca: o.ca } : {}),
      ...(o.clientCert ? { cert: o.clientCert.certPem, key: o.clientCert.keyPem } : {}),
      // Verification is reported, not enforced: a bad certificate is what the probe is for.
      rejectUnauthorized: false,
      checkServerIdentity: () => undefined,
    });
    await withDeadline(
      new Promise<void>((resolve, reject) => {
        secure!.once('secureConnect', () => resolve());
        secure!.once('error', reject);
      }),
      o.timeoutMs,
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
    const reader = new StreamReader(secure);
    secure.write(header(o));
    const after = await features(reader, o, 'after STARTTLS');
    report.saslMechanisms = mechanisms(after);
    report.dialbackAfterTls = after.getChild('dialback', DIALBACK_FEATURE) !== undefined;
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

function mechanisms(features: Element): string[] {
  return (features.getChild('mechanisms', SASL_NS)?.getChildren('mechanism') ?? []).map((m) => m.getText());
}
