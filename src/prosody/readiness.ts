import { StartupError } from '../errors.js';
import { pollUntil } from '../infra/deadline.js';
import type { LineLog } from '../infra/line-log.js';
import { probeStream } from '../xmpp/stream-probe.js';
import { isFatalLogLine, relevantLogLines } from './runtimes/runtime.js';
import type { Endpoint } from '../infra/endpoint.js';

/**
 * Waits until a Prosody really serves: its c2s and s2s listeners both answer a stream header for
 * `domain` with stream features. A port that accepts is not enough (Prosody keeps running with a
 * listener missing), so a fatal log line or the process's exit ends the wait at once, with the log.
 */
export async function waitUntilServing(opts: {
  log: LineLog;
  c2s: Endpoint;
  s2s: Endpoint;
  domain: string;
  timeoutMs: number;
  label: string;
  /** False for a server without client domains (the simulated Edge): only S2S is probed. */
  probeC2s?: boolean;
  exited?: Promise<{ code: number | null; signal?: string | null }>;
}): Promise<void> {
  const { log, label } = opts;
  let offLog: (() => void) | undefined;
  const fatal = new Promise<never>((_, reject) => {
    const check = (line: string) => {
      if (isFatalLogLine(line)) {
        // Prosody's log line is "source<spaces>level<tab>message": the message says what went wrong.
        const why = line.split('\t').slice(1).join(' ').trim() || line.trim();
        reject(new StartupError(`Prosody for ${label} failed to start: ${why}`, relevantLogLines(log.all())));
      }
    };
    log.all().forEach(check);
    offLog = log.onLine(check);
  });
  const exited = opts.exited?.then((e) => {
    throw new StartupError(`Prosody for ${label} exited during startup (${e.signal ? `signal ${e.signal}` : `code ${e.code}`})`, relevantLogLines(log.all()));
  });
  // The instance exits normally much later, after this wait is over: that is not an error.
  exited?.catch(() => undefined);
  const end = Date.now() + opts.timeoutMs;
  // Once the race is decided (a fatal line, an exit), the probing loop must stop too.
  const decided = new AbortController();
  const serving = (async () => {
    const probes = [
      [opts.c2s, 'jabber:client'],
      [opts.s2s, 'jabber:server'],
    ] as const;
    for (const [endpoint, ns] of probes.filter(([, ns]) => opts.probeC2s !== false || ns === 'jabber:server')) {
      await pollUntil(
        () =>
          probeStream({ ...endpoint, to: opts.domain, ns, timeoutMs: 2_000 }).then(
            (r) => r,
            () => undefined,
          ),
        {
          timeoutMs: Math.max(1, end - Date.now()),
          intervalMs: 20,
          signal: decided.signal,
          what: `${ns === 'jabber:client' ? 'c2s' : 's2s'} stream features of ${opts.domain} on ${endpoint.host}:${endpoint.port}`,
        },
      );
    }
  })();
  try {
    await Promise.race([fatal, serving, ...(exited ? [exited] : [])]);
  } catch (err) {
    if (err instanceof StartupError) throw err;
    throw new StartupError(`Prosody for ${label} is not serving: ${(err as Error).message}`, relevantLogLines(log.all()));
  } finally {
    offLog?.();
    decided.abort();
    serving.catch(() => undefined);
  }
}
