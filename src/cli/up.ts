import { Federation } from '../partner/federation.js';
import type { CertificateKind, RuntimeChoice, S2sAuth, TlsMode } from '../prosody/types.js';
import { onSignal } from '../infra/signals.js';
import { LiveReporter } from '../report/live.js';
import { COLOR, EXIT, bold, dim, say } from './output.js';

export interface UpOptions {
  domain: string[];
  user: string[];
  runtime: RuntimeChoice;
  baseImage?: string;
  tls: TlsMode;
  auth: S2sAuth;
  certificates: CertificateKind;
  secureAuth: boolean;
}

/** `xfed up`: one partner Prosody, kept up until Ctrl-C (the signal handler tears it down). */
export async function runUp(opts: UpOptions): Promise<number> {
  const started = performance.now();
  // The first container run builds the Prosody image: its progress, as `xfed run` shows it.
  const live = new LiveReporter({ live: process.stdout.isTTY === true && !process.env.CI, color: COLOR, write: (s) => void process.stdout.write(s) });
  const federation = await Federation.start({ runtime: opts.runtime, baseImage: opts.baseImage, progress: (p) => live.onProgress(p) }).finally(() =>
    live.onEnd(),
  );
  const partner = await federation.addPartner({
    domains: opts.domain,
    users: opts.user,
    s2s: { tls: opts.tls, auth: opts.auth, certificates: opts.certificates, secureAuth: opts.secureAuth },
  });
  say(bold(`xfed up: partner ready in ${(performance.now() - started).toFixed(0)} ms (${partner.runtime} runtime)`));
  say(`  domains     ${partner.domains.join(', ')}`);
  say(`  c2s         ${partner.c2s.host}:${partner.c2s.port}`);
  say(`  s2s         ${partner.s2s.host}:${partner.s2s.port}`);
  say(`  trust (CA)  ${partner.trustPath}`);
  const s = partner.s2sSecurity;
  say(`  s2s policy  tls ${s.tls}, auth ${s.auth}, certificates ${s.certificates}, secure auth ${s.secureAuth ? 'on' : 'off'}`);
  for (const line of federation.runtime.describe()) say(`  runtime     ${line}`);
  say(`  work dir    ${partner.workDir}`);
  say('  accounts');
  for (const a of partner.accounts) say(`    ${a.jid.padEnd(32)} password ${a.password}`);
  if (partner.accounts.length === 0) say(dim('    none (add --user NAME)'));
  say(dim('Press Ctrl-C to stop and tear everything down.'));
  await new Promise<never>(() => {
    // Stays until SIGINT/SIGTERM: the signal owner tears the partner down and exits.
    setInterval(() => undefined, 1 << 30);
    onSignal((signal) => say(`${signal === 'SIGINT' ? '\n' : ''}xfed up: stopping...`));
  });
  return EXIT.ok;
}
