import path from 'node:path';
import { XfedError } from '../errors.js';
import { parseDuration, parseRate } from '../infra/duration.js';
import type { LoadProfile } from '../load/profile.js';
import { LoadProgress } from '../load/report/progress.js';
import { formatLoadSummary } from '../load/report/summary.js';
import { writeLoadHtml } from '../load/report/html.js';
import { runLoad } from '../load/run.js';
import type { RuntimeChoice } from '../prosody/types.js';
import type { VariableSources } from '../scenario/loader.js';
import { COLOR, EXIT, reportError } from './output.js';

export interface LoadCommandOptions extends VariableSources {
  users: string;
  domains: string;
  rate: string;
  duration: string;
  presenceChurn: string;
  ramp: string;
  sfbUsers?: string;
  subscribe: boolean;
  grace: string;
  restart?: string;
  engine: 'xfed' | 'tsung';
  tsungHosts?: string;
  runtime: RuntimeChoice;
  baseImage?: string;
  out?: string;
}

/** The command's options as a profile; bad values are one line (exit 2). */
export function loadProfileOf(opts: LoadCommandOptions): LoadProfile {
  const users = count(opts.users, '--users');
  const durationMs = parseDuration(opts.duration, '--duration');
  const restart = opts.restart !== undefined ? parseRestart(opts.restart, durationMs) : undefined;
  return {
    users,
    domains: count(opts.domains, '--domains'),
    rate: parseRate(opts.rate, '--rate'),
    durationMs,
    rampMs: parseDuration(opts.ramp, '--ramp'),
    presenceChurn: parseRate(opts.presenceChurn, '--presence-churn', { zero: true }),
    subscribe: opts.subscribe,
    graceMs: parseDuration(opts.grace, '--grace'),
    ...(restart ? { restart } : {}),
  };
}

/** `edge@30s`, `gateway@1m`: what restarts, and when after the IMs started (within the duration). */
export function parseRestart(text: string, durationMs: number): { what: 'edge' | 'gateway'; atMs: number } {
  const m = /^(edge|gateway)@(.+)$/.exec(text.trim());
  if (!m) throw new XfedError(`--restart ${text}: expected edge@TIME or gateway@TIME (e.g. gateway@30s: 30 s after the IMs start)`);
  const atMs = parseDuration(m[2]!, '--restart');
  if (atMs >= durationMs) throw new XfedError(`--restart ${text}: the restart must come within --duration (${durationMs / 1000} s)`);
  return { what: m[1] as 'edge' | 'gateway', atMs };
}

function count(text: string, option: string): number {
  const n = Number(text.trim());
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < 1) throw new XfedError(`${option} ${text}: expected a whole number of at least 1`);
  return n;
}

/**
 * `xfed load SUITE`: N partner users through the suite's target, with live progress, the summary,
 * load.json and report.html. Exit 0 when the load held, 1 when it did not, 2 on bad input or a
 * missing piece; 130/143 on SIGINT/SIGTERM (after the results are written).
 */
export async function runLoadCommand(file: string, opts: LoadCommandOptions): Promise<number> {
  try {
    const profile = loadProfileOf(opts);
    const sfbUsers = opts.sfbUsers !== undefined ? count(opts.sfbUsers, '--sfb-users') : undefined;
    const tsungHosts = opts.tsungHosts
      ?.split(',')
      .map((h) => h.trim())
      .filter(Boolean);
    if (tsungHosts && opts.engine !== 'tsung') throw new XfedError('--tsung-hosts: only with --engine tsung');
    const write = (s: string) => void process.stdout.write(s);
    const live = process.stdout.isTTY === true && !process.env.CI;
    const progress = new LoadProgress({ live, color: COLOR, write, users: profile.users });
    write(`xfed load ${file}: ${profile.users} users on ${profile.domains} domain${profile.domains === 1 ? '' : 's'}, engine ${opts.engine}\n`);
    const { results } = await runLoad(file, profile, {
      runtime: opts.runtime,
      ...(opts.baseImage !== undefined ? { baseImage: opts.baseImage } : {}),
      ...(opts.var ? { var: opts.var } : {}),
      ...(opts.vars ? { vars: opts.vars } : {}),
      ...(sfbUsers !== undefined ? { sfbUsers } : {}),
      engine: opts.engine,
      ...(tsungHosts ? { tsungHosts } : {}),
      ...(opts.out !== undefined ? { out: opts.out } : {}),
      notice: (text) => progress.notice(text),
      progress: (p) => {
        if (p.done) progress.notice(`${p.task}: done`);
        else if (!p.detail) progress.notice(p.task);
      },
      events: {
        second: (s) => progress.second(s),
        notice: (text) => progress.notice(text),
      },
      onResults: async (results, out) => {
        progress.end();
        write(`\n${formatLoadSummary(results, { color: COLOR })}\n`);
        const html = path.join(out, 'report.html');
        await writeLoadHtml(results, html);
        write(`  results: ${path.join(out, 'load.json')}\n  report: ${html}\n`);
      },
    });
    return results.verdict.held ? EXIT.ok : EXIT.unmet;
  } catch (err) {
    return reportError(err);
  }
}
