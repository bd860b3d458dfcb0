import type { Endpoint } from '../infra/endpoint.js';
import type { LuaValue, RuntimeKind, S2sSecurity } from '../prosody/types.js';

export interface PartnerUserSpec {
  /** Localpart, e.g. `alice`. */
  name: string;
  /** Generated when absent. */
  password?: string;
}

export interface PartnerOptions {
  /** XMPP domains served by this Prosody, e.g. `['partner.test']`. */
  domains: string[];
  /** Accounts created on every domain (`alice`) or on one domain (`alice@partner.test`). */
  users?: Array<string | PartnerUserSpec>;
  s2s?: Partial<S2sSecurity>;
  /** Extra global Prosody options, rendered as Lua (`{ c2s_timeout: 30 }`). */
  prosodyOptions?: Record<string, LuaValue>;
  /** Minimum Prosody log level kept in `logs()`. Default `info`. */
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /**
   * Publishes S2S on this host address and port, for a real gateway to reach (the container
   * runtime then runs the partner on the host's network). Default: a free port inside the runtime.
   */
  s2sListen?: Endpoint;
  /** The primary domain's certificate and key (a lab's); default: issued by the run's test CA. */
  certificate?: { certPem: string; keyPem: string };
  /** CAs trusted for peers' certificates besides the run's test CA (a real Edge's issuer). */
  peerCaPem?: string;
  /** How long startup may take before it fails with the log. Default 20 s (containers: 60 s). */
  startTimeoutMs?: number;
}

export interface PartnerAccount {
  jid: string;
  localpart: string;
  domain: string;
  password: string;
}

/** What a running partner exposes to tests and to the CLI. */
export interface PartnerHandle {
  readonly runtime: RuntimeKind;
  readonly domains: string[];
  readonly accounts: PartnerAccount[];
  /** Where XMPP clients connect (from the host running xfed). */
  readonly c2s: Endpoint;
  /** Where federating servers connect (from the host running xfed). */
  readonly s2s: Endpoint;
  readonly s2sSecurity: S2sSecurity;
  /** PEM the clients trust for this server's c2s certificate (the test CA, or self-signed certs). */
  readonly trustPem: string;
  /** Path of `trustPem` on disk, for `xfed up` and external clients. */
  readonly trustPath: string;
  /** Directory with the rendered config, certificates and data (process runtime: also the log). */
  readonly workDir: string;
  account(jidOrLocalpart: string): PartnerAccount;
  /** Prosody log lines so far. */
  logs(): string[];
  /** Waits for a log line matching `pattern` (including lines already seen), bounded. */
  waitForLog(pattern: RegExp, timeoutMs: number): Promise<string>;
  stop(): Promise<void>;
}
