import type { ComparedCheck, Comparison, LatencyStat, RunInfo } from './compare.js';
import { byLargestChange, countsLine, formatDeltaMs, formatDeltaPct, formatLatency, sideText, verdictLine } from './compare-render.js';
import { escapeHtml } from './escape.js';
import { formatMs } from './format.js';
import { htmlPage } from './page.js';

const CSS = `
table{margin:.4em 0 1em}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.verdict{font-size:1.15em;font-weight:600;padding:.5em .9em;border-radius:6px;display:inline-block}
.verdict.bad{background:#ffebe9;color:#82071e;border:2px solid var(--unmet)}.verdict.good{background:#dafbe1;color:#116329;border:2px solid var(--met)}
.nw{white-space:nowrap}.note{color:#9a6700}.up{color:var(--unmet)}.down{color:var(--met)}
`;

/** The comparison as one self-contained HTML file. */
export function renderComparisonHtml(c: Comparison): string {
  const e = escapeHtml;
  const runRow = (label: string, f: (r: RunInfo) => string) => `<tr><th>${label}</th><td>${e(f(c.base))}</td><td>${e(f(c.next))}</td></tr>`;
  const body = [
    `<h1>xfed compare: ${e(c.next.suite)}</h1>`,
    `<p><span class="verdict ${c.hasRegression ? 'bad' : 'good'}">${e(verdictLine(c))}</span></p>`,
    `<p>${e(countsLine(c))}</p>`,
    '<table><thead><tr><th></th><th>base</th><th>next</th></tr></thead><tbody>',
    runRow('suite file', (r) => r.file),
    runRow('started', (r) => r.startedAt),
    runRow('status', (r) => r.status),
    runRow('checks met', (r) => `${r.summary.met} / ${r.summary.checks}`),
    runRow('duration', (r) => formatMs(r.durationMs)),
    runRow('target', (r) => `${r.target} (${r.runtime})`),
    '</tbody></table>',
    ...c.notes.map((n) => `<p class="note">Note: ${e(n)}</p>`),
    section('Regressed', c.regressed, ['before', 'now'], (x) => [sideText(x.base), sideText(x.next)], 'unmet'),
    section('Fixed', c.fixed, ['before', 'now'], (x) => [sideText(x.base), sideText(x.next)], 'met'),
    section('Still failing', c.stillFailing, ['before', 'now'], (x) => [sideText(x.base), sideText(x.next)], 'unmet'),
    section('New', c.new, ['result'], (x) => [sideText(x.next)], ''),
    section('Gone', c.gone, ['result before'], (x) => [sideText(x.base)], ''),
    section('Not run (neither a regression nor a fix)', c.notRun, ['before', 'now'], (x) => [sideText(x.base), sideText(x.next)], ''),
    latency(c),
  ].join('\n');
  return htmlPage(`xfed compare: ${c.next.suite}`, body, CSS);
}

function section(title: string, items: ComparedCheck[], head: string[], row: (x: ComparedCheck) => string[], cls: string): string {
  if (items.length === 0) return '';
  const e = escapeHtml;
  const rows = items.map(
    (x) =>
      `<tr><td class="nw">${e(x.phase)}</td><td class="nw"><code>${e(x.id)}</code></td><td>${e(x.title)}</td>${row(x)
        .map((v) => `<td>${e(v)}</td>`)
        .join('')}</tr>`,
  );
  return [
    `<h2${cls ? ` class="${cls}"` : ''}>${title} (${items.length})</h2>`,
    `<table><thead><tr><th>phase</th><th>check</th><th>title</th>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>`,
    ...rows,
    '</tbody></table>',
  ].join('\n');
}

function latency(c: Comparison): string {
  const l = c.latency;
  const dir = (ms: number | undefined) => (ms === undefined || ms === 0 ? '' : ms > 0 ? 'up' : 'down');
  const nums = (base: number | undefined, next: number | undefined, deltaMs: number | undefined, deltaPct: number | undefined) =>
    `<td class="num">${formatLatency(base)}</td><td class="num">${formatLatency(next)}</td>` +
    `<td class="num ${dir(deltaMs)}">${formatDeltaMs(deltaMs)}</td><td class="num ${dir(deltaMs)}">${formatDeltaPct(deltaPct)}</td>`;
  const stat = (name: string, s: LatencyStat) => `<tr><th>${name}</th>${nums(s.base, s.next, s.deltaMs, s.deltaPct)}</tr>`;
  const head = '<th class="num">base</th><th class="num">next</th><th class="num">Δ</th><th class="num">Δ %</th>';
  const out = [
    '<h2>Latency</h2>',
    `<p class="muted">${l.samples.base} latencies measured in base, ${l.samples.next} in next (nearest-rank percentiles).</p>`,
    `<table><thead><tr><th></th>${head}</tr></thead><tbody>${stat('p50', l.p50)}${stat('p95', l.p95)}</tbody></table>`,
  ];
  if (l.checks.length > 0) {
    const rows = byLargestChange(l.checks).map(
      (x) =>
        `<tr><td class="nw">${escapeHtml(x.phase)}</td><td class="nw"><code>${escapeHtml(x.id)}</code></td>${nums(x.baseMs, x.nextMs, x.deltaMs, x.deltaPct)}</tr>`,
    );
    out.push(
      `<h3>Per check (${l.checks.length} measured in both, largest change first)</h3>`,
      `<table><thead><tr><th>phase</th><th>check</th>${head}</tr></thead><tbody>${rows.join('')}</tbody></table>`,
    );
  }
  return out.join('\n');
}
