import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { XfedError } from '../errors.js';
import { isDomainName } from '../infra/format.js';
import type { LogView } from '../infra/line-log.js';
import { TestCa, selfSignedCertificate, type KeyAndCert } from '../infra/pki.js';
import { projectRoot } from '../infra/project-root.js';
import { TeardownStack } from '../infra/teardown.js';
import { workDirFor } from '../infra/work-dir.js';
import { planAccounts } from './accounts.js';
import { expectListenable } from './listen-address.js';
import { writeAccounts } from '../prosody/accounts.js';
import { renderProsodyConfig, validateS2sSecurity } from '../prosody/config.js';
import { layoutSettings, type ProsodyInstance, type ProsodyRuntime } from '../prosody/runtimes/runtime.js';
import { DEFAULT_S2S_SECURITY, type RuntimeKind, type S2sSecurity } from '../prosody/types.js';
import { probeStream } from '../xmpp/stream-probe.js';
import type { Endpoint } from '../infra/endpoint.js';
import type { PartnerAccount, PartnerHandle, PartnerOptions } from './types.js';

const MODULES_DIR = path.join(projectRoot(), 'docker', 'prosody', 'modules');

/** Everything a partner start needs from the run it belongs to. */
export interface PartnerContext {
  runtime: ProsodyRuntime;
  ca: TestCa;
}

/**
 * A real Prosody serving one or more XMPP partner domains, with accounts, per-run certificates and
 * the S2S security asked for. Start it through `Federation.addPartner` (several servers that
 * federate), or `PartnerServer.start` with a runtime and a CA of your own.
 */
export class PartnerServer implements PartnerHandle, AsyncDisposable {
  readonly domains: string[];
  readonly accounts: PartnerAccount[];
  readonly s2sSecurity: S2sSecurity;
  readonly trustPem: string;
  readonly trustPath: string;
  readonly workDir: string;
  readonly runtime: RuntimeKind;
  /** The primary domain's certificate and key, as the partner presents them on S2S (none without TLS). */
  readonly certificate: KeyAndCert | undefined;
  private readonly instance: ProsodyInstance;
  private readonly teardown: TeardownStack;

  private constructor(parts: {
    domains: string[];
    accounts: PartnerAccount[];
    s2sSecurity: S2sSecurity;
    trustPem: string;
    trustPath: string;
    workDir: string;
    runtime: RuntimeKind;
    certificate: KeyAndCert | undefined;
    instance: ProsodyInstance;
    teardown: TeardownStack;
  }) {
    this.domains = parts.domains;
    this.accounts = parts.accounts;
    this.s2sSecurity = parts.s2sSecurity;
    this.trustPem = parts.trustPem;
    this.trustPath = parts.trustPath;
    this.workDir = parts.workDir;
    this.runtime = parts.runtime;
    this.certificate = parts.certificate;
    this.instance = parts.instance;
    this.teardown = parts.teardown;
  }

  static async start(options: PartnerOptions, ctx: PartnerContext): Promise<PartnerServer> {
    const domains = options.domains.map((d) => d.toLowerCase());
    if (domains.length === 0) throw new XfedError('a partner needs at least one domain');
    for (const d of domains) {
      if (!isDomainName(d)) throw new XfedError(`'${d}' is not a valid XMPP domain name`);
    }
    const s2s: S2sSecurity = { ...DEFAULT_S2S_SECURITY, ...options.s2s };
    validateS2sSecurity(s2s);
    const accounts = planAccounts(domains, options.users ?? []);
    const label = domains[0]!;
    // Prosody on a taken port only logs it and keeps running: found here, before anything starts.
    if (options.s2sListen)
      await expectListenable(
        options.s2sListen,
        `the S2S listen address of the partner ${label}`,
        'stop what holds it, or publish the partner elsewhere (target.gateway.listen)',
      );

    return TeardownStack.start(`partner ${label}`, async (teardown) => {
      const workDir = await workDirFor(teardown, label);

      const certs = new Map<string, KeyAndCert>();
      for (const d of domains) {
        // A lab may expect the primary domain's certificate it issued itself.
        if (options.certificate && d === label) certs.set(d, options.certificate);
        else if (s2s.certificates === 'ca') certs.set(d, await ctx.ca.issue(d));
        else if (s2s.certificates === 'self-signed') certs.set(d, await selfSignedCertificate(d));
      }
      await mkdir(path.join(workDir, 'certs'));
      // 0644: inside a container the files belong to root and Prosody must read them (test keys only).
      for (const [d, kc] of certs) {
        await writeFile(path.join(workDir, 'certs', `${d}.crt`), kc.certPem, { mode: 0o644 });
        await writeFile(path.join(workDir, 'certs', `${d}.key`), kc.keyPem, { mode: 0o644 });
      }
      // Clients trust what issued the domains' certificates: the test CA, or each self-signed
      // certificate; a lab's certificate chains to the lab's CA (given with the peers' CAs).
      const trustPem = [
        ...(s2s.certificates === 'ca' ? [ctx.ca.certPem] : [...certs.values()].map((c) => c.certPem)),
        ...(options.certificate ? [options.certificate.certPem, options.peerCaPem ?? ''] : []),
      ]
        .map((p) => p.trim())
        .filter(Boolean)
        .join('\n');
      const trustPath = path.join(workDir, 'trust.pem');
      await writeFile(trustPath, trustPem, { mode: 0o644 });
      // Peers are verified against the test CA unless this server does dialback only.
      const verifyPeers = s2s.auth !== 'dialback' && s2s.certificates !== 'none';
      if (verifyPeers) await writeFile(path.join(workDir, 'peer-ca.pem'), `${ctx.ca.certPem.trim()}\n${options.peerCaPem?.trim() ?? ''}\n`, { mode: 0o644 });
      await mkdir(path.join(workDir, 'modules'));
      await copyFile(path.join(MODULES_DIR, 'mod_xfed_s2s.lua'), path.join(workDir, 'modules', 'mod_xfed_s2s.lua'));
      await writeAccounts(path.join(workDir, 'data'), accounts);

      const instance = await ctx.runtime.startProsody({
        label,
        hostDir: workDir,
        domains,
        readinessDomain: label,
        ...(options.s2sListen ? { s2sListen: options.s2sListen } : {}),
        startTimeoutMs: options.startTimeoutMs ?? (ctx.runtime.kind === 'container' ? 60_000 : 20_000),
        renderConfig: (layout) =>
          renderProsodyConfig({
            domains: domains.map((name) =>
              certs.has(name)
                ? { name, certPath: path.posix.join(layout.root, 'certs', `${name}.crt`), keyPath: path.posix.join(layout.root, 'certs', `${name}.key`) }
                : { name },
            ),
            s2s,
            pluginPaths: [path.posix.join(layout.root, 'modules')],
            xfedS2sModule: true,
            ...(verifyPeers ? { peerCaPath: path.posix.join(layout.root, 'peer-ca.pem') } : {}),
            ...layoutSettings(layout),
            logLevel: options.logLevel ?? 'info',
            ...(options.prosodyOptions ? { extra: options.prosodyOptions } : {}),
          }),
      });
      teardown.defer(`prosody ${label}`, () => instance.stop());
      return new PartnerServer({
        domains,
        accounts,
        s2sSecurity: s2s,
        trustPem,
        trustPath,
        workDir,
        runtime: ctx.runtime.kind,
        certificate: certs.get(label),
        instance,
        teardown,
      });
    });
  }

  get c2s(): Endpoint {
    return this.instance.c2s;
  }
  get s2s(): Endpoint {
    return this.instance.s2s;
  }
  /** Where peers inside the runtime reach this server's S2S port (what its SRV record points at). */
  get peerAddress(): Endpoint {
    return this.instance.peerAddress;
  }

  account(jidOrLocalpart: string): PartnerAccount {
    const want = jidOrLocalpart.toLowerCase();
    const found = this.accounts.find((a) => a.jid === want || a.localpart === want);
    if (!found) throw new XfedError(`unknown partner user '${jidOrLocalpart}' (known: ${this.accounts.map((a) => a.jid).join(', ') || 'none'})`);
    return found;
  }

  logs(): string[] {
    return this.instance.log.all();
  }

  /** Its Prosody log as it grows, to wait on a line without copying the log. */
  get log(): LogView {
    return this.instance.log;
  }

  /** Its Prosody ended (killed, crashed): xfed's side of the federation is gone. */
  get exited(): boolean {
    return this.instance.exited;
  }

  /** Ends its Prosody at once with SIGKILL (a crash, an OOM kill): for rehearsing xfed's own faults. */
  kill(): Promise<void> {
    return this.instance.kill();
  }

  /**
   * Why this server cannot serve now, or undefined when it answers: it exited, or its c2s port gives
   * no stream header and features within `timeoutMs` (hung, or its port gone).
   */
  async fault(timeoutMs: number): Promise<string | undefined> {
    const name = `xfed's partner Prosody (${this.domains[0]})`;
    if (this.instance.exited) return `${name} has exited`;
    const { host, port } = this.c2s;
    return probeStream({ host, port, to: this.domains[0]!, ns: 'jabber:client', timeoutMs }).then(
      () => undefined,
      (err: Error) => `${name} does not answer on ${host}:${port}: ${err.message}`,
    );
  }

  waitForLog(pattern: RegExp, timeoutMs: number): Promise<string> {
    return this.instance.log.waitFor(pattern, { timeoutMs, what: `a log line of ${this.domains[0]} matching ${pattern}` });
  }

  async stop(): Promise<void> {
    await this.teardown.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
