/**
 * A request's time: its deadline for upstream work on the monotonic clock, and the abort signal of
 * one step bounded by it.
 *
 * One mechanism owns the end of a request: this deadline. The budget is the configured upstream
 * deadline, shrunk to the Lambda's remaining time minus a safety margin, and every step that can
 * reach Affix or the lock store is bounded by it: no Affix attempt starts after it, a running one is
 * aborted at it, the lease wait ends before it. middy's early timeout is only a backstop for work the
 * deadline does not bound (an SSM read); it fires at half the margin, so strictly after the deadline:
 * a caller who got 504 knows no Affix request was started after the deadline, hence none after the 504.
 *
 * @example
 * const deadline = createDeadline(Math.min(10_000, context.getRemainingTimeInMillis() - 1_000));
 * const limit = timeLimit(Math.ceil(deadline.remainingMs()), call.signal);
 */
import type { Deadline } from '../ports.ts';

/** A deadline `budgetMs` from now (negative budgets count as 0). */
export function createDeadline(
  budgetMs: number,
  now: () => number = performance.now.bind(performance),
): Deadline {
  const budget = Math.max(0, budgetMs);
  const expiresAt = now() + budget;
  return {
    budgetMs: budget,
    remainingMs: () => Math.max(0, expiresAt - now()),
  };
}

/** The budget for one request: the configured deadline, never past the Lambda's remaining time. */
export function requestBudgetMs(
  configuredDeadlineMs: number,
  lambdaRemainingMs: number | undefined,
  safetyMarginMs: number,
): number {
  if (lambdaRemainingMs === undefined || !Number.isFinite(lambdaRemainingMs)) return configuredDeadlineMs;
  return Math.max(0, Math.min(configuredDeadlineMs, lambdaRemainingMs - safetyMarginMs));
}

/**
 * When the backstop answers 504 (ms before Lambda's timeout): half the safety margin, so it always
 * fires after the request deadline has ended (and with the minimum margin of 500 ms, 250 ms after).
 */
export function backstopMs(safetyMarginMs: number): number {
  return Math.max(1, Math.floor(safetyMarginMs / 2));
}

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
