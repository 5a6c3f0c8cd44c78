/**
 * An in-memory `WriteLock` for handler tests: a real mutex within the test process (one writer at a
 * time, FIFO), which records when it is held and can be told to refuse like the DynamoDB adapter does
 * (`write-contention`, `write-lock-unavailable`). The DynamoDB adapter has its own tests.
 */

import { writeContention, writeLockUnavailable } from '../../functions/core/domain/state-item.ts';
import type { CallContext, WriteLock } from '../../functions/core/ports.ts';

export interface InMemoryWriteLock extends WriteLock {
  /** True while some write holds the lease. */
  readonly held: boolean;
  /** `acquire` / `release` / `refused`, in order. */
  readonly events: string[];
  /** `contended`: refuse with write-contention (holder's lease ends in `retryAfterSeconds`); `broken`: store down. */
  mode: 'free' | 'contended' | 'broken';
  retryAfterSeconds: number;
}

export interface InMemoryWriteLockOptions {
  /** The clock the reported lock wait is measured with (milliseconds); a test may pass its own. */
  now?: () => number;
}

export function createInMemoryWriteLock(options: InMemoryWriteLockOptions = {}): InMemoryWriteLock {
  const now = options.now ?? (() => performance.now());
  let queue: Promise<unknown> = Promise.resolve();
  let held = false;
  const events: string[] = [];
  const lock: InMemoryWriteLock = {
    get held() {
      return held;
    },
    events,
    mode: 'free',
    retryAfterSeconds: 7,
    runExclusive<T>(call: CallContext, work: () => Promise<T>): Promise<T> {
      if (lock.mode === 'contended') {
        events.push('refused');
        call.onLockWait?.(0);
        return Promise.reject(writeContention(lock.retryAfterSeconds, 0));
      }
      if (lock.mode === 'broken') {
        events.push('refused');
        return Promise.reject(writeLockUnavailable({ reason: 'lock-store-failed', error: 'InjectedError' }));
      }
      const started = now();
      const run = queue.then(async () => {
        held = true;
        events.push('acquire');
        call.onLockWait?.(Math.round(now() - started));
        try {
          return await work();
        } finally {
          held = false;
          events.push('release');
        }
      });
      queue = run.catch(() => undefined);
      return run;
    },
  };
  return lock;
}
