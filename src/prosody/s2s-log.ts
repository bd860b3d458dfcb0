import type { LogView } from '../infra/line-log.js';

/**
 * How the partner's newest outgoing stream to `to` came up, read from the partner's own log (at
 * info level): the TLS version from `Stream encrypted`, and the mechanism from the line of xfed's
 * module (docker/prosody/modules/mod_xfed_s2s.lua) when the stream authenticated. `from` is the
 * log's mark before the stream was opened. Needs nothing from the peer, so it reads a real Edge's
 * streams as well as the simulated one's; container logs arrive through Docker's log stream, so
 * the wait for the line is bounded, not assumed.
 */
export async function s2sStreamFromLog(
  log: LogView,
  from: number,
  route: { from: string; to: string },
  timeoutMs: number,
): Promise<{ tls: string | undefined; auth: 'sasl-external' | 'dialback' }> {
  const marker = `xfed: outgoing s2s stream ${route.from}->${route.to} authenticated with `;
  const authLine = await log.waitFor(new RegExp(marker.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), {
    since: from,
    timeoutMs,
    what: `the partner to log how its stream to ${route.to} authenticated`,
  });
  const lines = log.since(from);
  // The stream's own log lines carry its session id (s2sout55c0...); TLS comes before authentication.
  const session = /s2sout\w+/.exec(authLine)?.[0];
  const encrypted = lines.slice(0, lines.indexOf(authLine)).findLast((l) => (session ? l.includes(session) : /s2sout/.test(l)) && /Stream encrypted/.test(l));
  const tls = encrypted ? (/Stream encrypted \((TLSv[\d.]+)/.exec(encrypted)?.[1] ?? 'TLS') : undefined;
  const auth = /authenticated with EXTERNAL/.test(authLine) ? 'sasl-external' : 'dialback';
  return { tls, auth };
}
