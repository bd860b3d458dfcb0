import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EnvironmentError, StartupError, TimeoutError } from '../../errors.js';
import { withDeadline } from '../../infra/deadline.js';
import { projectRoot } from '../../infra/project-root.js';
import { thisOwner } from '../../infra/reaper/marker.js';
import type { SetupProgress } from '../types.js';

type Testcontainers = typeof import('testcontainers');

/** testcontainers is an optional peer dependency: the process runtime runs without it. */
const TESTCONTAINERS_MISSING = 'the container runtime needs the testcontainers package: npm i testcontainers@12 (or use --runtime process)';

/** testcontainers, loaded when a container is first needed (it is heavy, and may not be installed). */
export async function tc(): Promise<Testcontainers> {
  // No registry is reachable on the machines xfed targets: without this (and Ryuk turned off,
  // chooseReaper), testcontainers tries to pull ryuk and alpine before anything starts. Explicit
  // user settings win. Set here, at first use, not at import: importing xfed changes nothing.
  process.env.TESTCONTAINERS_HOST_OVERRIDE ??= 'localhost';
  try {
    return await import('testcontainers');
  } catch (err) {
    // Only testcontainers itself missing; a broken install of it keeps its own error.
    const e = err as NodeJS.ErrnoException;
    if (e?.code === 'ERR_MODULE_NOT_FOUND' && /['"]testcontainers['"]/.test(e.message)) throw new EnvironmentError(TESTCONTAINERS_MISSING);
    throw err;
  }
}

/** Whether testcontainers can be loaded; the detail says how to get it when not. */
export async function testcontainersStatus(): Promise<{ available: boolean; detail: string }> {
  try {
    await tc();
    return { available: true, detail: 'installed' };
  } catch (err) {
    return { available: false, detail: (err as Error).message.split('\n')[0]! };
  }
}

const DEFAULT_BASE_IMAGE = 'debian:bookworm-slim';
/** What `xfed prepare` (and the README) make with debootstrap when no registry is reachable. */
export const LOCAL_BASE_IMAGE = 'local/debian:bookworm';
/** How long an image build may take (apt-get inside the base image: usually one to two minutes). */
const BUILD_TIMEOUT_MS = 600_000;

export async function imageExists(name: string): Promise<boolean> {
  const { getContainerRuntimeClient, ImageName } = await tc();
  const client = await getContainerRuntimeClient();
  return client.image.exists(ImageName.fromString(name));
}

/**
 * The base image: `XFED_BASE_IMAGE` or the flag when given; else `debian:bookworm-slim` if it is
 * here or can be pulled, falling back to the debootstrap-made `local/debian:bookworm` when only
 * that one exists locally.
 */
export async function chooseBaseImage(explicit?: string): Promise<{ image: string; why: string; present: boolean }> {
  const named = explicit ?? process.env.XFED_BASE_IMAGE;
  if (named) return { image: named, why: explicit ? 'from --base-image' : 'from XFED_BASE_IMAGE', present: await imageExists(named) };
  if (await imageExists(DEFAULT_BASE_IMAGE)) return { image: DEFAULT_BASE_IMAGE, why: 'default, present locally', present: true };
  if (await imageExists(LOCAL_BASE_IMAGE)) return { image: LOCAL_BASE_IMAGE, why: 'local debootstrap image (no default image here)', present: true };
  return { image: DEFAULT_BASE_IMAGE, why: 'default, will be pulled from the registry', present: false };
}

export function prosodyImageTag(baseImage: string): string {
  const dockerfile = readFileSync(path.join(projectRoot(), 'docker', 'prosody', 'Dockerfile'));
  const hash = createHash('sha256').update(dockerfile).update('\0').update(baseImage).digest('hex').slice(0, 12);
  return `xfed/prosody:${hash}`;
}

export interface BuildOptions {
  /** Told once per build step, and when the build is done. */
  progress?: (p: SetupProgress) => void;
  timeoutMs?: number;
}

/** Builds the Prosody image unless an image with the same tag exists. */
export async function ensureProsodyImage(baseImage: string, opts: BuildOptions = {}): Promise<{ tag: string; built: boolean }> {
  const tag = prosodyImageTag(baseImage);
  if (await imageExists(tag)) return { tag, built: false };
  await buildImage({
    context: path.join(projectRoot(), 'docker', 'prosody'),
    tag,
    buildArgs: { BASE_IMAGE: baseImage },
    task: `building ${tag} on ${baseImage}`,
    hint: `the base image must be a Debian with apt-get and a reachable mirror; without a registry, xfed prepare makes ${LOCAL_BASE_IMAGE} with debootstrap`,
    ...opts,
  });
  return { tag, built: true };
}

const STEP = /^Step (\d+)\/(\d+) : (.*)$/;
const TAIL_LINES = 12;

/**
 * `docker build` through the engine API (the Docker client testcontainers holds), reading the
 * build's stream as it comes: each `Step n/m` line is told to `progress`, and the output of the
 * step that runs is kept, so a failure names the step and shows its last lines. testcontainers'
 * own build() shows nothing of this and cannot be bounded; this one is aborted at the deadline.
 */
async function buildImage(o: { context: string; tag: string; buildArgs: Record<string, string>; task: string; hint: string } & BuildOptions): Promise<void> {
  const { getContainerRuntimeClient } = await tc();
  const docker = (await getContainerRuntimeClient()).container.dockerode;
  const startedAt = Date.now();
  const timeoutMs = o.timeoutMs ?? BUILD_TIMEOUT_MS;
  const abort = new AbortController();
  let step = 'before the first step';
  let tail: string[] = [];
  let failure: string | undefined;

  const build = (async () => {
    const stream = await docker.buildImage(
      { context: o.context, src: readdirSync(o.context) },
      // The classic builder: its stream has plain `Step n/m` lines, and it needs no BuildKit session.
      { t: o.tag, buildargs: o.buildArgs, labels: { 'org.xfed.image': 'prosody' }, rm: true, forcerm: true, version: '1', abortSignal: abort.signal },
    );
    await follow(docker, stream, (event) => {
      if (event.error !== undefined || event.errorDetail !== undefined) failure = event.errorDetail?.message ?? event.error;
      for (const line of (event.stream ?? '').split('\n').map((l) => l.trimEnd())) {
        const m = STEP.exec(line);
        if (m) {
          step = `step ${m[1]}/${m[2]} ${m[3]}`;
          tail = [];
          o.progress?.({ task: o.task, detail: oneLine(step), startedAt });
        } else if (line && !/^ ---> |^Removing intermediate container /.test(line)) {
          tail = [...tail.slice(1 - TAIL_LINES), line];
        }
      }
    });
  })();

  try {
    await withDeadline(build, timeoutMs, `${o.task}`);
  } catch (err) {
    abort.abort();
    // The engine ends the stream when the request is aborted (and cancels the build); bounded all the same.
    await withDeadline(build, 10_000, `${o.task} to stop`).catch(() => undefined);
    const why = err instanceof TimeoutError ? `did not finish within ${Math.round(timeoutMs / 1000)} s` : `failed (${(err as Error).message.split('\n')[0]})`;
    throw new StartupError(`${o.task} ${why} at ${oneLine(step)}; ${o.hint}`, tail);
  }
  if (failure !== undefined) throw new StartupError(`${o.task} failed at ${oneLine(step)}: ${failure.trim()}; ${o.hint}`, tail);
  o.progress?.({ task: o.task, startedAt, done: true });
}

type Dockerode = Awaited<ReturnType<Testcontainers['getContainerRuntimeClient']>>['container']['dockerode'];

/** One JSON object of the engine's progress stream (build, import). */
interface EngineEvent {
  stream?: string;
  error?: string;
  errorDetail?: { message?: string };
}

/** Reads an engine progress stream to its end, one event at a time (dockerode's parser). */
function follow(docker: Dockerode, stream: NodeJS.ReadableStream, onEvent: (event: EngineEvent) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve()), onEvent));
}

/** A Dockerfile instruction or command, on one short line. */
function oneLine(text: string, max = 72): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 3)}...` : flat;
}

/** `local/<name>:<suite>`: a Debian base that `xfed prepare` makes here with debootstrap, as no registry is needed for it. */
export function debootstrapSuite(image: string): string | undefined {
  return /^local\/[a-z0-9._-]+:([a-z]+)$/.exec(image)?.[1];
}

/**
 * Makes a minimal Debian base image without a registry: debootstrap into a temporary directory
 * (from the machine's Debian mirror), then `docker import` of that tree. Needs root and debootstrap.
 */
export async function buildDebootstrapImage(image: string, opts: BuildOptions = {}): Promise<void> {
  const suite = debootstrapSuite(image);
  if (!suite) throw new EnvironmentError(`${image} is not a local/<name>:<debian suite> image name, which xfed prepare could make with debootstrap`);
  const task = `making ${image} with debootstrap ${suite}`;
  const startedAt = Date.now();
  // Named as xfed's work directories are, so `xfed clean` removes it after a hard kill.
  const rootfs = await mkdtemp(path.join(tmpdir(), `xfed-rootfs-${thisOwner().owner}-`));
  try {
    const timeoutMs = opts.timeoutMs ?? BUILD_TIMEOUT_MS;
    const tail: string[] = [];
    const keep = (line: string) => tail.splice(0, tail.length, ...[...tail, line].slice(-TAIL_LINES));
    const debootstrap = spawn('debootstrap', ['--variant=minbase', suite, rootfs], { stdio: ['ignore', 'pipe', 'pipe'] });
    let lines = '';
    const onData = (chunk: Buffer) => {
      lines += chunk.toString();
      const parts = lines.split('\n');
      lines = parts.pop()!;
      for (const line of parts.filter(Boolean)) {
        keep(line);
        // debootstrap's own stages (`I: Retrieving Packages`, `I: Installing core packages...`).
        if (
          line.startsWith('I: ') &&
          !/^I: ((Retrieving|Validating|Extracting|Unpacking|Configuring) [a-z0-9]|Valid Release|Checking|Chosen|Found)/.test(line)
        ) {
          opts.progress?.({ task, detail: oneLine(line.slice(3)), startedAt });
        }
      }
    };
    debootstrap.stdout.on('data', onData);
    debootstrap.stderr.on('data', onData);
    const code = await withDeadline(
      new Promise<number | null>((resolve, reject) => {
        debootstrap.once('error', (err: NodeJS.ErrnoException) =>
          reject(
            err.code === 'ENOENT'
              ? new EnvironmentError(`debootstrap is not installed: apt-get install debootstrap (it makes ${image} without a registry)`)
              : err,
          ),
        );
        debootstrap.once('close', resolve);
      }),
      timeoutMs,
      task,
    ).catch((err: unknown) => {
      debootstrap.kill('SIGTERM');
      throw err instanceof TimeoutError ? new StartupError(`${task} did not finish within ${Math.round(timeoutMs / 1000)} s`, tail) : err;
    });
    if (code !== 0) throw new StartupError(`${task} failed (exit ${code}; it needs root and a reachable Debian mirror)`, tail);

    opts.progress?.({ task, detail: 'docker import', startedAt });
    const { getContainerRuntimeClient } = await tc();
    const docker = (await getContainerRuntimeClient()).container.dockerode;
    const tar = spawn('tar', ['-C', rootfs, '-c', '.'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const tarred = new Promise<string | undefined>((resolve) => {
      let stderr = '';
      tar.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      tar.once('error', (err) => resolve(err.message));
      tar.once('close', (code) => resolve(code === 0 ? undefined : `tar exited ${code}: ${stderr.trim().split('\n').at(-1)}`));
    });
    const imported = await docker.importImage(tar.stdout, { repo: image.slice(0, image.lastIndexOf(':')), tag: suite });
    let failure: string | undefined;
    await withDeadline(
      follow(docker, imported, (event) => (failure ??= event.errorDetail?.message ?? event.error)),
      timeoutMs,
      `docker import of ${image}`,
    );
    // A tree cut short would be imported as a broken image: it is removed, not kept as if ready.
    failure ??= await withDeadline(tarred, 10_000, 'tar to end');
    if (failure !== undefined) {
      await docker
        .getImage(image)
        .remove()
        .catch(() => undefined);
      throw new StartupError(`${task}: docker import failed: ${failure}`);
    }
    opts.progress?.({ task, startedAt, done: true });
  } finally {
    await rm(rootfs, { recursive: true, force: true });
  }
}
