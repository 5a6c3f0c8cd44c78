/**
 * One load at a time per container (middy's cache rule): a caller arriving while a load runs shares
 * its promise instead of starting another; once it settles, success or failure, the next caller
 * starts a fresh one (a failure is never kept). The credential cache and the webhook secret list use it.
 *
 * @example
 * const flight = singleFlight<string[]>();
 * const list = await flight.run(() => readFromAffix());
 */
export interface SingleFlight<T> {
  /** The running load's promise, or `load()` started now. */
  run(load: () => Promise<T>): Promise<T>;
  /** The running load, if any. */
  readonly pending: Promise<T> | undefined;
}

export function singleFlight<T>(): SingleFlight<T> {
  let pending: Promise<T> | undefined;
  return {
    run(load) {
      if (pending !== undefined) return pending;
      const started = load().finally(() => {
        if (pending === started) pending = undefined;
      });
      pending = started;
      return started;
    },
    get pending() {
      return pending;
    },
  };
}
