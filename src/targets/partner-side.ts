import type { Endpoint } from '../infra/endpoint.js';
import type { LogView } from '../infra/line-log.js';
import type { TeardownStack } from '../infra/teardown.js';
import type { PartnerServer } from '../partner/partner-server.js';
import { XmppUser } from '../xmpp/client.js';
import { xmppLabel } from '../xmpp/label.js';
import type { FlowRecorder, Lane } from './flow.js';
import { locateXmppServer, resolverAt } from './locate.js';
import type { EdgeLocation, PartnerIdentity } from './target.js';

/** Records every stanza `user` sends (`self` -> `peer`) or receives (`peer` -> `self`) in the flow. */
export function recordXmppTraffic(flow: FlowRecorder, user: XmppUser, lanes: { self: Lane; peer: Lane }, actor: string): void {
  user.onTraffic((direction, s) =>
    flow.record({
      from: direction === 'out' ? lanes.self : lanes.peer,
      to: direction === 'out' ? lanes.peer : lanes.self,
      protocol: 'xmpp',
      label: xmppLabel(s),
      actor,
      wire: s.toString(),
    }),
  );
}

/**
 * The partner's side of a run, whatever the target: the partner Prosody, its users (each logged
 * in and available once, its traffic in the flow, logged out at teardown), the barrier through an
 * echo user, and how the partner finds and presents itself to the SfB domain.
 */
export class PartnerSide {
  private readonly users = new Map<string, XmppUser>();

  constructor(
    readonly partner: PartnerServer,
    private readonly o: {
      flow: FlowRecorder;
      /** Where the users' logouts are registered (a target puts them before the partner's stop). */
      teardown: TeardownStack;
      sfbDomain: string;
      /** The SfB user barriers go through now, if the target has one who echoes. */
      echoUser: () => string | undefined;
      /** The DNS server the partner resolves the SfB domain with. */
      resolver: Endpoint;
      /** The CAs the partner trusts for the Edge's certificate (empty: the system's roots). */
      edgeTrustPem: string;
    },
  ) {}

  async partnerUser(name: string): Promise<XmppUser> {
    const account = this.partner.account(name);
    const known = this.users.get(account.jid);
    if (known && !known.dropped) return known;
    // A session the partner server ended (it restarted) is not logged in again on its own: a
    // long watch logs the user in anew, so one drop does not fail every later check.
    if (known) await known.stop().catch(() => undefined);
    const user = await this.partnerSession(name);
    this.users.set(account.jid, user);
    if (!known) this.o.teardown.defer(`partner user ${account.jid}`, () => this.users.get(account.jid)?.stop());
    recordXmppTraffic(this.o.flow, user, { self: 'partner-user', peer: 'partner-server' }, account.jid);
    return user;
  }

  /** A new session of a partner user, available (roster fetched); its caller stops it. */
  partnerSession(name: string): Promise<XmppUser> {
    return XmppUser.connect({ ...this.partner.account(name), endpoint: this.partner.c2s, trustPem: this.partner.trustPem, available: true });
  }

  /** The partner users logged in so far. */
  connected(): XmppUser[] {
    return [...this.users.values()];
  }

  get partnerLog(): LogView {
    return this.partner.log;
  }

  /**
   * A barrier through the partner-Edge path: an IM from `via` to the SfB user who echoes. Its echo
   * (or its error) comes back after anything the path carried before it, so what has not arrived
   * by then was not sent. Without an echo user, a ping of the SfB domain.
   */
  async barrier(via: XmppUser, timeoutMs = 5_000): Promise<void> {
    const { sfbDomain } = this.o;
    const echoUser = this.o.echoUser();
    if (!echoUser) {
      await via.ping(sfbDomain, timeoutMs);
      return;
    }
    const to = `${echoUser}@${sfbDomain}`;
    const marker = `xfed barrier ${Math.random().toString(36).slice(2)}`;
    const id = await via.sendMessage(to, marker);
    await via.waitFor((s) => (s.attrs.type === 'error' && s.attrs.id === id) || s.getChildText('body') === marker, timeoutMs, `the barrier through ${to}`);
  }

  /**
   * What of xfed's own side is broken now: the partner Prosody (exited, or no stream on its c2s
   * port), and the test DNS it resolves peers with (`dns`, no answer to a query of the partner's
   * own SRV record, which xfed publishes there). Each probe is bounded by `timeoutMs`.
   */
  async harnessFault(dns: Endpoint | undefined, timeoutMs = 2_000): Promise<string | undefined> {
    const partner = this.partner.fault(timeoutMs);
    const resolver = dns ? dnsFault(dns, `_xmpp-server._tcp.${this.partner.domains[0]!}`, timeoutMs) : undefined;
    return (await partner) ?? (await resolver);
  }

  /** How the partner presents itself on S2S: its primary domain and that domain's certificate. */
  partnerIdentity(): PartnerIdentity {
    const cert = this.partner.certificate;
    return { domain: this.partner.domains[0]!, ...(cert ? { certPem: cert.certPem, keyPem: cert.keyPem } : {}), trustPem: this.o.edgeTrustPem };
  }

  /** Where the partner's S2S finds the SfB domain, as every partner does: SRV first. */
  locateEdge(timeoutMs: number): Promise<EdgeLocation | string> {
    return locateXmppServer(this.o.sfbDomain, this.o.resolver, timeoutMs);
  }
}

/** Why the DNS server at `server` does not answer a query for `name`, or undefined when it answers (an NXDOMAIN is an answer). */
async function dnsFault(server: Endpoint, name: string, timeoutMs: number): Promise<string | undefined> {
  try {
    await resolverAt(server, timeoutMs).resolveSrv(name);
    return undefined;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ENOTFOUND' || code === 'ENODATA') return undefined;
    return `xfed's test DNS at ${server.host}:${server.port} does not answer (${code ?? (err as Error).message})`;
  }
}
