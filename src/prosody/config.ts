import { XfedError } from '../errors.js';
import { luaString, toLua } from './lua.js';
import { TLS_VERSIONS, type LuaValue, type S2sSecurity, type TlsVersion, type TlsVersionRange } from './types.js';

/** A partner option combination that cannot work, named so the user can fix it. */
export class PartnerConfigError extends XfedError {}

export interface RenderedDomain {
  name: string;
  /** Absolute paths as Prosody sees them (inside the container for the container runtime). */
  certPath?: string;
  keyPath?: string;
}

/**
 * A domain served entirely by an external component (XEP-0114), as the SfB Edge serves its SIP
 * domain: every JID of the domain reaches the component, and the domain federates over S2S.
 */
export interface RenderedComponent extends RenderedDomain {
  secret: string;
  /** Modules on the component host beyond those it inherits (tls, saslauth, dialback, s2s). */
  modules?: string[];
  /** Modules the component host must not inherit (e.g. saslauth, to refuse SASL EXTERNAL). */
  modulesDisabled?: string[];
  options?: Record<string, LuaValue>;
}

export interface ProsodyConfigInput {
  domains: RenderedDomain[];
  components?: RenderedComponent[];
  /** Port of the component listener; required when there are components. */
  componentPort?: number;
  /** Directories with xfed's own Prosody modules. */
  pluginPaths?: string[];
  /** Load mod_xfed_s2s (how each S2S stream authenticated; closing a stream on request); it must be on pluginPaths. */
  xfedS2sModule?: boolean;
  s2s: S2sSecurity;
  /** Prosody's `s2s_timeout`: seconds a stream may take to be established before it is closed. Default 10. */
  s2sTimeoutSeconds?: number;
  /** CA bundle used to verify peers' certificates (SASL EXTERNAL); absent for dialback-only. */
  peerCaPath?: string;
  dataDir: string;
  certificatesDir: string;
  pidFile: string;
  c2sPort: number;
  s2sPort: number;
  /** Addresses to listen on: loopback for processes, all for containers. */
  interfaces: string[];
  /** Addresses of the S2S listener when they differ (published for a real gateway). */
  s2sInterfaces?: string[];
  /** `host@port` of the test DNS server, or undefined to use the system resolver (containers). */
  dnsForward?: string;
  runAsRoot: boolean;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  extra?: Record<string, LuaValue>;
}

/** Rejects S2S settings that cannot produce a working (or deliberately failing) federation. */
export function validateS2sSecurity(s2s: S2sSecurity): void {
  if (s2s.certificates === 'none' && s2s.tls !== 'off') {
    throw new PartnerConfigError(`s2s.tls '${s2s.tls}' needs certificates; use certificates 'ca' or 'self-signed', or tls 'off'`);
  }
  if (s2s.auth === 'certificate' && s2s.tls === 'off') {
    throw new PartnerConfigError("s2s.auth 'certificate' (SASL EXTERNAL) needs TLS; set tls 'required' or 'optional', or auth 'dialback'");
  }
  if (s2s.auth === 'certificate' && s2s.certificates !== 'ca') {
    throw new PartnerConfigError("s2s.auth 'certificate' needs CA-issued certificates (certificates 'ca'); self-signed ones can only do dialback");
  }
  if (s2s.secureAuth && s2s.tls === 'off') {
    throw new PartnerConfigError("s2s.secureAuth needs TLS (it checks the peer's certificate); set tls 'required' or 'optional', or secureAuth false");
  }
  if (s2s.tlsVersions && s2s.tls === 'off') {
    throw new PartnerConfigError("s2s.tlsVersions needs TLS; set tls 'required' or 'optional', or leave tlsVersions out");
  }
  if (s2s.tlsVersions) {
    const { min, max } = versionBounds(s2s.tlsVersions);
    if (rank(min) > rank(max)) throw new PartnerConfigError(`s2s.tlsVersions: min ${min} is above max ${max}`);
  }
}

const rank = (v: TlsVersion): number => TLS_VERSIONS.indexOf(v);
/** LuaSec's name of a version: `tlsv1`, `tlsv1_1`, ... */
const luasecName = (v: TlsVersion): string => v.toLowerCase().replace('.', '_');

/**
 * Prosody 0.12's own range (its default tls_profile, Mozilla "intermediate": TLS 1.2 and later)
 * fills an end not given; a maximum below 1.2 alone means that version only.
 */
function versionBounds(range: TlsVersionRange): { min: TlsVersion; max: TlsVersion } {
  const max = range.max ?? 'TLSv1.3';
  return { min: range.min ?? (rank(max) < rank('TLSv1.2') ? max : 'TLSv1.2'), max };
}

/**
 * The LuaSec settings (Prosody's `s2s_ssl`) that offer and accept exactly the versions of
 * `range`: the lowest as `protocol` (`+` for "and later"), the ones above the highest turned off.
 * Below TLS 1.2 OpenSSL 3 needs security level 0 (at its default level 1.0 and 1.1 fail with
 * "unsupported protocol"), and a cipher list with non-AEAD suites, which those versions need.
 */
export function s2sTlsSettings(range: TlsVersionRange): Record<string, LuaValue> {
  const { min, max } = versionBounds(range);
  const settings: Record<string, LuaValue> = { protocol: min === max ? luasecName(min) : `${luasecName(min)}+` };
  const off = TLS_VERSIONS.filter((v) => rank(v) > rank(max)).map((v) => `no_${luasecName(v)}`);
  if (min !== max && off.length > 0) settings.options = off;
  if (rank(min) < rank('TLSv1.2')) settings.ciphers = 'HIGH:!aNULL:!PSK:!SRP:!3DES:@SECLEVEL=0';
  return settings;
}

/**
 * The one Prosody config renderer, used by both runtimes: only paths, interfaces and DNS differ.
 * Settings that the pitfalls in docs/architecture.md explain are commented where they are set.
 */
export function renderProsodyConfig(input: ProsodyConfigInput): string {
  const { s2s } = input;
  validateS2sSecurity(s2s);
  const tls = s2s.certificates !== 'none';
  const modules = ['roster', 'saslauth', 'disco', 'ping', 'time', 'version', 'uptime'];
  // docker/prosody/modules/mod_xfed_s2s.lua: S2S authentication in the log, streams closed on request.
  if (input.xfedS2sModule) modules.push('xfed_s2s');
  // Without a certificate the tls module would offer STARTTLS and fail with "no shared cipher".
  if (tls) modules.push('tls');
  if (s2s.auth !== 'certificate') modules.push('dialback');

  const global: Record<string, LuaValue> = {
    pidfile: input.pidFile,
    data_path: input.dataDir,
    // Absolute, and present: Prosody indexes it at startup and logs an error when it is missing.
    certificates: input.certificatesDir,
    // Line-buffered stdout; the runtime collects it (process pipe or container log stream).
    log: [{ levels: { min: input.logLevel }, to: 'console' }],
    modules_enabled: modules,
    authentication: 'internal_hashed',
    storage: 'internal',
    // Test accounts: SCRAM with few iterations keeps each login at a few ms instead of ~1 s.
    default_iteration_count: 64,
    c2s_ports: [input.c2sPort],
    s2s_ports: [input.s2sPort],
    c2s_interfaces: input.interfaces,
    s2s_interfaces: input.s2sInterfaces ?? input.interfaces,
    // Private listeners that nothing in a test needs: keep them off any port.
    http_ports: [],
    https_ports: [],
    c2s_direct_tls_ports: [],
    s2s_direct_tls_ports: [],
    c2s_require_encryption: tls,
    s2s_require_encryption: s2s.tls === 'required',
    s2s_allow_encryption: s2s.tls !== 'off',
    s2s_secure_auth: s2s.secureAuth,
    // Failures must show within a test's deadline, not after Prosody's 90 s default.
    s2s_timeout: input.s2sTimeoutSeconds ?? 10,
    // 40 ms stalls come from Nagle plus delayed ACK.
    network_settings: { nagle: false },
  };
  // S2S only: the c2s listener keeps Prosody's versions for xfed's own clients.
  if (s2s.tlsVersions) global.s2s_ssl = s2sTlsSettings(s2s.tlsVersions);
  if (input.runAsRoot) global.run_as_root = true;
  if (input.pluginPaths?.length) global.plugin_paths = input.pluginPaths;
  const components = input.components ?? [];
  if (components.length > 0) {
    if (input.componentPort === undefined) throw new PartnerConfigError('components need a component port');
    global.component_ports = [input.componentPort];
    // The component listener binds loopback by default; containers need it on every interface.
    global.component_interfaces = input.interfaces;
  } else {
    global.component_ports = [];
  }
  // libunbound treats `.test` as a static local zone (NXDOMAIN without a query): make it transparent.
  const unbound: Record<string, LuaValue> = { options: { 'local-zone:': 'test. transparent' } };
  if (input.dnsForward) {
    unbound.forward = input.dnsForward;
    unbound.resolvconf = false;
  }
  global.unbound = unbound;
  // Extra options override ours, except modules_enabled, which adds to the list instead.
  const { modules_enabled: extraModules, ...extra } = input.extra ?? {};
  if (extraModules !== undefined) {
    if (!Array.isArray(extraModules) || extraModules.some((m) => typeof m !== 'string')) {
      throw new PartnerConfigError('prosody option modules_enabled must be a list of module names');
    }
    global.modules_enabled = [...new Set([...modules, ...(extraModules as string[])])];
  }
  Object.assign(global, extra);

  const lines = ['-- Generated by xfed for one test run. Do not edit: it is rewritten at every start.', ''];
  for (const [key, value] of Object.entries(global)) lines.push(`${key} = ${toLua(value)}`);
  const sslLine = (d: RenderedDomain) => {
    if (!tls) return [];
    if (!d.certPath || !d.keyPath) throw new PartnerConfigError(`domain ${d.name} has no certificate`);
    const ssl: Record<string, LuaValue> = { certificate: d.certPath, key: d.keyPath };
    if (input.peerCaPath) ssl.cafile = input.peerCaPath;
    return [`  ssl = ${toLua(ssl, '  ')}`];
  };
  for (const d of input.domains) {
    lines.push('', `VirtualHost ${luaString(d.name)}`, ...sslLine(d));
  }
  for (const c of components) {
    lines.push('', `Component ${luaString(c.name)}`, `  component_secret = ${luaString(c.secret)}`, ...sslLine(c));
    if (c.modules?.length) lines.push(`  modules_enabled = ${toLua(c.modules, '  ')}`);
    if (c.modulesDisabled?.length) lines.push(`  modules_disabled = ${toLua(c.modulesDisabled, '  ')}`);
    for (const [key, value] of Object.entries(c.options ?? {})) lines.push(`  ${key} = ${toLua(value, '  ')}`);
  }
  return `${lines.join('\n')}\n`;
}
