import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { EnvironmentError, XfedError } from '../errors.js';
import type { Endpoint } from '../infra/endpoint.js';
import { expectListenable } from '../partner/listen-address.js';

/** What the watch's HTTP server serves; each is asked at request time, so every answer is current. */
export interface WatchPages {
  /** The live timeline page (HTML). */
  page(): string;
  /** The timeline's data, which the page fetches every few seconds. */
  data(): unknown;
  /** The message ladder (HTML) of one outage's first failing check. */
  evidence(id: string): string | undefined;
  /** The Prometheus exposition. */
  metrics(): Promise<{ contentType: string; body: string }>;
  /** An operator's mark from the page or `xfed mark`. */
  mark(text: string, source: 'page' | 'cli'): void;
}

/** A mark is one line; a request body is read up to this. */
const BODY_LIMIT = 4096;

/**
 * The watch's page, its data, its metrics (`/metrics`) and its marks (`POST /marks`), on one
 * address. Bounded like every reader of peers: request bodies to 4 KiB, a request must come whole
 * within 10 s; closing it ends every connection (a browser's keep-alive included).
 */
export class WatchServer {
  private constructor(
    private readonly server: http.Server,
    readonly url: string,
  ) {}

  /** Listens on `address` (port 0: any free port); a taken port is a one-line error naming its holder. */
  static async listen(address: Endpoint, pages: WatchPages): Promise<WatchServer> {
    if (address.port !== 0) await expectListenable(address, '--listen', 'choose another port with --listen HOST:PORT (port 0: any free port)');
    const server = http.createServer((req, res) => void answer(req, res, pages));
    server.requestTimeout = 10_000;
    server.headersTimeout = 10_000;
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(new EnvironmentError(`--listen ${address.host}:${address.port} cannot be listened on (${err.code ?? err.message})`)),
      );
      server.listen({ host: address.host, port: address.port, exclusive: true }, () => resolve());
    });
    const bound = server.address() as AddressInfo;
    const host = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
    return new WatchServer(server, `http://${host === '0.0.0.0' ? '127.0.0.1' : host === '[::]' ? '[::1]' : host}:${bound.port}`);
  }

  /** The address it listens on, as `host:port`. */
  get address(): string {
    return this.url.replace(/^http:\/\//, '');
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

async function answer(req: http.IncomingMessage, res: http.ServerResponse, pages: WatchPages): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://watch');
  const send = (status: number, type: string, body: string) => {
    res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    res.end(body);
  };
  try {
    if (req.method === 'GET' && (url.pathname === '/' || url.pathname === '/index.html')) return send(200, 'text/html; charset=utf-8', pages.page());
    if (req.method === 'GET' && url.pathname === '/timeline.json') return send(200, 'application/json', JSON.stringify(pages.data()));
    if (req.method === 'GET' && url.pathname === '/evidence') {
      const ladder = pages.evidence(url.searchParams.get('id') ?? '');
      return ladder === undefined ? send(404, 'text/plain', 'no such outage\n') : send(200, 'text/html; charset=utf-8', ladder);
    }
    if (req.method === 'GET' && url.pathname === '/metrics') {
      const m = await pages.metrics();
      return send(200, m.contentType, m.body);
    }
    if (req.method === 'POST' && url.pathname === '/marks') {
      const { text, source } = markOf(await readBody(req), req.headers['content-type'] ?? '');
      pages.mark(text, source);
      return send(201, 'application/json', JSON.stringify({ marked: text }));
    }
    if (['/', '/index.html', '/timeline.json', '/evidence', '/metrics', '/marks'].includes(url.pathname))
      return send(405, 'text/plain', 'method not allowed\n');
    return send(404, 'text/plain', 'not found: / (the live timeline), /timeline.json, /metrics, POST /marks\n');
  } catch (err) {
    if (res.headersSent) return void res.destroy();
    if (err instanceof BodyTooLarge) res.setHeader('connection', 'close');
    return send(err instanceof BodyTooLarge ? 413 : err instanceof XfedError ? 400 : 500, 'text/plain', `${(err as Error).message}\n`);
  }
}

class BodyTooLarge extends XfedError {}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > BODY_LIMIT) {
        // Read on and drop the rest, so the answer reaches the client.
        req.removeAllListeners('data');
        req.resume();
        reject(new BodyTooLarge(`a mark is at most ${BODY_LIMIT} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** A mark: JSON `{"text": ..., "source": "cli"}` (`xfed mark`), a form's `text=...`, or the plain body. */
function markOf(body: string, type: string): { text: string; source: 'page' | 'cli' } {
  let text = body;
  let source: 'page' | 'cli' = 'page';
  if (type.startsWith('application/json')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      throw new XfedError('the body is not JSON: send {"text": "..."}');
    }
    const value = (parsed as { text?: unknown } | null)?.text;
    if (typeof value !== 'string') throw new XfedError('send {"text": "..."}');
    text = value;
    if ((parsed as { source?: unknown }).source === 'cli') source = 'cli';
  } else if (type.startsWith('application/x-www-form-urlencoded')) text = new URLSearchParams(body).get('text') ?? '';
  text = text.replace(/\s+/g, ' ').trim();
  if (!text) throw new XfedError('a mark needs a text');
  return { text, source };
}
