import { probeRuntimes } from '../prosody/runtime-choice.js';
import type { RuntimeKind } from '../prosody/types.js';
import { EXIT, bold, green, red, say } from './output.js';

interface Fact {
  available: boolean;
  detail: string;
}

/** What `xfed doctor --json` prints: one document, keys as documented in the README. */
interface DoctorReport {
  format: 'xfed-doctor/1';
  /** `--runtime auto` would find a runtime (the exit code is 0). */
  ok: boolean;
  testcontainers: Fact;
  docker: Fact;
  /** The base image of the Prosody image; null when no Docker engine answers. */
  baseImage: { image: string; why: string; present: boolean } | null;
  /** The Prosody image the container runtime uses; null when no Docker engine answers. */
  prosodyImage: { tag: string; present: boolean } | null;
  prosody: Fact;
  /** What `--runtime auto` picks, or null. */
  auto: RuntimeKind | null;
  /** Why it picks that, or what to do when it picks nothing. */
  reason: string;
}

async function doctorReport(opts: { baseImage?: string }): Promise<DoctorReport> {
  const probe = await probeRuntimes();
  let images: Pick<DoctorReport, 'baseImage' | 'prosodyImage'> = { baseImage: null, prosodyImage: null };
  if (probe.docker.available) {
    const { chooseBaseImage, imageExists, prosodyImageTag } = await import('../prosody/runtimes/images.js');
    const base = await chooseBaseImage(opts.baseImage);
    const tag = prosodyImageTag(base.image);
    images = { baseImage: base, prosodyImage: { tag, present: await imageExists(tag) } };
  }
  return {
    format: 'xfed-doctor/1',
    ok: probe.auto !== undefined,
    testcontainers: probe.testcontainers,
    docker: probe.docker,
    ...images,
    prosody: probe.prosody,
    auto: probe.auto ?? null,
    reason: probe.reason,
  };
}

/** `xfed doctor`: what this machine offers and what `--runtime auto` would pick, and why. */
export async function runDoctor(opts: { baseImage?: string; json?: boolean }): Promise<number> {
  const report = await doctorReport(opts);
  const code = report.ok ? EXIT.ok : EXIT.invalid;
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return code;
  }
  const mark = (ok: boolean) => (ok ? green('ok ') : red('no '));
  say(bold('xfed doctor'));
  if (!report.testcontainers.available) say(`  ${mark(false)} testcontainers   ${report.testcontainers.detail}`);
  say(`  ${mark(report.docker.available)} Docker engine    ${report.docker.detail}`);
  if (report.baseImage && report.prosodyImage) {
    const base = report.baseImage;
    say(`  ${mark(base.present)} base image       ${base.image} (${base.why}${base.present ? '' : '; not present locally'})`);
    const built = report.prosodyImage.present ? 'present' : 'built on first use, or now by xfed prepare';
    say(`      Prosody image    ${report.prosodyImage.tag} (${built})`);
  }
  say(`  ${mark(report.prosody.available)} prosody binary   ${report.prosody.detail}`);
  if (report.auto) say(`  ${green('->')}  --runtime auto picks ${bold(report.auto)}: ${report.reason}`);
  else say(`  ${red('->')}  ${report.reason}`);
  return code;
}
