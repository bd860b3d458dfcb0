import pc from 'picocolors';
import type { CheckSide, ComparedCheck, Comparison, LatencyChange, LatencyStat, RunInfo } from './compare.js';
import { formatMs } from './format.js';

/** Latencies keep one decimal: a 0.4 ms change in a 3 ms round trip matters. */
export function formatLatency(ms: number | undefined): string {
  if (ms === undefined) return '-';
  return `${Number.isInteger(ms) ? ms : ms.toFixed(1)} ms`;
}

export function formatDeltaMs(ms: number | undefined): string {
  if (ms === undefined) return '-';
  return `${ms > 0 ? '+' : ms < 0 ? '-' : '±'}${formatLatency(Math.abs(ms))}`;
}

export function formatDeltaPct(pct: number | undefined): string {
  if (pct === undefined) return '-';
  return `${pct > 0 ? '+' : pct < 0 ? '-' : '±'}${Math.abs(pct).toFixed(1)}%`;
}

/** One check's state in one run, for "before"/"now" columns. */
export function sideText(s: CheckSide | undefined): string {
  if (!s) return '-';
  if (s.skipped !== undefined) return `not run: ${s.skipped}`;
  if (s.notPossible !== undefined) return `not possible: ${s.notPossible}`;
  if (s.error !== undefined) return `not run: ${s.error}`;
  return s.met ? 'met' : `expected ${s.expected}, got ${s.actual}`;
}

export function verdictLine(c: Comparison): string {
  const n = c.regressed.length;
  return n === 0 ? 'no regression' : `${n} regression${n === 1 ? '' : 's'}`;
}

export function countsLine(c: Comparison): string {
  return `${c.fixed.length} fixed, ${c.stillFailing.length} still failing, ${c.new.length} new, ${c.gone.length} gone, ${c.stillMet.length} still met${c.notRun.length > 0 ? `, ${c.notRun.length} not run in one or both (neither regressed nor fixed)` : ''}`;
}

/** The largest latency changes first; ties keep suite order. */
export function byLargestChange(changes: readonly LatencyChange[]): LatencyChange[] {
  return [...changes].sort((a, b) => Math.abs(b.deltaMs) - Math.abs(a.deltaMs));
}

const TEXT_LATENCY_ROWS = 10;

/** The comparison for a terminal; ANSI colour only when asked. */
export function renderComparisonText(c: Comparison, opts: { color: boolean }): string {
  const k = pc.createColors(opts.color);
  const run = (label: string, r: RunInfo) =>
    `  ${label}  ${r.startedAt}  ${r.status}  ${r.summary.met}/${r.summary.checks} met  ${formatMs(r.durationMs)}  ${k.dim(r.file)}`;
  const ref = (x: ComparedCheck) => `${x.phase}/${x.id}  ${k.dim(x.title)}`;
  const out = [k.bold(`xfed compare: ${c.next.suite}`), run('base', c.base), run('next', c.next)];
  for (const note of c.notes) out.push(k.yellow(`  note: ${note}`));
  const section = (title: string, items: ComparedCheck[], line: (x: ComparedCheck) => string[]) => {
    if (items.length === 0) return;
    out.push('', k.bold(`${title} (${items.length})`));
    for (const x of items) out.push(...line(x));
  };
  section('REGRESSED', c.regressed, (x) => [`  ${k.red('✗')} ${ref(x)}`, `      was met; now ${k.red(sideText(x.next))}`]);
  section('FIXED', c.fixed, (x) => [`  ${k.green('✓')} ${ref(x)}`, `      was ${sideText(x.base)}; now met`]);
  section('STILL FAILING', c.stillFailing, (x) => [`  ${k.red('✗')} ${ref(x)}`, `      ${sideText(x.next)}`]);
  section('NEW', c.new, (x) => [`  + ${ref(x)}  ${sideText(x.next)}`]);
  section('GONE', c.gone, (x) => [`  - ${ref(x)}  (was ${sideText(x.base)})`]);
  section('NOT RUN (neither a regression nor a fix)', c.notRun, (x) => [`  - ${ref(x)}  base: ${sideText(x.base)}; next: ${sideText(x.next)}`]);
  const l = c.latency;
  out.push('', k.bold(`LATENCY (${l.samples.base} measured in base, ${l.samples.next} in next)`));
  const stat = (name: string, s: LatencyStat) => {
    const d = s.deltaMs === undefined ? '' : `  (${paintDelta(k, s.deltaMs, formatDeltaMs(s.deltaMs))}, ${formatDeltaPct(s.deltaPct)})`;
    return `  ${name}  ${formatLatency(s.base)} -> ${formatLatency(s.next)}${d}`;
  };
  out.push(stat('p50', l.p50), stat('p95', l.p95));
  if (l.checks.length > 0) {
    const shown = byLargestChange(l.checks).slice(0, TEXT_LATENCY_ROWS);
    const more = l.checks.length > shown.length ? `, the ${shown.length} largest changes` : '';
    out.push(`  per check (${l.checks.length} measured in both${more}):`);
    const width = (f: (x: LatencyChange) => string) => Math.max(...shown.map((x) => f(x).length));
    const name = (x: LatencyChange) => `${x.phase}/${x.id}`;
    const [wName, wBase, wNext] = [width(name), width((x) => formatLatency(x.baseMs)), width((x) => formatLatency(x.nextMs))];
    for (const x of shown) {
      const delta = `${formatDeltaMs(x.deltaMs)} ${formatDeltaPct(x.deltaPct)}`;
      out.push(
        `    ${name(x).padEnd(wName)}  ${formatLatency(x.baseMs).padStart(wBase)} -> ${formatLatency(x.nextMs).padStart(wNext)}  ${paintDelta(k, x.deltaMs, delta)}`,
      );
    }
  }
  out.push('', `${c.hasRegression ? k.red(k.bold(verdictLine(c).toUpperCase())) : k.green(verdictLine(c))}; ${countsLine(c)}`);
  return out.join('\n');
}

function paintDelta(k: ReturnType<typeof pc.createColors>, ms: number, text: string): string {
  return ms > 0 ? k.red(text) : ms < 0 ? k.green(text) : text;
}

/** Text safe in a GitHub-flavoured markdown table cell: no markup, no HTML, one line. */
export function markdownCell(s: string): string {
  return s
    .replace(/\s+/g, ' ')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/([\\`*_[\]|#~])/g, '\\$1');
}

export function markdownTable(head: string[], rows: string[][]): string[] {
  return [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
}

/** The comparison as markdown tables, for a pull-request comment. */
export function renderComparisonMarkdown(c: Comparison): string {
  const out = [`## xfed compare: ${markdownCell(c.next.suite)}`, ''];
  out.push(`${c.hasRegression ? '❌' : '✅'} **${verdictLine(c)}**; ${countsLine(c)}`, '');
  const runRow = (label: string, f: (r: RunInfo) => string) => [label, markdownCell(f(c.base)), markdownCell(f(c.next))];
  out.push(
    ...markdownTable(
      ['', 'base', 'next'],
      [
        runRow('started', (r) => r.startedAt),
        runRow('status', (r) => r.status),
        runRow('checks met', (r) => `${r.summary.met} / ${r.summary.checks}`),
        runRow('duration', (r) => formatMs(r.durationMs)),
        runRow('target', (r) => `${r.target} (${r.runtime})`),
      ],
    ),
    '',
  );
  for (const note of c.notes) out.push(`> **note:** ${markdownCell(note)}`, '');
  const ref = (x: ComparedCheck) => [markdownCell(x.phase), markdownCell(x.id), markdownCell(x.title)];
  const section = (title: string, items: ComparedCheck[], head: string[], row: (x: ComparedCheck) => string[]) => {
    if (items.length === 0) return;
    out.push(
      `### ${title} (${items.length})`,
      '',
      ...markdownTable(
        ['phase', 'check', 'title', ...head],
        items.map((x) => [...ref(x), ...row(x).map(markdownCell)]),
      ),
      '',
    );
  };
  section('❌ Regressed', c.regressed, ['before', 'now'], (x) => [sideText(x.base), sideText(x.next)]);
  section('✅ Fixed', c.fixed, ['before', 'now'], (x) => [sideText(x.base), sideText(x.next)]);
  section('Still failing', c.stillFailing, ['before', 'now'], (x) => [sideText(x.base), sideText(x.next)]);
  section('New', c.new, ['result'], (x) => [sideText(x.next)]);
  section('Gone', c.gone, ['result before'], (x) => [sideText(x.base)]);
  section('Not run (neither a regression nor a fix)', c.notRun, ['before', 'now'], (x) => [sideText(x.base), sideText(x.next)]);
  const l = c.latency;
  const stat = (name: string, s: LatencyStat) => [name, formatLatency(s.base), formatLatency(s.next), formatDeltaMs(s.deltaMs), formatDeltaPct(s.deltaPct)];
  out.push(`### Latency`, '', `${l.samples.base} latencies measured in base, ${l.samples.next} in next (nearest-rank percentiles).`, '');
  out.push(...markdownTable(['', 'base', 'next', 'Δ', 'Δ %'], [stat('p50', l.p50), stat('p95', l.p95)]), '');
  if (l.checks.length > 0) {
    out.push(`<details><summary>Per check (${l.checks.length} measured in both, largest change first)</summary>`, '');
    const rows = byLargestChange(l.checks).map((x) => [
      markdownCell(x.phase),
      markdownCell(x.id),
      formatLatency(x.baseMs),
      formatLatency(x.nextMs),
      formatDeltaMs(x.deltaMs),
      formatDeltaPct(x.deltaPct),
    ]);
    out.push(...markdownTable(['phase', 'check', 'base', 'next', 'Δ', 'Δ %'], rows), '', '</details>', '');
  }
  return out.join('\n');
}
