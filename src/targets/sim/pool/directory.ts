import { XfedError } from '../../../errors.js';
import { escapeSipUser } from '../../../sip/escape.js';
import type { SfbAvailability } from '../../../sfb/availability.js';
import { DEFAULT_XMPP_ACCESS } from '../../../sfb/deployment.js';
import type { BEHAVIOURS } from '../spec.js';

/** How a simulated user answers partners (`target.sim.users[].behaviour`). */
export type UserBehaviour = (typeof BEHAVIOURS)[number];

export interface SfbUserSpec {
  /** Localpart of the SIP address. */
  name: string;
  pool: string;
  /** `EnableXmppAccess` of the user's external access policy. */
  xmppAccess?: boolean;
  availability?: SfbAvailability;
  note?: string;
  /** How the simulated user answers IM and presence requests. */
  behaviour?: UserBehaviour;
  /** His SIP domain: the primary (default) or another SIP domain of the deployment. */
  domain?: string;
}

export interface SfbUserState {
  name: string;
  /** His SIP domain, lower case. */
  domain: string;
  /** `sip:name@domain`, with the localpart %-escaped where SIP requires it. */
  uri: string;
  pool: string;
  xmppAccess: boolean;
  availability: SfbAvailability;
  note?: string;
  behaviour: UserBehaviour;
  /** A fixed SIP status the user answers new requests with, overriding `behaviour`. */
  respondWith?: number;
}

/** A change of a user's home or policy, which the pools act on (see `SfbDirectory.onChange`). */
export type DirectoryChange = { kind: 'moved'; user: string; from: string; to: string } | { kind: 'xmpp-access'; user: string; enabled: boolean };

/**
 * The simulated deployment's central store (SfB keeps it in the CMS and the user database):
 * where each user is homed, his external access policy, and his published state. Every pool
 * reads the one shared instance, so moving a user is one call, as `Move-CsUser` is.
 */
export class SfbDirectory {
  private readonly byName = new Map<string, SfbUserState>();
  private readonly listeners = new Set<(change: DirectoryChange) => Promise<void>>();

  /** Every SIP domain of the deployment, the primary first. */
  readonly domains: readonly string[];

  constructor(
    readonly domain: string,
    users: SfbUserSpec[],
    additionalDomains: string[] = [],
  ) {
    this.domain = domain.toLowerCase();
    this.domains = [this.domain, ...additionalDomains.map((d) => d.toLowerCase())];
    for (const u of users) this.add(u);
  }

  add(spec: SfbUserSpec): SfbUserState {
    // SfB SIP addresses compare case-insensitively.
    const key = spec.name.toLowerCase();
    const domain = spec.domain?.toLowerCase() ?? this.domain;
    // Suites name SfB users without their domain, so a name is unique across the SIP domains.
    if (this.byName.has(key)) throw new XfedError(`SfB user ${spec.name}@${domain} is defined twice`);
    if (!this.domains.includes(domain))
      throw new XfedError(`SfB user ${spec.name}@${domain}: ${domain} is not a SIP domain of the deployment (${this.domains.join(', ')})`);
    const state: SfbUserState = {
      name: spec.name,
      domain,
      uri: `sip:${escapeSipUser(spec.name)}@${domain}`,
      pool: spec.pool,
      xmppAccess: spec.xmppAccess ?? DEFAULT_XMPP_ACCESS,
      availability: spec.availability ?? 'Available',
      behaviour: spec.behaviour ?? 'echo',
    };
    if (spec.note !== undefined) state.note = spec.note;
    this.byName.set(key, state);
    return state;
  }

  get(name: string): SfbUserState | undefined {
    return this.byName.get(name.toLowerCase());
  }

  /** The user a SIP URI's user and host name: his name in his own domain only. */
  at(name: string, host: string): SfbUserState | undefined {
    const user = this.get(name);
    return user?.domain === host.toLowerCase() ? user : undefined;
  }

  users(): SfbUserState[] {
    return [...this.byName.values()];
  }

  /**
   * Tells `listener` of every move and policy change; it returns what it started, which the
   * change waits for. Returns the way to stop listening.
   */
  onChange(listener: (change: DirectoryChange) => Promise<void>): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * `Move-CsUser`: the user is homed on `pool` from now on (at once); resolves when the pools have
   * acted on it (his subscriptions ended where they were).
   */
  async move(name: string, pool: string): Promise<void> {
    const user = this.must(name);
    const from = user.pool;
    user.pool = pool;
    if (from !== pool) await this.changed({ kind: 'moved', user: user.name, from, to: pool });
  }

  /** Grants or revokes a policy with `EnableXmppAccess` (at once); resolves when the pools have acted on it. */
  async setXmppAccess(name: string, on: boolean): Promise<void> {
    const user = this.must(name);
    const was = user.xmppAccess;
    user.xmppAccess = on;
    if (was !== on) await this.changed({ kind: 'xmpp-access', user: user.name, enabled: on });
  }

  setBehaviour(name: string, behaviour: UserBehaviour): void {
    this.must(name).behaviour = behaviour;
  }

  /**
   * Makes the user answer every new MESSAGE, SUBSCRIBE and OPTIONS with `status` (undefined
   * restores his behaviour): how tests reach each row of the SIP -> XMPP error table.
   */
  setRespondWith(name: string, status: number | undefined): void {
    const user = this.must(name);
    if (status === undefined) delete user.respondWith;
    else if (!Number.isInteger(status) || status < 200 || status > 699) throw new XfedError(`respondWith must be a final SIP status (200-699), got ${status}`);
    else user.respondWith = status;
  }

  /** Records published state; pools notify watchers (see `SipPool.setAvailability`). */
  setPresence(name: string, availability: SfbAvailability, note?: string): void {
    const user = this.must(name);
    user.availability = availability;
    if (note === undefined) delete user.note;
    else user.note = note;
  }

  isSfbDomain(host: string): boolean {
    return this.domains.includes(host.toLowerCase());
  }

  private async changed(change: DirectoryChange): Promise<void> {
    // One pool that fails to act (its endpoint closed, say) does not keep the others from it.
    await Promise.allSettled([...this.listeners].map((l) => l(change)));
  }

  private must(name: string): SfbUserState {
    const user = this.get(name);
    if (!user) throw new XfedError(`no SfB user ${name}@${this.domain}`);
    return user;
  }
}
