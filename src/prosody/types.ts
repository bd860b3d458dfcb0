export type TlsMode = 'required' | 'optional' | 'off';
/**
 * How this server authenticates federating peers:
 * - `certificate`: SASL EXTERNAL only (XEP-0178), peers' chains checked against the test CA;
 * - `dialback`: dialback only (XEP-0220); peers' certificates are not trusted;
 * - `either`: SASL EXTERNAL when the peer's chain verifies, dialback otherwise.
 */
export type S2sAuth = 'certificate' | 'dialback' | 'either';
/** Where the domain certificates come from: the run's test CA, self-signed, or none at all. */
export type CertificateKind = 'ca' | 'self-signed' | 'none';

export interface S2sSecurity {
  tls: TlsMode;
  auth: S2sAuth;
  /** Prosody's `s2s_secure_auth`: refuse peers whose certificate cannot be verified. */
  secureAuth: boolean;
  certificates: CertificateKind;
}

export const DEFAULT_S2S_SECURITY: S2sSecurity = {
  tls: 'required',
  auth: 'certificate',
  secureAuth: true,
  certificates: 'ca',
};

export type RuntimeKind = 'container' | 'process';
export type RuntimeChoice = RuntimeKind | 'auto';

/** A Lua value for extra Prosody options. */
export type LuaValue = string | number | boolean | LuaValue[] | { [key: string]: LuaValue };

