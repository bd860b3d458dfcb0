/**
 * A strict reader of Prometheus' text exposition format 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/), for tests: no parser of it is
 * installed, and prom-client only writes it. It refuses what Prometheus would refuse or misread: a
 * sample before its family's TYPE, a family split in two, a repeated series, a bad name, label or
 * escape, a value that is not a float, a negative counter, and histogram buckets that are not
 * cumulative or whose +Inf bucket is not the count.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: MetricType;
  help: string;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
// Prometheus reads a value with Go's strconv.ParseFloat, which takes NaN and Inf in any case (and
// prom-client writes `Nan`); a number's own syntax is strict.
const FLOAT = /^(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]?inf(?:inity)?|nan)$/i;
const TYPES: readonly string[] = ['counter', 'gauge', 'histogram', 'summary', 'untyped'];

export function parseExposition(text: string): Map<string, Family> {
  if (!text.endsWith('\n')) throw new Error('the exposition does not end with a line feed');
  const families = new Map<string, Family>();
  const closed = new Set<string>();
  const series = new Set<string>();
  let current: Family | undefined;
  const lines = text.slice(0, -1).split('\n');
  for (const [i, line] of lines.entries()) {
    const fail = (why: string): never => {
      throw new Error(`line ${i + 1}: ${why}: ${JSON.stringify(line)}`);
    };
    if (line.trim() === '') continue;
    const meta = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
    if (meta) {
      const [, keyword, name, rest = ''] = meta as unknown as [string, string, string, string?];
      if (!METRIC_NAME.test(name)) fail('not a metric name');
      if (current?.name !== name) {
        if (current) closed.add(current.name);
        if (closed.has(name)) fail('a family seen before, split in two');
        current = families.get(name) ?? { name, type: 'untyped', help: '', samples: [] };
        families.set(name, current);
      }
      if (current.samples.length > 0) fail(`${keyword} after the family's samples`);
      if (keyword === 'TYPE') {
        if (!TYPES.includes(rest)) fail('not a metric type');
        current.type = rest as MetricType;
      } else {
        if (!/^(?:[^\\]|\\[\\n])*$/.test(rest)) fail('an escape HELP does not allow');
        current.help = rest.replace(/\\(\\|n)/g, (_, c: string) => (c === 'n' ? '\n' : '\\'));
      }
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = /^([^\s{]+)(?:\{(.*)\})?[ \t]+(\S+)(?:[ \t]+(-?\d+))?$/.exec(line);
    if (!m) fail('not a sample');
    const [, name, labelText, valueText] = m as unknown as [string, string, string | undefined, string];
    if (!METRIC_NAME.test(name)) fail('not a metric name');
    if (!FLOAT.test(valueText)) fail('not a float');
    const family = current && familyOf(current, name);
    if (!family) fail('a sample outside the family its TYPE line opened');
    const labels = parseLabels(labelText ?? '', fail);
    if ('le' in labels !== (family!.type === 'histogram' && name.endsWith('_bucket'))) fail('le on other than a histogram bucket, or a bucket without it');
    const value = /inf/i.test(valueText) ? (valueText.startsWith('-') ? -Infinity : Infinity) : /nan/i.test(valueText) ? NaN : Number(valueText);
    if (family!.type === 'counter' && !(value >= 0)) fail('a counter below 0');
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (series.has(key)) fail('a series seen before');
    series.add(key);
    family!.samples.push({ name, labels, value });
  }
  for (const family of families.values()) if (family.type === 'histogram') checkHistogram(family);
  return families;
}

function familyOf(family: Family, sampleName: string): Family | undefined {
  if (sampleName === family.name && family.type !== 'histogram') return family;
  const suffixes = family.type === 'histogram' ? ['_bucket', '_sum', '_count'] : family.type === 'summary' ? ['_sum', '_count'] : [];
  return suffixes.some((s) => sampleName === family.name + s) ? family : undefined;
}

function parseLabels(text: string, fail: (why: string) => never): Record<string, string> {
  const labels: Record<string, string> = {};
  let rest = text;
  while (rest !== '') {
    const m = /^([^=]*)="((?:[^"\\\n]|\\["\\n])*)"(,|$)/.exec(rest);
    if (!m) fail('not a label set (name="value", escapes \\\\ \\" \\n only)');
    const [whole, name, raw] = m as unknown as [string, string, string];
    if (!LABEL_NAME.test(name) || name.startsWith('__')) fail(`not a label name: ${name}`);
    if (name in labels) fail(`label ${name} twice`);
    labels[name] = raw.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
    rest = rest.slice(whole.length);
  }
  return labels;
}

function checkHistogram(family: Family): void {
  const groups = new Map<string, { buckets: [number, number][]; sum?: number; count?: number }>();
  for (const s of family.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const group = groups.get(key) ?? { buckets: [] };
    groups.set(key, group);
    if (s.name.endsWith('_bucket')) group.buckets.push([le === '+Inf' ? Infinity : Number(le), s.value]);
    else if (s.name.endsWith('_sum')) group.sum = s.value;
    else group.count = s.value;
  }
  for (const [key, g] of groups) {
    const where = `histogram ${family.name}${key}`;
    if (g.sum === undefined || g.count === undefined) throw new Error(`${where}: no _sum or no _count`);
    for (const [i, [le, n]] of g.buckets.entries()) {
      if (Number.isNaN(le)) throw new Error(`${where}: an le that is not a number`);
      const prev = g.buckets[i - 1];
      if (prev && (prev[0] >= le || prev[1] > n)) throw new Error(`${where}: buckets not in order of le or not cumulative`);
    }
    const inf = g.buckets.at(-1);
    if (!inf || inf[0] !== Infinity || inf[1] !== g.count) throw new Error(`${where}: the +Inf bucket is not the count`);
  }
}

/** The value of the one sample of `name` whose labels are exactly `labels`; undefined if there is none. */
export function valueOf(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = JSON.stringify(Object.entries(labels).sort());
  for (const family of families.values()) {
    for (const s of family.samples) if (s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === want) return s.value;
  }
  return undefined;
}
