import path from 'node:path';
import { projectRoot } from '../infra/project-root.js';
import type { RuntimeChoice } from '../prosody/types.js';
import { bold, dim, EXIT, say } from './output.js';
import { runRun } from './run.js';
import { runWatch } from './watch.js';

/**
 * `xfed demo` (npm run demo): the bundled SfB 2019 cutover rehearsal against the simulated legacy
 * side, with the live view, the verdict matrix and the reports.
 */
export async function runDemo(opts: { runtime: RuntimeChoice; baseImage?: string; out?: string }): Promise<number> {
  const suite = path.join(projectRoot(), 'scenarios', 'sfb2019-cutover.yaml');
  say(bold('xfed demo: the SfB Server 2019 cutover rehearsal, against the simulated legacy SfB side'));
  say(dim('  a real Prosody partner federates over S2S with a legacy Edge (Prosody), an XMPP-SIP gateway and SIP pools;'));
  say(dim('  each phase applies a migration step, then checks what the partner sees.'));
  return runRun([path.relative(process.cwd(), suite) || suite], {
    target: 'sim',
    runtime: opts.runtime,
    baseImage: opts.baseImage,
    out: opts.out,
    reporter: ['live'],
  });
}

/** The checks the watch demo repeats: the verify-federation phase's, before the cutover's later steps. */
// Not a presence check: a gateway restart ends the SIP subscriptions behind it for good (the suite
// subscribes again), so it would stay down to the end and hide the later breaks in the overall lane.
const WATCH_DEMO_CHECKS = ['verify-srv', 'verify-probe', 'verify-ping', 'verify-im-frank', 'verify-im-from-sfb'];

/**
 * `xfed demo --watch` (npm run demo:watch): a watch of the simulation while the rehearsal's later
 * migration steps are applied one phase at a time (a bad certificate and its renewal, an expired
 * internal certificate, a gateway restart, the SRV record removed and restored, the CMS moved and
 * back), so the timeline shows each break and recovery. It ends by itself after the last phase.
 */
export async function runWatchDemo(opts: { runtime: RuntimeChoice; baseImage?: string; out?: string; rehearse: string; listen: string }): Promise<number> {
  const suite = path.join(projectRoot(), 'scenarios', 'sfb2019-cutover.yaml');
  say(bold('xfed demo --watch: the cutover rehearsal under a watch, against the simulated legacy SfB side'));
  say(dim(`  five checks of the verify-federation phase in rounds; every ${opts.rehearse} the next phase's migration steps apply,`));
  say(dim('  with a mark on the timeline; the watch ends after the last one (Ctrl-C ends it sooner). Open the live page:'));
  const code = await runWatch(path.relative(process.cwd(), suite) || suite, {
    runtime: opts.runtime,
    baseImage: opts.baseImage,
    checks: WATCH_DEMO_CHECKS.join(','),
    interval: '2s',
    rehearse: opts.rehearse,
    listen: opts.listen,
    onChangeTimeout: '10s',
    logPartSize: '64MB',
    endAfterRehearsalMs: 10_000,
    ...(opts.out ? { out: opts.out } : {}),
  });
  // The outages are the demo's point: exit 1 (the federation was down) is the demo going as planned.
  return code === EXIT.unmet ? EXIT.ok : code;
}
