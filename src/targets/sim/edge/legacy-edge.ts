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
import { layoutSettings, type InstancePorts, type ProsodyInstance, type ProsodyRuntime } from '../../../prosody/runtimes/runtime.js';
import type { Endpoint } from '../../../infra/endpoint.js';
import { edgeS2sPolicy, resolvePartnerProfile, type PartnerProfile, type ResolvedPartnerProfile } from '../../../sfb/partner-profile.js';

export interface LegacyEdgeOptions {
  /** The SfB SIP domain, served over S2S as the Edge's XMPP proxy does (e.g. `contoso.test`). */
  domain: string;
  /** The allowed XMPP partners (`New-CsXmppAllowedPartner`). */
  partners: PartnerProfile[];
  certificate?: EdgeCertificate;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
}

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
 * component (the XMPP-SIP gateway attaches to it), federating over S2S with the allowed partners
 * under their profile's TLS / SASL / dialback settings. Reconfiguring (profile, allowed list,
 * certificate) restarts only this Prosody, on the same ports, as an Edge service restart would.
 */
export class LegacyEdge {
  readonly secret = randomBytes(12).toString('hex');
  private instance: ProsodyInstance | undefined;
  private partners: ResolvedPartnerProfile[];
  private certificate: EdgeCertificate;
  private ports: InstancePorts | undefined;

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
      await copyFile(path.join(MODULES_DIR, 'mod_xfed_allowed_partners.lua'), path.join(workDir, 'modules', 'mod_xfed_allowed_partners.lua'));
      await writeFile(path.join(workDir, 'peer-ca.pem'), ctx.ca.certPem, { mode: 0o644 });
      // A failed launch leaves no instance: the stack holds everything to release.
      await edge.launch();
      return edge;
    });
  }

  get domain(): string {
    return this.options.domain;
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

  /** The component listener the gateway attaches to (from the host running xfed). */
  get component(): Endpoint {
    return this.live().component!;
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

  /** Changes the allowed partners, their profiles or the certificate, and restarts the Edge. */
  async reconfigure(change: { partners?: PartnerProfile[]; certificate?: EdgeCertificate }): Promise<void> {
    const partners = change.partners?.map(resolvePartnerProfile);
    if (partners) this.partners = partners;
    if (change.certificate) this.certificate = change.certificate;
    await this.halt();
    await this.launch();
  }

  /** Stops the Edge's Prosody (its S2S port closes) but keeps its state for `resume()`. */
  async halt(): Promise<void> {
    const instance = this.instance;
    this.instance = undefined;
    await instance?.stop();
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
    // One Prosody serves every partner: the first profile sets the stream policy; secure
    // authentication is then relaxed or tightened per partner domain.
    const first = this.partners[0];
    const policy = first
      ? edgeS2sPolicy(first)
      : { tls: 'required' as const, auth: 'certificate' as const, secureAuth: true, offerSaslExternal: true, offerDialback: false };
    const partnerDomains = this.partners.flatMap((p) => [p.domain, ...p.additionalDomains]);
    const insecure = this.partners.filter((p) => !edgeS2sPolicy(p).secureAuth).flatMap((p) => [p.domain, ...p.additionalDomains]);
    const secure = this.partners.filter((p) => edgeS2sPolicy(p).secureAuth).flatMap((p) => [p.domain, ...p.additionalDomains]);

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
          components: [
            {
              name: domain,
              secret: this.secret,
              certPath: path.posix.join(layout.root, 'certs', `${domain}.crt`),
              keyPath: path.posix.join(layout.root, 'certs', `${domain}.key`),
              // Components do not inherit s2s_auth_certs, which checks peers' certificates.
              modules: ['xfed_allowed_partners', ...(policy.offerSaslExternal ? ['s2s_auth_certs'] : [])],
              ...(policy.offerSaslExternal ? {} : { modulesDisabled: ['saslauth'] }),
              options: {
                xfed_allowed_partners: partnerDomains,
                ...(insecure.length ? { s2s_insecure_domains: insecure } : {}),
                ...(secure.length ? { s2s_secure_domains: secure } : {}),
              },
            },
          ],
          componentPort: layout.componentPort!,
          pluginPaths: [path.posix.join(layout.root, 'modules')],
          s2s: { tls: policy.tls, auth: policy.auth, secureAuth: policy.secureAuth, certificates: 'ca' },
          ...(policy.offerSaslExternal ? { peerCaPath: path.posix.join(layout.root, 'peer-ca.pem') } : {}),
          ...layoutSettings(layout),
          logLevel: this.options.logLevel ?? 'info',
        }),
    });
    this.ports = this.instance.ports;
  }

  private async issueCertificate(): Promise<KeyAndCert> {
    const { domain } = this;
    const now = Date.now();
    switch (this.certificate) {
      case 'valid':
        return this.ctx.ca.issue(domain);
      case 'missing-bare-domain-san':
        // A renewal that lists only the Edge's host names: `*.domain` does not cover `domain`.
        return this.ctx.ca.issue(domain, { sans: [`*.${domain}`, `sip.${domain}`] });
      case 'expired':
        return this.ctx.ca.issue(domain, { notBefore: new Date(now - 30 * DAY_MS), notAfter: new Date(now - DAY_MS) });
      case 'untrusted-ca':
        return (await TestCa.create()).issue(domain);
    }
  }
}
