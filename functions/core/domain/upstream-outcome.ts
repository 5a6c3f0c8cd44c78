/**
 * Pure rules for one Affix attempt's outcome: whether to try again, how long to wait, and which of
 * our problems it finally becomes. No I/O here, so every row of the status table is testable alone.
 */
import { ProblemError } from './problems.ts';
import type { UpstreamTextView } from './upstream-text.ts';

export type AttemptOutcome =
  | {
      kind: 'status';
      status: number;
      retryAfterSeconds?: number | undefined;
      /** For a 400: what of Affix's message a caller may see (judged by `judgeUpstreamText`). */
      upstreamText?: UpstreamTextView | undefined;
    }
  /** Connection refused or reset, DNS, TLS: the request may never have reached Affix. */
  | { kind: 'network'; code: string }
  /** The attempt's own timeout fired while the overall deadline still had time. */
  | { kind: 'attempt-timeout' }
  /** The overall deadline passed: nothing more may be tried. */
  | { kind: 'deadline' }
  /** A 2xx whose body is not JSON, fails the schema, or is too large. */
  | { kind: 'bad-body'; reason: string };

/** Whether another attempt may help. 401 is handled separately (one credential refresh). */
export function isRetryable(outcome: AttemptOutcome): boolean {
  switch (outcome.kind) {
    case 'status':
      return outcome.status === 429 || outcome.status >= 500;
    case 'network':
    case 'attempt-timeout':
      return true;
    default:
      return false;
  }
}

/** Problems that say Affix refused a request (or it was never sent): nothing of it was applied. */
const REFUSALS = new Set([
  'upstream-rejected',
  'upstream-auth-failed',
  'upstream-conflict',
  'upstream-rate-limited',
  'write-contention',
]);

/**
 * What a failed POST leaves at Affix:
 * - `not-applied`: Affix refused it (a status below 500), or the connection was never opened;
 * - `may-be-applied`: Affix answered (a 5xx, or a 2xx we could not use): whatever it did is done;
 * - `may-still-land`: no answer came (a timeout, a connection broken after sending, an abort): the
 *   request may still be applied later, after our own answer.
 */
export type FailedWrite = 'not-applied' | 'may-be-applied' | 'may-still-land';

export function failedWrite(error: unknown): FailedWrite {
  if (!(error instanceof ProblemError)) return 'may-still-land';
  if (REFUSALS.has(error.slug)) return 'not-applied';
  const cause: unknown = error.cause;
  if (typeof cause !== 'object' || cause === null) return 'may-still-land';
  if ('status' in cause && typeof cause.status === 'number') {
    return cause.status >= 500 ? 'may-be-applied' : 'not-applied';
  }
  if ('kind' in cause && cause.kind === 'bad-body') return 'may-be-applied';
  if ('code' in cause && cause.code === 'ECONNREFUSED') return 'not-applied';
  return 'may-still-land';
}

/** "Full jitter" exponential backoff: a random wait in [0, min(cap, base * 2^(attempt-1))). */
export function backoffDelayMs(attempt: number, random: () => number, baseMs = 100, capMs = 2_000): number {
  return Math.floor(random() * Math.min(capMs, baseMs * 2 ** (attempt - 1)));
}

/** The problem a final (not retried further) outcome becomes. `detail` never carries secrets. */
export function outcomeToProblem(outcome: AttemptOutcome): ProblemError {
  switch (outcome.kind) {
    case 'deadline':
    case 'attempt-timeout':
      return new ProblemError('upstream-timeout', 'Affix did not answer before the deadline.', {
        cause: outcome,
      });
    case 'network':
      return new ProblemError('upstream-unreachable', 'Affix could not be reached.', { cause: outcome });
    case 'bad-body':
      return new ProblemError('upstream-bad-response', 'Affix answered with a body we could not use.', {
        cause: outcome,
      });
    case 'status':
      return statusToProblem(outcome);
  }
}

function statusToProblem(outcome: Extract<AttemptOutcome, { kind: 'status' }>): ProblemError {
  const { status } = outcome;
  if (status === 400) {
    return new ProblemError('upstream-rejected', rejectionDetail(outcome.upstreamText), {
      cause: { status },
    });
  }
  if (status === 401) {
    return new ProblemError(
      'upstream-auth-failed',
      'Affix rejected our credentials, also after reloading them.',
      { cause: { status } },
    );
  }
  if (status === 409) {
    return new ProblemError('upstream-conflict', 'Affix reported a conflict with the current client.', {
      cause: { status },
    });
  }
  if (status === 429) {
    return new ProblemError(
      'upstream-rate-limited',
      'Affix is rate limiting our requests; try again later.',
      {
        cause: { status },
        ...(outcome.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: outcome.retryAfterSeconds }),
      },
    );
  }
  return new ProblemError('upstream-error', `Affix answered with status ${status}.`, { cause: { status } });
}

/**
 * The `detail` of `upstream-rejected`: Affix's words when they were judged safe, else only the names of
 * our fields that Affix mentioned (constants of ours, never its text).
 */
export function rejectionDetail(view: UpstreamTextView | undefined): string {
  if (view?.kind === 'words') return `Affix rejected the change: ${view.text}`;
  if (view?.kind === 'withheld') {
    const fields = view.fields.length > 0 ? ` It mentioned: ${view.fields.join(', ')}.` : '';
    return `Affix rejected the change. Its message is withheld because it may repeat a secret.${fields}`;
  }
  return 'Affix rejected the change.';
}
