import { EnvironmentError } from '../errors.js';
import { withDeadline } from '../infra/deadline.js';
import { findProsodyBinary } from './runtimes/process.js';
import type { ProsodyRuntime } from './runtimes/runtime.js';
import type { RuntimeChoice, RuntimeKind, SetupProgress } from './types.js';

export interface RuntimeProbe {
  /** The optional testcontainers package, which the container runtime needs. */
  testcontainers: { available: boolean; detail: string };
  docker: { available: boolean; detail: string };
  prosody: { available: boolean; detail: string };
  /** What `auto` picks, or undefined when neither way is available. */
  auto: RuntimeKind | undefined;
  reason: string;
}

const NO_RUNTIME =
  'no way to run Prosody: start a Docker engine (apt-get install docker.io && dockerd &) for --runtime container, ' +
  'or install Prosody (apt-get install prosody lua-unbound) for --runtime process';

const TESTCONTAINERS_HINT = 'the container runtime also needs the testcontainers package (npm i testcontainers@12)';

/** What doctor says inside xfed's own image (XFED_IN_IMAGE=1, from docker/xfed/Dockerfile): it runs Prosody as a process and has no testcontainers by design. */
const IN_IMAGE = {
  testcontainers: "not part of xfed's image",
  docker: "not used inside xfed's image (the container runtime is for a machine with a Docker engine)",
  reason: "xfed's image runs Prosody as a process",
};

/** Looks at what this machine offers, without starting anything. */
export async function probeRuntimes(): Promise<RuntimeProbe> {
  const { testcontainersStatus } = await import('./runtimes/images.js');
  const inImage = process.env.XFED_IN_IMAGE === '1';
  const testcontainers = inImage ? { available: false, detail: IN_IMAGE.testcontainers } : await testcontainersStatus();
  const docker = testcontainers.available
    ? await (await import('./runtimes/container.js')).dockerEngine()
    : { available: false, detail: inImage ? IN_IMAGE.docker : 'not asked: testcontainers is not installed' };
  const bin = findProsodyBinary();
  const prosody = !bin
    ? { available: false, detail: 'no prosody binary on PATH' }
    : bin.unbound
      ? { available: true, detail: `${bin.path} (Prosody ${bin.version}, lua-unbound present)` }
      : { available: false, detail: `${bin.path} (Prosody ${bin.version}) without lua-unbound: apt-get install lua-unbound` };
  const found = { testcontainers, docker, prosody };
  if (docker.available) return { ...found, auto: 'container', reason: 'a Docker engine answers' };
  const noContainers = inImage
    ? IN_IMAGE.reason
    : testcontainers.available
      ? `no Docker engine (${docker.detail})`
      : 'testcontainers is not installed (npm i testcontainers@12 for containers)';
  if (prosody.available) return { ...found, auto: 'process', reason: `${noContainers}; prosody is on PATH` };
  return { ...found, auto: undefined, reason: testcontainers.available ? NO_RUNTIME : `${NO_RUNTIME}; ${TESTCONTAINERS_HINT}` };
}

/** Resolves `auto` to a runtime kind, or fails with one line naming both ways to fix it. */
async function resolveRuntimeKind(choice: RuntimeChoice): Promise<RuntimeKind> {
  if (choice !== 'auto') return choice;
  const probe = await probeRuntimes();
  if (!probe.auto) throw new EnvironmentError(probe.reason);
  return probe.auto;
}

export async function startRuntime(choice: RuntimeChoice, opts: { baseImage?: string; progress?: (p: SetupProgress) => void } = {}): Promise<ProsodyRuntime> {
  const kind = await resolveRuntimeKind(choice);
  if (kind === 'process') {
    const { ProcessRuntime } = await import('./runtimes/process.js');
    return ProcessRuntime.start();
  }
  const { ContainerRuntime } = await import('./runtimes/container.js');
  // A backstop: the image build has its own bound (BUILD_TIMEOUT_MS) with a better error.
  return withDeadline(ContainerRuntime.start(opts), 660_000, 'the container runtime (image build and network)');
}
