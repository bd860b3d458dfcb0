import { XfedError } from '../errors.js';
import { runningWatches } from '../watch/beacon.js';
import { EXIT, reportError, say } from './output.js';

/**
 * `xfed mark TEXT`: adds a mark to a running watch's timeline ("moved batch 1"). It finds the watch
 * through the file each watch keeps while it runs: the only one on this machine, the one whose log
 * is in `--out`, or the one at `--url`.
 */
export async function runMark(text: string, opts: { url?: string; out?: string }): Promise<number> {
  try {
    if (!text.trim()) throw new XfedError('a mark needs a text: xfed mark "moved batch 1"');
    const url = opts.url ?? pickWatch(opts.out);
    let res: Response;
    try {
      res = await fetch(new URL('/marks', url), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text, source: 'cli' }),
        signal: AbortSignal.timeout(5_000),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
      throw new XfedError(`no watch answers at ${url} (${cause === 'TimeoutError' ? 'no answer within 5 s' : cause})`);
    }
    const body = (await res.text()).trim();
    if (res.status !== 201) throw new XfedError(`the watch at ${url} refused the mark: ${res.status} ${body}`);
    say(`marked at ${new Date().toISOString().slice(11, 19)} on the watch at ${url}: ${text.replace(/\s+/g, ' ').trim()}`);
    return EXIT.ok;
  } catch (err) {
    return reportError(err);
  }
}

function pickWatch(out: string | undefined): string {
  const watches = runningWatches(out);
  if (watches.length === 1) return watches[0]!.url;
  if (watches.length === 0)
    throw new XfedError(
      out ? `no running watch keeps its log in ${out}` : 'no watch is running on this machine (start one with xfed watch, or name one with --url)',
    );
  throw new XfedError(
    `${watches.length} watches are running; name one with --url or --out: ${watches.map((w) => `${w.url} (${w.suite}, ${w.out}, pid ${w.pid})`).join('; ')}`,
  );
}
