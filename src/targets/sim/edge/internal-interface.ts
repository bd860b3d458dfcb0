import net from 'node:net';
import tls from 'node:tls';
import { XfedError } from '../../../errors.js';
import { withDeadline } from '../../../infra/deadline.js';
import type { Endpoint } from '../../../infra/endpoint.js';
import { TestCa, type KeyAndCert } from '../../../infra/pki.js';
import type { Cite } from '../../../sfb/behaviours/log.js';
import type { InternalHopCertificate, InternalHopPort } from '../../../sfb/deployment.js';

const DAY_MS = 86_400_000;

/** What the XMPP gateway needs to attach through the internal interface: TLS material both ways. */
export interface InternalHopCredentials {
  /** The internal CA the gateway verifies the Edge's internal certificate with. */
  ca: string;
  /** The Front End's certificate and key, which the gateway presents. */
  cert: string;
  key: string;
  /** The Edge's internal FQDN, which its internal certificate must name. */
  servername: string;
}

/**
 * The Edge's internal interface for XMPP: the port the Front End's XMPP gateway connects to ("Port
 * summary - XMPP federation": XMPP/MTLS/23456 from the XMPP gateway to the Edge's internal
 * interface), here a TLS listener on loopback with a port of its own standing for 23456. It presents
 * the Edge's internal certificate (issued by the internal CA, not the public Edge certificate),
 * requires and verifies the gateway's client certificate against that CA, and relays the stream to
 * the XMPP proxy's component listener. Its certificate and an internal firewall in front of it can
 * be changed live, as migration steps do.
 */
export class EdgeInternalInterface {
  private readonly sockets = new Set<net.Socket>();
  private certificate: InternalHopCertificate = 'valid';
  private port: InternalHopPort = 'open';
  private address = { host: '', port: 0 };

  private constructor(
    private readonly server: tls.Server,
    private readonly internalCa: TestCa,
    private readonly frontEnd: KeyAndCert,
    /** The Edge's internal FQDN. */
    readonly fqdn: string,
    private upstream: Endpoint,
    private readonly cite: Cite,
  ) {}

  static async start(o: { domain: string; upstream: Endpoint; cite?: Cite }): Promise<EdgeInternalInterface> {
    const ca = await TestCa.create('xfed internal CA');
    const fqdn = `edge-internal.${o.domain}`;
    const frontEnd = await ca.issue(`fe-legacy.${o.domain}`);
    const edgeCert = await ca.issue(fqdn);
    const server = tls.createServer({
      key: edgeCert.keyPem,
      cert: edgeCert.certPem,
      ca: ca.certPem,
      // MTLS: a client without a certificate from the internal CA is refused in the handshake.
      requestCert: true,
      rejectUnauthorized: true,
      // The legacy Edge stops at TLS 1.2 ("Encryption for Skype for Business Server").
      maxVersion: 'TLSv1.2',
    });
    const hop = new EdgeInternalInterface(server, ca, frontEnd, fqdn, o.upstream, o.cite ?? (() => {}));
    server.on('secureConnection', (socket) => hop.relay(socket));
    server.on('tlsClientError', () => hop.refused());
    await hop.listen(0);
    return hop;
  }

  /** Where the gateway connects (loopback; the Edge's internal interface on TCP 23456 in a deployment). */
  get endpoint(): Endpoint {
    return { ...this.address };
  }

  get state(): { certificate: InternalHopCertificate; port: InternalHopPort } {
    return { certificate: this.certificate, port: this.port };
  }

  credentials(): InternalHopCredentials {
    return { ca: this.internalCa.certPem, cert: this.frontEnd.certPem, key: this.frontEnd.keyPem, servername: this.fqdn };
  }

  /** The XMPP proxy's component listener moved (an Edge restarted in a new container). */
  setUpstream(upstream: Endpoint): void {
    this.upstream = upstream;
  }

  /**
   * A new internal certificate: `expired`, `untrusted` (from a CA the Front End does not trust) or
   * `valid` again. Open connections are dropped, as the Edge's services restart after a certificate
   * is assigned, so the gateway meets the new certificate when it reconnects.
   */
  async setCertificate(certificate: InternalHopCertificate): Promise<void> {
    const now = Date.now();
    const cert =
      certificate === 'valid'
        ? await this.internalCa.issue(this.fqdn)
        : certificate === 'expired'
          ? await this.internalCa.issue(this.fqdn, { notBefore: new Date(now - 30 * DAY_MS), notAfter: new Date(now - DAY_MS) })
          : await (await TestCa.create('another internal CA')).issue(this.fqdn);
    this.server.setSecureContext({ key: cert.keyPem, cert: cert.certPem, ca: this.internalCa.certPem, maxVersion: 'TLSv1.2' });
    this.certificate = certificate;
    this.dropConnections();
  }

  /** The internal firewall: `blocked` resets open connections and refuses new ones (a reject rule); `open` lets them through. */
  async setPort(port: InternalHopPort): Promise<void> {
    if (port === this.port) return;
    this.port = port;
    if (port === 'blocked') {
      this.dropConnections();
      await new Promise<void>((resolve) => this.server.close(() => resolve()));
    } else {
      await this.listen(this.address.port);
    }
  }

  async stop(): Promise<void> {
    this.dropConnections();
    if (this.server.listening) await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async listen(port: number): Promise<void> {
    await withDeadline(
      new Promise<void>((resolve, reject) => {
        this.server.once('error', reject);
        this.server.listen(port, '127.0.0.1', () => {
          this.server.off('error', reject);
          resolve();
        });
      }),
      5_000,
      `the Edge's internal interface to listen on 127.0.0.1:${port}`,
    );
    const a = this.server.address();
    if (!a || typeof a === 'string') throw new XfedError("the Edge's internal interface is not listening");
    this.address = { host: a.address, port: a.port };
  }

  private dropConnections(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  /** A handshake that failed: the gateway's certificate refused, or the gateway refusing the Edge's. */
  private refused(): void {
    this.cite(this.certificate === 'valid' ? 'gateway.internal-hop-mtls' : 'gateway.internal-hop-certificate');
  }

  private relay(client: tls.TLSSocket): void {
    this.cite('gateway.internal-hop-mtls');
    const upstream = net.connect(this.upstream);
    upstream.setNoDelay(true);
    client.setNoDelay(true);
    this.sockets.add(client);
    this.sockets.add(upstream);
    const end = () => {
      this.sockets.delete(client);
      this.sockets.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
