/**
 * Last-resort synchronous cleanup when the process exits without its teardown having run (an
 * uncaught error, process.exit() in a caller, a test runner ending a worker). Normal teardown is
 * asynchronous and ordered (TeardownStack); this only kills and removes what would otherwise
 * outlive xfed. Each owner removes its entry once it has released the thing itself.
 */
const guards = new Set<() => void>();
let installed = false;

export function guardOnExit(release: () => void): () => void {
  if (!installed) {
    installed = true;
    process.on('exit', () => {
      // Newest first, as teardown does: a container must go before its network.
      for (const g of [...guards].reverse()) {
        try {
          g();
        } catch {
          // Best effort: the process is going away.
        }
      }
    });
  }
  guards.add(release);
  return () => guards.delete(release);
}
