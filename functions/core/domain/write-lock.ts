/**
 * The write lock's pure rules (how long a lease lasts, how long a writer waits, what a refused writer
 * is told). The port (`WriteLock`) is in `ports.ts`; the DynamoDB adapter in `dynamodb-write-lock.ts`.
 *
 * Affix has no conditional write, and a Lambda container runs one invocation at a time, so two
 * concurrent writes always run in two containers: only a lock outside the containers makes the
 * read-check-write sequence of one write exclusive.
 *
 * @example
 * const result = await ports.writeLock.runExclusive(call, async () => {
 *   const current = await ports.affix.getClient(call);
 *   return ports.affix.replaceClient(next(current), call);
 * });
 */
import type { Deadline } from './deadline.ts';
import { ProblemError } from './problems.ts';

/** Added to the Lambda's remaining time: covers clock skew between containers and the release call. */
export const LEASE_MARGIN_MS = 2_000;
/** Default `WRITE_LOCK_LEASE_SECONDS`: longer than API Gateway's 29 s, so longer than any invocation. */
export const DEFAULT_LEASE_SECONDS = 30;

/**
 * How long a lease taken now lasts: at least the configured lease, and always past the moment Lambda
 * would kill this invocation, so a container that is killed mid-write cannot leave a second writer
 * running beside a live one (the killed one is gone before its lease ends).
 */
export function leaseDurationMs(
  configuredLeaseMs: number,
  invocationRemainingMs: number | undefined,
): number {
  if (invocationRemainingMs === undefined || !Number.isFinite(invocationRemainingMs))
    return configuredLeaseMs;
  return Math.max(configuredLeaseMs, Math.ceil(invocationRemainingMs) + LEASE_MARGIN_MS);
}

/**
 * The part of a request's budget kept for the GET and POST that follow the lease: half of it. A
 * writer stops waiting for the lease once less than this is left.
 */
export function workReserveMs(deadline: Deadline): number {
  return Math.ceil(deadline.budgetMs / 2);
}

const BACKOFF_BASE_MS = 10;
const BACKOFF_CAP_MS = 200;

/**
 * The pause before the next try: exponential (10, 20, 40, ... ms, at most 200), jittered over its
 * upper half so racing writers spread out, and never much past the holder's expiry when that is sooner.
 */
export function leaseBackoffMs(attempt: number, holderRemainingMs: number | undefined, random: () => number) {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.min(attempt, 10));
  const jittered = ceiling / 2 + random() * (ceiling / 2);
  const untilExpiry = holderRemainingMs === undefined ? Number.POSITIVE_INFINITY : holderRemainingMs + 1;
  return Math.max(1, Math.round(Math.min(jittered, untilExpiry)));
}

/** `Retry-After` for a refused writer: the holder's remaining lease in whole seconds, at least 1. */
export function contentionRetryAfterSeconds(holderRemainingMs: number | undefined, leaseMs: number): number {
  const remaining = holderRemainingMs ?? leaseMs;
  return Math.max(1, Math.ceil(remaining / 1_000));
}

export function writeContention(retryAfterSeconds: number, waitedMs: number): ProblemError {
  return new ProblemError(
    'write-contention',
    'Another write to the client is in progress and did not finish in time; nothing was sent to Affix. Retry after the Retry-After delay.',
    { retryAfterSeconds, cause: { reason: 'lease-held', waitedMs } },
  );
}

export function writeLockUnavailable(cause: Record<string, unknown>): ProblemError {
  return new ProblemError(
    'write-lock-unavailable',
    'The write lock could not be taken; nothing was sent to Affix. Retry shortly.',
    { retryAfterSeconds: 1, cause },
  );
}

/**
 * The invocation was given up (middy's early-timeout backstop) while this writer waited: it stops
 * waiting. The caller has had the backstop's 504 already; this only ends the work.
 */
export function writeAbandoned(waitedMs: number): ProblemError {
  return new ProblemError(
    'upstream-timeout',
    'The request ran out of time while waiting for the write lock; nothing was sent to Affix.',
    { cause: { reason: 'aborted', waitedMs } },
  );
}
