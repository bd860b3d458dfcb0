import { withDeadline } from '../infra/deadline.js';
import { probeRuntimes } from '../prosody/runtime-choice.js';
import type { RuntimeChoice, SetupProgress } from '../prosody/types.js';
import { LiveReporter } from '../report/live.js';
import { COLOR, EXIT, green, red, say } from './output.js';

export interface PrepareOptions {
  /** `auto`: every runtime this machine can offer; a named one must end up ready. */
  runtime: RuntimeChoice;
  baseImage?: string;
}

/** One thing prepare looked at: ready as it was, made ready now, or not ready with the fix. */
interface Item {
  what: string;
  state: 'ready' | 'done' | 'failed' | 'skipped';
  detail: string;
}

const PULL_TIMEOUT_MS = 120_000;

/**
 * `xfed prepare`: gets this machine ready before cutover night, so a run starts at once: the
 * Prosody image (and, without a registry, the local Debian base image it is built on) for the
 * container runtime, Prosody with lua-unbound for the process runtime. One line per item; a second
 * run finds everything ready and changes nothing.
 */
export async function runPrepare(opts: PrepareOptions): Promise<number> {
  const probe = await probeRuntimes();
  const items: Item[] = [];
  const show = (item: Item) => {
    items.push(item);
    const mark = { ready: green('ready'), done: green('done '), failed: red('no   '), skipped: 'skip ' }[item.state];
    say(`  ${mark} ${item.what.padEnd(15)} ${item.detail}`);
  };

  if (opts.runtime !== 'container') {
    const missing = opts.runtime === 'auto' ? 'skipped' : 'failed';
    show({ what: 'prosody', state: probe.prosody.available ? 'ready' : missing, detail: probe.prosody.detail });
  }
  if (opts.runtime !== 'process') {
    if (!probe.docker.available) {
      const why = probe.testcontainers.available ? `no Docker engine answers (${probe.docker.detail}): start one (dockerd)` : probe.testcontainers.detail;
      show({ what: 'container', state: opts.runtime === 'auto' ? 'skipped' : 'failed', detail: why });
    } else {
      show({ what: 'Docker engine', state: 'ready', detail: probe.docker.detail });
      await prepareImages(opts.baseImage, show);
    }
  }

  const failed = items.filter((i) => i.state === 'failed');
  const ready = items.filter((i) => i.state === 'ready' || i.state === 'done');
  if (ready.length === 0) say(`xfed prepare: ${probe.reason}`);
  if (failed.length > 0 || ready.length === 0) return EXIT.invalid;
  const skipped = items.filter((i) => i.state === 'skipped').map((i) => i.what);
  const changed = items.some((i) => i.state === 'done');
  say(`xfed prepare: ready${changed ? '' : ', nothing to do'}${skipped.length > 0 ? `; not prepared: ${skipped.join(', ')}` : ''}`);
  return EXIT.ok;
}

/** The base image (pulled, or made with debootstrap where no registry answers), then the Prosody image on it. */
async function prepareImages(explicit: string | undefined, show: (item: Item) => void): Promise<void> {
  const images = await import('../prosody/runtimes/images.js');
  const live = new LiveReporter({ live: process.stdout.isTTY === true && !process.env.CI, color: COLOR, write: (s) => void process.stdout.write(s) });
  // The item's own line says when it is done.
  const progress = (p: SetupProgress) => (p.done ? live.onEnd() : live.onProgress(p));
  const attempt = async (what: string, work: () => Promise<Item['detail']>): Promise<boolean> => {
    try {
      show({ what, state: 'done', detail: await work() });
      return true;
    } catch (err) {
      live.onEnd();
      show({ what, state: 'failed', detail: (err as Error).message });
      return false;
    }
  };
  const since = (t: number) => `${Math.round((Date.now() - t) / 1000)} s`;

  let base = await images.chooseBaseImage(explicit);
  if (base.present) {
    show({ what: 'base image', state: 'ready', detail: `${base.image} (${base.why})` });
  } else {
    const named = (explicit ?? process.env.XFED_BASE_IMAGE) !== undefined;
    const local = images.debootstrapSuite(base.image) !== undefined;
    // A local/<name>:<suite> image is made here; any other is pulled, and the default falls back
    // to the local debootstrap image when no registry answers.
    let pulled: string | undefined;
    if (!local) {
      const t = Date.now();
      pulled = await pull(base.image).then(
        () => undefined,
        // dockerode's `(HTTP code 500) server error - ` says nothing the engine's own words do not.
        (err: Error) => err.message.split('\n')[0]!.replace(/^\(HTTP code \d+\) [a-z ]+ - /, ''),
      );
      if (pulled === undefined) show({ what: 'base image', state: 'done', detail: `${base.image} pulled in ${since(t)}` });
      else if (named) {
        show({
          what: 'base image',
          state: 'failed',
          detail: `${base.image} is not here and could not be pulled (${pulled.trim()}); name a local image, or ${images.LOCAL_BASE_IMAGE}, which prepare makes with debootstrap`,
        });
        return;
      }
    }
    if (local || pulled !== undefined) {
      const target = local ? base.image : images.LOCAL_BASE_IMAGE;
      const t = Date.now();
      const why = local ? '' : ` (no registry answered for ${base.image}: ${pulled})`;
      const ok = await attempt('base image', async () => {
        await images.buildDebootstrapImage(target, { progress });
        return `${target} made with debootstrap in ${since(t)}${why}`;
      });
      if (!ok) return;
      base = { image: target, why: 'made by xfed prepare', present: true };
    }
  }

  const t = Date.now();
  const tag = images.prosodyImageTag(base.image);
  if (await images.imageExists(tag)) {
    show({ what: 'Prosody image', state: 'ready', detail: `${tag} on ${base.image}` });
    return;
  }
  await attempt('Prosody image', async () => {
    await images.ensureProsodyImage(base.image, { progress });
    return `${tag} built on ${base.image} in ${since(t)}`;
  });
}

/** Pulls an image through the engine, bounded: without a registry the engine may wait long for DNS. */
async function pull(image: string): Promise<void> {
  const images = await import('../prosody/runtimes/images.js');
  const { getContainerRuntimeClient, ImageName } = await images.tc();
  const client = await getContainerRuntimeClient();
  await withDeadline(client.image.pull(ImageName.fromString(image)), PULL_TIMEOUT_MS, `docker pull ${image}`);
  if (!(await images.imageExists(image))) throw new Error(`docker pull ${image} made no image`);
}
