import { randomBytes } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';

/**
 * A loopback XMPP "server" that misbehaves in one scripted way per connection, for the tests and
 * the benchmark of what xfed reads from peers it does not control (docs/architecture.md, "Limits
 * on what peers send"). It answers c2s and s2s alike (its stream header copies the namespace the
 * client asked for). Floods are written as fast as the reader takes them, with backpressure, and
 * stop when xfed closes the connection; `sent` then tells how far xfed let the peer go.
 */
export const HOSTILE_CLASSES = [
  'endless-text',
  'endless-nesting',
  'attribute-flood',
  'billion-laughs',
  'slow-drip',
  'silence',
  'random-bytes',
  'garbage-after-starttls',
  'silence-after-starttls',
  'reset-during-tls',
  'immediate-close',
  'stream-error',
  'invalid-utf8',
  'invalid-utf8-split',
  'http',
  'ssh-banner',
  'tls-client-hello',
  'endless-text-after-tls',
] as const;
export type HostileClass = (typeof HOSTILE_CLASSES)[number] | 'sasl-external-refused' | 'sasl-external-accepted';

export interface HostilePeerOptions {
  /** The domain its stream header names. */
  domain?: string;
  /** Its TLS certificate: needed by the classes that complete a TLS handshake. */
  cert?: { certPem: string; keyPem: string };
}

export interface HostilePeer {
  host: string;
  port: number;
  /** Bytes written to all connections so far. */
  readonly sent: number;
  /** Resolves with the bytes written to the first connection once xfed has closed it. */
  firstClosed: Promise<number>;
  stop(): Promise<void>;
}

const STREAMS = 'http://etherx.jabber.org/streams';
const TLS_NS = 'urn:ietf:params:xml:ns:xmpp-tls';
const SASL_NS = 'urn:ietf:params:xml:ns:xmpp-sasl';
const STARTTLS_FEATURES = `<stream:features><starttls xmlns='${TLS_NS}'><required/></starttls></stream:features>`;
/** Stop a flood here even if nobody closes: the helper must not exhaust the machine itself. */
const FLOOD_CAP = 256 * 1024 * 1024;
const CHUNK = 64 * 1024;

const header = (ns: string, domain: string) =>
  `<?xml version='1.0'?><stream:stream xmlns='${ns}' xmlns:stream='${STREAMS}' from='${domain}' id='hostile-${Math.random().toString(36).slice(2)}' version='1.0'>`;

const floods: Partial<Record<HostileClass, (n: number) => string>> = {
  'endless-text': () => 'x'.repeat(CHUNK),
  'endless-text-after-tls': () => 'x'.repeat(CHUNK),
  'endless-nesting': () => '<a>'.repeat(CHUNK / 3),
  'attribute-flood': (n) => Array.from({ length: CHUNK / 16 }, (_, i) => ` a${n}x${i}='1'`).join(''),
};
const floodStart: Partial<Record<HostileClass, string>> = {
  'endless-text': '<stream:features><x>',
  'endless-text-after-tls': '<stream:features><x>',
  'endless-nesting': '<stream:features>',
  'attribute-flood': '<stream:features',
};

export async function startHostilePeer(kind: HostileClass, opts: HostilePeerOptions = {}): Promise<HostilePeer> {
  const domain = opts.domain ?? 'contoso.test';
  const sockets = new Set<net.Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let sent = 0;
  let connections = 0;
  let resolveFirst!: (n: number) => void;
  const firstClosed = new Promise<number>((r) => (resolveFirst = r));

  const server = net.createServer((socket) => {
    const index = ++connections;
    let mine = 0;
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      sockets.delete(socket);
      if (index === 1) resolveFirst(mine);
    });
    const write = (s: net.Socket, data: string | Buffer) => {
      if (s.destroyed) return true;
      const n = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
      sent += n;
      mine += n;
      return s.write(data);
    };
    const flood = (s: net.Socket, next: (n: number) => string) => {
      let n = 0;
      const pump = () => {
        while (!s.destroyed && mine < FLOOD_CAP) if (!write(s, next(n++))) return s.once('drain', pump);
      };
      pump();
    };
    const later = (ms: number, f: () => void) => {
      const t = setTimeout(() => {
        timers.delete(t);
        f();
      }, ms);
      timers.add(t);
    };

    // Classes that do not wait for the client's stream header.
    switch (kind) {
      case 'silence':
        return;
      case 'immediate-close':
        socket.destroy();
        return;
      case 'ssh-banner':
        write(socket, 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n');
        return;
      case 'tls-client-hello':
        write(socket, Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]), randomBytes(64)]));
        return;
      case 'random-bytes':
        write(socket, randomBytes(4096));
        return;
      default:
    }

    let stage: 'header' | 'starttls' | 'done' = 'header';
    socket.on('data', (chunk: Buffer) => {
      const text = chunk.toString('latin1');
      const ns = /xmlns=['"](jabber:(?:client|server))['"]/.exec(text)?.[1] ?? 'jabber:server';
      if (stage === 'header') {
        stage = 'starttls';
        const head = header(ns, domain);
        switch (kind) {
          case 'http':
            write(socket, 'HTTP/1.1 400 Bad Request\r\nServer: nginx\r\nContent-Type: text/html\r\nContent-Length: 26\r\n\r\n<html>400 Bad Request</html>');
            socket.end();
            return;
          case 'billion-laughs': {
            const entities = ['<!ENTITY lol0 "lol">', ...Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i};`.repeat(10)}">`)];
            write(
              socket,
              `<?xml version='1.0'?><!DOCTYPE lolz [${entities.join('')}]>${head.replace(/^<\?xml[^>]*>/, '')}<stream:features>&lol9;</stream:features>`,
            );
            return;
          }
          case 'stream-error':
            write(
              socket,
              `${head}<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>This server does not serve ${domain}</text></stream:error></stream:stream>`,
            );
            socket.end();
            return;
          case 'invalid-utf8':
            write(socket, Buffer.concat([Buffer.from(`${head}<stream:features><x>caf`), Buffer.from([0xc3, 0x28]), Buffer.from('</x>')]));
            return;
          case 'invalid-utf8-split':
            write(socket, Buffer.concat([Buffer.from(`${head}<stream:features><x>`), Buffer.from([0xe2, 0x82])]));
            later(20, () => write(socket, Buffer.from('A</x></stream:features>')));
            return;
          case 'slow-drip': {
            // A well-formed stream, one byte every 10 ms: never done within a read's deadline.
            const bytes = Buffer.from(`${head}<stream:features><mechanisms xmlns='${SASL_NS}'>${'<mechanism>PLAIN</mechanism>'.repeat(1000)}`);
            let i = 0;
            const drip = () => {
              if (socket.destroyed || i >= bytes.length) return;
              write(socket, bytes.subarray(i, ++i));
              later(10, drip);
            };
            drip();
            return;
          }
          case 'endless-text':
          case 'endless-nesting':
          case 'attribute-flood':
            write(socket, `${head}${floodStart[kind]}`);
            flood(socket, floods[kind]!);
            return;
          default:
            write(socket, `${head}${STARTTLS_FEATURES}`);
            return;
        }
      }
      if (stage === 'starttls' && text.includes('<starttls')) {
        stage = 'done';
        write(socket, `<proceed xmlns='${TLS_NS}'/>`);
        socket.removeAllListeners('data');
        switch (kind) {
          case 'garbage-after-starttls':
            write(socket, randomBytes(2048));
            return;
          case 'silence-after-starttls':
            return;
          case 'reset-during-tls':
            socket.once('data', () => socket.resetAndDestroy());
            return;
          default:
            secureSide(socket, ns);
        }
      }
    });

    // After STARTTLS: a real handshake, then the class's behaviour on the encrypted stream.
    const secureSide = (socket: net.Socket, ns: string) => {
      if (!opts.cert) throw new Error(`hostile peer ${kind} needs a certificate`);
      const secure = new tls.TLSSocket(socket, {
        isServer: true,
        key: opts.cert.keyPem,
        cert: opts.cert.certPem,
        requestCert: true,
        rejectUnauthorized: false,
      });
      secure.on('error', () => undefined);
      let opened = false;
      secure.on('data', (chunk: Buffer) => {
        const text = chunk.toString('utf8');
        if (!opened) {
          opened = true;
          const head = header(ns, domain);
          if (kind === 'endless-text-after-tls') {
            write(secure, `${head}${floodStart[kind]}`);
            flood(secure, floods[kind]!);
            return;
          }
          write(secure, `${head}<stream:features><mechanisms xmlns='${SASL_NS}'><mechanism>EXTERNAL</mechanism></mechanisms></stream:features>`);
          return;
        }
        if (text.includes('<auth')) {
          write(
            secure,
            kind === 'sasl-external-accepted'
              ? `<success xmlns='${SASL_NS}'/>`
              : `<failure xmlns='${SASL_NS}'><not-authorized/><text>Certificate not trusted</text></failure>`,
          );
        }
      });
    };
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as net.AddressInfo;
  return {
    host: '127.0.0.1',
    port,
    get sent() {
      return sent;
    },
    firstClosed,
    stop: async () => {
      for (const t of timers) clearTimeout(t);
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
