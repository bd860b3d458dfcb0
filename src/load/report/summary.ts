import pc from 'picocolors';
import { formatMs } from '../../report/format.js';
import type { EngineResult, LoadResults } from '../results.js';
import { describeProfile, formatBytes, formatCounts, formatLatency, formatRate, oneLine, plural } from './format.js';

const LABEL = 15;

/**
 * The console summary of a load run, without a trailing newline: the verdict and its reasons, then
 * one block per figure (logins, subscriptions, IMs, latencies, presence, the storm, the generator's
 * cost) and the notices. Coloured (ANSI) only when `color` is set.
 */
export function formatLoadSummary(results: LoadResults, opts: { color?: boolean } = {}): string {
  const k = pc.createColors(opts.color ?? false);
  const e = results.engine;
  const row = (label: string, ...lines: string[]) => lines.filter((l) => l !== '').map((l, i) => `  ${(i === 0 ? label : '').padEnd(LABEL)}${l}`);
  const red = (n: number, text: string) => (n > 0 ? k.red(text) : text);

  const out: string[] = [
    k.bold(`xfed load: ${oneLine(results.suite)} (${results.target === 'sim' ? 'simulation' : 'gateway'}, ${results.runtime} runtime, engine ${e.engine})`),
    k.dim(`  ${describeProfile(results.profile)}`),
    results.verdict.held ? k.green('  ✓ held') : k.red('  ✗ not held'),
    ...results.verdict.reasons.map((r) => `    ${results.verdict.held ? '' : k.red('- ')}${oneLine(r)}`),
  ];

  const l = e.logins;
  const loginFailures = formatCounts(l.failed);
  out.push(
    ...row(
      'logins',
      `${red(l.attempted - l.succeeded, `${l.succeeded}/${l.attempted}`)} at ${formatRate(l.rateAchieved)}   ${formatLatency(l.time)}`,
      loginFailures ? k.red(`failed: ${oneLine(loginFailures)}`) : '',
    ),
  );

  const s = e.subscriptions;
  if (s) {
    const failures = formatCounts(s.failed);
    out.push(
      ...row(
        'subscriptions',
        `${red(s.attempted - s.succeeded, `${s.succeeded}/${s.attempted}`)}   ${formatLatency(s.time)}`,
        failures ? k.red(`failed: ${oneLine(failures)}`) : '',
      ),
    );
  }

  out.push(...row('IMs', ...messageLines(e, k)));
  out.push(...row('round trip', `${formatLatency(e.messages.roundTrip)}   ${k.dim('scheduled send to echo received')}`));
  if (results.oneWay) out.push(...row('one way', `${formatLatency(results.oneWay)}   ${k.dim('scheduled send to the SIP MESSAGE')}`));
  out.push(...row('send lag', `${formatLatency(e.messages.sendLag)}   ${k.dim("the generator's own lateness")}`));
  if (e.presence.sent > 0 || e.presence.errors > 0)
    out.push(...row('presence', `${e.presence.sent} changes sent, ${red(e.presence.errors, plural(e.presence.errors, 'error'))}`));
  if (e.storm) out.push(...row('storm', ...stormLines(e.storm, k)));

  const g = e.generator;
  out.push(
    ...row(
      'generator',
      `CPU ${g.cpuSeconds.toFixed(1)} s, peak RSS ${formatBytes(g.peakRssBytes)} (${plural(g.processes, 'process', 'processes')})${
        g.rssAllOnlineBytes !== undefined ? `, ${formatBytes(g.rssAllOnlineBytes)} with every user online` : ''
      }`,
    ),
  );
  if (e.notices.length > 0) out.push(...row('notices', ...e.notices.map((n) => k.yellow(oneLine(n)))));
  return out.join('\n');
}

function messageLines(e: EngineResult, k: ReturnType<typeof pc.createColors>): string[] {
  const m = e.messages;
  const short = m.rateAchieved < m.rateTarget * 0.95;
  const rate = `rate ${formatRate(m.rateTarget)} asked, ${formatRate(m.rateAchieved)} sent, ${formatRate(m.throughput)} delivered`;
  const counts = [
    `sent ${m.sent}${m.scheduled !== m.sent ? ` of ${m.scheduled} scheduled` : ''}`,
    `delivered ${m.delivered}`,
    m.lost > 0 ? k.red(`lost ${m.lost}`) : 'lost 0',
    m.duplicates > 0 ? k.red(`duplicates ${m.duplicates}`) : 'duplicates 0',
    m.reordered > 0 ? k.yellow(`reordered ${m.reordered}`) : 'reordered 0',
  ].join('  ');
  const errors = formatCounts(m.errors);
  return [short ? k.yellow(rate) : rate, counts, errors ? k.red(`errors: ${oneLine(errors)}`) : ''];
}

function stormLines(storm: NonNullable<EngineResult['storm']>, k: ReturnType<typeof pc.createColors>): string[] {
  const what = storm.what === 'edge' ? 'the Edge' : 'the gateway';
  const back =
    storm.allBackMs !== undefined
      ? `all ${storm.subscriptions} subscriptions back ${formatMs(storm.allBackMs)} after`
      : k.red(`${storm.back}/${storm.subscriptions} subscriptions back, the rest never`);
  return [`${what} restarted ${formatMs(storm.atMs)} into the IMs; ${back}`, `each back after: ${formatLatency(storm.time)}`];
}
