import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { EnvironmentError, StartupError } from '../../errors.js';
import { withDeadline } from '../../infra/deadline.js';
import { TestDnsServer } from '../../infra/dns.js';
import { guardOnExit } from '../../infra/exit-guard.js';
import { LineLog } from '../../infra/line-log.js';
import { freePort } from '../../infra/ports.js';
import { ownerLabels, recordDocker, thisOwner } from '../../infra/reaper/marker.js';
import { TeardownStack } from '../../infra/teardown.js';
import { waitUntilServing } from '../readiness.js';
import type { SetupProgress } from '../types.js';
import { chooseBaseImage, ensureProsodyImage, imageExists, tc } from './images.js';
import { relevantLogLines, serveInstance, type ProsodyInstance, type ProsodyInstanceSpec, type ProsodyRuntime } from './runtime.js';

/**
 * Ryuk (testcontainers' reaper) removes a killed process's containers when its image is here, and
 * is then left on; without it (no registry to pull it from) it is turned off and xfed's own
 * watchdog does that work (infra/reaper/), as it does with Ryuk for everything else.
 */
async function chooseReaper(): Promise<void> {
  if (process.env.TESTCONTAINERS_RYUK_DISABLED !== undefined) return;
  const { getReaperImage } = await import('testcontainers/build/reaper/reaper.js');
  const present = await imageExists(getReaperImage()).catch(() => false);
  process.env.TESTCONTAINERS_RYUK_DISABLED ??= present ? 'false' : 'true';
}

const C2S_PORT = 5222;
const S2S_PORT = 5269;
const COMPONENT_PORT = 5347;
const ROOT_IN_CONTAINER = '/xfed';

export interface DockerEngineStatus {
  available: boolean;
  detail: string;
}

/** Whether a Docker engine answers, within a few seconds. */
export async function dockerEngine(): Promise<DockerEngineStatus> {
  try {
    const { getContainerRuntimeClient } = await tc();
    const client = await withDeadline(getContainerRuntimeClient(), 10_000, 'the Docker engine');
    return { available: true, detail: `Docker ${client.info.containerRuntime.serverVersion} (${client.info.containerRuntime.operatingSystem})` };
  } catch (err) {
    return { available: false, detail: (err as Error).message.split('\n')[0]! };
  }
}

/**
 * Prosody in containers through testcontainers. All instances of a run share one Docker network
 * (aliases are the XMPP domains) and resolve each other through the run's test DNS, which listens
 * on the host's address on that network and serves SRV records, as Docker's own DNS does not.
 */
export class ContainerRuntime implements ProsodyRuntime {
  readonly kind = 'container' as const;
  private readonly teardown = new TeardownStack('container runtime');

  private constructor(
    readonly image: string,
    readonly network: import('testcontainers').StartedNetwork,
    readonly dns: TestDnsServer,
  ) {}

  static async start(opts: { baseImage?: string; progress?: (p: SetupProgress) => void } = {}): Promise<ContainerRuntime> {
    await tc(); // without testcontainers, that is the one thing to say
    const engine = await dockerEngine();
    if (!engine.available) {
      throw new EnvironmentError(`no Docker engine answers (${engine.detail}): start one (dockerd) or use --runtime process`);
    }
    await chooseReaper();
    const base = await chooseBaseImage(opts.baseImage);
    const { tag: image } = await ensureProsodyImage(base.image, { progress: opts.progress });
    const { Network } = await tc();
    // The owner id in the name finds the network after a hard kill (testcontainers' Network takes no labels).
    const name = `xfed-${thisOwner().owner}-${randomBytes(4).toString('hex')}`;
    const forget = recordDocker(name);
    // A failed start stays recorded: Docker may have made the network all the same.
    const network = await new Network({ nextUuid: () => name }).start();
    const unguard = guardOnExit(() => spawnSync('docker', ['network', 'rm', network.getName()], { stdio: 'ignore', timeout: 10_000 }));
    const dns = new TestDnsServer();
    const runtime = new ContainerRuntime(image, network, dns);
    runtime.teardown.defer(`docker network ${network.getName()}`, () =>
      network.stop().then(() => {
        unguard();
        forget();
      }),
    );
    // The test DNS listens on the host's address on this network only, so the containers resolve
    // SRV records the real way (Docker's own DNS answers A records of aliases, never SRV).
    await dns.start(0, await networkGateway(network.getId()));
    runtime.teardown.defer('test DNS server', () => dns.stop());
    return runtime;
  }

  describe(): string[] {
    return [
      `image ${this.image}`,
      `docker network ${this.network.getName()} (aliases are the XMPP domains)`,
      `test DNS ${this.dns.host}:${this.dns.port} (UDP and TCP; SRV and A records of every domain)`,
    ];
  }

  async startProsody(spec: ProsodyInstanceSpec): Promise<ProsodyInstance> {
    const { GenericContainer, Wait } = await tc();
    // S2S published on a chosen host address (for a real gateway): the container shares the
    // host's network, so Prosody binds that address itself, as the process runtime does.
    const onHost = spec.s2sListen !== undefined;
    const ports = onHost
      ? { c2s: await freePort('127.0.0.1'), s2s: spec.s2sListen!.port, ...(spec.componentListener ? { component: await freePort('127.0.0.1') } : {}) }
      : { c2s: C2S_PORT, s2s: S2S_PORT, ...(spec.componentListener ? { component: COMPONENT_PORT } : {}) };
    const config = spec.renderConfig({
      root: ROOT_IN_CONTAINER,
      c2sPort: ports.c2s,
      s2sPort: ports.s2s,
      ...(ports.component !== undefined ? { componentPort: ports.component } : {}),
      // Prosody's listeners (and its component listener) bind loopback unless told otherwise.
      interfaces: onHost ? ['127.0.0.1'] : ['*'],
      ...(onHost ? { s2sInterfaces: [spec.s2sListen!.host] } : {}),
      dnsForward: `${this.dns.host}@${this.dns.port}`,
      // Containers run as root, so the copied files' owner and mode never get in the way.
      runAsRoot: true,
    });
    await writeFile(path.join(spec.hostDir, 'prosody.cfg.lua'), config, { mode: 0o644 });

    const log = new LineLog();
    let markExited: (e: { code: number | null }) => void = () => undefined;
    const exited = new Promise<{ code: number | null }>((resolve) => (markExited = resolve));
    const name = `xfed-${spec.label.replace(/[^a-z0-9.-]/gi, '-')}-${process.pid}-${Date.now().toString(36)}`;
    const container = new GenericContainer(this.image)
      .withName(name)
      .withLabels({ 'org.xfed': 'prosody', ...ownerLabels() })
      .withCopyDirectoriesToContainer([{ source: spec.hostDir, target: ROOT_IN_CONTAINER }])
      .withLogConsumer((stream) => {
        stream.on('data', (chunk: Buffer | string) => log.write(chunk));
        stream.on('end', () => {
          log.end();
          markExited({ code: null });
        });
      })
      // Protocol-level readiness follows below; this only bounds the container's own start. The
      // pidfile, not a log line: at log level warn Prosody prints nothing when all goes well.
      .withWaitStrategy(Wait.forSuccessfulCommand(`test -s ${ROOT_IN_CONTAINER}/prosody.pid`))
      .withStartupTimeout(spec.startTimeoutMs);

    if (onHost) container.withNetworkMode('host');
    // Only ports in use: a wait on listening ports would wait for every exposed one.
    else
      container
        .withNetwork(this.network)
        .withNetworkAliases(...spec.domains)
        .withExposedPorts(...Object.values(ports));

    // Recorded before it exists, and kept when its start fails (it may exist all the same): a kill
    // while Docker creates it still leaves a marker that names it.
    const forget = recordDocker(name);
    let started: import('testcontainers').StartedTestContainer;
    try {
      started = await container.start();
    } catch (err) {
      throw new StartupError(`the Prosody container for ${spec.label} did not start: ${(err as Error).message.split('\n')[0]}`, relevantLogLines(log.all()));
    }
    const unguard = guardOnExit(() => spawnSync('docker', ['rm', '-f', '-v', started.getId()], { stdio: 'ignore', timeout: 10_000 }));
    const release = this.teardown.defer(`container ${started.getName()}`, () =>
      started.stop({ timeout: 2_000, remove: true, removeVolumes: true }).then(() => {
        unguard();
        forget();
      }),
    );

    const host = '127.0.0.1';
    const c2s = { host, port: onHost ? ports.c2s : started.getMappedPort(C2S_PORT) };
    const s2s = onHost ? { ...spec.s2sListen! } : { host, port: started.getMappedPort(S2S_PORT) };
    try {
      await waitUntilServing({
        log,
        c2s,
        s2s,
        domain: spec.readinessDomain,
        timeoutMs: spec.startTimeoutMs,
        exited,
        label: spec.label,
        probeC2s: spec.probeC2s !== false,
      });
    } catch (err) {
      await release();
      throw err;
    }
    const component = ports.component !== undefined ? { component: { host, port: onHost ? ports.component : started.getMappedPort(COMPONENT_PORT) } } : {};
    const peerAddress = onHost ? s2s : { host: await started.getIpAddress(this.network.getName()), port: S2S_PORT };
    // SIGKILL, as the OOM killer would; Docker ends the container's log stream once it is gone.
    const kill = async () => {
      await new Promise<void>((resolve) => execFile('docker', ['kill', '--signal', 'KILL', started.getId()], { timeout: 10_000 }, () => resolve()));
      await withDeadline(exited, 10_000, `the container of ${spec.label} to end after SIGKILL`);
    };
    return serveInstance({ spec, dns: this.dns, endpoints: { c2s, s2s, peerAddress, ...component, ports }, log, exited, kill, release });
  }

  async closedAddress(): Promise<{ host: string; port: number }> {
    // The host's own address on this network, on a port nothing of xfed's listens on.
    return { host: this.dns.host, port: await freePort(this.dns.host) };
  }

  async stop(): Promise<void> {
    await this.teardown.close();
  }
}

/** The host's address on a Docker network (its bridge gateway). */
async function networkGateway(networkId: string): Promise<string> {
  const { getContainerRuntimeClient } = await tc();
  const client = await getContainerRuntimeClient();
  const info = (await client.network.getById(networkId).inspect()) as { IPAM?: { Config?: Array<{ Gateway?: string }> } };
  const gateway = info.IPAM?.Config?.find((c) => c.Gateway && /^\d+\.\d+\.\d+\.\d+$/.test(c.Gateway))?.Gateway;
  if (!gateway) throw new EnvironmentError(`docker network ${networkId.slice(0, 12)} has no IPv4 gateway for the test DNS`);
  return gateway;
}
