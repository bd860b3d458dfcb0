import path from 'node:path';
import { projectRoot } from '../infra/project-root.js';
import type { RuntimeChoice } from '../prosody/types.js';
import { bold, dim, say } from './output.js';
import { runRun } from './run.js';

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
