import { lookup } from 'node:dns/promises';
import { readFile } from 'node:fs/promises';
import { getServers } from 'node:dns';
import path from 'node:path';
import { XfedError } from '../../errors.js';
import { withDeadline } from '../../infra/deadline.js';
import { Redactor } from '../../infra/redact.js';
import { TestCa } from '../../infra/pki.js';
import { TeardownStack } from '../../infra/teardown.js';
import { PartnerServer } from '../../partner/partner-server.js';
import { startRuntime } from '../../prosody/runtime-choice.js';
import type { ProsodyRuntime } from '../../prosody/runtimes/runtime.js';
import type { Endpoint } from '../../infra/endpoint.js';
import type { GatewayTargetSpec, Step, Suite } from '../../scenario/schema.js';
import { echoUserOf, targetOf } from '../../scenario/target-spec.js';
import { xml, XmppUser } from '../../xmpp/client.js';
import { FlowRecorder } from '../flow.js';
import { locateXmppServer, resolveHost, resolverAt } from '../locate.js';
import { barrierThrough, PartnerUsers, partnerIdentityOf, recordXmppTraffic } from '../partner-users.js';
import { resolvePartnerProfile, type ResolvedPartnerProfile } from '../../sfb/partner-profile.js';
import { DEFAULT_SHOW_MAPPING } from '../../sfb/availability.js';
import type { EdgeLocation, RemoteUsers, SuiteTarget, TargetOptions } from '../target.js';
import { startResponder, type Responder } from './responder.js';

const S2S_PORT = 5269;
const C2S_PORT = 5222;
const DNS_PORT = 53;

/**
 * A real legacy gateway endpoint (a lab's SfB 2015/2013 Edge with its XMPP proxy, or any XMPP
 * server standing in for one): xfed runs only the partner side. Its Prosody publishes S2S on the
 * address the Edge was told to reach, resolves the SfB domain through the lab's DNS (or a pinned
 * Edge), and trusts the lab's CA; the SfB test users are observed through what they do (an echo)
 * or driven over XMPP where the suite gives their login. xfed changes nothing on the SfB side.
 */
export class GatewayTarget implements SuiteTarget {
  readonly kind = 'gateway' as const;
  readonly sfb = undefined;
  readonly remote: RemoteUsers;
  private readonly partnerUsers: PartnerUsers;

  private constructor(
    private readonly spec: GatewayTargetSpec,
    /** The user barriers go through (an echo), if the suite has one. */
    private readonly echoUser: string | undefined,
    readonly flow: FlowRecorder,
    private readonly prosody: ProsodyRuntime,
    readonly partner: PartnerServer,
    readonly resolver: Endpoint,
    private readonly pinnedEdge: EdgeLocation | undefined,
    private readonly listen: Endpoint,
    private readonly edgeTrustPem: string,
    private readonly responders: Map<string, Responder>,
    private readonly teardown: TeardownStack,
  ) {
    // The partner users end the run's subscriptions, then log out, before the partner stops: on
    // stop() (entries released in reverse) and on a signal, which closes the newest stacks first.
    // So both live on stacks newer than the partner's and the runtime's.
    const sessions = new TeardownStack(`partner users of ${spec.domain}`);
    const subscriptions = new TeardownStack(`the run's subscriptions with ${spec.domain}`);
    subscriptions.defer('end them', () => this.endSubscriptions());
    teardown.defer('partner users', () => sessions.close());
    teardown.defer("the run's subscriptions", () => subscriptions.close());
    this.partnerUsers = new PartnerUsers(partner, flow, sessions);
    const users = new Map(spec.users.map((u) => [u.name.toLowerCase(), u]));
    this.remote = {
      role: (name) => users.get(name.toLowerCase())?.role,
      driven: (name) => responders.get(name.toLowerCase()),
      probeFrom: (name) => XmppUser.connect({ ...this.partner.account(name), endpoint: this.partner.c2s, trustPem: this.partner.trustPem, available: true }),
    };
  }

  static async start(suite: Suite, opts: TargetOptions): Promise<GatewayTarget> {
    const target = targetOf(suite);
    if (target.kind !== 'gateway') throw new XfedError(`suite ${suite.suite} targets the ${target.kind} side, not a gateway`);
    const spec = target.gateway;
    const baseDir = opts.baseDir ?? process.cwd();
    const redactor = opts.redactor ?? new Redactor();
    // Everything that can be wrong with the suite's inputs is found before anything starts.
    const passwords = readPasswords(spec, redactor);
    const edgeTrustPem = spec.ca ? await readSuiteFile(baseDir, spec.ca, 'target.gateway.ca') : '';
    const certificate = spec.certificate
      ? { certPem: await readSuiteFile(baseDir, spec.certificate.cert, 'target.gateway.certificate.cert'), keyPem: await readSuiteFile(baseDir, spec.certificate.key, 'target.gateway.certificate.key') }
      : undefined;
    const resolver = spec.resolver ? await addressOf(spec.resolver, DNS_PORT, 'target.gateway.resolver') : systemResolver();
    const listen = await addressOf(spec.listen, S2S_PORT, 'target.gateway.listen');
    await expectAnswers(resolver, spec.domain, spec.resolver ? 'target.gateway.resolver' : "this machine's DNS server (set target.gateway.resolver)");

    const teardown = new TeardownStack(`gateway target ${spec.domain}`);
    const flow = new FlowRecorder(redactor);
    try {
      const runtime = await startRuntime(opts.runtime, opts.baseImage ? { baseImage: opts.baseImage } : {});
      teardown.defer(`${runtime.kind} runtime`, () => runtime.stop());
      // The partner asks xfed's DNS, which answers what it pins and asks the lab's DNS the rest.
      runtime.dns.setUpstream(resolver);
      const pinnedEdge = spec.edge ? await pinEdge(runtime, spec.domain, spec.edge, resolver) : undefined;

      const ca = await TestCa.create();
      const partner = await PartnerServer.start(
        {
          domains: suite.partner.domains,
          users: suite.partner.users,
          ...(suite.partner.s2s ? { s2s: suite.partner.s2s } : {}),
          s2sListen: listen,
          ...(certificate ? { certificate } : {}),
          ...(edgeTrustPem ? { peerCaPem: edgeTrustPem } : {}),
          logLevel: 'info',
        },
        { runtime, ca },
      );
      teardown.defer(`partner ${partner.domains[0]}`, () => partner.stop());

      const responders = new Map<string, Responder>();
      for (const user of spec.users) {
        if (!user.login) continue;
        const c2s = await addressOf(user.login.c2s ?? { host: spec.domain }, C2S_PORT, `target.gateway.users ${user.name}: login.c2s`);
        const responder = await startResponder({
          jid: `${user.name}@${spec.domain}`,
          password: passwords.get(user.name)!,
          endpoint: c2s,
          trustPem: edgeTrustPem,
          role: user.role,
          sfbDomain: spec.domain,
          showMapping: DEFAULT_SHOW_MAPPING,
        });
        teardown.defer(`responder ${user.name}`, () => responder.stop());
        recordXmppTraffic(flow, responder.user, { self: 'sfb-user', peer: 'edge' }, user.name);
        responders.set(user.name.toLowerCase(), responder);
      }
      return new GatewayTarget(spec, echoUserOf(suite), flow, runtime, partner, resolver, pinnedEdge, listen, edgeTrustPem, responders, teardown);
    } catch (err) {
      await teardown.close();
      throw err;
    }
  }

  get runtime() {
    return this.prosody.kind;
  }
  get sfbDomain(): string {
    return this.spec.domain;
  }

  /** A partner user, logged in and available, connected once per run. */
  partnerUser(name: string): Promise<XmppUser> {
    return this.partnerUsers.get(name);
  }

  /**
   * An IM to an echo user through the same S2S path: its echo (or error) comes back after
   * everything sent before it. Without an echo user, a ping of the SfB domain.
   */
  async barrier(via: XmppUser, timeoutMs = 5_000): Promise<void> {
    await barrierThrough(via, this.sfbDomain, this.echoUser, timeoutMs);
  }

  /** Closes the partner's outgoing stream to the Edge (mod_xfed_s2s), so the next stanza opens one. */
  async renewS2s(): Promise<void> {
    const user = await this.partnerUser(this.partner.accounts[0]!.localpart);
    await user.iq('set', this.partner.domains[0], xml('close', { xmlns: 'urn:xfed:s2s', host: this.sfbDomain }));
  }

  /**
   * A stanza to the Edge that gets no answer often means the way back is missing: the Edge must
   * open its own stream to the partner, found through the lab's DNS. The partner's log says
   * whether it did.
   */
  diagnose(): string | undefined {
    const lines = this.partner.logs();
    if (lines.some((l) => l.includes(`xfed: incoming s2s stream ${this.sfbDomain}->`))) return undefined;
    const where = `${this.listen.host}:${this.listen.port}`;
    if (lines.some((l) => /^s2sin/.test(l))) return `a stream from the Edge reached the partner at ${where} but did not authenticate; the partner's log says why`;
    return `the Edge never opened its stream back to the partner: the DNS the Edge uses needs the partner domain's SRV record pointing at ${where} (xfed sfb-config), and the Edge must reach that address`;
  }

  logs(): { partner: string[]; edge: string[] } {
    return { partner: this.partner.logs(), edge: [] };
  }

  async locateEdge(timeoutMs: number): Promise<EdgeLocation | string> {
    return this.pinnedEdge ?? locateXmppServer(this.sfbDomain, this.resolver, timeoutMs);
  }

  partnerIdentity() {
    return partnerIdentityOf(this.partner, this.edgeTrustPem);
  }

  allowedProfile(): ResolvedPartnerProfile | undefined {
    const [domain, ...additionalDomains] = this.partner.domains;
    return resolvePartnerProfile({ domain: domain!, additionalDomains, ...this.spec.partner });
  }

  async apply(step: Step): Promise<string> {
    if (step.action === 'set-availability') {
      const responder = this.responders.get(step.user.toLowerCase());
      if (!responder) throw new XfedError(`${step.user} is not driven by xfed (target.gateway.users: login), so xfed cannot set an availability for him`);
      await responder.setAvailability(step.availability, step.note);
      return `${step.user} sets ${step.availability}${step.note ? ` ("${step.note}")` : ''}`;
    }
    // Validation refuses the simulation's steps in a gateway suite; this is the last line.
    throw new XfedError(`the ${step.action} step changes the simulated side; against a real gateway, use a manual or run step`);
  }

  async stop(): Promise<void> {
    await this.teardown.close();
  }

  /**
   * Ends the run's subscriptions between partner users and the lab's users before the partner
   * goes, so that the lab keeps no trace of the run and the next run subscribes afresh. Bounded
   * (5 s): an Edge that no longer answers cannot hold the teardown.
   */
  private async endSubscriptions(): Promise<void> {
    const suffix = `@${this.sfbDomain}`;
    await withDeadline(
      Promise.all(
        this.partnerUsers.connected().map(async (user) => {
          // A subscription still in flight (a run interrupted mid-check) is settled first, or its
          // approval could overtake the unsubscribe.
          await this.barrier(user, 2_000).catch(() => undefined);
          const roster = await user.iq('get', undefined, xml('query', { xmlns: 'jabber:iq:roster' }), 2_000);
          const contacts = (roster.getChild('query')?.getChildren('item') ?? []).map((i) => String(i.attrs.jid)).filter((jid) => jid.endsWith(suffix));
          for (const jid of contacts) {
            await user.sendPresence({ to: jid, type: 'unsubscribe' });
            await user.sendPresence({ to: jid, type: 'unsubscribed' });
          }
          if (contacts.length > 0) await this.barrier(user, 2_000);
        }),
      ),
      5_000,
      'the partner users to end their subscriptions',
    ).catch(() => undefined);
  }
}

function readPasswords(spec: GatewayTargetSpec, redactor: Redactor): Map<string, string> {
  const passwords = new Map<string, string>();
  for (const user of spec.users) {
    if (!user.login) continue;
    const value = process.env[user.login.passwordEnv];
    if (!value) throw new XfedError(`target.gateway.users ${user.name}: the environment variable ${user.login.passwordEnv} (login.passwordEnv) is not set`);
    redactor.add(value);
    passwords.set(user.name, value);
  }
  return passwords;
}

async function readSuiteFile(baseDir: string, file: string, what: string): Promise<string> {
  const full = path.resolve(baseDir, file);
  try {
    return await readFile(full, 'utf8');
  } catch (err) {
    throw new XfedError(`${what}: cannot read ${full}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** A suite's address as an IP and port (names resolved the way the system resolves them). */
async function addressOf(a: { host: string; port?: number | undefined }, defaultPort: number, what: string): Promise<Endpoint> {
  const port = a.port ?? defaultPort;
  if (/^\d+\.\d+\.\d+\.\d+$/.test(a.host) || a.host.includes(':')) return { host: a.host, port };
  try {
    return { host: (await lookup(a.host, { family: 4 })).address, port };
  } catch (err) {
    throw new XfedError(`${what}: cannot resolve ${a.host}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** The machine's first DNS server, for a suite that names none. */
function systemResolver(): Endpoint {
  const first = getServers()[0];
  if (!first) throw new XfedError('target.gateway.resolver is not set and this machine has no DNS server configured');
  const m = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(first)!;
  return { host: m[1]!, port: m[2] ? Number(m[2]) : DNS_PORT };
}

/**
 * Pins the SfB domain's SRV record in xfed's DNS to one Edge, bypassing the lab's record: a name
 * keeps being resolved by the lab's DNS, an address gets a name of xfed's own.
 */
async function pinEdge(runtime: ProsodyRuntime, domain: string, edge: { host: string; port?: number | undefined }, resolver: Endpoint): Promise<EdgeLocation> {
  const port = edge.port ?? S2S_PORT;
  const dns = resolverAt(resolver, 3_000);
  const [address] = await resolveHost(dns, edge.host);
  if (!address) throw new XfedError(`target.gateway.edge: ${edge.host} has no A record at ${resolver.host}:${resolver.port}`);
  if (address === edge.host) runtime.dns.publishXmppServer(domain, { host: `pinned-edge.${domain}`, address, port });
  else runtime.dns.setSrv(`_xmpp-server._tcp.${domain}`, [{ priority: 0, weight: 5, port, target: edge.host }]);
  return { host: address, port, via: `pinned edge ${edge.host}:${port} (SRV bypassed)` };
}

/**
 * A resolver that does not answer would make every check fail for a reason that is not the
 * Edge's: it is said once, before anything starts. "No such name" is an answer.
 */
async function expectAnswers(resolver: Endpoint, domain: string, what: string): Promise<void> {
  const dns = resolverAt(resolver, 3_000);
  try {
    await dns.resolveSrv(`_xmpp-server._tcp.${domain}`);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (['ENOTFOUND', 'ENODATA', 'ENONAME', 'NOTFOUND', 'NODATA'].some((c) => code.endsWith(c))) return;
    throw new XfedError(`${what}: the DNS server ${resolver.host}:${resolver.port} does not answer (${code || (err as Error).message})`);
  }
}
