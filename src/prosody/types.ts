export const TLS_MODES = ['required', 'optional', 'off'] as const;
export type TlsMode = (typeof TLS_MODES)[number];
/**
 * How this server authenticates federating peers:
 * - `certificate`: SASL EXTERNAL only (XEP-0178), peers' chains checked against the test CA;
 * - `dialback`: dialback only (XEP-0220); peers' certificates are not trusted;
 * - `either`: SASL EXTERNAL when the peer's chain verifies, dialback otherwise.
 */
export const S2S_AUTHS = ['certificate', 'dialback', 'either'] as const;
export type S2sAuth = (typeof S2S_AUTHS)[number];
/** Where the domain certificates come from: the run's test CA, self-signed, or none at all. */
export const CERTIFICATE_KINDS = ['ca', 'self-signed', 'none'] as const;
export type CertificateKind = (typeof CERTIFICATE_KINDS)[number];

/** TLS protocol versions, in the names Node and OpenSSL report them (`TLSv1` is TLS 1.0). */
export const TLS_VERSIONS = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;
export type TlsVersion = (typeof TLS_VERSIONS)[number];

/** The TLS versions a server offers and accepts on S2S, both ends included; an end not given is Prosody's own (TLS 1.2 to 1.3). */
export interface TlsVersionRange {
  min?: TlsVersion;
  max?: TlsVersion;
}

export interface S2sSecurity {
  tls: TlsMode;
  auth: S2sAuth;
  /** Prosody's `s2s_secure_auth`: refuse peers whose certificate cannot be verified. */
  secureAuth: boolean;
  certificates: CertificateKind;
  /** The TLS versions S2S streams may negotiate; absent: Prosody's default (TLS 1.2 and 1.3). */
  tlsVersions?: TlsVersionRange;
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

/** Something slow that setup does before a run can start (an image build), told as it goes. */
export interface SetupProgress {
  /** What is done, e.g. `building xfed/prosody:0123456789ab on local/debian:bookworm`. */
  task: string;
  /** Where it is now, e.g. `step 3/7 RUN apt-get update ...`; absent once done. */
  detail?: string;
  /** When the task began (epoch ms), so a live view can tick the time between events. */
  startedAt: number;
  /** The task finished (a failure is thrown, not told here). */
  done?: boolean;
}
