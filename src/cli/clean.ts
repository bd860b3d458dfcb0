import { sweepLeftovers } from '../infra/reaper/leftovers.js';
import { EXIT } from './output.js';
import { processOutput, type CommandOutput } from './validate.js';

/**
 * `xfed clean`: lists what xfed processes that are gone left behind (their Prosody processes,
 * containers, networks, work directories, markers; a results.json still saying "running" is marked
 * killed) and removes it; `--dry-run` only lists. A live run's things are never touched: an owner
 * counts as gone only when no process has its PID and start time. One line per thing; exit 0.
 */
export async function runClean(opts: { dryRun?: boolean }, out: CommandOutput = processOutput): Promise<number> {
  const { leftovers, dockerProblem } = await sweepLeftovers({ docker: 'always', by: 'xfed clean', remove: !opts.dryRun });
  if (dockerProblem) out.stderr(`xfed clean: containers and networks not checked: Docker does not answer (${dockerProblem})\n`);
  const verb = opts.dryRun ? 'would remove' : 'removed';
  for (const l of leftovers) {
    const action = l.kind === 'results' ? (opts.dryRun ? 'would mark' : 'marked') : verb;
    out.stdout(`${action} ${l.what} (left by xfed process ${l.owner}, which is gone)\n`);
  }
  if (leftovers.length === 0) out.stdout('nothing left behind by xfed processes that are gone\n');
  return EXIT.ok;
}
