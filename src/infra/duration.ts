import { XfedError } from '../errors.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `500ms`, `30s`, `5m`, `4h`, `1h30m`, `1d`; a bare number is seconds. */
export function parseDuration(text: string, option: string): number {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return positive(Number(t) * 1000, text, option);
  const parts = [...t.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== t)
    throw new XfedError(`${option} ${text}: not a duration (examples: 500ms, 30s, 5m, 4h, 1h30m)`);
  return positive(
    parts.reduce((sum, p) => sum + Number(p[1]) * UNITS[p[2]!]!, 0),
    text,
    option,
  );
}

function positive(ms: number, text: string, option: string): number {
  if (!(ms >= 1) || !Number.isFinite(ms)) throw new XfedError(`${option} ${text}: must be at least 1 ms`);
  return Math.round(ms);
}

const PER: Record<string, number> = { s: 1, sec: 1, m: 60, min: 60, h: 3600 };

/**
 * A rate per second: `200/s`, `200` (per second), `12000/min`, `1.5/s`, `3600/h`, `1e6/s`.
 * `zero` allows 0 (a rate that is off).
 */
export function parseRate(text: string, option: string, o: { zero?: boolean } = {}): number {
  const m = /^(\d+(?:\.\d+)?(?:e\d+)?)\s*(?:\/\s*(s|sec|m|min|h))?$/i.exec(text.trim());
  const rate = m ? Number(m[1]) / PER[(m[2] ?? 's').toLowerCase()]! : NaN;
  if (!Number.isFinite(rate)) throw new XfedError(`${option} ${text}: not a rate (examples: 200/s, 200, 12000/min)`);
  if (rate === 0 && o.zero) return 0;
  if (!(rate > 0)) throw new XfedError(`${option} ${text}: must be more than 0`);
  return rate;
}
