/**
 * The shared back-off after an Affix 429: its pure rules, its port, and a decorator around the Affix
 * port. When Affix answers 429 with a `Retry-After`, "not before T" is recorded in the shared table
 * (only ever moved later); until T every container answers `upstream-rate-limited` with the remaining
 * `Retry-After` at once and sends nothing to Affix.
 *
 * @example
 * const affix = withSharedBackoff(createAffixHttpClient(options), { store });
 */
import type { AffixPort, CallContext } from './ports.ts';
import { ProblemError } from './problems.ts';

/** `sk` of the back-off item, beside the write lease (`pk` = `affix-client`). */
export const RATE_LIMIT_SK = 'rate-limit';

/** The port: one shared "not before" instant (epoch ms). */
export interface BackoffStore {
  notBefore(): Promise<number | undefined>;
  /** Records `notBeforeMs` unless a later instant is recorded already. */
  extend(notBeforeMs: number): Promise<void>;
}

/** Whole seconds left until `notBeforeMs` (rounded up), 0 once it has passed. */
export function remainingSeconds(notBeforeMs: number | undefined, nowMs: number): number {
  if (notBeforeMs === undefined) return 0;
  return Math.max(0, Math.ceil((notBeforeMs - nowMs) / 1_000));
}

/** The instant a 429's `Retry-After` ends. */
export function notBeforeAfter(retryAfterSeconds: number, nowMs: number): number {
  return nowMs + retryAfterSeconds * 1_000;
}

/** The answer while the back-off lasts: nothing was sent to Affix. */
export function backoffProblem(retryAfterSeconds: number): ProblemError {
  return new ProblemError(
    'upstream-rate-limited',
    'Affix is rate limiting this proxy; nothing was sent to Affix. Retry after the Retry-After delay.',
    { retryAfterSeconds, cause: { reason: 'shared-backoff' } },
  );
}

export interface SharedBackoffOptions {
  store: BackoffStore;
  /** Wall clock (epoch ms): instants are compared across containers. */
  now?: () => number;
  /** A failed store call: logged by the caller; the request goes on as without a back-off. */
  onStoreFailure?: (operation: 'read' | 'write', error: unknown) => void;
}

/**
 * Every Affix call first asks whether a back-off is running (this container's last known instant, then
 * the shared item); a 429 with a `Retry-After` extends it. A store failure never fails the request.
 */
export function withSharedBackoff(affix: AffixPort, options: SharedBackoffOptions): AffixPort {
  const now = options.now ?? Date.now;
  // The latest instant this container knows: while it lasts, not even the table is asked.
  let knownNotBefore: number | undefined;
  // A call asks the table once: a write's POST follows its GET within milliseconds.
  const checkedCalls = new WeakSet<CallContext>();

  async function checkBackoff(context: CallContext): Promise<void> {
    let remaining = remainingSeconds(knownNotBefore, now());
    if (remaining === 0 && !checkedCalls.has(context)) {
      checkedCalls.add(context);
      try {
        const shared = await options.store.notBefore();
        if (shared !== undefined && (knownNotBefore === undefined || shared > knownNotBefore)) {
          knownNotBefore = shared;
        }
        remaining = remainingSeconds(shared, now());
      } catch (error) {
        options.onStoreFailure?.('read', error);
      }
    }
    if (remaining > 0) {
      if (context.budget !== undefined) context.budget.answeredFrom = 'backoff';
      throw backoffProblem(remaining);
    }
  }

  async function recordRateLimit(error: unknown): Promise<void> {
    if (!(error instanceof ProblemError) || error.slug !== 'upstream-rate-limited') return;
    const seconds = error.retryAfterSeconds;
    if (seconds === undefined || seconds <= 0) return;
    const notBefore = notBeforeAfter(seconds, now());
    if (knownNotBefore === undefined || notBefore > knownNotBefore) knownNotBefore = notBefore;
    try {
      await options.store.extend(notBefore);
    } catch (storeError) {
      options.onStoreFailure?.('write', storeError);
    }
  }

  async function guarded<T>(context: CallContext, work: () => Promise<T>): Promise<T> {
    await checkBackoff(context);
    try {
      return await work();
    } catch (error) {
      await recordRateLimit(error);
      throw error;
    }
  }

  return {
    getClient: (context) => guarded(context, () => affix.getClient(context)),
    replaceClient: (update, context) => guarded(context, () => affix.replaceClient(update, context)),
  };
}
