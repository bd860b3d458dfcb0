import { escapeHtml } from '../../report/escape.js';
import { formatMs } from '../../report/format.js';
import { htmlPage } from '../../report/page.js';
import { ReportFile } from '../../report/results-file.js';
import type { LatencyStats, LoadResults, LoadSecond } from '../results.js';
import { CHART_CSS, renderChart, type ChartLine, type ChartMark } from './charts.js';
import { describeProfile, formatBytes, formatCounts, formatRate, imsStartSecond, restartSecond } from './format.js';

const CSS = `
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.figures th[scope=row]{width:12em}
.reasons{margin:.3em 0 .8em}
.notices li{margin:.15em 0}
.bad{color:var(--unmet);font-weight:600}
`;

/** report.html of a load run: written whole or not at all (`ReportFile`). */
export async function writeLoadHtml(results: LoadResults, file: string): Promise<void> {
  await new ReportFile(file).write(renderLoadHtml(results));
}

/**
 * A load run as one self-contained HTML file: the verdict, the figures as tables and the run over
 * time as inline SVG charts (throughput, latency, users online, errors), the start of the IMs and
 * the restart marked on the time axis. No script, no external URL; every text escaped.
 */
export function renderLoadHtml(r: LoadResults): string {
  const body = [header(r), figures(r), latencies(r), storm(r), generator(r), charts(r), notices(r)].join('\n');
  return htmlPage(`xfed load: ${r.suite} (${r.verdict.held ? 'held' : 'not held'})`, body, CHART_CSS + CSS);
}

function header(r: LoadResults): string {
  const facts: [string, string][] = [
    ['target', r.target === 'sim' ? 'simulation' : 'gateway (lab)'],
    ['runtime', r.runtime],
    ['engine', r.engine.engine],
    ['started', r.startedAt],
    ['ended', r.endedAt],
  ];
  const reasons = r.verdict.reasons.length
    ? `<ul class="reasons">${r.verdict.reasons.map((x) => `<li${r.verdict.held ? '' : ' class="unmet"'}>${escapeHtml(x)}</li>`).join('')}</ul>`
    : '';
  return [
    '<header>',
    `<h1>xfed load: ${escapeHtml(r.suite)} <span class="badge ${r.verdict.held ? 'met' : 'unmet'}">${r.verdict.held ? 'held' : 'not held'}</span></h1>`,
    `<p>${escapeHtml(describeProfile(r.profile))}</p>`,
    `<dl class="facts">${facts.map(([k, v]) => `<div><dt>${k}</dt><dd>${escapeHtml(v)}</dd></div>`).join('')}</dl>`,
    reasons,
    '</header>',
  ].join('\n');
}

/** A row of the figures table: a label and cells; a cell flagged bad is shown red. */
type Cell = string | number | { text: string | number; bad: boolean };
const cell = (c: Cell): string =>
  typeof c === 'object' ? `<td class="num${c.bad ? ' bad' : ''}">${escapeHtml(String(c.text))}</td>` : `<td class="num">${escapeHtml(String(c))}</td>`;
const bad = (n: number): Cell => ({ text: n, bad: n > 0 });

function figures(r: LoadResults): string {
  const e = r.engine;
  const m = e.messages;
  const rows: [string, Cell, string][] = [
    ['logins', { text: `${e.logins.succeeded}/${e.logins.attempted}`, bad: e.logins.succeeded < e.logins.attempted }, formatCounts(e.logins.failed)],
    ['login rate', formatRate(e.logins.rateAchieved), 'logins completed per second during the ramp'],
  ];
  if (e.subscriptions)
    rows.push([
      'subscriptions',
      { text: `${e.subscriptions.succeeded}/${e.subscriptions.attempted}`, bad: e.subscriptions.succeeded < e.subscriptions.attempted },
      formatCounts(e.subscriptions.failed),
    ]);
  rows.push(
    ['IM rate asked', formatRate(m.rateTarget), 'open model: every IM has its scheduled send time'],
    ['IM rate sent', { text: formatRate(m.rateAchieved), bad: m.rateAchieved < m.rateTarget * 0.95 }, 'IMs sent per second over the sending time'],
    ['throughput', formatRate(m.throughput), 'echoes received per second over the sending time'],
    ['IMs scheduled', m.scheduled, ''],
    ['sent', m.sent, ''],
    ['delivered', m.delivered, ''],
    ['lost', bad(m.lost), 'sent and never delivered within the grace time'],
    ['duplicates', bad(m.duplicates), 'echoes received more than once'],
    ['reordered', bad(m.reordered), 'echoes that overtook an earlier IM of the same user to the same contact'],
    ['errors', bad(Object.values(m.errors).reduce((a, n) => a + n, 0)), formatCounts(m.errors)],
    ['presence changes', e.presence.sent, e.presence.errors > 0 ? `${e.presence.errors} errors` : ''],
  );
  return section(
    'figures',
    'Figures',
    `<table class="figures"><tbody>${rows.map(([k, v, note]) => `<tr><th scope="row">${escapeHtml(k)}</th>${cell(v)}<td class="muted">${escapeHtml(note)}</td></tr>`).join('')}</tbody></table>`,
  );
}

function latencies(r: LoadResults): string {
  const e = r.engine;
  const rows: [string, LatencyStats | undefined, string][] = [
    ['round trip', e.messages.roundTrip, 'scheduled send time to the echo received: a slow path shows here, never as a lower rate'],
    ['one way', r.oneWay, 'scheduled send time to the SfB user’s SIP MESSAGE (the simulation only)'],
    ['send lag', e.messages.sendLag, 'how late IMs left after their scheduled time: the generator’s own lag'],
    ['login', e.logins.time, 'TCP connect to the initial presence sent'],
    ['subscription', e.subscriptions?.time, 'subscribe sent to subscribed received'],
    ['back after the restart', e.storm?.time, 'the restart to each subscription’s presence back'],
  ];
  const present = rows.filter(([, l]) => l !== undefined) as [string, LatencyStats, string][];
  const head = ['', 'samples', 'min', 'mean', 'p50', 'p95', 'p99', 'max', ''].map((h) => `<th>${h}</th>`).join('');
  const body = present
    .map(([k, l, note]) => {
      const ms = (v: number) => (l.count === 0 ? '-' : formatMs(v));
      return `<tr><th scope="row">${escapeHtml(k)}</th>${[l.count, ms(l.min), ms(l.mean), ms(l.p50), ms(l.p95), ms(l.p99), ms(l.max)].map(cell).join('')}<td class="muted">${escapeHtml(note)}</td></tr>`;
    })
    .join('');
  return section('latency', 'Latency', `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`);
}

function storm(r: LoadResults): string {
  const s = r.engine.storm;
  if (!s) return '';
  const what = s.what === 'edge' ? 'The Edge' : 'The gateway';
  const back =
    s.allBackMs !== undefined
      ? escapeHtml(`all ${s.subscriptions} subscriptions had the contact’s presence again ${formatMs(s.allBackMs)} after.`)
      : `<span class="bad">${s.back} of ${s.subscriptions} subscriptions came back; the rest never did.</span>`;
  return section('storm', 'Presence storm', `<p>${what} restarted ${escapeHtml(formatMs(s.atMs))} into the IMs; ${back}</p>`);
}

function generator(r: LoadResults): string {
  const g = r.engine.generator;
  const rows: [string, string][] = [
    ['CPU', `${g.cpuSeconds.toFixed(1)} s`],
    ['peak RSS', formatBytes(g.peakRssBytes)],
    ...(g.rssAllOnlineBytes !== undefined ? [['RSS with every user online', formatBytes(g.rssAllOnlineBytes)] as [string, string]] : []),
    ['processes', String(g.processes)],
  ];
  return section(
    'generator',
    'The load generator',
    `<p class="muted">Its own process${g.processes === 1 ? '' : 'es'} (xfed’s generator, or Tsung’s Erlang nodes), apart from the target.</p><table class="figures"><tbody>${rows.map(([k, v]) => `<tr><th scope="row">${escapeHtml(k)}</th>${cell(v)}</tr>`).join('')}</tbody></table>`,
  );
}

function charts(r: LoadResults): string {
  const series = r.engine.series;
  if (series.length === 0) return section('over-time', 'Over time', '<p class="muted">No per-second figures were recorded.</p>');
  const t = series.map((s) => s.t);
  const marks: ChartMark[] = [{ t: imsStartSecond(series, r.profile), label: 'IMs start', cls: 'm-steady' }];
  const restart = restartSecond(r);
  if (restart !== undefined) marks.push({ t: restart, label: `${r.engine.storm?.what ?? r.profile.restart?.what ?? ''} restart`.trim(), cls: 'm-restart' });
  return section(
    'over-time',
    'Over time',
    [
      '<p class="muted">Per second since the first login.</p>',
      renderChart({
        id: 'chart-throughput',
        title: 'Throughput: IMs sent and delivered per second',
        unit: '/s',
        t,
        marks,
        lines: [
          { name: 'sent', cls: 'l-sent', values: series.map((s) => s.sent), merge: 'mean' },
          { name: 'delivered', cls: 'l-delivered', values: series.map((s) => s.delivered), merge: 'mean' },
        ],
      }),
      renderChart({
        id: 'chart-latency',
        title: 'Round trip of the IMs delivered each second',
        unit: ' ms',
        t,
        marks,
        ...latencyLines(r),
      }),
      renderChart({
        id: 'chart-online',
        title: 'Users online',
        unit: '',
        t,
        marks,
        lines: [
          { name: 'online', cls: 'l-online', values: series.map((s) => s.online), merge: 'last' },
          { name: 'logins per second', cls: 'l-logins', values: series.map((s) => s.logins), merge: 'mean' },
        ],
      }),
      renderChart({
        id: 'chart-errors',
        title: 'Errors per second',
        unit: '/s',
        t,
        marks,
        lines: [{ name: 'errors', cls: 'l-errors', values: series.map((s) => s.errors), merge: 'mean' }],
      }),
    ].join('\n'),
  );
}

/**
 * p50, p99 and max of each second; a second with no echo has no latency (a gap in the line, not a
 * zero). A figure the engine does not give per second (Tsung gives a mean in p50, zeros for the
 * others) is left out and said, rather than drawn as a flat zero.
 */
function latencyLines(r: LoadResults): { lines: ChartLine[]; note?: string } {
  const series = r.engine.series;
  const of = (f: (s: LoadSecond) => number) => series.map((s) => (s.delivered > 0 ? f(s) : undefined));
  const all: ChartLine[] = [
    { name: r.engine.engine === 'tsung' ? 'mean (Tsung)' : 'p50', cls: 'l-p50', values: of((s) => s.p50), merge: 'mean' },
    { name: 'p99', cls: 'l-p99', values: of((s) => s.p99), merge: 'max' },
    { name: 'max', cls: 'l-max', values: of((s) => s.max), merge: 'max', behind: true },
  ];
  const delivered = series.some((s) => s.delivered > 0);
  const lines = all.filter((l) => !delivered || l.values.some((v) => v !== undefined && v > 0));
  const missing = all.filter((l) => !lines.includes(l)).map((l) => l.name);
  return missing.length > 0 ? { lines, note: `${missing.join(' and ')} per second: not measured by the ${r.engine.engine} engine` } : { lines };
}

function notices(r: LoadResults): string {
  if (r.engine.notices.length === 0) return '';
  return section('notices', 'Notices', `<ul class="notices">${r.engine.notices.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>`);
}

function section(id: string, title: string, html: string): string {
  return `<section id="${id}" aria-labelledby="h-${id}"><h2 id="h-${id}">${escapeHtml(title)}</h2>${html}</section>`;
}
