/**
 * An abort signal for one request: it fires after `ms`, or as soon as the caller's signal fires,
 * whichever comes first, and `clear()` (called once the request has settled) stops its timer and
 * lets go of the caller's signal.
 *
 * Unlike `AbortSignal.timeout` and `AbortSignal.any`, nothing outlives the request: a timer left to
 * run would fire long after the answer (a state write lasts a few milliseconds, its limit is a
 * second) and then build a `DOMException` and run abort listeners during some later request, several
 * times per write.
 *
 * @example
 * const limit = timeLimit(1_000, call.signal);
 * try {
 *   await client.send(command, { abortSignal: limit.signal });
 * } finally {
 *   limit.clear();
 * }
 */
export interface TimeLimit {
  readonly signal: AbortSignal;
  /** Ends the limit: the timer is cleared and the caller's signal no longer forwarded. */
  clear(): void;
}

export function timeLimit(ms: number, outer?: AbortSignal): TimeLimit {
  const controller = new AbortController();
  if (outer?.aborted) {
    controller.abort(outer.reason);
    return { signal: controller.signal, clear: () => undefined };
  }
  const forward = () => controller.abort(outer?.reason);
  outer?.addEventListener('abort', forward, { once: true });
  const timer = setTimeout(
    () => controller.abort(new DOMException('The operation timed out.', 'TimeoutError')),
    ms,
  );
  // Like `AbortSignal.timeout`: a pending limit does not keep the process alive.
  timer.unref();
  return {
    signal: controller.signal,
    clear() {
      clearTimeout(timer);
      outer?.removeEventListener('abort', forward);
    },
  };
}
