import { TimeoutError } from '../errors.js';

/**
 * Races `work` against a deadline. Every wait in xfed goes through here so that nothing can hang:
 * the message names what was awaited.
 */
export async function withDeadline<T>(work: Promise<T>, ms: number, what: string, signal?: AbortSignal): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`timed out after ${ms} ms waiting for ${what}`)), ms);
    if (signal) {
      onAbort = () => reject(new WaitCancelled(`stopped waiting for ${what}`));
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    }
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}

/** A wait that its owner ended because the answer it waited for no longer matters. */
export class WaitCancelled extends Error {}

/**
 * Polls `probe` until it returns a value other than undefined, or the deadline passes.
 * Used only where no event exists to wait on (a file appearing, a port accepting); the interval is
 * the retry pace of the probe, not a sleep standing in for an event.
 */
export async function pollUntil<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  opts: { timeoutMs: number; intervalMs?: number; what: string; signal?: AbortSignal },
): Promise<T> {
  const end = Date.now() + opts.timeoutMs;
  const interval = opts.intervalMs ?? 10;
  for (;;) {
    if (opts.signal?.aborted) throw new WaitCancelled(`stopped waiting for ${opts.what}`);
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() >= end) throw new TimeoutError(`timed out after ${opts.timeoutMs} ms waiting for ${opts.what}`);
    await new Promise((r) => setTimeout(r, interval));
  }
}
