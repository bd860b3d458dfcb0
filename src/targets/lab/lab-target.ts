import { XfedError } from '../../errors.js';
import { withDeadline } from '../../infra/deadline.js';
import type { Endpoint } from '../../infra/endpoint.js';
import type { LogView } from '../../infra/line-log.js';
import { TestCa } from '../../infra/pki.js';
import { Redactor } from '../../infra/redact.js';
import { TeardownStack } from '../../infra/teardown.js';
import { PartnerServer } from '../../partner/partner-server.js';
import { startRuntime } from '../../prosody/runtime-choice.js';
import type { RuntimeKind } from '../../prosody/types.js';
import { DEFAULT_SHOW_MAPPING } from '../../sfb/availability.js';
import type { ResolvedPartnerProfile } from '../../sfb/partner-profile.js';
import { xml, type ReconnectPolicy, type SessionEvent, type XmppUser } from '../../xmpp/client.js';
import { FlowRecorder } from '../flow.js';
import { PartnerSide, recordXmppTraffic } from '../partner-side.js';
import type { EdgeLocation, PartnerIdentity, SuiteTarget, TargetOptions, TargetSetup } from '../target.js';
import { addressOf, C2S_PORT, expectAnswers, labResolver, pinEdge, readPasswords, readSuiteFile, S2S_PORT } from './inputs.js';
import { LabSfbUser } from './lab-users.js';
import { startResponder, type Responder } from './responder.js';
import type { LabSpec } from './spec.js';

/**
 * A lab user's session that drops (the Edge restarted) is logged in again: the pauses double from
 * 250 ms to 1 s (a refused connection costs the Edge nothing, and the user is back about a second
 * after the Edge), at most 60 attempts within 60 s, since an Edge's services take tens of seconds
 * to restart; an Edge that takes longer is said. Checks meanwhile do not wait for it.
 */
const LAB_RECONNECT: ReconnectPolicy = { attempts: 60, firstDelayMs: 250, maxDelayMs: 1_000, attemptMs: 3_000, totalMs: 60_000 };
/** Bound on removing the run's partner contacts from one driven user's roster at teardown. */
const ROSTER_RESTORE_MS = 5_000;

/** One line for a driven user's session event: who, when, why. */
function sessionLine(jid: string, e: SessionEvent): string {
  const when = new Date(e.at).toISOString();
  if (e.kind === 'dropped') return `the session of ${jid} dropped at ${when}: ${e.reason}; logging in again`;
  if (e.kind === 'reconnected') return `${jid} logged in again at ${when}, ${(e.downMs / 1000).toFixed(1)} s after the drop (attempt ${e.attempts})`;
  return `${jid} could not log in again (${e.attempts} attempts, given up at ${when}): ${e.reason}`;
}

interface Parts {
  spec: LabSpec;
  setup: TargetSetup;
  runtime: RuntimeKind;
  flow: FlowRecorder;
  partner: PartnerServer;
  resolver: Endpoint;
  pinnedEdge: EdgeLocation | undefined;
  listen: Endpoint;
  edgeTrustPem: string;
  responders: Map<string, Responder>;
  teardown: TeardownStack;
}

/**
 * A lab's real legacy Edge (an SfB 2015/2013 Access Edge with its XMPP proxy, or any XMPP server
 * standing in for one), what suites call `target: gateway`: xfed runs only the partner side. Its
 * Prosody publishes S2S on the address the Edge was told to reach, resolves the SfB domain through
 * the lab's DNS (or a pinned Edge), and trusts the lab's CA; the SfB test users are observed
 * through what they do (an echo) or driven over XMPP where the suite gives their login. xfed
 * changes nothing on the SfB side, so it has no deployment for migration steps.
 */
export class LabTarget implements SuiteTarget {
  readonly kind = 'gateway' as const;
  readonly deployment = undefined;
  readonly runtime: RuntimeKind;
  readonly flow: FlowRecorder;
  readonly partner: PartnerServer;
  readonly resolver: Endpoint;
  private readonly p: Parts;
  private readonly partnerSide: PartnerSide;

  private constructor(p: Parts) {
    this.p = p;
    this.runtime = p.runtime;
    this.flow = p.flow;
    this.partner = p.partner;
    this.resolver = p.resolver;
    // The partner users end the run's subscriptions, then log out, before the partner stops: on
    // stop() (entries released in reverse) and on a signal, which closes the newest stacks first.
    // So both live on stacks newer than the partner's and the runtime's.
    const sessions = new TeardownStack(`partner users of ${p.spec.domain}`);
    const subscriptions = new TeardownStack(`the run's subscriptions with ${p.spec.domain}`);
    subscriptions.defer('end them', () => this.endSubscriptions());
    p.teardown.defer('partner users', () => sessions.close());
    p.teardown.defer("the run's subscriptions", () => subscriptions.close());
    this.partnerSide = new PartnerSide(p.partner, {
      flow: p.flow,
      teardown: sessions,
      sfbDomain: p.spec.domain,
      echoUser: () => p.setup.echoUser,
      resolver: p.resolver,
      edgeTrustPem: p.edgeTrustPem,
    });
  }

  static async start(setup: TargetSetup, spec: LabSpec, opts: TargetOptions): Promise<LabTarget> {
    const redactor = opts.redactor ?? new Redactor();
    try {
      return await LabTarget.startWith(setup, spec, opts, redactor);
    } catch (err) {
      // A failure to start is printed as it is: it must not carry a secret either.
      if (err instanceof Error) {
        err.message = redactor.text(err.message);
        if (err.stack) err.stack = redactor.text(err.stack);
      }
      throw err;
    }
  }

  private static async startWith(setup: TargetSetup, spec: LabSpec, opts: TargetOptions, redactor: Redactor): Promise<LabTarget> {
    const notice = (text: string) => opts.notice?.(redactor.text(text));
    // Everything that can be wrong with the suite's inputs is found before anything starts.
    const passwords = readPasswords(spec, redactor);
    const edgeTrustPem = spec.ca ? await readSuiteFile(setup.baseDir, spec.ca, 'target.gateway.ca') : '';
    const certificate = spec.certificate
      ? {
          certPem: await readSuiteFile(setup.baseDir, spec.certificate.cert, 'target.gateway.certificate.cert'),
          keyPem: await readSuiteFile(setup.baseDir, spec.certificate.key, 'target.gateway.certificate.key'),
        }
      : undefined;
    // The partner's private key is a secret too: none of its lines may reach a report or the console.
    for (const line of certificate?.keyPem.split(/\r?\n/) ?? []) if (line.trim() && !line.startsWith('-----')) redactor.add(line.trim());
    const resolver = await labResolver(spec);
    const listen = await addressOf(spec.listen, S2S_PORT, 'target.gateway.listen');
    await expectAnswers(resolver, spec.domain, spec.resolver ? 'target.gateway.resolver' : "this machine's DNS server (set target.gateway.resolver)");

    return TeardownStack.start(`gateway target ${spec.domain}`, async (teardown) => {
      const flow = new FlowRecorder(redactor);
      const runtime = await startRuntime(opts.runtime, { baseImage: opts.baseImage, progress: opts.progress });
      teardown.defer(`${runtime.kind} runtime`, () => runtime.stop());
      // The partner asks xfed's DNS, which answers what it pins and asks the lab's DNS the rest.
      runtime.dns.setUpstream(resolver);
      const pinnedEdge = spec.edge ? await pinEdge(runtime, spec.domain, spec.edge, resolver) : undefined;

      const partner = await PartnerServer.start(
        {
          domains: setup.partner.domains,
          users: setup.partner.users,
          s2s: setup.partner.s2s,
          s2sListen: listen,
          certificate,
          peerCaPem: edgeTrustPem || undefined,
          logLevel: 'info',
        },
        { runtime, ca: await TestCa.create() },
      );
      teardown.defer(`partner ${partner.domains[0]}`, () => partner.stop());

      const responders = new Map<string, Responder>();
      for (const user of spec.users) {
        if (!user.login) continue;
        const c2sSpec = user.login.c2s ?? { host: spec.domain };
        const c2s = await addressOf(c2sSpec, C2S_PORT, `target.gateway.users ${user.name}: login.c2s`);
        const password = passwords.get(user.name)!;
        const responder = await startResponder({
          jid: `${user.name}@${spec.domain}`,
          password: password.value,
          endpoint: c2s,
          trustPem: edgeTrustPem,
          role: user.role,
          sfbDomain: spec.domain,
          showMapping: DEFAULT_SHOW_MAPPING,
          names: { endpoint: `${c2sSpec.host}:${c2s.port}`, password: password.source, ...(spec.ca ? { ca: spec.ca } : {}) },
          reconnect: LAB_RECONNECT,
          partnerDomains: setup.partner.domains,
        });
        teardown.defer(`responder ${user.name}`, async () => {
          const left = await responder.restoreRoster(ROSTER_RESTORE_MS);
          if (left) notice(left);
          await responder.stop();
        });
        recordXmppTraffic(flow, responder.user, { self: 'sfb-user', peer: 'edge' }, user.name);
        responder.user.onSession((e) => {
          const line = sessionLine(responder.user.bare, e);
          flow.record({ from: 'edge', to: 'sfb-user', protocol: 'xmpp', label: line, actor: user.name, wire: '' });
          notice(line);
        });
        responders.set(user.name.toLowerCase(), responder);
      }
      return new LabTarget({ spec, setup, runtime: runtime.kind, flow, partner, resolver, pinnedEdge, listen, edgeTrustPem, responders, teardown });
    });
  }

  get sfbDomain(): string {
    return this.p.spec.domain;
  }
  get partnerLog(): LogView {
    return this.partnerSide.partnerLog;
  }

  partnerUser(name: string): Promise<XmppUser> {
    return this.partnerSide.partnerUser(name);
  }
  partnerSession(name: string): Promise<XmppUser> {
    return this.partnerSide.partnerSession(name);
  }

  sfbUser(name: string): LabSfbUser {
    const spec = this.p.spec.users.find((u) => u.name.toLowerCase() === name.toLowerCase());
    if (!spec) throw new XfedError(`unknown SfB user '${name}' (known: ${this.p.spec.users.map((u) => u.name).join(', ')})`);
    return new LabSfbUser(spec, this.sfbDomain, this.p.responders.get(spec.name.toLowerCase()));
  }

  /**
   * An IM to the echo user through the same S2S path: its echo (or error) comes back after
   * everything sent before it. Without an echo user, a ping of the SfB domain.
   */
  barrier(via: XmppUser, timeoutMs?: number): Promise<void> {
    return this.partnerSide.barrier(via, timeoutMs);
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
    // The way there first: the partner's own stream to the Edge must have come up.
    if (!lines.some((l) => l.includes(`xfed: outgoing s2s stream ${this.partner.domains[0]}->${this.sfbDomain} authenticated`))) {
      const last = lines
        .findLast((l) => /s2sout/.test(l))
        ?.replace(/\s+/g, ' ')
        .trim();
      return `the partner's stream to the Edge never came up: the Edge did not answer or did not accept it (an s2s-probe check shows what it answers)${last ? `; the partner's last word on it: "${last.slice(0, 300)}"` : ''}`;
    }
    if (lines.some((l) => l.includes(`xfed: incoming s2s stream ${this.sfbDomain}->`))) return undefined;
    const where = `${this.p.listen.host}:${this.p.listen.port}`;
    if (lines.some((l) => /^s2sin/.test(l)))
      return `a stream from the Edge reached the partner at ${where} but did not authenticate; the partner's log says why`;
    return `the Edge never opened its stream back to the partner: the DNS the Edge uses needs the partner domain's SRV record pointing at ${where} (xfed sfb-config), and the Edge must reach that address`;
  }

  /** xfed's own side: the partner Prosody (a lab's DNS and Edge are the system under test). */
  harnessFault(): Promise<string | undefined> {
    return this.partnerSide.harnessFault(undefined);
  }

  logs(): { partner: string[]; edge: string[] } {
    return { partner: this.partner.logs(), edge: [] };
  }

  async locateEdge(timeoutMs: number): Promise<EdgeLocation | string> {
    return this.p.pinnedEdge ?? this.partnerSide.locateEdge(timeoutMs);
  }

  partnerIdentity(): PartnerIdentity {
    return this.partnerSide.partnerIdentity();
  }

  allowedProfile(): ResolvedPartnerProfile {
    return this.p.setup.partnerProfile;
  }

  async stop(): Promise<void> {
    await this.p.teardown.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
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
        this.partnerSide.connected().map(async (user) => {
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
