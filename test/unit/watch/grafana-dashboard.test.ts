import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { parseExposition, type Family } from './prometheus-text.js';
import { sampleMetrics } from './sample-watch.js';
import { allPanels, DASHBOARD_FILE, expressions, type Dashboard } from '../../helpers/grafana-dashboard.js';

const DS_UID = '${DS_PROMETHEUS}';
const GRID_WIDTH = 24;
/** Labels Prometheus adds to every scraped series. */
const TARGET_LABELS = ['job', 'instance'];
const GRAFANA_VARIABLES = ['__range', '__rate_interval', '__interval', '__range_s', '__interval_ms'];
const PANEL_TYPES = ['row', 'stat', 'timeseries', 'state-timeline', 'bargauge', 'gauge', 'table', 'text'];
const PROMQL_FUNCTIONS = ['sum', 'max', 'min', 'avg', 'count', 'rate', 'increase', 'changes', 'histogram_quantile', 'time', 'label_values', 'by', 'without'];

/** The labels each family of an exposition has, `le` for a histogram's buckets. */
function labelsByFamily(families: Map<string, Family>): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const f of families.values()) {
    const names = (suffix: string) => {
      const set = new Set(TARGET_LABELS);
      for (const s of f.samples) if (s.name === f.name + suffix) for (const l of Object.keys(s.labels)) set.add(l);
      return set;
    };
    if (f.type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) out.set(f.name + suffix, names(suffix));
    else out.set(f.name, names(''));
  }
  return out;
}

/** What is wrong with the dashboard against the metrics a watch exposes; empty when nothing is. */
function problemsOf(d: Dashboard, families: Map<string, Family>): string[] {
  const problems: string[] = [];
  if (!d.uid || !d.title) problems.push('no uid or title');
  if (typeof d.schemaVersion !== 'number' || d.schemaVersion < 36 || d.schemaVersion > 41)
    problems.push(`schemaVersion ${d.schemaVersion} is not one of Grafana 10 or 11`);
  if (!d.__inputs?.some((i) => i.name === 'DS_PROMETHEUS' && i.type === 'datasource' && i.pluginId === 'prometheus'))
    problems.push('no DS_PROMETHEUS datasource input');
  const panels = allPanels(d);
  const required = new Set((d.__requires ?? []).filter((r) => r.type === 'panel').map((r) => r.id));
  const ids = new Set<number>();
  for (const p of panels) {
    const name = `panel ${p.id} "${p.title}"`;
    if (typeof p.id !== 'number' || !Number.isInteger(p.id) || p.id < 1) problems.push(`${name}: no positive integer id`);
    else if (ids.has(p.id)) problems.push(`${name}: its id is another panel's`);
    else ids.add(p.id);
    if (!p.title) problems.push(`${name}: no title`);
    if (!p.type || !PANEL_TYPES.includes(p.type)) problems.push(`${name}: type ${p.type} is not one this dashboard uses`);
    else if (p.type !== 'row' && !required.has(p.type)) problems.push(`${name}: type ${p.type} is not in __requires`);
    const g = p.gridPos;
    if (!g || ![g.x, g.y, g.w, g.h].every((n) => Number.isInteger(n)) || g.x < 0 || g.y < 0 || g.w < 1 || g.h < 1 || g.x + g.w > GRID_WIDTH) {
      problems.push(`${name}: gridPos ${JSON.stringify(g)} is not inside the ${GRID_WIDTH}-column grid`);
    }
    if (p.type === 'row') continue;
    if (p.datasource?.uid !== DS_UID) problems.push(`${name}: its datasource is not ${DS_UID}`);
    const targets = p.targets ?? [];
    if (targets.length === 0) problems.push(`${name}: no query`);
    const refIds = targets.map((t) => t.refId);
    if (new Set(refIds).size !== refIds.length || refIds.some((r) => !r)) problems.push(`${name}: refIds missing or repeated`);
    for (const t of targets) if (t.datasource?.uid !== DS_UID) problems.push(`${name} ${t.refId}: its datasource is not ${DS_UID}`);
  }
  // Panels that overlap cover each other in Grafana.
  const placed = panels.filter((p) => p.gridPos);
  for (const [i, a] of placed.entries()) {
    for (const b of placed.slice(i + 1)) {
      const [p, q] = [a.gridPos!, b.gridPos!];
      if (p.x < q.x + q.w && q.x < p.x + p.w && p.y < q.y + q.h && q.y < p.y + p.h) problems.push(`panels ${a.id} and ${b.id} overlap`);
    }
  }
  const known = labelsByFamily(families);
  const variables = new Set([...(d.templating?.list ?? []).map((v) => v.name), ...GRAFANA_VARIABLES]);
  for (const [where, expr] of expressions(d)) problems.push(...promqlProblems(expr, known, variables).map((p) => `${where}: ${p}`));
  return problems;
}

/** The metrics an expression names must be exposed, with the labels it matches and groups by. */
function promqlProblems(expr: string, known: Map<string, Set<string>>, variables: Set<string>): string[] {
  const problems: string[] = [];
  if (!expr.trim()) return ['no expression'];
  // Strings blanked to spaces of their length: what they say is no name, and positions stay.
  const bare = expr.replace(/"(?:[^"\\]|\\.)*"/g, (s) => `"${' '.repeat(s.length - 2)}"`);
  let depth = 0;
  for (const c of bare) {
    depth += '({['.includes(c) ? 1 : ')}]'.includes(c) ? -1 : 0;
    if (depth < 0) break;
  }
  if (depth !== 0) problems.push('brackets do not balance');
  for (const [, v] of expr.matchAll(/\$(\w+)/g)) if (!variables.has(v!)) problems.push(`$${v} is no variable of the dashboard`);
  const named = new Set<string>();
  // An identifier not followed by `(` and not a grouping's label list is a metric name.
  for (const m of bare.matchAll(/(?<![\w$])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\{[^}]*\})?/g)) {
    const [, name, selector] = m as unknown as [string, string, string | undefined];
    const after = bare.slice(m.index! + m[0].length).trimStart();
    const before = bare.slice(0, m.index).trimEnd();
    if (after.startsWith('(') || PROMQL_FUNCTIONS.includes(name) || /\b(?:by|without)\s*\([^)]*$/.test(before) || /^[0-9]/.test(name)) continue;
    // A range ([1m]) or the label that label_values() reads.
    if (/\[[^\]]*$/.test(before) || /label_values\([^()]*,$/.test(before)) continue;
    const labels = known.get(name);
    if (!labels) {
      problems.push(`${name} is not a metric the watch exposes`);
      continue;
    }
    named.add(name);
    for (const [, label] of (selector ?? '').matchAll(/(\w+)\s*(?:=~|!~|!=|=)\s*"/g)) if (!labels.has(label!)) problems.push(`${name} has no label ${label}`);
  }
  const groupable = new Set([...named].flatMap((n) => [...known.get(n)!]));
  for (const [, list] of bare.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)) {
    for (const label of list!.split(',').map((l) => l.trim()))
      if (label && !groupable.has(label)) problems.push(`it groups by ${label}, a label none of its metrics has`);
  }
  for (const [, , label] of expr.matchAll(/label_values\(([^,]*),\s*(\w+)\)/g))
    if (!groupable.has(label!)) problems.push(`label_values of ${label}, a label its metric does not have`);
  return problems;
}

describe('the sample Grafana dashboard, docs/grafana/xfed-watch.json', () => {
  let dashboard: Dashboard;
  let families: Map<string, Family>;
  beforeAll(async () => {
    dashboard = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as Dashboard;
    families = parseExposition(await sampleMetrics().exposition());
  });

  it('imports cleanly and names only metrics and labels a watch exposes', () => {
    expect(problemsOf(dashboard, families)).toEqual([]);
  });

  it('shows what the issue asks for', () => {
    const all = expressions(dashboard)
      .map(([, e]) => e)
      .join('\n');
    for (const metric of [
      'xfed_federation_up',
      'xfed_check_state{',
      'histogram_quantile(0.5, sum by (check, le) (rate(xfed_check_latency_seconds_bucket',
      'histogram_quantile(0.95, sum by (check, le) (rate(xfed_check_latency_seconds_bucket',
      'xfed_check_outage_seconds_total',
      'xfed_check_transitions_total',
      '(xfed_edge_certificate_expiry_timestamp_seconds{job=~"$job",instance=~"$instance"} - time()) / 86400',
      'xfed_edge_tls_info',
      'process_resident_memory_bytes',
      'process_open_fds',
    ]) {
      expect({ metric, shown: all.includes(metric) }).toEqual({ metric, shown: true });
    }
    const marks = dashboard.annotations?.list?.find((a) => a.expr?.includes('xfed_watch_marks_total'));
    expect(marks?.datasource?.uid).toBe(DS_UID);
    expect(allPanels(dashboard).some((p) => p.type === 'state-timeline')).toBe(true);
  });

  it.each<[string, (d: Dashboard) => void, RegExp]>([
    ['a metric no watch exposes', (d) => (d.panels![1]!.targets![0]!.expr = 'xfed_federation_upp{job=~"$job"}'), /xfed_federation_upp is not a metric/],
    [
      'a histogram without its suffix',
      (d) => (d.panels![1]!.targets![0]!.expr = 'rate(xfed_check_latency_seconds[5m])'),
      /xfed_check_latency_seconds is not a metric/,
    ],
    ['a label its metric lacks', (d) => (d.panels![1]!.targets![0]!.expr = 'xfed_federation_up{check="im-out"}'), /xfed_federation_up has no label check/],
    ['a grouping by a label no metric has', (d) => (d.panels![1]!.targets![0]!.expr = 'sum by (user) (xfed_check_success)'), /groups by user/],
    ['an unknown variable', (d) => (d.panels![1]!.targets![0]!.expr = 'xfed_federation_up{job=~"$team"}'), /\$team is no variable/],
    ['unbalanced brackets', (d) => (d.panels![1]!.targets![0]!.expr = 'sum(xfed_federation_up'), /brackets do not balance/],
    ['a repeated panel id', (d) => (d.panels![2]!.id = d.panels![1]!.id), /its id is another panel's/],
    ['overlapping panels', (d) => (d.panels![2]!.gridPos = { ...d.panels![1]!.gridPos! }), /overlap/],
    ['a panel past the grid', (d) => (d.panels![1]!.gridPos = { x: 20, y: 1, w: 8, h: 4 }), /not inside the 24-column grid/],
    ['a panel on another datasource', (d) => (d.panels![1]!.datasource = { type: 'prometheus', uid: 'prod' }), /datasource is not/],
    [
      'a variable that reads a label the metric lacks',
      (d) => (d.templating!.list![0]!.query = 'label_values(xfed_watch_info, check)'),
      /label_values of check/,
    ],
  ])('finds %s', (_, spoil, problem) => {
    const copy = JSON.parse(JSON.stringify(dashboard)) as Dashboard;
    spoil(copy);
    const problems = problemsOf(copy, families);
    expect(problems.some((p) => problem.test(p))).toBe(true);
  });
});
