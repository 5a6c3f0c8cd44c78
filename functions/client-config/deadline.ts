/**
 * A request's time budget for upstream work, on the monotonic clock.
 *
 * The budget is the configured upstream deadline, shrunk to the Lambda's remaining time minus a safety
 * margin, so we answer 504 ourselves instead of being killed mid-request.
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
