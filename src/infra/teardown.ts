/**
 * Teardown is owned by whoever starts a thing: it registers a release function on a
 * `TeardownStack` right after the thing exists, and the stack releases in reverse order, on
 * success, on failure and on SIGINT/SIGTERM (see `onSignal`).
 */
export type Release = () => Promise<void> | void;

const liveStacks = new Set<TeardownStack>();
let signalsInstalled = false;

export class TeardownStack {
  private readonly releases: Array<{ what: string; release: Release }> = [];
  private closing: Promise<void> | undefined;

  constructor(readonly name: string) {
    liveStacks.add(this);
    installSignalHandlers();
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

export function liveStackCount(): number {
  return liveStacks.size;
}

function installSignalHandlers(): void {
  if (signalsInstalled) return;
  signalsInstalled = true;
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.on(signal, () => {
      if (liveStacks.size === 0) process.exit(code);
      // A second signal while tearing down exits at once.
      process.once(signal, () => process.exit(code));
      void closeAllStacks().finally(() => process.exit(code));
    });
  }
}
