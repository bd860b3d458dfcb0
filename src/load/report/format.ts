import { formatMs } from '../../report/format.js';
import type { LoadProfile } from '../profile.js';
import type { LatencyStats, LoadResults, LoadSecond } from '../results.js';

/** `210 MB` (decimal megabytes, as the 500 MB goal is stated), `820 kB` below one. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`;
  if (bytes >= 1e6) return `${Math.round(bytes / 1e6)} MB`;
  return `${Math.round(bytes / 1e3)} kB`;
}

/** `200/s`, `33.3/s`, `0.25/s`: three significant digits at most, no trailing zeros. */
export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond)) return '-';
  const digits = perSecond >= 100 ? 0 : perSecond >= 10 ? 1 : 2;
  return `${+perSecond.toFixed(digits)}/s`;
}

/** `p50 12 ms  p95 30 ms  p99 45 ms  max 80 ms`, or `no samples`. */
export function formatLatency(l: LatencyStats | undefined): string {
  if (!l || l.count === 0) return 'no samples';
  return `p50 ${formatMs(l.p50)}  p95 ${formatMs(l.p95)}  p99 ${formatMs(l.p99)}  max ${formatMs(l.max)}`;
}

/** `timeout 3, not-authorized 1`, largest first; empty for none. */
export function formatCounts(counts: Readonly<Record<string, number>>): string {
  return Object.entries(counts)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** `1000 users on 2 domains, logging in over 30 s; 200 IMs/s for 1m 00s; presence 5/s; the Edge restarted 20 s in` */
export function describeProfile(p: LoadProfile): string {
  const parts = [
    `${plural(p.users, 'user')} on ${plural(p.domains, 'domain')}, logging in over ${formatMs(p.rampMs)}`,
    `${formatRate(p.rate).replace('/s', '')} IMs/s for ${formatMs(p.durationMs)}`,
  ];
  if (p.presenceChurn > 0) parts.push(`presence changes ${formatRate(p.presenceChurn)}`);
  if (!p.subscribe) parts.push('no subscriptions');
  if (p.restart) parts.push(`the ${p.restart.what === 'edge' ? 'Edge' : 'gateway'} restarted ${formatMs(p.restart.atMs)} into the IMs`);
  return parts.join('; ');
}

/**
 * When IMs started, in seconds on the series' axis (since the first login): the first second that
 * sent any, else the end of the planned ramp. The profile's restart time counts from there.
 */
export function imsStartSecond(series: readonly LoadSecond[], profile: LoadProfile): number {
  return series.find((s) => s.sent > 0)?.t ?? profile.rampMs / 1000;
}

/** The restart on the series' axis, when the run had one. */
export function restartSecond(r: LoadResults): number | undefined {
  const atMs = r.engine.storm?.atMs ?? r.profile.restart?.atMs;
  if (atMs === undefined) return undefined;
  return imsStartSecond(r.engine.series, r.profile) + atMs / 1000;
}

/** Words users and logs may have put in a line, made single-line and free of control characters. */
export function oneLine(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\s+/g, ' ').replace(/[\u0000-\u001f\u007f-\u009f]/g, '');
}

/** `0:07`, `12:34`, `1:02:03`: seconds since the first login. */
export function formatClock(t: number): string {
  const s = Math.max(0, Math.round(t));
  const mm = String(Math.floor(s / 60) % 60);
  const ss = String(s % 60).padStart(2, '0');
  return s >= 3600 ? `${Math.floor(s / 3600)}:${mm.padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}
