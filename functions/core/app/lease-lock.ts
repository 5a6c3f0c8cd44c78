/**
 * The write lock as a lease on the shared state item (`StateStore`):
 *
 * - acquire: one conditional write with a fresh owner token and the lease's expiry (epoch ms), taken
 *   only when no unexpired lease exists; it returns the whole state, which the call then uses (the
 *   back-off, the budget, the digests) without reading it again. A refused writer learns the holder's
 *   expiry and tries again with jittered backoff while at least half its budget is left.
 * - release: one conditional write (our token) that gives the lease up together with everything the
 *   write recorded meanwhile (view, counts, digests, and the change's journal entry, in one
 *   transaction); a failed release is logged as a warning and never replaces the write's own result
 *   (the lease then simply expires; a release refused because the lease was lost still appends the
 *   entry, one that never reached the table loses it). After a POST that got no answer (a timeout, a
 *   broken connection) the same write keeps the lease, which then expires by itself.
 *
 * @example
 * const writeLock = createLeaseWriteLock({ store, keeper, leaseMs: 30_000 });
 */
import { randomUUID } from 'node:crypto';
import {
  contentionRetryAfterSeconds,
  LeaseLostError,
  leaseBackoffMs,
  leaseDurationMs,
  workReserveMs,
  writeAbandoned,
  writeContention,
  writeLockUnavailable,
} from '../domain/state-item.ts';
import type { CallContext, StateStore, WriteLock } from '../ports.ts';
import { abortableSleep } from './abortable-sleep.ts';
import { timeLimit } from './deadline.ts';
import { describeFailure } from './failure-summary.ts';
import type { SharedStateKeeper } from './shared-state.ts';

export interface LeaseWarningLogger {
  warn(message: string, extra: Record<string, unknown>): void;
}

export interface LeaseWriteLockOptions {
  store: StateStore;
  keeper: SharedStateKeeper;
  /** The configured lease; a lease is always extended past the invocation's end. */
  leaseMs: number;
  logger?: LeaseWarningLogger;
  random?: () => number;
  /** The pause between tries; given the call's signal, so it may end early when that fires. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** The owner token of each acquisition. */
  token?: () => string;
}

type TryOutcome = { kind: 'acquired' } | { kind: 'held'; holderExpiresAtMs: number | undefined };

export function createLeaseWriteLock(options: LeaseWriteLockOptions): WriteLock {
  const { store, keeper } = options;
  const now = keeper.now;
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? abortableSleep;
  const token = options.token ?? randomUUID;

  async function tryAcquire(owner: string, call: CallContext): Promise<TryOutcome> {
    const at = now();
    const expiresAtMs = at + leaseDurationMs(options.leaseMs, call.invocationRemainingMs?.());
    const limit = timeLimit(Math.max(1, Math.ceil(call.deadline.remainingMs())), call.signal);
    let outcome: Awaited<ReturnType<StateStore['acquire']>>;
    try {
      outcome = await store.acquire(owner, expiresAtMs, at, limit.signal);
    } finally {
      limit.clear();
    }
    if (outcome.acquired) {
      keeper.holdLease(call, owner, outcome.parsed);
      return { kind: 'acquired' };
    }
    return { kind: 'held', holderExpiresAtMs: outcome.holder?.expiresAtMs };
  }

  async function release(owner: string, call: CallContext): Promise<void> {
    const { change, reports, writeInDoubt } = keeper.takeBuffer(call);
    // A POST that may still land keeps the lease until it expires (past the invocation's end), so
    // no other writer reads the client before that write has landed or died with this invocation.
    const lease = writeInDoubt ? { require: owner } : { release: owner };
    try {
      const { observed } = await store.apply({ ...change, lease }, now());
      if (observed) keeper.reportAll(reports);
    } catch (error) {
      // Not ours any more (it expired and another writer took it), or the store failed: the lease
      // expires by itself. The write's own answer stands.
      const reason = error instanceof LeaseLostError ? 'not-owner' : 'failed';
      options.logger?.warn('write lease release failed', { lease: { reason, ...describeFailure(error) } });
    }
  }

  async function acquire(owner: string, call: CallContext): Promise<void> {
    const started = performance.now();
    const reserve = workReserveMs(call.deadline);
    const waited = () => Math.round(performance.now() - started);
    for (let attempt = 0; ; attempt += 1) {
      if (call.signal?.aborted) {
        call.onLockWait?.(waited());
        throw writeAbandoned(waited());
      }
      let outcome: TryOutcome;
      try {
        outcome = await tryAcquire(owner, call);
      } catch (error) {
        call.onLockWait?.(waited());
        // The update may have been applied although we saw no answer: give back what may be ours.
        await release(owner, call);
        if (call.signal?.aborted) throw writeAbandoned(waited());
        throw writeLockUnavailable({ reason: 'lock-store-failed', ...describeFailure(error) });
      }
      if (outcome.kind === 'acquired') {
        call.onLockWait?.(waited());
        return;
      }
      const holderRemainingMs =
        outcome.holderExpiresAtMs === undefined ? undefined : Math.max(0, outcome.holderExpiresAtMs - now());
      const delay = leaseBackoffMs(attempt, holderRemainingMs, random);
      if (delay > call.deadline.remainingMs() - reserve) {
        call.onLockWait?.(waited());
        throw writeContention(contentionRetryAfterSeconds(holderRemainingMs, options.leaseMs), waited());
      }
      await sleep(delay, call.signal);
    }
  }

  return {
    async runExclusive(call, work) {
      const owner = token();
      await acquire(owner, call);
      try {
        return await work();
      } finally {
        await release(owner, call);
      }
    },
  };
}
