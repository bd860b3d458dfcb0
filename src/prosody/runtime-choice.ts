import { EnvironmentError } from '../errors.js';
import { withDeadline } from '../infra/deadline.js';
import { findProsodyBinary } from './runtimes/process.js';
import type { ProsodyRuntime } from './runtimes/runtime.js';
import type { RuntimeChoice, RuntimeKind } from './types.js';

export interface RuntimeProbe {
  docker: { available: boolean; detail: string };
  prosody: { available: boolean; detail: string };
  /** What `auto` picks, or undefined when neither way is available. */
  auto: RuntimeKind | undefined;
  reason: string;
}

const NO_RUNTIME =
  'no way to run Prosody: start a Docker engine (apt-get install docker.io && dockerd &) for --runtime container, ' +
  'or install Prosody (apt-get install prosody lua-unbound) for --runtime process';

/** Looks at what this machine offers, without starting anything. */
export async function probeRuntimes(): Promise<RuntimeProbe> {
  const { dockerEngine } = await import('./runtimes/container.js');
  const docker = await dockerEngine();
  const bin = findProsodyBinary();
  const prosody = !bin
    ? { available: false, detail: 'no prosody binary on PATH' }
    : bin.unbound
      ? { available: true, detail: `${bin.path} (Prosody ${bin.version}, lua-unbound present)` }
      : { available: false, detail: `${bin.path} (Prosody ${bin.version}) without lua-unbound: apt-get install lua-unbound` };
  if (docker.available) return { docker, prosody, auto: 'container', reason: 'a Docker engine answers' };
  if (prosody.available) return { docker, prosody, auto: 'process', reason: `no Docker engine (${docker.detail}); prosody is on PATH` };
  return { docker, prosody, auto: undefined, reason: NO_RUNTIME };
}

/** Resolves `auto` to a runtime kind, or fails with one line naming both ways to fix it. */
async function resolveRuntimeKind(choice: RuntimeChoice): Promise<RuntimeKind> {
  if (choice !== 'auto') return choice;
  const probe = await probeRuntimes();
  if (!probe.auto) throw new EnvironmentError(NO_RUNTIME);
  return probe.auto;
}

export async function startRuntime(choice: RuntimeChoice, opts: { baseImage?: string } = {}): Promise<ProsodyRuntime> {
  const kind = await resolveRuntimeKind(choice);
  if (kind === 'process') {
    const { ProcessRuntime } = await import('./runtimes/process.js');
    return ProcessRuntime.start();
  }
  const { ContainerRuntime } = await import('./runtimes/container.js');
  return withDeadline(ContainerRuntime.start(opts), 600_000, 'the container runtime (image build and network)');
}
