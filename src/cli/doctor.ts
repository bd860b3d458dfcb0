import { probeRuntimes } from '../prosody/runtime-choice.js';
import { EXIT, bold, green, red, say } from './output.js';

/** `xfed doctor`: what this machine offers and what `--runtime auto` would pick, and why. */
export async function runDoctor(opts: { baseImage?: string }): Promise<number> {
  const probe = await probeRuntimes();
  const mark = (ok: boolean) => (ok ? green('ok ') : red('no '));
  say(bold('xfed doctor'));
  say(`  ${mark(probe.docker.available)} Docker engine    ${probe.docker.detail}`);
  if (probe.docker.available) {
    const { chooseBaseImage, prosodyImageTag } = await import('../prosody/runtimes/container.js');
    const base = await chooseBaseImage(opts.baseImage);
    say(`  ${mark(base.present)} base image       ${base.image} (${base.why}${base.present ? '' : '; not present locally'})`);
    say(`      Prosody image    ${prosodyImageTag(base.image)} (built on first use)`);
  }
  say(`  ${mark(probe.prosody.available)} prosody binary   ${probe.prosody.detail}`);
  if (probe.auto) {
    say(`  ${green('->')}  --runtime auto picks ${bold(probe.auto)}: ${probe.reason}`);
    return EXIT.ok;
  }
  say(`  ${red('->')}  ${probe.reason}`);
  return EXIT.invalid;
}
