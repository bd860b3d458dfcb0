/**
 * Errors a user can cause or fix. The CLI prints them as one line and exits 2; anything else
 * is a bug and keeps its stack.
 */
export class XfedError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad input whose message is already one `file:line:col: message` line per problem: printed as it is. */
export class ProblemsError extends XfedError {}

/**
 * A suite's input that is wrong where it is read, not where it is written: a file it names that
 * cannot be read, a password variable that is not set. Retrying cannot fix it.
 */
export class InputError extends XfedError {}

/** Something missing or broken in the environment, with the fix in the message. */
export class EnvironmentError extends XfedError {}

/** A server that xfed started did not come up; `logLines` hold the relevant lines of its log. */
export class StartupError extends XfedError {
  constructor(
    message: string,
    readonly logLines: string[] = [],
  ) {
    super(logLines.length > 0 ? `${message}\n${logLines.map((l) => `  | ${l}`).join('\n')}` : message);
  }
}

/**
 * A check or step that this target cannot perform (a lab user xfed does not drive cannot be made
 * to write; a real Edge has no simulated deployment to change). It is its own verdict, "not
 * possible" with this reason, apart from a failure of the system under test and from a check the
 * harness could not run.
 */
export class NotPossible extends XfedError {}

/** A bounded wait ran out. */
export class TimeoutError extends XfedError {}

export function isUserError(err: unknown): err is XfedError {
  return err instanceof XfedError;
}
