/**
 * How `npm start` stops on SIGINT and SIGTERM: the first signal closes every server and removes the
 * stack file, then exits 0; a second one, pressed later, exits at once (after removing the stack file,
 * which must never outlive the process).
 *
 * One Ctrl-C reaches the stack's process more than once: the terminal signals the whole process group
 * (npm, tsx and the stack), npm forwards it to tsx, and tsx relays it again when the stack has not
 * acknowledged it within 30 ms. Repeats within {@link SIGNAL_RELAY_WINDOW_MS} of the first are those
 * copies of the same press, not a second press.
 */

/** Repeats of a stop signal this soon after the first are copies relayed by npm and tsx. */
export const SIGNAL_RELAY_WINDOW_MS = 1_000;

/** How long a graceful stop may take before the process exits anyway. */
export const GRACEFUL_STOP_MS = 5_000;

export interface StopOptions {
  /** Closes every server and removes the stack file. */
  close: () => Promise<unknown>;
  /** What must be done even when exiting at once (removing the stack file), synchronously. */
  closeNow: () => void;
  exit: (code: number) => void;
  write: (text: string) => void;
  now?: () => number;
  setTimer?: (run: () => void, ms: number) => { unref(): unknown };
}

/** The handler to install for SIGINT and SIGTERM. */
export function stopOnSignal(options: StopOptions): (signal: NodeJS.Signals) => void {
  const now = options.now ?? Date.now;
  const setTimer = options.setTimer ?? setTimeout;
  let firstAt: number | undefined;
  const exitNow = (): void => {
    try {
      options.closeNow();
    } finally {
      options.exit(1);
    }
  };
  return (signal) => {
    const at = now();
    if (firstAt !== undefined) {
      if (at - firstAt < SIGNAL_RELAY_WINDOW_MS) return;
      options.write(`${signal} again: exiting now\n`);
      exitNow();
      return;
    }
    firstAt = at;
    options.write(`${signal}: shutting down\n`);
    setTimer(exitNow, GRACEFUL_STOP_MS).unref();
    options.close().then(
      () => options.exit(0),
      () => exitNow(),
    );
  };
}
