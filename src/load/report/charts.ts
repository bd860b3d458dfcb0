import { escapeHtml } from '../../report/escape.js';
import { formatClock as clock } from './format.js';

/** One line of a chart: a value per second (undefined: nothing measured that second, a gap). */
export interface ChartLine {
  readonly name: string;
  /** A CSS class of the page (its colour). */
  readonly cls: string;
  readonly values: readonly (number | undefined)[];
  /** How seconds merge when a long run has more of them than the chart has points. */
  readonly merge: 'mean' | 'max' | 'last';
  /** Drawn under the other lines (dashed), so a line it often equals (p99 of a second of few IMs is its max) stays visible. */
  readonly behind?: boolean;
}

export interface ChartMark {
  readonly t: number;
  readonly label: string;
  readonly cls: string;
}

export interface Chart {
  readonly id: string;
  readonly title: string;
  /** The y axis' unit, after each tick label (`/s`, ` ms`, empty). */
  readonly unit: string;
  /** Seconds since the first login, one per value of every line. */
  readonly t: readonly number[];
  readonly lines: readonly ChartLine[];
  readonly marks: readonly ChartMark[];
  /** Said under the title: a figure left out, and why. */
  readonly note?: string;
}

const W = 880;
const H = 220;
const PAD = { left: 64, right: 16, top: 14, bottom: 30 };
/** More points than this (a run of hours) are merged, so the page stays small and quick to draw. */
const MAX_POINTS = 1200;
const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];

export const CHART_CSS = `
.chart{margin:.3em 0 1.2em}.chart svg{display:block;width:100%;height:auto;max-width:${W}px;font:11px system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
.chart .grid{stroke:var(--line);stroke-width:1}.chart .axis{stroke:var(--muted);stroke-width:1}.chart .tick{fill:var(--muted)}
.chart path{fill:none;stroke-width:1.6;stroke-linejoin:round}.chart path.behind{stroke-dasharray:4 3;stroke-width:1.3}
.chart .mark line{stroke-width:1.2;stroke-dasharray:5 3}.chart .mark text{font-weight:600}
.legend{display:flex;flex-wrap:wrap;gap:.2em 1.2em;font-size:12px;color:var(--muted);margin:0}
.legend i{display:inline-block;width:1.4em;height:.25em;margin-right:.35em;vertical-align:middle;border-radius:1px}
.l-sent{stroke:var(--xmpp)}i.l-sent{background:var(--xmpp)}
.l-delivered{stroke:var(--met)}i.l-delivered{background:var(--met)}
.l-p50{stroke:var(--met)}i.l-p50{background:var(--met)}
.l-p99{stroke:#bc4c00}i.l-p99{background:#bc4c00}
.l-max{stroke:var(--unmet)}i.l-max{background:repeating-linear-gradient(90deg,var(--unmet) 0 4px,transparent 4px 7px)}
.l-online{stroke:var(--sip)}i.l-online{background:var(--sip)}
.l-logins{stroke:var(--dns)}i.l-logins{background:var(--dns)}
.l-errors{stroke:var(--unmet)}i.l-errors{background:var(--unmet)}
.m-steady line{stroke:var(--muted)}.m-steady text{fill:var(--muted)}
.m-restart line{stroke:var(--unmet)}.m-restart text{fill:var(--unmet)}
`;

/** A line chart over time as inline SVG with its legend; every text escaped. */
export function renderChart(c: Chart): string {
  const { t, lines } = merge(c);
  const t0 = t[0] ?? 0;
  const t1 = Math.max(t.at(-1) ?? 1, t0 + 1);
  const top = niceMax(Math.max(0, ...lines.flatMap((l) => l.values.filter((v): v is number => v !== undefined && Number.isFinite(v)))));
  const x = (s: number) => PAD.left + ((s - t0) / (t1 - t0)) * (W - PAD.left - PAD.right);
  const y = (v: number) => H - PAD.bottom - (v / top) * (H - PAD.top - PAD.bottom);
  const f = (n: number) => n.toFixed(1);
  const parts: string[] = [];

  for (const v of yTicks(top)) {
    parts.push(`<line class="grid" x1="${PAD.left}" x2="${W - PAD.right}" y1="${f(y(v))}" y2="${f(y(v))}"/>`);
    parts.push(`<text class="tick" x="${PAD.left - 6}" y="${f(y(v) + 4)}" text-anchor="end">${escapeHtml(formatTick(v) + c.unit)}</text>`);
  }
  const step = TIME_STEPS.find((s) => (t1 - t0) / s <= 10) ?? TIME_STEPS.at(-1)!;
  for (let s = Math.ceil(t0 / step) * step; s <= t1; s += step) {
    parts.push(`<line class="axis" x1="${f(x(s))}" x2="${f(x(s))}" y1="${H - PAD.bottom}" y2="${H - PAD.bottom + 4}"/>`);
    parts.push(`<text class="tick" x="${f(x(s))}" y="${H - PAD.bottom + 16}" text-anchor="middle">${clock(s)}</text>`);
  }
  parts.push(`<line class="axis" x1="${PAD.left}" x2="${W - PAD.right}" y1="${H - PAD.bottom}" y2="${H - PAD.bottom}"/>`);

  for (const line of [...lines.filter((l) => l.behind), ...lines.filter((l) => !l.behind)]) {
    let d = '';
    let pen = false;
    line.values.forEach((v, i) => {
      if (v === undefined || !Number.isFinite(v)) return void (pen = false);
      d += `${pen ? 'L' : 'M'}${f(x(t[i]!))} ${f(y(v))}`;
      pen = true;
    });
    // A lone point is drawn as a dot-long segment, so a one-second run still shows.
    if (d && !d.includes('L')) d += `h1`;
    if (d) parts.push(`<path class="${escapeHtml(line.cls)}${line.behind ? ' behind' : ''}" d="${d}"><title>${escapeHtml(line.name)}</title></path>`);
  }
  for (const m of c.marks) {
    if (m.t < t0 || m.t > t1) continue;
    const mx = f(x(m.t));
    parts.push(
      `<g class="mark ${escapeHtml(m.cls)}"><line x1="${mx}" x2="${mx}" y1="${PAD.top}" y2="${H - PAD.bottom}"/><text x="${f(x(m.t) + 4)}" y="${PAD.top + 10}">${escapeHtml(m.label)}</text></g>`,
    );
  }
  const legend = lines.map((l) => `<span><i class="${escapeHtml(l.cls)}"></i>${escapeHtml(l.name)}</span>`).join('');
  const marks = c.marks.map((m) => `<span>${escapeHtml(m.label)} at ${clock(m.t)}</span>`).join('');
  const id = escapeHtml(c.id);
  return [
    `<figure class="chart" id="${id}">`,
    `<figcaption><h3>${escapeHtml(c.title)}</h3><p class="legend">${legend}${marks}</p>${c.note ? `<p class="muted">${escapeHtml(c.note)}</p>` : ''}</figcaption>`,
    `<svg viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="${id}-t"><title id="${id}-t">${escapeHtml(c.title)}</title>${parts.join('')}</svg>`,
    '</figure>',
  ].join('');
}

/** The time axis and the lines, merged into at most MAX_POINTS buckets of consecutive seconds. */
function merge(c: Chart): { t: readonly number[]; lines: readonly ChartLine[] } {
  if (c.t.length <= MAX_POINTS) return c;
  const size = Math.ceil(c.t.length / MAX_POINTS);
  const buckets = Math.ceil(c.t.length / size);
  const range = (b: number) => [b * size, Math.min((b + 1) * size, c.t.length)] as const;
  const t = Array.from({ length: buckets }, (_, b) => c.t[range(b)[0]]!);
  const lines = c.lines.map((l) => ({
    ...l,
    values: Array.from({ length: buckets }, (_, b) => {
      const vs = l.values.slice(...range(b)).filter((v): v is number => v !== undefined);
      if (vs.length === 0) return undefined;
      if (l.merge === 'max') return Math.max(...vs);
      if (l.merge === 'last') return vs.at(-1);
      return vs.reduce((a, v) => a + v, 0) / vs.length;
    }),
  }));
  return { t, lines };
}

/** The smallest 1, 2 or 5 times a power of ten at or above the largest value (1 for none). */
function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return ([1, 2, 5, 10].find((m) => m * p >= v) ?? 10) * p;
}

function yTicks(top: number): number[] {
  const lead = top / 10 ** Math.floor(Math.log10(top));
  const n = lead === 1 ? 5 : lead === 2 ? 4 : 5;
  return Array.from({ length: n + 1 }, (_, i) => (top * i) / n);
}

/** `950`, `1.5k`, `20k`, `0.25`. */
function formatTick(v: number): string {
  if (v >= 1000) return `${+(v / 1000).toFixed(1)}k`;
  return String(+v.toFixed(2));
}
