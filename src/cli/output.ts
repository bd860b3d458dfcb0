import pc from 'picocolors';
import { isUserError, ProblemsError } from '../errors.js';

/** Exit codes: 0 all good, 1 something checked did not hold, 2 invalid input or environment. */
export const EXIT = { ok: 0, unmet: 1, invalid: 2 } as const;

/** Colour only for a terminal, and never with NO_COLOR set (https://no-color.org). */
export const COLOR = process.stdout.isTTY === true && !process.env.NO_COLOR;
const paint = pc.createColors(COLOR);
export const { green, red, dim, bold } = paint;

export function say(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/**
 * Prints a user error as one line (plus the server log excerpt a startup error carries) and
 * returns exit code 2; anything else is a bug and keeps its stack.
 */
export function reportError(err: unknown): number {
  if (err instanceof ProblemsError) {
    // Every problem of every suite file, one `file:line:col: message` line each.
    process.stderr.write(`${err.message}\n`);
    return EXIT.invalid;
  }
  if (isUserError(err)) {
    process.stderr.write(`xfed: ${err.message}\n`);
    return EXIT.invalid;
  }
  process.stderr.write(`xfed: internal error (please report it): ${(err as Error)?.stack ?? String(err)}\n`);
  return EXIT.invalid;
}
