import type * as X509 from '@peculiar/x509';
import { webcrypto, randomBytes } from 'node:crypto';

type X509Library = typeof X509;
let library: Promise<X509Library> | undefined;

/**
 * @peculiar/x509, loaded and set up when the first certificate is made: it resolves its services
 * through tsyringe, which needs reflect-metadata's global, and it takes Node's WebCrypto. Done at
 * first use, so importing xfed patches nothing global.
 */
function load(): Promise<X509Library> {
  library ??= (async () => {
    await import('reflect-metadata');
    const lib = await import('@peculiar/x509');
    lib.cryptoProvider.set(webcrypto as never);
    return lib;
  })();
  return library;
}

/** ECDSA P-256: fast to generate (a few ms), and what current XMPP servers use. */
const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;

export interface KeyAndCert {
  /** PEM certificate (for a CA-issued certificate: the leaf only; the CA is `TestCa.certPem`). */
  certPem: string;
  /** PEM PKCS#8 private key. */
  keyPem: string;
}

export interface CertificateOptions {
  /**
   * Subject alternative names (DNS). Default: the bare domain and `*.domain`, which is what an
   * XMPP server certificate must carry for its domain.
   */
  sans?: string[];
  notBefore?: Date;
  notAfter?: Date;
}

async function newKeys(): Promise<webcrypto.CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
}

async function exportKey(key: webcrypto.CryptoKey): Promise<string> {
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', key);
  return (await load()).PemConverter.encode(pkcs8, 'PRIVATE KEY');
}

function serial(): string {
  // Positive, non-zero serial numbers (RFC 5280 4.1.2.2).
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return bytes.toString('hex');
}

function leafExtensions(x509: X509Library, domain: string, sans: string[] | undefined): X509.Extension[] {
  const names = sans ?? [domain, `*.${domain}`];
  return [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
    // XMPP servers authenticate each other as both TLS client and server.
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
    new x509.SubjectAlternativeNameExtension(names.map((value) => ({ type: 'dns' as const, value }))),
  ];
}

/** A per-run certificate authority whose certificates make XMPP TLS real and verified. */
export class TestCa {
  private constructor(
    private readonly keys: webcrypto.CryptoKeyPair,
    private readonly cert: X509.X509Certificate,
    readonly certPem: string,
  ) {}

  static async create(name = 'xfed test CA'): Promise<TestCa> {
    const x509 = await load();
    const keys = await newKeys();
    const now = Date.now();
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: serial(),
      name: `CN=${name}, O=xfed`,
      notBefore: new Date(now - DAY_MS),
      notAfter: new Date(now + 30 * DAY_MS),
      keys,
      signingAlgorithm: ALG,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    return new TestCa(keys, cert, cert.toString('pem'));
  }

  /** Issues a certificate for an XMPP domain, signed by this CA. */
  async issue(domain: string, opts: CertificateOptions = {}): Promise<KeyAndCert> {
    const x509 = await load();
    const keys = await newKeys();
    const now = Date.now();
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject: `CN=${domain}`,
      issuer: this.cert.subject,
      notBefore: opts.notBefore ?? new Date(now - DAY_MS),
      notAfter: opts.notAfter ?? new Date(now + 7 * DAY_MS),
      publicKey: keys.publicKey,
      signingKey: this.keys.privateKey,
      signingAlgorithm: ALG,
      extensions: [...leafExtensions(x509, domain, opts.sans), await x509.AuthorityKeyIdentifierExtension.create(this.cert)],
    });
    return { certPem: cert.toString('pem'), keyPem: await exportKey(keys.privateKey) };
  }
}

/** A self-signed certificate for an XMPP domain: TLS works, but no peer can verify it. */
export async function selfSignedCertificate(domain: string, opts: CertificateOptions = {}): Promise<KeyAndCert> {
  const x509 = await load();
  const keys = await newKeys();
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${domain}`,
    notBefore: opts.notBefore ?? new Date(now - DAY_MS),
    notAfter: opts.notAfter ?? new Date(now + 7 * DAY_MS),
    keys,
    signingAlgorithm: ALG,
    extensions: leafExtensions(x509, domain, opts.sans),
  });
  return { certPem: cert.toString('pem'), keyPem: await exportKey(keys.privateKey) };
}
