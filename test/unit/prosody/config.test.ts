import { describe, expect, it } from '@jest/globals';
import { PartnerConfigError, renderProsodyConfig, s2sTlsSettings, validateS2sSecurity, type ProsodyConfigInput } from '../../../src/prosody/config.js';
import { DEFAULT_S2S_SECURITY, type S2sSecurity } from '../../../src/prosody/types.js';

const base = (s2s: Partial<S2sSecurity> = {}, extra?: ProsodyConfigInput['extra']): ProsodyConfigInput => ({
  domains: [{ name: 'partner.test', certPath: '/x/certs/partner.test.crt', keyPath: '/x/certs/partner.test.key' }],
  s2s: { ...DEFAULT_S2S_SECURITY, ...s2s },
  peerCaPath: '/x/peer-ca.pem',
  dataDir: '/x/data',
  certificatesDir: '/x/certs',
  pidFile: '/x/prosody.pid',
  c2sPort: 15222,
  s2sPort: 15269,
  interfaces: ['127.0.0.1'],
  dnsForward: '127.0.0.1@5300',
  runAsRoot: false,
  logLevel: 'info',
  ...(extra ? { extra } : {}),
});

describe('renderProsodyConfig', () => {
  it('renders certificate-only S2S: TLS required, secure auth, CA file, no dialback', () => {
    const cfg = renderProsodyConfig(base());
    expect(cfg).toContain('s2s_require_encryption = true');
    expect(cfg).toContain('s2s_secure_auth = true');
    expect(cfg).toContain('cafile = "/x/peer-ca.pem"');
    expect(cfg).toMatch(/modules_enabled = \{[^}]*"tls"/);
    expect(cfg).not.toContain('"dialback"');
    expect(cfg).toContain('VirtualHost "partner.test"');
    expect(cfg).toContain('c2s_ports = { 15222 }');
  });

  it('renders dialback with optional TLS and no secure auth', () => {
    const cfg = renderProsodyConfig({
      ...base({ auth: 'dialback', tls: 'optional', secureAuth: false, certificates: 'self-signed' }),
      peerCaPath: undefined,
    } as never);
    expect(cfg).toContain('"dialback"');
    expect(cfg).toContain('s2s_require_encryption = false');
    expect(cfg).toContain('s2s_allow_encryption = true');
    expect(cfg).toContain('s2s_secure_auth = false');
    expect(cfg).not.toContain('cafile');
  });

  it('turns S2S encryption off without dropping TLS for clients', () => {
    const cfg = renderProsodyConfig(base({ auth: 'dialback', tls: 'off', secureAuth: false }));
    expect(cfg).toContain('s2s_allow_encryption = false');
    expect(cfg).toContain('c2s_require_encryption = true');
  });

  it('drops the tls module when there are no certificates', () => {
    const cfg = renderProsodyConfig({
      ...base({ auth: 'dialback', tls: 'off', secureAuth: false, certificates: 'none' }),
      domains: [{ name: 'partner.test' }],
    });
    expect(cfg).not.toContain('"tls"');
    expect(cfg).not.toContain('ssl =');
  });

  it('points unbound at the test DNS and makes .test resolvable', () => {
    const cfg = renderProsodyConfig(base());
    expect(cfg).toContain('forward = "127.0.0.1@5300"');
    expect(cfg).toContain('resolvconf = false');
    expect(cfg).toContain('["local-zone:"] = "test. transparent"');
  });

  it('uses the system resolver when no test DNS is given (containers)', () => {
    const { dnsForward: _unused, ...input } = base();
    const cfg = renderProsodyConfig(input);
    expect(cfg).not.toContain('forward =');
    expect(cfg).toContain('local-zone:');
  });

  it('sets run_as_root only when asked', () => {
    expect(renderProsodyConfig(base())).not.toContain('run_as_root');
    expect(renderProsodyConfig({ ...base(), runAsRoot: true })).toContain('run_as_root = true');
  });

  it('adds extra modules to the list and lets other extra options override', () => {
    const cfg = renderProsodyConfig(base({}, { modules_enabled: ['carbons'], s2s_timeout: 3 }));
    expect(cfg).toMatch(/modules_enabled = \{ "roster"[^}]*"tls", "carbons" \}/);
    expect(cfg).toContain('s2s_timeout = 3');
    expect(cfg).not.toContain('s2s_timeout = 10');
  });

  it('renders a TLS version range as s2s_ssl, leaving c2s alone', () => {
    const cfg = renderProsodyConfig(base({ tlsVersions: { min: 'TLSv1.3' } }));
    expect(cfg).toContain('\ns2s_ssl = {\n  protocol = "tlsv1_3";\n}\n');
    expect(cfg).not.toMatch(/^ssl = /m);
    expect(renderProsodyConfig(base())).not.toContain('s2s_ssl');
  });

  it('renders the stream establishment timeout when given', () => {
    expect(renderProsodyConfig({ ...base(), s2sTimeoutSeconds: 60 })).toContain('s2s_timeout = 60');
    expect(renderProsodyConfig(base())).toContain('s2s_timeout = 10');
  });

  it('rejects a malformed modules_enabled', () => {
    expect(() => renderProsodyConfig(base({}, { modules_enabled: 'tls' }))).toThrow(PartnerConfigError);
  });
});

describe('s2sTlsSettings', () => {
  it.each([
    // The legacy Edge: TLS 1.2, 1.1 and 1.0, never 1.3; below 1.2 at OpenSSL security level 0.
    [
      { min: 'TLSv1', max: 'TLSv1.2' },
      { protocol: 'tlsv1+', options: ['no_tlsv1_3'], ciphers: 'HIGH:!aNULL:!PSK:!SRP:!3DES:@SECLEVEL=0' },
    ],
    // A partner that stops at TLS 1.2, one that insists on 1.3, and Prosody's own range.
    [{ max: 'TLSv1.2' }, { protocol: 'tlsv1_2' }],
    [{ min: 'TLSv1.3' }, { protocol: 'tlsv1_3' }],
    [{}, { protocol: 'tlsv1_2+' }],
    // A maximum below Prosody's minimum alone: that version only.
    [{ max: 'TLSv1.1' }, { protocol: 'tlsv1_1', ciphers: 'HIGH:!aNULL:!PSK:!SRP:!3DES:@SECLEVEL=0' }],
    [
      { min: 'TLSv1', max: 'TLSv1.1' },
      { protocol: 'tlsv1+', options: ['no_tlsv1_2', 'no_tlsv1_3'], ciphers: 'HIGH:!aNULL:!PSK:!SRP:!3DES:@SECLEVEL=0' },
    ],
  ] as const)('%j -> %j', (range, expected) => {
    expect(s2sTlsSettings(range)).toEqual(expected);
  });
});

describe('validateS2sSecurity', () => {
  const cases: Array<[Partial<S2sSecurity>, RegExp]> = [
    [{ certificates: 'none', tls: 'required' }, /needs certificates/],
    [{ auth: 'certificate', tls: 'off', secureAuth: false }, /SASL EXTERNAL\) needs TLS/],
    [{ auth: 'certificate', certificates: 'self-signed' }, /needs CA-issued certificates/],
    [{ auth: 'dialback', tls: 'off', secureAuth: true }, /secureAuth needs TLS/],
    [{ auth: 'dialback', tls: 'off', secureAuth: false, tlsVersions: { max: 'TLSv1.2' } }, /s2s.tlsVersions needs TLS/],
    [{ tlsVersions: { min: 'TLSv1.3', max: 'TLSv1.2' } }, /s2s.tlsVersions: min TLSv1.3 is above max TLSv1.2/],
    [{ tlsVersions: { min: 'TLSv1.2', max: 'TLSv1.1' } }, /s2s.tlsVersions: min TLSv1.2 is above max TLSv1.1/],
  ];
  it.each(cases)('rejects %j', (s2s, message) => {
    expect(() => validateS2sSecurity({ ...DEFAULT_S2S_SECURITY, ...s2s })).toThrow(message);
  });

  it('accepts the three federation profiles of the integration tests', () => {
    for (const s2s of [
      DEFAULT_S2S_SECURITY,
      { ...DEFAULT_S2S_SECURITY, certificates: 'self-signed', auth: 'dialback', secureAuth: false },
      { ...DEFAULT_S2S_SECURITY, certificates: 'self-signed', auth: 'dialback', secureAuth: true },
    ] as S2sSecurity[]) {
      expect(() => validateS2sSecurity(s2s)).not.toThrow();
    }
  });
});
