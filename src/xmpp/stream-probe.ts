import net from 'node:net';
import type { Element } from '@xmpp/xml';
import { withDeadline } from '../infra/deadline.js';
import { XmlStreamReader, streamErrorOf } from './stream-reader.js';

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
 * a port accepts. A `<stream:error/>`, a closed connection or whatever the bounded parser refuses
 * rejects with its reason.
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
    await withDeadline(
      new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.on('error', reject);
      }),
      opts.timeoutMs,
      `a connection to ${opts.host}:${opts.port}`,
    );
    const reader = new XmlStreamReader(socket);
    const from = opts.from ? ` from='${opts.from}'` : '';
    socket.write(
      `<?xml version='1.0'?><stream:stream xmlns='${opts.ns}' xmlns:stream='http://etherx.jabber.org/streams' to='${opts.to}'${from} version='1.0'>`,
    );
    const el = await reader.next(Math.max(1, opts.timeoutMs - (Date.now() - started)), `stream features from ${opts.host}:${opts.port} for ${opts.to}`);
    const streamError = streamErrorOf(el);
    if (streamError) throw new Error(`stream error: ${streamError}`);
    if (el.getName() !== 'features') throw new Error(`expected stream features, got <${el.name}/>`);
    return { header: reader.header ?? {}, features: el, elapsedMs: Date.now() - started };
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
