import net from 'node:net';
import { Parser, type Element } from '@xmpp/xml';
import { withDeadline } from '../infra/deadline.js';

export type StreamNamespace = 'jabber:client' | 'jabber:server';

export interface StreamProbeResult {
  /** Attributes of the server's stream header (id, from, version, ...). */
  header: Record<string, string>;
  /** The server's `<stream:features/>`. */
  features: Element;
  /** Milliseconds from connect to features. */
  elapsedMs: number;
}

/**
 * Opens a raw XMPP stream (RFC 6120 4.2) to `host:port` for domain `to`, reads the server's stream
 * header and features, and closes. Proves that a server really serves the domain, not merely that
 * a port accepts. A `<stream:error/>` or a closed connection rejects with its reason.
 */
export async function probeStream(opts: {
  host: string;
  port: number;
  to: string;
  ns: StreamNamespace;
  from?: string;
  timeoutMs: number;
}): Promise<StreamProbeResult> {
  const started = Date.now();
  const socket = net.connect({ host: opts.host, port: opts.port });
  socket.setNoDelay(true);
  try {
    return await withDeadline(
      new Promise<StreamProbeResult>((resolve, reject) => {
        const parser = new Parser();
        let header: Record<string, string> = {};
        parser.on('start', (el: Element) => {
          header = el.attrs as Record<string, string>;
        });
        parser.on('element', (el: Element) => {
          if (el.getName() === 'features') {
            resolve({ header, features: el, elapsedMs: Date.now() - started });
          } else if (el.getName() === 'error') {
            const condition = el.children.find((c) => typeof c !== 'string' && c.getName() !== 'text') as Element | undefined;
            reject(new Error(`stream error: ${condition?.getName() ?? 'unknown'}`));
          }
        });
        parser.on('end', () => reject(new Error('the server closed the stream without features')));
        parser.on('error', (err: Error) => reject(new Error(`invalid XML from the server: ${err.message}`)));
        socket.on('data', (data) => parser.write(data.toString('utf8')));
        socket.on('error', (err) => reject(err));
        socket.on('close', () => reject(new Error('connection closed before stream features')));
        socket.on('connect', () => {
          const from = opts.from ? ` from='${opts.from}'` : '';
          socket.write(
            `<?xml version='1.0'?><stream:stream xmlns='${opts.ns}' xmlns:stream='http://etherx.jabber.org/streams' to='${opts.to}'${from} version='1.0'>`,
          );
        });
      }),
      opts.timeoutMs,
      `stream features from ${opts.host}:${opts.port} for ${opts.to}`,
    );
  } finally {
    socket.destroy();
  }
}

/** Names of the features offered, e.g. `starttls`, `mechanisms:PLAIN,SCRAM-SHA-1`, `dialback`. */
export function describeFeatures(features: Element): string[] {
  return features.getChildElements().map((c) =>
    c.getName() === 'mechanisms'
      ? `mechanisms:${c
          .getChildren('mechanism')
          .map((m) => m.getText())
          .join(',')}`
      : c.getName(),
  );
}
