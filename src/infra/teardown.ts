import { armSignals } from './signals.js';

/**
 * Teardown is owned by whoever starts a thing: it registers a release function on a
 * `TeardownStack` right after the thing exists, and the stack releases in reverse order, on
 * success, on failure and on SIGINT/SIGTERM (infra/signals.ts).
 */
export type Release = () => Promise<void> | void;

const liveStacks = new Set<TeardownStack>();

export class TeardownStack implements AsyncDisposable {
  private readonly releases: Array<{ what: string; release: Release }> = [];
  private closing: Promise<void> | undefined;

  constructor(readonly name: string) {
    liveStacks.add(this);
    armSignals(closeAllStacks);
  }

  /**
   * Builds something that owns a stack: `build` registers each part's release as it starts it, and
   * when `build` fails, what it had started is released before the error goes on. The one
   * start-or-release block of xfed.
   */
  static async start<T>(name: string, build: (stack: TeardownStack) => Promise<T>): Promise<T> {
    const stack = new TeardownStack(name);
    try {
      return await build(stack);
    } catch (err) {
      await stack.close().catch(() => undefined);
      throw err;
    }
  }

  /** Registers `release` to run at teardown; returns a function that releases it early. */
  defer(what: string, release: Release): () => Promise<void> {
    const entry = { what, release };
    this.releases.push(entry);
    return async () => {
      const i = this.releases.indexOf(entry);
      if (i >= 0) {
        this.releases.splice(i, 1);
        await release();
      }
    };
  }

  /** Hands ownership of everything on `child` to this stack (released as one entry). */
  adopt(child: TeardownStack): void {
    liveStacks.delete(child);
    this.defer(child.name, () => child.close());
  }

  get size(): number {
    return this.releases.length;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Releases everything in reverse order. Errors are collected, not allowed to stop the rest. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const errors: unknown[] = [];
      while (this.releases.length > 0) {
        const { what, release } = this.releases.pop()!;
        try {
          await release();
        } catch (err) {
          errors.push(new Error(`teardown of ${what} failed: ${(err as Error).message}`, { cause: err }));
        }
      }
      liveStacks.delete(this);
      if (errors.length === 1) throw errors[0];
      if (errors.length > 1) throw new AggregateError(errors, `${errors.length} teardown steps of ${this.name} failed`);
    })();
    return this.closing;
  }
}

/** Tears down every live stack; used by the signal handlers and by process exit paths. */
export async function closeAllStacks(): Promise<void> {
  // Newest first, one at a time: a partner's containers must be gone before its network goes.
  for (const stack of [...liveStacks].reverse()) {
    await stack.close().catch(() => undefined);
  }
}
