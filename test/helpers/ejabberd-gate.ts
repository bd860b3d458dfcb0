import { describe } from '@jest/globals';
import { ejabberdMissing } from './ejabberd.js';

/**
 * Whether the tests that need ejabberd run here. Without it they are skipped with the reason
 * (said once on stderr), unless XFED_REQUIRE_RUNTIMES names ejabberd, as CI does: then they run
 * and fail saying what is missing.
 */
export function ejabberdGate(what: string): {
  missing: string | undefined;
  /** The body of a describe block, or a skipped block that says why. */
  tests: (body: () => void) => () => void;
  /** In a beforeAll or a test: throws when ejabberd is required and missing. */
  check: () => void;
} {
  const missing = ejabberdMissing();
  const required = (process.env.XFED_REQUIRE_RUNTIMES ?? '').split(',').includes('ejabberd');
  if (missing) process.stderr.write(`xfed tests: ${what} ${required ? 'required but ' : ''}skipped: ${missing}\n`);
  return {
    missing,
    tests: (body) => (missing && !required ? () => describe.skip(`(skipped: ${missing})`, body) : body),
    check: () => {
      if (missing) throw new Error(`ejabberd is required (XFED_REQUIRE_RUNTIMES) but ${missing}`);
    },
  };
}
