import { pollUntil } from '../infra/deadline.js';

/** Log lines of the two ends of a partner's S2S stream (the partner and the server it reached). */
export interface S2sLogs {
  partner: string[];
  edge: string[];
}

/**
 * How the partner's newest stream to a Prosody peer came up, read from both servers' logs (at
 * info level): the TLS version from the partner's `Stream encrypted`, and the authentication from
 * the peer, which logs the SASL EXTERNAL identities it accepts; a stream it accepted without one
 * used dialback. `from` are the log lengths before the stream was opened. Container logs arrive
 * through Docker's log stream, so the wait for the peer's line is bounded, not assumed.
 */
export async function s2sStreamFromLogs(
  read: () => S2sLogs,
  from: { partner: number; edge: number },
  partnerDomain: string,
  timeoutMs: number,
): Promise<{ tls: string | undefined; auth: 'sasl-external' | 'dialback' }> {
  const edgeLines = await pollUntil(
    () => {
      const lines = read().edge.slice(from.edge);
      return lines.some((l) => l.includes(`Incoming s2s connection ${partnerDomain}->`)) ? lines : undefined;
    },
    { timeoutMs, what: `the peer to log the incoming stream from ${partnerDomain}` },
  );
  const encrypted = read()
    .partner.slice(from.partner)
    .find((l) => /s2sout.*Stream encrypted/.test(l));
  const tls = encrypted ? (/Stream encrypted \((TLSv[\d.]+)/.exec(encrypted)?.[1] ?? 'TLS') : undefined;
  const auth = edgeLines.some((l) => l.includes(`Accepting SASL EXTERNAL identity from ${partnerDomain}`)) ? 'sasl-external' : 'dialback';
  return { tls, auth };
}
