import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { XfedError } from '../../../errors.js';
import { TestCa, type KeyAndCert } from '../../../infra/pki.js';
import { projectRoot } from '../../../infra/project-root.js';
import { TeardownStack } from '../../../infra/teardown.js';
import { workDirFor } from '../../../infra/work-dir.js';
import type { Cite } from '../../../sfb/behaviours/log.js';
import type { EdgeCertificate } from '../../../sfb/deployment.js';
import { renderProsodyConfig } from '../../../prosody/config.js';
import type { LuaValue, TlsVersionRange } from '../../../prosody/types.js';
import { layoutSettings, type InstancePorts, type ProsodyInstance, type ProsodyRuntime } from '../../../prosody/runtimes/runtime.js';
import type { Endpoint } from '../../../infra/endpoint.js';
import type { LogView } from '../../../infra/line-log.js';
import { edgeS2sPolicy, resolvePartnerProfile, type PartnerProfile, type ResolvedPartnerProfile } from '../../../sfb/partner-profile.js';
import { DEFAULT_XMPP_GATEWAY_SETTINGS, partnerConnectionLimit, type XmppGatewaySettings } from '../../../sfb/xmpp-gateway-settings.js';
import type { EdgeAttachment } from '../gateway/component-link.js';
import { EdgeInternalInterface } from './internal-interface.js';
import { citesOfEdgeLog } from './edge-log.js';

export interface LegacyEdgeOptions {
  /** The SfB SIP domain, served over S2S as the Edge's XMPP proxy does (e.g. `contoso.test`). */
  domain: string;
  /** Further SIP domains enabled for XMPP: each is a component of its own, and a SAN of the certificate. */
  additionalDomains?: string[];
  /** The allowed XMPP partners (`New-CsXmppAllowedPartner`). */
  partners: PartnerProfile[];
  certificate?: EdgeCertificate;
  /** Set-CsXmppGatewayConfiguration's timers and limits (default: the documented ones). */
  gateway?: XmppGatewaySettings;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
}

/**
 * The TLS versions the legacy Edge offers on S2S: Skype for Business Server 2015 (and Lync 2013)
 * "will offer TLS 1.2, TLS 1.1, TLS 1.0", never 1.3 ("Encryption for Skype for Business Server").
 * Offering 1.0 and 1.1 needs OpenSSL 3's security level 0 (src/prosody/config.ts s2sTlsSettings);
 * a partner with Prosody's defaults negotiates 1.2.
 */
const LEGACY_EDGE_TLS: TlsVersionRange = { min: 'TLSv1', max: 'TLSv1.2' };

export interface EdgeContext {
  runtime: ProsodyRuntime;
  /** The run's test CA, which the partner trusts. */
  ca: TestCa;
  /** Says which catalogue behaviour the Edge applies (docs/sfb-behaviours.md). */
  cite?: Cite;
}

const DAY_MS = 86_400_000;
const MODULES_DIR = path.join(projectRoot(), 'docker', 'prosody', 'modules');

/**
 * The legacy Access Edge's XMPP proxy: a real Prosody whose whole SfB domain is one external
 * component, federating over S2S (TLS 1.2, 1.1 or 1.0) with the allowed partners, each under its
 * own profile's TLS / SASL / dialback / keep-alive settings and the gateway's timers and limits
 * (mod_xfed_edge_policy.lua). The XMPP-SIP gateway attaches through the Edge's internal interface
 * (MTLS, internal-interface.ts). Reconfiguring (profile, allowed list, certificate) restarts only
 * this Prosody, on the same ports, as an Edge service restart would.
 */
export class LegacyEdge {
  readonly secret = randomBytes(12).toString('hex');
  private instance: ProsodyInstance | undefined;
  private partners: ResolvedPartnerProfile[];
  private certificate: EdgeCertificate;
  /** The one SIP domain a `missing-bare-domain-san` certificate lacks; undefined: every domain. */
  private sanMissingFor: string | undefined;
  /** Why every partner's stream is refused (AllowFederatedUsers $false), or undefined. */
  private federationRefused: string | undefined;
  private ports: InstancePorts | undefined;
  private hop: EdgeInternalInterface | undefined;
  private unwatchLog: (() => void) | undefined;

  private constructor(
    private readonly options: LegacyEdgeOptions,
    private readonly ctx: EdgeContext,
    readonly workDir: string,
    private readonly teardown: TeardownStack,
  ) {
    this.partners = options.partners.map(resolvePartnerProfile);
    this.certificate = options.certificate ?? 'valid';
  }

  static async start(options: LegacyEdgeOptions, ctx: EdgeContext): Promise<LegacyEdge> {
    const domain = options.domain.toLowerCase();
    return TeardownStack.start('legacy edge', async (teardown) => {
      const workDir = await workDirFor(teardown, `edge-${domain}`);
      const edge = new LegacyEdge({ ...options, domain }, ctx, workDir, teardown);
      await mkdir(path.join(workDir, 'modules'));
      await mkdir(path.join(workDir, 'certs'));
      await mkdir(path.join(workDir, 'data'));
      for (const module of ['mod_xfed_allowed_partners.lua', 'mod_xfed_edge_policy.lua'])
        await copyFile(path.join(MODULES_DIR, module), path.join(workDir, 'modules', module));
      await writeFile(path.join(workDir, 'peer-ca.pem'), ctx.ca.certPem, { mode: 0o644 });
      // A failed launch leaves no instance: the stack holds everything to release.
      await edge.launch();
      teardown.defer(`prosody of the edge ${domain}`, () => edge.halt());
      edge.hop = await EdgeInternalInterface.start({ domain, upstream: edge.component, ...(ctx.cite ? { cite: ctx.cite } : {}) });
      const hop = edge.hop;
      teardown.defer(`internal interface of the edge ${domain}`, () => hop.stop());
      return edge;
    });
  }

  get domain(): string {
    return this.options.domain;
  }
  /** Every SIP domain the proxy serves, the primary first. */
  get domains(): string[] {
    return [this.domain, ...(this.options.additionalDomains ?? []).map((d) => d.toLowerCase())];
  }
  get running(): boolean {
    return this.instance !== undefined;
  }
  get allowedPartners(): ResolvedPartnerProfile[] {
    return this.partners.map((p) => ({ ...p }));
  }
  get currentCertificate(): EdgeCertificate {
    return this.certificate;
  }

  /** The XMPP proxy's component listener (from the host running xfed), behind the internal interface. */
  get component(): Endpoint {
    return this.live().component!;
  }
  /** The Edge's internal interface, where the Front End's XMPP gateway connects (XMPP over MTLS, TCP 23456). */
  get internal(): EdgeInternalInterface {
    if (!this.hop) throw new XfedError(`the legacy Edge of ${this.domain} has no internal interface yet`);
    return this.hop;
  }
  /** How the gateway attaches: through the internal interface, with the Front End's certificate. */
  get gatewayAttachment(): EdgeAttachment {
    return { component: this.internal.endpoint, secret: this.secret, tls: this.internal.credentials() };
  }
  /** The S2S listener as peers in the runtime reach it (what the SRV record points at). */
  get peerAddress(): Endpoint {
    return this.live().peerAddress;
  }
  /** The S2S listener from the host running xfed (for probes). */
  get s2s(): Endpoint {
    return this.live().s2s;
  }

  logs(): string[] {
    return this.instance?.log.all() ?? [];
  }

  /** The running Prosody's log as it grows, to wait on a line (a restart starts a new one). */
  get log(): LogView {
    return this.live().log;
  }

  /**
   * Changes the allowed partners, their profiles, the certificate (`certificateDomain`: the one
   * domain a certificate without the bare-domain SAN lacks, default every domain), or whether every
   * partner is refused (`federationRefused`: the reason, or null to federate again), and restarts the Edge.
   */
  async reconfigure(change: {
    partners?: PartnerProfile[];
    certificate?: EdgeCertificate;
    certificateDomain?: string | undefined;
    federationRefused?: string | null;
  }): Promise<void> {
    const partners = change.partners?.map(resolvePartnerProfile);
    if (partners) this.partners = partners;
    if (change.certificate) {
      this.certificate = change.certificate;
      this.sanMissingFor = change.certificateDomain?.toLowerCase();
    }
    if (change.federationRefused !== undefined) this.federationRefused = change.federationRefused ?? undefined;
    await this.halt();
    await this.launch();
  }

  /** Stops the Edge's Prosody (its S2S port closes) but keeps its state for `resume()`. */
  async halt(): Promise<void> {
    const instance = this.instance;
    this.instance = undefined;
    this.unwatchLog?.();
    this.unwatchLog = undefined;
    await instance?.stop();
  }

  /**
   * Kills the Edge's Prosody with SIGKILL, as a crash or the OOM killer would: its S2S streams and
   * the gateway's component connection drop with no stream close. Its state is kept for `resume()`.
   */
  async crash(): Promise<void> {
    const instance = this.instance;
    this.instance = undefined;
    this.unwatchLog?.();
    this.unwatchLog = undefined;
    if (!instance) return;
    await instance.kill();
    // What it held (its container, its place in the runtime's teardown) is released all the same.
    await instance.stop();
  }

  /** Its Prosody ended with no step stopping it: the simulation itself broke. */
  get exitedOnItsOwn(): boolean {
    return this.instance?.exited === true;
  }

  async resume(): Promise<void> {
    if (!this.instance) await this.launch();
  }

  async stop(): Promise<void> {
    await this.halt();
    await this.teardown.close();
  }

  private live(): ProsodyInstance {
    if (!this.instance) throw new XfedError(`the legacy Edge of ${this.domain} is not running`);
    return this.instance;
  }

  private async launch(): Promise<void> {
    const { domain } = this;
    const cert = await this.issueCertificate();
    await writeFile(path.join(this.workDir, 'certs', `${domain}.crt`), cert.certPem, { mode: 0o644 });
    await writeFile(path.join(this.workDir, 'certs', `${domain}.key`), cert.keyPem, { mode: 0o644 });
    // One Prosody serves every partner: its global S2S options allow everything any profile may
    // need, and mod_xfed_edge_policy applies each partner's own to the streams with its domains.
    const settings = this.options.gateway ?? DEFAULT_XMPP_GATEWAY_SETTINGS;
    const domainsOf = (p: ResolvedPartnerProfile) => [p.domain, ...p.additionalDomains];
    const partnerDomains = this.partners.flatMap(domainsOf);
    const policies: Record<string, LuaValue> = {};
    for (const p of this.partners) {
      const policy = edgeS2sPolicy(p);
      for (const d of domainsOf(p))
        policies[d] = {
          partner: p.domain,
          tls: policy.tls === 'required' ? 'required' : policy.tls === 'optional' ? 'optional' : 'off',
          sasl: policy.offerSaslExternal,
          dialback: policy.offerDialback,
          keepalive: p.enableKeepAlive,
          limit: partnerConnectionLimit(p, settings),
          limit_from: p.connectionLimit !== undefined && p.connectionLimit < settings.partnerConnectionLimit ? 'ConnectionLimit' : 'PartnerConnectionLimit',
        };
    }
    // A partner without dialback must present a certificate the Edge verifies (Prosody's secure
    // domains); with dialback the certificate may fail and dialback decide.
    const secure = this.partners.filter((p) => edgeS2sPolicy(p).secureAuth).flatMap(domainsOf);
    const insecure = this.partners.filter((p) => !edgeS2sPolicy(p).secureAuth).flatMap(domainsOf);

    this.instance = await this.ctx.runtime.startProsody({
      label: `edge-${domain}`,
      hostDir: this.workDir,
      domains: [domain],
      readinessDomain: domain,
      probeC2s: false,
      componentListener: true,
      publishDns: false,
      ...(this.ports ? { reusePorts: this.ports } : {}),
      startTimeoutMs: this.ctx.runtime.kind === 'container' ? 60_000 : 20_000,
      renderConfig: (layout) =>
        renderProsodyConfig({
          // Prosody needs one VirtualHost to run; the proxy's own name serves (no accounts on it).
          domains: [
            {
              name: `xmpp-proxy.${domain}`,
              certPath: path.posix.join(layout.root, 'certs', `${domain}.crt`),
              keyPath: path.posix.join(layout.root, 'certs', `${domain}.key`),
            },
          ],
          // One component per SIP domain, each with the one Access Edge certificate (a SAN per domain).
          components: this.domains.map((name) => ({
            name,
            secret: this.secret,
            certPath: path.posix.join(layout.root, 'certs', `${domain}.crt`),
            keyPath: path.posix.join(layout.root, 'certs', `${domain}.key`),
            // Components do not inherit s2s_auth_certs, which checks peers' certificates.
            modules: ['xfed_allowed_partners', 'xfed_edge_policy', 's2s_auth_certs'],
            options: {
              xfed_allowed_partners: partnerDomains,
              ...(this.federationRefused ? { xfed_federation_refused: this.federationRefused } : {}),
              xfed_partner_policies: policies,
              xfed_keepalive_interval: settings.keepAliveIntervalMs / 1000,
              xfed_stream_inactivity_timeout: settings.streamInactivityTimeoutMs / 1000,
              xfed_connection_limit: settings.connectionLimit,
              xfed_partner_connection_limit: settings.partnerConnectionLimit,
            },
          })),
          componentPort: layout.componentPort!,
          pluginPaths: [path.posix.join(layout.root, 'modules')],
          s2s: { tls: 'optional', auth: 'either', secureAuth: false, certificates: 'ca', tlsVersions: LEGACY_EDGE_TLS },
          s2sTimeoutSeconds: settings.streamEstablishmentTimeoutMs / 1000,
          peerCaPath: path.posix.join(layout.root, 'peer-ca.pem'),
          ...layoutSettings(layout),
          logLevel: this.options.logLevel ?? 'info',
          // mod_s2s reads these globally: they must not sit in the component's section.
          extra: { s2s_secure_domains: secure, s2s_insecure_domains: insecure },
        }),
    });
    this.ports = this.instance.ports;
    const cite = this.ctx.cite;
    if (cite) this.unwatchLog = this.instance.log.onLine((line) => citesOfEdgeLog(line).forEach(cite));
    this.hop?.setUpstream(this.instance.component!);
  }

  private async issueCertificate(): Promise<KeyAndCert> {
    const { domain } = this;
    const now = Date.now();
    // Certificate summary - XMPP federation: the Access Edge certificate carries each XMPP-enabled
    // SIP domain as a SAN. A renewal without them lists only the Edge's host names: `*.domain`
    // does not cover `domain`.
    const sans = this.domains.flatMap((d) =>
      this.certificate === 'missing-bare-domain-san' && (this.sanMissingFor ?? d) === d ? [`*.${d}`, `sip.${d}`] : [d, `*.${d}`],
    );
    switch (this.certificate) {
      case 'valid':
      case 'missing-bare-domain-san':
        return this.ctx.ca.issue(domain, { sans });
      case 'expired':
        return this.ctx.ca.issue(domain, { sans, notBefore: new Date(now - 30 * DAY_MS), notAfter: new Date(now - DAY_MS) });
      case 'untrusted-ca':
        return (await TestCa.create()).issue(domain, { sans });
    }
  }
}
