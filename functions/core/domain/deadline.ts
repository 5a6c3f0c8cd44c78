/**
 * A request's time budget for upstream work, on the monotonic clock.
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
 */
export interface Deadline {
  /** Milliseconds left, never negative. */
  remainingMs(): number;
  /** The budget this deadline started with. */
  readonly budgetMs: number;
}

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
