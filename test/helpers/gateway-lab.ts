import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { TestDnsServer } from '../../src/infra/dns.js';
import { TestCa } from '../../src/infra/pki.js';
import { freePort } from '../../src/infra/ports.js';
import { startResponder, type Responder } from '../../src/targets/lab/responder.js';
import { DEFAULT_SHOW_MAPPING } from '../../src/sfb/availability.js';
import { startEjabberd, type EjabberdStandIn } from './ejabberd.js';

export const SFB_DOMAIN = 'contoso.test';
export const PARTNER_DOMAIN = 'partner.test';
const EDGE_HOST = `edge.${SFB_DOMAIN}`;

/**
 * A lab as a QA team has it, on loopback: a legacy Edge (ejabberd standing in, with a certificate
 * from the lab's CA), the lab's DNS (the SfB domain's SRV record, and the records the lab added
 * for xfed's partner), and the lab's bots (an echo user and one who accepts subscriptions) that
 * the test drives over c2s. xfed is pointed at it the way it is pointed at a real Edge.
 */
export interface Lab {
  dir: string;
  ca: TestCa;
  dns: TestDnsServer;
  edge: EjabberdStandIn;
  listenPort: number;
  bots: Responder[];
  /** Registers an account on the Edge's domain and returns its password. */
  register(user: string): string;
  /** Points the SfB domain's SRV record at an S2S port, or removes it. */
  pointSrv(port: number | undefined): void;
  /** Publishes (true) or removes (false) the records the lab added for xfed's partner. */
  publishPartner(on: boolean): void;
  /** The example suite, unchanged, in the lab dir (`file`), and a vars file with the lab's domains, hosts, ports, files and users (`vars`). */
  fillExample(): Promise<{ file: string; vars: string }>;
  stop(): Promise<void>;
}

/** Bots come back after an Edge restart within these bounds (the lab's bots are not under test). */
const BOT_RECONNECT = { attempts: 60, firstDelayMs: 100, maxDelayMs: 1_000, attemptMs: 3_000, totalMs: 60_000 };

/** `tls12Only`: the Edge refuses TLS 1.3 (c2s and s2s), as an Edge on an older Windows Server does. */
export async function startLab(opts: { tls12Only?: boolean } = {}): Promise<Lab> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gateway-lab-'));
  const ca = await TestCa.create();
  const dns = new TestDnsServer();
  await dns.start(0, '127.0.0.1');
  const stops: Array<() => Promise<void>> = [() => dns.stop(), () => rm(dir, { recursive: true, force: true })];
  const stop = async () => {
    for (const s of stops.splice(0).reverse()) await s().catch(() => undefined);
  };
  try {
    const edge = await startEjabberd({
      domain: SFB_DOMAIN,
      cert: await ca.issue(SFB_DOMAIN),
      caPem: ca.certPem,
      resolver: { host: dns.host, port: dns.port },
      ...(opts.tls12Only ? { tls12Only: true } : {}),
    });
    stops.push(() => edge.stop());
    const listenPort = await freePort('127.0.0.1');
    const pointSrv = (port: number | undefined) => {
      if (port === undefined) dns.remove(`_xmpp-server._tcp.${SFB_DOMAIN}`);
      else dns.publishXmppServer(SFB_DOMAIN, { host: EDGE_HOST, address: '127.0.0.1', port });
    };
    pointSrv(edge.s2s.port);
    // What the lab adds for xfed's partner (xfed sfb-config prints these records). The target is
    // localhost: ejabberd resolves SRV targets with getaddrinfo (the machine's resolver and
    // /etc/hosts), not with the DNS of its inetrc, and no test name may reach the machine's DNS.
    const publishPartner = (on: boolean) => {
      if (on) dns.publishXmppServer(PARTNER_DOMAIN, { host: 'localhost', address: '127.0.0.1', port: listenPort });
      else dns.remove(`_xmpp-server._tcp.${PARTNER_DOMAIN}`);
    };
    publishPartner(true);
    const partnerCert = await ca.issue(PARTNER_DOMAIN);
    await writeFile(path.join(dir, 'lab-ca.pem'), ca.certPem);
    await writeFile(path.join(dir, 'partner.crt'), partnerCert.certPem);
    await writeFile(path.join(dir, 'partner.key'), partnerCert.keyPem);

    const register = (user: string) => {
      const password = `pw-${Math.random().toString(36).slice(2)}`;
      edge.register(user, password);
      return password;
    };
    const bots: Responder[] = [];
    for (const [name, role] of [
      ['xfed.echo', 'echo'],
      ['xfed.watch', 'accept'],
    ] as const) {
      const bot = await startResponder({
        jid: `${name}@${SFB_DOMAIN}`,
        password: register(name),
        endpoint: edge.c2s,
        trustPem: ca.certPem,
        role,
        sfbDomain: SFB_DOMAIN,
        showMapping: DEFAULT_SHOW_MAPPING,
        reconnect: BOT_RECONNECT,
      });
      bots.push(bot);
      stops.push(() => bot.stop());
    }
    return {
      dir,
      ca,
      dns,
      edge,
      listenPort,
      bots,
      register,
      pointSrv,
      publishPartner,
      fillExample: async () => {
        const file = path.join(dir, 'real-gateway.yaml');
        await writeFile(file, await readFile('scenarios/real-gateway.example.yaml', 'utf8'));
        const vars = path.join(dir, 'lab.vars.yaml');
        const values = {
          SFB_DOMAIN,
          PARTNER_DOMAIN,
          EDGE_FQDN: `edge.${SFB_DOMAIN}`,
          LAB_DNS_HOST: '127.0.0.1',
          LAB_DNS_PORT: dns.port,
          PARTNER_LISTEN_HOST: '127.0.0.1',
          PARTNER_LISTEN_PORT: listenPort,
          LAB_CA: 'lab-ca.pem',
          PARTNER_CERT: 'partner.crt',
          PARTNER_KEY: 'partner.key',
          ECHO_USER: 'xfed.echo',
          WATCH_USER: 'xfed.watch',
        };
        await writeFile(
          vars,
          Object.entries(values)
            .map(([name, value]) => `${name}: ${value}\n`)
            .join(''),
        );
        return { file, vars };
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * A gateway suite pointed at `lab`: the partner, the lab's domain, DNS and CA, xfed's listen address
 * and certificate. `users` are list items at the target's level, `phases` at the top level;
 * `targetExtra` is more of the gateway target, written before its users.
 */
export function labSuite(lab: Lab, o: { name: string; users: string; phases: string; partnerUsers?: string[]; targetExtra?: string }): string {
  return `suite: ${o.name}
partner:
  domains: [${PARTNER_DOMAIN}]
  users: [${(o.partnerUsers ?? ['alice', 'bob']).join(', ')}]
target:
  gateway:
    domain: ${SFB_DOMAIN}
    resolver: { host: 127.0.0.1, port: ${lab.dns.port} }
    ca: lab-ca.pem
    listen: { host: 127.0.0.1, port: ${lab.listenPort} }
    certificate: { cert: partner.crt, key: partner.key }
${o.targetExtra ?? ''}    users:
${o.users}
phases:
${o.phases}`;
}
