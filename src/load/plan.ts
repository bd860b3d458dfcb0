import { InputError } from '../errors.js';
import type { ResolvedSuite } from '../scenario/resolve.js';
import type { LoadProfile } from './profile.js';

/** The SfB echo users the simulation adds for a load run, unless told: enough to spread the load, few enough to start fast. */
const DEFAULT_SFB_USERS = 50;

/** What a load run sets up: the suite's target with the load's accounts, domains and contacts added. */
export interface LoadSetup {
  /** The suite, its partner and (the simulation) its SfB side grown for the load; start this. */
  readonly suite: ResolvedSuite;
  /** The K partner domains: the suite's own first, then `load2.<primary>`, `load3.<primary>`, ... */
  readonly domains: readonly string[];
  /** The load users in order (round-robin over the domains), each with the SfB user he writes to. */
  readonly users: readonly { readonly jid: string; readonly contact: string }[];
  /** The SfB echo users (JIDs) the load users write to. */
  readonly contacts: readonly string[];
}

/**
 * The accounts, domains and SfB contacts of a load run. N partner users `load-00001`, ... on K
 * domains, round-robin; in the simulation M echo users on the legacy pool with XMPP access, and
 * the generated domains added to the allowed partner's additionalDomains so the simulated Edge
 * federates with them. A lab's Edge allows only the domains the lab configured, and its echo
 * users are the lab's.
 */
export function planLoad(suite: ResolvedSuite, profile: Pick<LoadProfile, 'users' | 'domains'>, opts: { sfbUsers?: number } = {}): LoadSetup {
  const n = whole(profile.users, '--users', 1);
  const k = whole(profile.domains, '--domains', 1);
  const own = [...new Set(suite.partner.domains.map((d) => d.toLowerCase()))];
  const primary = own[0]!;
  if (k > n) throw new InputError(`--domains ${k}: more domains than users (${n}); every domain needs at least one user`);
  const generated = Array.from({ length: Math.max(0, k - own.length) }, (_, i) => `load${own.length + i + 1}.${primary}`);
  const domains = [...own, ...generated].slice(0, k);
  const width = Math.max(5, String(n).length);
  const jids = Array.from({ length: n }, (_, i) => `load-${String(i + 1).padStart(width, '0')}@${domains[i % k]}`);

  let grown: ResolvedSuite;
  let contacts: string[];
  if (suite.target.kind === 'gateway') {
    const lab = suite.target.gateway;
    if (generated.length > 0)
      throw new InputError(
        `--domains ${k}: the lab's Edge allows only the partner domains it was configured with, and the suite has ${own.length} (${own.join(', ')}); use --domains ${own.length} or fewer, or add domains to partner.domains and to the lab's allowed partner`,
      );
    contacts = lab.users.filter((u) => u.role === 'echo').map((u) => `${u.name}@${lab.domain}`.toLowerCase());
    if (contacts.length === 0)
      throw new InputError(`${suite.file}: the lab has no user of role echo for the load users to write to (target.gateway.users, role: echo)`);
    grown = { ...suite, partner: { ...suite.partner, users: [...suite.partner.users, ...jids] } };
  } else {
    const sim = suite.target.sim;
    const m = whole(opts.sfbUsers ?? Math.min(n, DEFAULT_SFB_USERS), '--sfb-users', 1);
    const taken = new Set(sim.users.map((u) => u.name.toLowerCase()));
    const names = Array.from({ length: m }, (_, i) => `load-echo-${String(i + 1).padStart(Math.max(3, String(m).length), '0')}`);
    const clash = names.find((name) => taken.has(name));
    if (clash) throw new InputError(`${suite.file}: the suite already has an SfB user named ${clash}, a name the load run gives its echo users`);
    contacts = names.map((name) => `${name}@${suite.sfbDomain}`.toLowerCase());
    grown = {
      ...suite,
      partner: { ...suite.partner, domains: [...suite.partner.domains, ...generated], users: [...suite.partner.users, ...jids] },
      partnerProfile: { ...suite.partnerProfile, additionalDomains: [...suite.partnerProfile.additionalDomains, ...generated] },
      target: {
        kind: 'sim',
        sim: { ...sim, users: [...sim.users, ...names.map((name) => ({ name, pool: 'legacy' as const, behaviour: 'echo' as const, xmppAccess: true }))] },
      },
    };
  }
  const users = jids.map((jid, i) => ({ jid, contact: contacts[i % contacts.length]! }));
  return { suite: grown, domains, users, contacts };
}

function whole(value: number, option: string, min: number): number {
  if (!Number.isInteger(value) || value < min) throw new InputError(`${option} ${value}: expected a whole number of at least ${min}`);
  return value;
}
