import { XfedError } from '../errors.js';
import { luaString, toLua } from './lua.js';
import type { LuaValue, S2sSecurity } from './types.js';

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
    s2s_timeout: 10,
    // 40 ms stalls come from Nagle plus delayed ACK.
    network_settings: { nagle: false },
  };
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
