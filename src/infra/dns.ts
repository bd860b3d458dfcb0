import dns2 from 'dns2';
import { EventEmitter } from 'node:events';

const { Packet } = dns2;

export interface SrvRecord {
  priority: number;
  weight: number;
  port: number;
  target: string;
}

export interface DnsQueryLog {
  at: number;
  name: string;
  type: string;
  answers: number;
  rcode: 'NOERROR' | 'NXDOMAIN';
}

interface Question {
  name: string;
  type: number;
  class: number;
}
interface Header {
  aa: number;
  ra: number;
  rcode: number;
}
interface Response {
  header: Header;
  answers: Array<Record<string, unknown>>;
  authorities: Array<Record<string, unknown>>;
}

const RCODE_NXDOMAIN = 3;
const TYPE_NAMES = new Map<number, string>(Object.entries(Packet.TYPE).map(([k, v]) => [v as number, k]));

/**
 * The test DNS zone: A and SRV records of the test domains, served over UDP and TCP on loopback,
 * so Prosody resolves federation peers the real way (SRV first, then A). Records can be changed
 * while servers run (a later migration step repoints or removes an SRV record).
 */
export class TestDnsServer extends EventEmitter {
  private readonly a = new Map<string, string[]>();
  private readonly srv = new Map<string, SrvRecord[]>();
  private udp: ReturnType<typeof dns2.createUDPServer> | undefined;
  private tcp: ReturnType<typeof dns2.createTCPServer> | undefined;
  private boundPort = 0;
  private boundHost = '127.0.0.1';

  get port(): number {
    return this.boundPort;
  }
  /** Loopback, or the host's address on a Docker network xfed created (for its containers). */
  get host(): string {
    return this.boundHost;
  }

  setA(name: string, addresses: string[]): void {
    this.a.set(norm(name), addresses);
  }

  setSrv(name: string, records: SrvRecord[]): void {
    this.srv.set(norm(name), records.map((r) => ({ ...r, target: norm(r.target) })));
  }

  remove(name: string): void {
    this.a.delete(norm(name));
    this.srv.delete(norm(name));
  }

  /** Publishes what a federating XMPP domain needs: `_xmpp-server._tcp` SRV and the target's A. */
  publishXmppServer(domain: string, target: { host: string; address: string; port: number }): void {
    this.setA(target.host, [target.address]);
    this.setSrv(`_xmpp-server._tcp.${domain}`, [{ priority: 0, weight: 5, port: target.port, target: target.host }]);
  }

  records(): { a: Record<string, string[]>; srv: Record<string, SrvRecord[]> } {
    return { a: Object.fromEntries(this.a), srv: Object.fromEntries(this.srv) };
  }

  /**
   * Binds UDP and TCP on the same port number. With port 0 the OS picks a free UDP port whose TCP
   * twin may be taken (by any connection's local port), so that case retries with a new pick.
   */
  async start(port = 0, host = '127.0.0.1'): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.bind(port, host);
        return;
      } catch (err) {
        if (port !== 0 || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 20) throw err;
      }
    }
  }

  private async bind(port: number, host: string): Promise<void> {
    this.boundHost = host;
    const handle = (request: unknown, send: (r: never) => unknown) => {
      void send(this.answer(request as { questions: Question[] }) as never);
    };
    const udp = dns2.createUDPServer({ type: 'udp4' });
    udp.on('request', handle);
    udp.on('requestError', (err: Error) => this.emit('error', err));
    await udp.listen(port, this.host);
    this.udp = udp;
    // TCP on the same port number: resolvers retry over TCP when an answer is truncated.
    const tcp = dns2.createTCPServer(handle as never);
    tcp.on('requestError', (err: Error) => this.emit('error', err));
    const udpPort = udp.address().port;
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(udpPort, this.host, () => resolve());
      });
    } catch (err) {
      this.udp = undefined;
      await new Promise<void>((resolve) => udp.close(() => resolve()));
      throw err;
    }
    this.tcp = tcp;
    this.boundPort = udpPort;
  }

  async stop(): Promise<void> {
    const { udp, tcp } = this;
    this.udp = undefined;
    this.tcp = undefined;
    if (udp) await new Promise<void>((resolve) => udp.close(() => resolve()));
    if (tcp) await new Promise<void>((resolve) => tcp.close(() => resolve()));
  }

  private answer(request: { questions: Question[] }): Response {
    const response = Packet.createResponseFromRequest(request as never) as unknown as Response;
    response.header.aa = 1;
    response.header.ra = 1;
    // TTL 0 throughout: migration steps change records live and no resolver may hold the old ones.
    for (const q of request.questions) {
      const name = norm(q.name);
      const known = this.a.has(name) || this.srv.has(name);
      if (q.type === Packet.TYPE.A || q.type === Packet.TYPE.ANY) {
        for (const address of this.a.get(name) ?? []) {
          response.answers.push({ name: q.name, type: Packet.TYPE.A, class: Packet.CLASS.IN, ttl: 0, address });
        }
      }
      if (q.type === Packet.TYPE.SRV || q.type === Packet.TYPE.ANY) {
        for (const r of this.srv.get(name) ?? []) {
          response.answers.push({ name: q.name, type: Packet.TYPE.SRV, class: Packet.CLASS.IN, ttl: 0, ...r });
        }
      }
      if (!known) response.header.rcode = RCODE_NXDOMAIN;
      // An SOA with TTL and minimum 0 beside every negative answer (RFC 2308): resolvers then keep
      // no NXDOMAIN or no-data in cache, so a record restored by a later step is seen at once.
      if (response.answers.length === 0) {
        response.authorities.push({
          name: 'test',
          type: Packet.TYPE.SOA,
          class: Packet.CLASS.IN,
          ttl: 0,
          primary: 'ns.xfed.test',
          admin: 'hostmaster.xfed.test',
          serial: 1,
          refresh: 60,
          retry: 60,
          expiration: 60,
          minimum: 0,
        });
      }
      const entry: DnsQueryLog = {
        at: Date.now(),
        name,
        type: TYPE_NAMES.get(q.type) ?? String(q.type),
        answers: response.answers.length,
        rcode: known ? 'NOERROR' : 'NXDOMAIN',
      };
      this.emit('query', entry);
    }
    return response;
  }
}

function norm(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}
