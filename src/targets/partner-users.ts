import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { TeardownStack } from '../infra/teardown.js';
import type { PartnerServer } from '../partner/partner-server.js';
import { XmppUser } from '../xmpp/client.js';
import { xmppLabel } from '../xmpp/label.js';
import type { FlowRecorder, Lane } from './flow.js';

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
 * The partner users of a run, whatever the target: each logged in and available (roster fetched,
 * so presence and subscriptions reach it) once, its traffic in the flow, logged out at teardown.
 */
export class PartnerUsers {
  private readonly users = new Map<string, XmppUser>();

  constructor(
    private readonly partner: PartnerServer,
    private readonly flow: FlowRecorder,
    private readonly teardown: TeardownStack,
  ) {}

  async get(name: string): Promise<XmppUser> {
    const account = this.partner.account(name);
    const known = this.users.get(account.jid);
    if (known) return known;
    const user = await XmppUser.connect({ ...account, endpoint: this.partner.c2s, trustPem: this.partner.trustPem, available: true });
    this.users.set(account.jid, user);
    this.teardown.defer(`partner user ${account.jid}`, () => user.stop());
    recordXmppTraffic(this.flow, user, { self: 'partner-user', peer: 'partner-server' }, account.jid);
    return user;
  }

  connected(): XmppUser[] {
    return [...this.users.values()];
  }
}

/** How the partner presents itself on S2S: its primary domain and that domain's certificate. */
export async function partnerIdentityOf(partner: PartnerServer, trustPem: string): Promise<{ domain: string; certPem?: string; keyPem?: string; trustPem: string }> {
  const domain = partner.domains[0]!;
  const certs = path.join(partner.workDir, 'certs');
  const [certPem, keyPem] = await Promise.all([readFile(path.join(certs, `${domain}.crt`), 'utf8'), readFile(path.join(certs, `${domain}.key`), 'utf8')]).catch(
    () => [undefined, undefined] as const,
  );
  return { domain, ...(certPem && keyPem ? { certPem, keyPem } : {}), trustPem };
}

/**
 * A barrier through the partner-Edge path: an IM from `via` to an SfB user who echoes. Its echo
 * (or its error) comes back after anything the path carried before it, so what has not arrived
 * by then was not sent. Without an echo user, a ping of the SfB domain.
 */
export async function barrierThrough(via: XmppUser, sfbDomain: string, echoUser: string | undefined, timeoutMs: number): Promise<void> {
  if (!echoUser) {
    await via.ping(sfbDomain, timeoutMs);
    return;
  }
  const to = `${echoUser}@${sfbDomain}`;
  const marker = `xfed barrier ${Math.random().toString(36).slice(2)}`;
  const id = await via.sendMessage(to, marker);
  await via.waitFor((s) => (s.attrs.type === 'error' && s.attrs.id === id) || s.getChildText('body') === marker, timeoutMs, `the barrier through ${to}`);
}
