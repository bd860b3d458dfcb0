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
}

export interface SfbUserState {
  name: string;
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

/**
 * The simulated deployment's central store (SfB keeps it in the CMS and the user database):
 * where each user is homed, his external access policy, and his published state. Every pool
 * reads the one shared instance, so moving a user is one call, as `Move-CsUser` is.
 */
export class SfbDirectory {
  private readonly byName = new Map<string, SfbUserState>();

  constructor(
    readonly domain: string,
    users: SfbUserSpec[],
  ) {
    this.domain = domain.toLowerCase();
    for (const u of users) this.add(u);
  }

  add(spec: SfbUserSpec): SfbUserState {
    // SfB SIP addresses compare case-insensitively.
    const key = spec.name.toLowerCase();
    if (this.byName.has(key)) throw new XfedError(`SfB user ${spec.name}@${this.domain} is defined twice`);
    const state: SfbUserState = {
      name: spec.name,
      uri: `sip:${escapeSipUser(spec.name)}@${this.domain}`,
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

  users(): SfbUserState[] {
    return [...this.byName.values()];
  }

  /** `Move-CsUser`: the user is homed on `pool` from now on. */
  move(name: string, pool: string): void {
    this.must(name).pool = pool;
  }

  /** Grants or revokes a policy with `EnableXmppAccess`. */
  setXmppAccess(name: string, on: boolean): void {
    this.must(name).xmppAccess = on;
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
    return host.toLowerCase() === this.domain;
  }

  private must(name: string): SfbUserState {
    const user = this.get(name);
    if (!user) throw new XfedError(`no SfB user ${name}@${this.domain}`);
    return user;
  }
}
