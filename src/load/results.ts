import type { LoadProfile } from './profile.js';

export const LOAD_FORMAT = 'xfed-load/1';

/** Latency figures of a set of samples, in milliseconds; count 0 when there were none. */
export interface LatencyStats {
  readonly count: number;
  readonly min: number;
  readonly mean: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

/** One second of the run (t: seconds since the first login). */
export interface LoadSecond {
  readonly t: number;
  /** Users logged in at the end of this second. */
  readonly online: number;
  readonly logins: number;
  readonly sent: number;
  readonly delivered: number;
  readonly errors: number;
  /** Round-trip latency of the IMs delivered in this second. */
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/** What one engine measured. Counts are exact; latencies come from an HDR histogram (3 significant digits). */
export interface EngineResult {
  readonly engine: 'xfed' | 'tsung';
  readonly logins: {
    readonly attempted: number;
    readonly succeeded: number;
    /** Failures by reason (`not-authorized`, `timeout`, `ECONNREFUSED`, ...). */
    readonly failed: Readonly<Record<string, number>>;
    /** From the TCP connect to the initial presence sent. */
    readonly time: LatencyStats;
    /** Logins completed per second during the ramp. */
    readonly rateAchieved: number;
  };
  readonly subscriptions?: {
    readonly attempted: number;
    readonly succeeded: number;
    readonly failed: Readonly<Record<string, number>>;
    /** From the subscribe sent to the subscribed received. */
    readonly time: LatencyStats;
  };
  readonly messages: {
    readonly scheduled: number;
    readonly sent: number;
    readonly delivered: number;
    /** Sent and never delivered within the grace time. */
    readonly lost: number;
    readonly duplicates: number;
    /** Echoes that came before an echo of an IM the same user sent earlier to the same contact. */
    readonly reordered: number;
    /** Stanza errors by condition (`remote-server-timeout`, ...). */
    readonly errors: Readonly<Record<string, number>>;
    readonly rateTarget: number;
    /** IMs sent per second over the sending time. */
    readonly rateAchieved: number;
    /** Echoes received per second over the sending time. */
    readonly throughput: number;
    /** From the scheduled send time to the echo received: a slow path shows here, never as a lower rate. */
    readonly roundTrip: LatencyStats;
    /** How late IMs left after their scheduled time: the generator's own lag. */
    readonly sendLag: LatencyStats;
  };
  readonly presence: { readonly sent: number; readonly errors: number };
  /** The presence storm after a restart: time until every subscription had the contact's presence again. */
  readonly storm?: {
    readonly what: 'edge' | 'gateway';
    readonly atMs: number;
    readonly subscriptions: number;
    readonly back: number;
    /** Until the last subscription was back (ms after the restart); absent when some never came back. */
    readonly allBackMs?: number;
    readonly time: LatencyStats;
  };
  readonly series: readonly LoadSecond[];
  /** The load generator's own cost (its process, or Tsung's Erlang nodes). */
  readonly generator: {
    readonly cpuSeconds: number;
    /** Peak resident memory of the generator (bytes), summed over its processes. */
    readonly peakRssBytes: number;
    /** Resident memory with every user logged in, before IMs start (bytes). */
    readonly rssAllOnlineBytes?: number;
    readonly processes: number;
  };
  /** Things to say that are not failures (a rate not reached, with the rate achieved). */
  readonly notices: readonly string[];
}

/** The results file of a load run (`load.json`). */
export interface LoadResults {
  readonly format: typeof LOAD_FORMAT;
  readonly suite: string;
  readonly target: 'sim' | 'gateway';
  readonly runtime: 'process' | 'container';
  readonly profile: LoadProfile;
  readonly startedAt: string;
  readonly endedAt: string;
  readonly engine: EngineResult;
  /** One way, partner to the SIP side (the simulation only): scheduled send to the SfB user's MESSAGE. */
  readonly oneWay?: LatencyStats;
  /** Held: every user logged in, nothing lost, no errors, the rate reached. Otherwise the reasons. */
  readonly verdict: { readonly held: boolean; readonly reasons: readonly string[] };
}
