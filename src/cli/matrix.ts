import { runNegotiationMatrix, type MatrixRow } from '../matrix/negotiation-matrix.js';
import type { RuntimeChoice } from '../prosody/types.js';
import { loadSuite, type VariableSources } from '../scenario/loader.js';
import { describeProfileCommand } from '../sfb/partner-profile.js';
import { EXIT, green, red, say } from './output.js';

const line = (r: MatrixRow) =>
  `  ${r.asPredicted ? green('✓') : red('✗')} ${r.partner.tls.padEnd(9)} ${r.partner.auth.padEnd(12)} ${(r.predicted.join(' or ') || 'cannot federate').padEnd(38)} ${r.observed} (${r.detail})`;

/** `xfed matrix FILE`: each partner TLS / authentication setting against the suite's profile. */
export async function runMatrix(file: string, opts: { runtime: RuntimeChoice; baseImage?: string } & VariableSources): Promise<number> {
  const { suite } = await loadSuite(file, opts);
  const against = suite.target.kind === 'sim' ? 'the simulated Edge' : `the Edge of ${suite.sfbDomain}`;
  say(`xfed matrix ${file}: the partner's S2S settings against ${against}`);
  let header = false;
  const { profile, rows } = await runNegotiationMatrix(suite, {
    runtime: opts.runtime,
    baseImage: opts.baseImage,
    onRow: (row) => {
      if (!header) {
        say(`  ${' '} ${'TLS'.padEnd(9)} ${'auth'.padEnd(12)} ${'SfB matrix predicts'.padEnd(38)} observed`);
        header = true;
      }
      say(line(row));
    },
  });
  say(`  profile: ${describeProfileCommand(profile)}`);
  const unexpected = rows.filter((r) => !r.asPredicted).length;
  say(unexpected === 0 ? '  every combination negotiated as the matrix predicts' : `  ${unexpected} combination(s) differ from the matrix`);
  return unexpected === 0 ? EXIT.ok : EXIT.unmet;
}
