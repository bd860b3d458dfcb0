/**
 * What `xfed load` does, whichever engine generates it (xfed's own, or Tsung): how many partner
 * users on how many domains, how fast they arrive, and the open-model rates of IMs and presence.
 */
export interface LoadProfile {
  /** N partner users, spread round-robin over the domains. */
  readonly users: number;
  /** K partner domains: the suite's own first, then generated ones. */
  readonly domains: number;
  /** IMs per second across all users, open model: each IM has a scheduled send time. */
  readonly rate: number;
  /** How long IMs are sent, after the ramp (ms). */
  readonly durationMs: number;
  /** Logins spread over this time (ms): the arrival rate is users / ramp. */
  readonly rampMs: number;
  /** Presence changes per second across all users (0: none). */
  readonly presenceChurn: number;
  /** Each user subscribes to his SfB contact before IMs start (the subscription times). */
  readonly subscribe: boolean;
  /** After the last scheduled IM, how long deliveries are still awaited before the rest count as lost (ms). */
  readonly graceMs: number;
  /** A restart under load: what restarts, and when (ms after IMs started). */
  readonly restart?: { readonly what: 'edge' | 'gateway'; readonly atMs: number };
}

/** One partner user of a load run, with his password and the SfB user he writes to and subscribes to. */
export interface LoadUser {
  readonly jid: string;
  readonly password: string;
  /** The SfB user (an echo user) this user writes to and subscribes to. */
  readonly contact: string;
}

/**
 * What an engine needs to generate the load: where the partner's clients connect, whom to trust,
 * and the users. The target runs in the xfed process; an engine generates the load from its own
 * process (a child of xfed, or Tsung's Erlang nodes), so its CPU and memory are its own.
 */
export interface LoadPlan {
  readonly profile: LoadProfile;
  /** The partner Prosody's c2s address (loopback, or a container's published port). */
  readonly c2s: { readonly host: string; readonly port: number };
  /** PEM of the CA the partner's c2s certificates chain to. */
  readonly trustPem: string;
  /** Path of the same PEM on disk, for engines that read files (Tsung). */
  readonly trustPath: string;
  readonly domains: readonly string[];
  readonly users: readonly LoadUser[];
  /** The SfB users IMs go to (each echoes them back). */
  readonly contacts: readonly string[];
  /** A directory of the run's own, for the engine's files. */
  readonly workDir: string;
}
