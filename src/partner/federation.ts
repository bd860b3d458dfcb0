import { TestCa } from '../infra/pki.js';
import { TeardownStack } from '../infra/teardown.js';
import { PartnerServer } from './partner-server.js';
import { startRuntime } from '../prosody/runtime-choice.js';
import type { ProsodyRuntime } from '../prosody/runtimes/runtime.js';
import type { PartnerOptions } from './types.js';
import type { RuntimeChoice, RuntimeKind, SetupProgress } from '../prosody/types.js';

export interface FederationOptions {
  runtime?: RuntimeChoice;
  /** Base image for the container runtime (else XFED_BASE_IMAGE, else the default). */
  baseImage?: string;
  /** Told while the runtime does something slow (the first build of the Prosody image). */
  progress?: (p: SetupProgress) => void;
}

/**
 * The servers of one run that federate with each other: one runtime (test DNS or Docker network),
 * one test CA, any number of Prosody servers. `stop()` releases all of them, in reverse order.
 */
export class Federation implements AsyncDisposable {
  private constructor(
    readonly runtime: ProsodyRuntime,
    readonly ca: TestCa,
    private readonly teardown: TeardownStack,
  ) {}

  static async start(opts: FederationOptions = {}): Promise<Federation> {
    return TeardownStack.start('federation', async (teardown) => {
      const ca = await TestCa.create();
      const runtime = await startRuntime(opts.runtime ?? 'auto', { baseImage: opts.baseImage, progress: opts.progress });
      teardown.defer(`${runtime.kind} runtime`, () => runtime.stop());
      return new Federation(runtime, ca, teardown);
    });
  }

  get kind(): RuntimeKind {
    return this.runtime.kind;
  }

  /** Starts a partner Prosody in this federation; it is stopped with the federation at the latest. */
  async addPartner(options: PartnerOptions): Promise<PartnerServer> {
    const partner = await PartnerServer.start(options, { runtime: this.runtime, ca: this.ca });
    this.teardown.defer(`partner ${partner.domains[0]}`, () => partner.stop());
    return partner;
  }

  async stop(): Promise<void> {
    await this.teardown.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
