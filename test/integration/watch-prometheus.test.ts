import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pollUntil, withDeadline } from '../../src/infra/deadline.js';
import { freePort } from '../../src/infra/ports.js';
import { startCli, type CliRun } from '../helpers/cli-process.js';
import { DASHBOARD_FILE, expressions, type Dashboard } from '../helpers/grafana-dashboard.js';
import { describeWithTool } from '../helpers/tool-gate.js';
import { REHEARSAL_BREAK_ONLY } from '../helpers/watch-suites.js';

// A real Prometheus scrapes a real watch: the exposition passes promtool's lint, the sample alert
// rules load and evaluate, and every query of the sample Grafana dashboard runs against what was
// scraped, with the dashboard's variables as Grafana would fill them.

const RULES = fileURLToPath(new URL('../../docs/prometheus/xfed-watch-rules.yml', import.meta.url));
const JOB = 'xfed-watch';

// The rehearsal's one step breaks im-erin (erin moved to the 2019 pool, which has no gateway):
// the watch then has a check and the federation down, so the queries of outages have something to show.

/**
 * Grafana's variables as the dashboard's defaults fill them (every job, instance and check: a
 * regex), and its intervals as Grafana would choose them for a 5-minute range scraped every second.
 */
function filled(expr: string): string {
  return expr
    .replaceAll('$__rate_interval', '1m')
    .replaceAll('$__interval', '1s')
    .replaceAll('$__range', '5m')
    .replaceAll('$job', JOB)
    .replaceAll('$instance', '.+')
    .replaceAll('$check', '.+');
}

/** A variable's `label_values(metric, label)`, which is Grafana's and not PromQL, as the query Grafana sends for it. */
function asPromQL(expr: string): string {
  const m = /^label_values\((.*),\s*(\w+)\)$/.exec(expr.trim());
  return m ? `group by (${m[2]}) (${m[1]})` : expr;
}

interface QueryAnswer {
  status: string;
  error?: string;
  warnings?: string[];
  data?: { result: unknown[] };
}

describeWithTool('prometheus', 'a watch scraped by a real Prometheus', () => {
  let dir: string;
  let watch: CliRun | undefined;
  let prometheus: ChildProcess | undefined;
  let api: string;
  let metricsUrl: string;

  const query = async (expr: string): Promise<QueryAnswer> =>
    (await (await fetch(`${api}/api/v1/query?query=${encodeURIComponent(expr)}`, { signal: AbortSignal.timeout(10_000) })).json()) as QueryAnswer;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'xfed-prometheus-'));
    await writeFile(path.join(dir, 'suite.yaml'), REHEARSAL_BREAK_ONLY);
    const watchPort = await freePort();
    const apiPort = await freePort();
    api = `http://127.0.0.1:${apiPort}`;
    metricsUrl = `http://127.0.0.1:${watchPort}/metrics`;

    // Prometheus first: it scrapes the watch from its first seconds, so the counters' first
    // values are 0 and increase() sees the break and the marks that come later.
    const config = path.join(dir, 'prometheus.yml');
    await writeFile(
      config,
      [
        'global: { scrape_interval: 1s, evaluation_interval: 1s }',
        `rule_files: [${JSON.stringify(RULES)}]`,
        'scrape_configs:',
        `  - job_name: ${JOB}`,
        `    static_configs: [{ targets: ["127.0.0.1:${watchPort}"] }]`,
        '',
      ].join('\n'),
    );
    prometheus = spawn(
      'prometheus',
      [`--config.file=${config}`, `--storage.tsdb.path=${path.join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${apiPort}`, '--log.level=warn'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let log = '';
    prometheus.stderr!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-2000)));
    await pollUntil(async () => ((await fetch(`${api}/-/ready`).catch(() => undefined))?.ok ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 100,
      what: `Prometheus to be ready (${log})`,
    });

    watch = startCli([
      'watch',
      path.join(dir, 'suite.yaml'),
      '--phase',
      'baseline',
      '--interval',
      '500ms',
      '--rehearse',
      '5s',
      '--listen',
      `127.0.0.1:${watchPort}`,
      '--runtime',
      'process',
      '--out',
      path.join(dir, 'watch'),
    ]);
    await watch.waitForOutput(/target up in/, 60_000);
    await pollUntil(async () => ((await query(`up{job="${JOB}"} == 1`)).data?.result.length ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 250,
      what: 'Prometheus to scrape the watch',
    });
    // The rehearsal's break, scraped: from here on the outage queries have series to show.
    await watch.waitForOutput(/im-erin met -> unmet/, 60_000);
    await pollUntil(async () => ((await query('xfed_federation_state{state="unmet"} == 1')).data?.result.length ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 250,
      what: 'Prometheus to scrape the federation down',
    });
    // rate() and increase() need a sample after the change too.
    await pollUntil(async () => ((await query('count_over_time(xfed_federation_state{state="unmet"}[1m]) >= 3')).data?.result.length ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 250,
      what: 'three scrapes of the federation down',
    });
  }, 150_000);

  afterAll(async () => {
    for (const child of [prometheus, watch?.child]) {
      if (!child || child.exitCode !== null || child.signalCode !== null) continue;
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await withDeadline(gone, 30_000, 'a child to end').catch(() => child.kill('SIGKILL'));
    }
    await rm(dir, { recursive: true, force: true });
  }, 70_000);

  it("exposes metrics that pass promtool's lint (prom-client's own nodejs_ gauges aside)", async () => {
    const exposition = await (await fetch(metricsUrl)).text();
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: exposition, encoding: 'utf8', timeout: 30_000 });
    const problems = `${lint.stdout}${lint.stderr}`
      .split('\n')
      .filter(Boolean)
      // prom-client names three gauges nodejs_active_*_total; they are not xfed's to rename.
      .filter((l) => !/^nodejs_active_\w+_total non-counter metrics should not have "_total" suffix$/.test(l));
    expect(problems).toEqual([]);
    expect(exposition).toMatch(/^xfed_federation_up 0$/m);
  });

  it('loads the sample alert rules, evaluates each without error, and holds the federation-down alert pending', async () => {
    expect(spawnSync('promtool', ['check', 'rules', RULES], { encoding: 'utf8', timeout: 30_000 })).toMatchObject({ status: 0 });
    const rules = await pollUntil(
      async () => {
        const answer = (await (await fetch(`${api}/api/v1/rules`)).json()) as {
          data: { groups: { rules: { name: string; health: string; lastError?: string; state?: string }[] }[] };
        };
        const all = answer.data.groups.flatMap((g) => g.rules);
        return all.length > 0 && all.every((r) => r.health !== 'unknown') && all.find((r) => r.name === 'XmppFederationDown')?.state !== 'inactive'
          ? all
          : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 250, what: 'the rules to be evaluated' },
    );
    expect(rules.map((r) => [r.name, r.health, r.lastError ?? ''])).toEqual(rules.map((r) => [r.name, 'ok', '']));
    // Down, but for less than its minute: pending, not firing yet.
    expect(rules.find((r) => r.name === 'XmppFederationDown')?.state).toBe('pending');
    expect(rules.find((r) => r.name === 'XfedWatchStalled')?.state).toBe('inactive');
  });

  it('runs every query of the Grafana dashboard, and each panel shows data but those of events this watch did not have', async () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as Dashboard;
    const failed: string[] = [];
    const empty: string[] = [];
    for (const [where, expr] of expressions(dashboard)) {
      const promql = asPromQL(filled(expr));
      const answer = await query(promql);
      if (answer.status !== 'success' || answer.warnings?.length) failed.push(`${where}: ${promql}: ${answer.error ?? answer.warnings?.join('; ')}`);
      else if (answer.data!.result.length === 0) empty.push(where);
    }
    expect(failed).toEqual([]);
    // No --on-change here, and no notice: those panels are rightly empty. Every other one has data,
    // the rehearsal's mark and the break among them.
    expect(empty.filter((where) => !/hook/i.test(where))).toEqual(['panel "Marks and notices" B']);
  });
});
