import path from 'node:path';
import type { TestDnsServer } from '../../infra/dns.js';
import type { LineLog } from '../../infra/line-log.js';
import type { Endpoint } from '../../infra/endpoint.js';
import type { RuntimeKind } from '../types.js';

/** Where and how a Prosody instance sees its own files, ports and resolver. */
export interface InstanceLayout {
  /** The instance directory as Prosody sees it. */
  root: string;
  c2sPort: number;
  s2sPort: number;
  /** Set when the spec asks for a component listener. */
  componentPort?: number;
  interfaces: string[];
  /** The S2S listener's addresses when the spec publishes S2S on a chosen address. */
  s2sInterfaces?: string[];
  /** `host@port` of the test DNS server; absent where the runtime's own resolver serves names. */
  dnsForward?: string;
  runAsRoot: boolean;
}

/**
 * The parts of a Prosody config that follow from where the runtime put the instance: its files
 * under the instance directory (data/, certs/, the pidfile), its ports, addresses and resolver.
 */
export function layoutSettings(layout: InstanceLayout) {
  return {
    dataDir: path.posix.join(layout.root, 'data'),
    certificatesDir: path.posix.join(layout.root, 'certs'),
    pidFile: path.posix.join(layout.root, 'prosody.pid'),
    c2sPort: layout.c2sPort,
    s2sPort: layout.s2sPort,
    interfaces: layout.interfaces,
    ...(layout.s2sInterfaces ? { s2sInterfaces: layout.s2sInterfaces } : {}),
    ...(layout.dnsForward ? { dnsForward: layout.dnsForward } : {}),
    runAsRoot: layout.runAsRoot,
  };
}

export interface ProsodyInstanceSpec {
  /** A short name for logs, errors and container names, e.g. `partner.test`. */
  label: string;
  /** Prepared host directory: certs/, data/ and trust files. The config is written into it. */
  hostDir: string;
  /** XMPP domains served; they are made resolvable for federation inside the runtime. */
  domains: string[];
  renderConfig(layout: InstanceLayout): string;
  /** The domain whose c2s stream must answer before the instance counts as ready. */
  readinessDomain: string;
  /** False when `readinessDomain` has no c2s (a component domain): readiness probes S2S only. */
  probeC2s?: boolean;
  /** Open a component listener (XEP-0114) reachable from the host. */
  componentListener?: boolean;
  /** Publish S2S on this host address and port (for a real gateway to reach the partner). */
  s2sListen?: Endpoint;
  /** False when the owner publishes the domain's DNS records itself (the simulated Edge). */
  publishDns?: boolean;
  /** Ports to reuse (process runtime), so a restarted server keeps its DNS records. */
  reusePorts?: InstancePorts;
  startTimeoutMs: number;
}

export interface InstancePorts {
  c2s: number;
  s2s: number;
  component?: number;
}

/** A running Prosody: endpoints as seen from the host, its log, and how to stop it. */
export interface ProsodyInstance {
  readonly c2s: Endpoint;
  readonly s2s: Endpoint;
  /** Where peers inside the runtime reach its S2S port (what DNS records point at). */
  readonly peerAddress: Endpoint;
  /** The component listener as seen from the host, when the spec asked for one. */
  readonly component?: Endpoint;
  /** The ports inside the runtime (process: on loopback), for a restart that keeps them. */
  readonly ports: InstancePorts;
  /** Its log as it grows (process output, or the container's log stream). */
  readonly log: LineLog;
  /** The process (or container) has ended: stopped, killed, or crashed on its own. */
  readonly exited: boolean;
  /**
   * Ends Prosody at once with SIGKILL, as the OOM killer or a crash would: no stream is closed, and
   * its peers see their connections drop. Resolves once it is gone; `stop()` still releases what it held.
   */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The shared environment of one run: the network the servers federate over (test DNS, or a
 * Docker network whose aliases are the XMPP domains) and the way Prosody is started.
 */
export interface ProsodyRuntime {
  readonly kind: RuntimeKind;
  /** The test DNS zone the servers resolve federation peers with (SRV and A records). */
  readonly dns: TestDnsServer;
  /** What the runtime set up, one line each (for `xfed up` and reports). */
  describe(): string[];
  startProsody(spec: ProsodyInstanceSpec): Promise<ProsodyInstance>;
  /** An address in the runtime's network where nothing listens: a host with no XMPP service. */
  closedAddress(): Promise<Endpoint>;
  /** Releases the network and whatever the runtime itself started. */
  stop(): Promise<void>;
}

/**
 * Log lines after which Prosody will not serve, even though it may keep running: Prosody does
 * not exit on these (a taken port, an unreadable key), so startup must watch for them.
 */
const FATAL_LOG_PATTERNS: RegExp[] = [
  /Failed to open server port/, // a taken port: Prosody keeps running without that listener
  /Error creating contexts? for/, // an unreadable or broken key or certificate: TLS silently off
  /SSL\/TLS: Failed to load/,
  /Unable to load module/, // a misspelt module or authentication provider
  /No stream features to offer/, // clients could never log in
  /A problem occurred while reading the config file/,
  /Shutting down:/,
];

export function isFatalLogLine(line: string): boolean {
  return FATAL_LOG_PATTERNS.some((p) => p.test(line));
}

/** The log lines worth showing in a startup error: the fatal ones and a few before them. */
export function relevantLogLines(lines: string[], max = 12): string[] {
  const fatal = lines.findIndex(isFatalLogLine);
  if (fatal >= 0) return lines.slice(Math.max(0, fatal - 3), fatal + max - 3);
  return lines.slice(-max);
}

/**
 * The handle of a started instance, the same in both runtimes: its S2S address is published in
 * the test DNS (unless its owner publishes records itself) and withdrawn when it stops.
 */
export function serveInstance(o: {
  spec: ProsodyInstanceSpec;
  dns: TestDnsServer;
  endpoints: Pick<ProsodyInstance, 'c2s' | 's2s' | 'peerAddress' | 'component' | 'ports'>;
  log: LineLog;
  /** Settles when the process or container has ended. */
  exited: Promise<unknown>;
  kill: () => Promise<void>;
  release: () => Promise<void>;
}): ProsodyInstance {
  const published = o.spec.publishDns === false ? [] : o.spec.domains;
  for (const domain of published) {
    o.dns.publishXmppServer(domain, { host: `xmpp.${domain}`, address: o.endpoints.peerAddress.host, port: o.endpoints.peerAddress.port });
  }
  let exited = false;
  void o.exited.then(() => (exited = true));
  return {
    ...o.endpoints,
    log: o.log,
    get exited() {
      return exited;
    },
    kill: o.kill,
    stop: async () => {
      for (const domain of published) o.dns.remove(`_xmpp-server._tcp.${domain}`);
      await o.release();
    },
  };
}
