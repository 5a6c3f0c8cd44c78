/**
 * A typed-client write as a caller makes it under contention: while it fails with a 503 that says
 * nothing was sent to Affix (`write-lock-unavailable`, the lock store missed its time limit on a busy
 * machine; `write-contention`), it is sent again after its Retry-After (at most 1 s), up to `attempts`
 * times. Any other outcome, or the last attempt's, is the call's.
 */
import { ClientConfigError } from '../../clients/index.ts';

const NOTHING_SENT = new Set(['write-lock-unavailable', 'write-contention']);

export async function whileLockBusy<T>(
  call: () => Promise<T>,
  attempts = 10,
  sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof ClientConfigError) || !NOTHING_SENT.has(error.slug) || attempt >= attempts)
        throw error;
      await sleep(Math.min(error.retryAfterSeconds ?? 1, 1) * 1_000);
    }
  }
}
