import { describe } from '@jest/globals';
import { spawnSync } from 'node:child_process';

let missing: string | null | undefined;

/** Why Tsung (Debian's `tsung`, with its Erlang) cannot run here, or undefined. */
function tsungMissing(): string | undefined {
  if (missing === undefined) {
    const r = spawnSync('tsung', ['-v'], { encoding: 'utf8', timeout: 10_000 });
    missing = r.error || r.status !== 0 ? 'Tsung is not installed (apt-get install tsung)' : null;
  }
  return missing ?? undefined;
}

/**
 * A describe block that needs Tsung: skipped with the reason where it is missing, unless
 * XFED_REQUIRE_RUNTIMES names tsung, as CI does: then it runs and fails saying what is missing.
 */
export function describeWithTsung(name: string, body: () => void): void {
  const why = tsungMissing();
  const required = (process.env.XFED_REQUIRE_RUNTIMES ?? '').split(',').includes('tsung');
  if (why && !required) {
    process.stderr.write(`xfed tests: ${name} skipped: ${why}\n`);
    describe.skip(`${name} (skipped: ${why})`, body);
  } else describe(name, body);
}
