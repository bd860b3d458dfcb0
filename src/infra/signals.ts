/**
 * The one owner of SIGINT and SIGTERM. It is armed when the first teardown stack exists, so a
 * suite run, `xfed up` and a Jest test that started servers all tear down on Ctrl-C. A signal
 * first tells the listeners (a run marks its results interrupted), then tears everything down and
 * exits with 130 or 143; a second signal while tearing down exits at once.
 */
const EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;
type HandledSignal = keyof typeof EXIT_CODES;

const listeners = new Set<(signal: HandledSignal) => void>();
let received: HandledSignal | undefined;
let armed = false;

/** Installs the handlers once; `teardown` releases whatever is live when a signal comes. */
export function armSignals(teardown: () => Promise<void>): void {
  if (armed) return;
  armed = true;
  for (const signal of Object.keys(EXIT_CODES) as HandledSignal[]) {
    process.on(signal, () => {
      const code = EXIT_CODES[signal];
      if (received) process.exit(code);
      received = signal;
      for (const l of listeners) l(signal);
      void teardown().finally(() => process.exit(code));
    });
  }
}

/** Calls `listener` when a signal arrives, before the teardown; returns a function that stops listening. */
export function onSignal(listener: (signal: HandledSignal) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The signal that is tearing this process down, if one came. */
export function signalReceived(): HandledSignal | undefined {
  return received;
}
