/**
 * The write lease over a `StateStore`, in process: an in-memory store (test/support), the real shared
 * state keeper, an injected clock, sleep, randomness and owner tokens. The DynamoDB adapter under the
 * same lock is tested against dynalite (test/integration/functions/core/adapters/dynamodb-write-lock.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { createDeadline } from '../../../../../functions/core/app/deadline.ts';
import {
  createLeaseWriteLock,
  createSharedState,
  type LeaseWarningLogger,
} from '../../../../../functions/core/app/shared-state.ts';
import { toUpdate } from '../../../../../functions/core/domain/client-state.ts';
import { ProblemError } from '../../../../../functions/core/domain/problems.ts';
import {
  LeaseLostError,
  leaseBackoffMs,
  leaseDurationMs,
} from '../../../../../functions/core/domain/state-item.ts';
import { outcomeToProblem } from '../../../../../functions/core/domain/upstream-outcome.ts';
import type { AffixPort, CallContext } from '../../../../../functions/core/ports.ts';
import { ETAG_KEY, parsedClient } from '../../../../support/affix-fixtures.ts';
import {
  appliedChanges,
  createInMemoryStateStore,
  type InMemoryStateStore,
} from '../../../../support/in-memory-state-store.ts';

const START_MS = 1_750_000_000_000;
const LEASE_MS = 30_000;

/** A lock over `store` with a clock that only the injected sleep moves. */
function setup(store: InMemoryStateStore, options: { random?: () => number } = {}) {
  const clock = { ms: START_MS };
  const now = () => clock.ms;
  const sleeps: number[] = [];
  const warnings: { message: string; extra: Record<string, unknown> }[] = [];
  const logger: LeaseWarningLogger = { warn: (message, extra) => warnings.push({ message, extra }) };
  const failures: string[] = [];
  const keeper = createSharedState({
    store,
    credentials: { get: async () => ({ clientId: 'id', clientSecret: 'secret', etagKey: ETAG_KEY }) },
    report: () => undefined,
    onStoreFailure: (operation) => failures.push(operation),
    now,
  });
  let tokens = 0;
  const onSleep: ((ms: number) => void)[] = [];
  const lock = createLeaseWriteLock({
    store,
    keeper,
    leaseMs: LEASE_MS,
    logger,
    random: options.random ?? (() => 0.5),
    sleep: async (ms) => {
      sleeps.push(ms);
      clock.ms += ms;
      for (const hook of onSleep) hook(ms);
    },
    token: () => {
      tokens += 1;
      return `owner-${tokens}`;
    },
  });
  const call = (budgetMs = 10_000, extra: Partial<CallContext> = {}): CallContext => ({
    deadline: createDeadline(budgetMs, now),
    ...extra,
  });
  return { clock, lock, keeper, sleeps, warnings, failures, call, onSleep };
}

describe('acquire and release', () => {
  it('holds the lease (its own token, expiring after the lease) while the work runs, and gives it back after', async () => {
    const store = createInMemoryStateStore();
    const { lock, call } = setup(store);
    const during = await lock.runExclusive(call(), async () => store.lease());
    expect(during).toEqual({ owner: 'owner-1', expiresAtMs: START_MS + LEASE_MS });
    expect(store.lease()).toBeUndefined();
    expect(appliedChanges(store).at(-1)?.lease).toEqual({ release: 'owner-1' });
  });

  it('makes the lease outlive the invocation when the invocation may run longer than the lease', async () => {
    const store = createInMemoryStateStore();
    const { lock, call } = setup(store);
    const during = await lock.runExclusive(call(10_000, { invocationRemainingMs: () => 40_000 }), async () =>
      store.lease(),
    );
    expect(during?.expiresAtMs).toBe(START_MS + leaseDurationMs(LEASE_MS, 40_000));
    expect(during?.expiresAtMs).toBeGreaterThan(START_MS + 40_000);
  });

  it('gives the lease back when the work fails, and passes the work’s own error on', async () => {
    const store = createInMemoryStateStore();
    const { lock, call } = setup(store);
    const failure = new Error('work failed');
    await expect(lock.runExclusive(call(), () => Promise.reject(failure))).rejects.toBe(failure);
    expect(store.lease()).toBeUndefined();
  });

  it('tells the call how long it waited for the lease', async () => {
    const store = createInMemoryStateStore();
    const { lock, call } = setup(store);
    const waits: number[] = [];
    await lock.runExclusive(call(10_000, { onLockWait: (ms) => waits.push(ms) }), async () => undefined);
    expect(waits).toHaveLength(1);
    expect(waits[0]).toBeGreaterThanOrEqual(0);
  });
});

describe('contention', () => {
  it('waits with the jittered backoff while another holds the lease, and takes it once released', async () => {
    const store = createInMemoryStateStore({ lease: { owner: 'other', expiresAtMs: START_MS + 20_000 } });
    const random = () => 0.25;
    const { lock, call, sleeps, onSleep } = setup(store, { random });
    // The holder finishes during the third pause.
    onSleep.push(() => {
      if (sleeps.length === 3 && store.item !== undefined) {
        delete store.item.owner;
        delete store.item.expiresAtMs;
      }
    });
    const ran = await lock.runExclusive(call(), async () => store.lease()?.owner);
    expect(ran).toBe('owner-1');
    // 10, 20, 40 ms ceilings, jittered over their upper half by random() = 0.25.
    expect(sleeps).toEqual([6, 13, 25]);
    expect(sleeps).toEqual([0, 1, 2].map((attempt) => leaseBackoffMs(attempt, 20_000, random)));
    expect(store.calls.filter((c) => c.operation === 'acquire')).toHaveLength(4);
  });

  it('waits no longer than the holder’s remaining lease when that is sooner than the backoff', async () => {
    const store = createInMemoryStateStore({ lease: { owner: 'other', expiresAtMs: START_MS + 3 } });
    const { lock, call, sleeps } = setup(store, { random: () => 1 });
    await lock.runExclusive(call(), async () => undefined);
    // The first pause would be 10 ms; the holder's lease ends in 3: one pause of 4 ms, then it is taken over.
    expect(sleeps).toEqual([4]);
  });

  it('gives up with write-contention (Retry-After: the holder’s remaining lease) once half the budget is gone, without running the work', async () => {
    const store = createInMemoryStateStore({ lease: { owner: 'other', expiresAtMs: START_MS + 25_000 } });
    const { lock, call, sleeps, clock } = setup(store, { random: () => 1 });
    let ran = false;
    const error = await lock
      .runExclusive(call(1_000), async () => {
        ran = true;
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProblemError);
    expect((error as ProblemError).slug).toBe('write-contention');
    expect(ran).toBe(false);
    // 10 + 20 + 40 + 80 + 160 ms; the next pause (200) would eat into the half kept for the GET and POST.
    expect(sleeps).toEqual([10, 20, 40, 80, 160]);
    expect(clock.ms - START_MS).toBe(310);
    expect((error as ProblemError).retryAfterSeconds).toBe(Math.ceil((25_000 - 310) / 1_000));
    expect(store.lease()?.owner).toBe('other');
  });

  it('takes over an expired lease at once', async () => {
    const store = createInMemoryStateStore({ lease: { owner: 'gone', expiresAtMs: START_MS - 1 } });
    const { lock, call, sleeps } = setup(store);
    expect(await lock.runExclusive(call(), async () => store.lease()?.owner)).toBe('owner-1');
    expect(sleeps).toEqual([]);
  });

  it('stops waiting when the call’s signal fires: no try after it, the work never runs', async () => {
    const store = createInMemoryStateStore({ lease: { owner: 'other', expiresAtMs: START_MS + 25_000 } });
    const { lock, call, onSleep } = setup(store);
    const controller = new AbortController();
    onSleep.push(() => controller.abort());
    let ran = false;
    const error = await lock
      .runExclusive(call(10_000, { signal: controller.signal }), async () => {
        ran = true;
      })
      .catch((e: unknown) => e);
    expect((error as ProblemError).slug).toBe('upstream-timeout');
    expect(ran).toBe(false);
    expect(store.calls.filter((c) => c.operation === 'acquire')).toHaveLength(1);
  });
});

describe('a failing lock store', () => {
  it('answers write-lock-unavailable without running the work, and gives back a lease that may have been taken', async () => {
    const store = createInMemoryStateStore();
    store.fail = (operation) =>
      operation === 'acquire' ? Object.assign(new Error('boom'), { name: 'InternalServerError' }) : undefined;
    const { lock, call } = setup(store);
    let ran = false;
    const error = await lock
      .runExclusive(call(), async () => {
        ran = true;
      })
      .catch((e: unknown) => e);
    expect((error as ProblemError).slug).toBe('write-lock-unavailable');
    expect((error as ProblemError).cause).toEqual({
      reason: 'lock-store-failed',
      error: 'InternalServerError',
    });
    expect(ran).toBe(false);
    expect(appliedChanges(store)).toEqual([{ lease: { release: 'owner-1' } }]);
  });

  it('keeps the work’s result when the release fails, and warns by kind only', async () => {
    const store = createInMemoryStateStore();
    const { lock, call, warnings } = setup(store);
    store.fail = (operation, change) =>
      operation === 'apply' && change?.lease !== undefined ? new LeaseLostError('taken over') : undefined;
    expect(await lock.runExclusive(call(), async () => 'done')).toBe('done');
    expect(warnings).toEqual([
      {
        message: 'write lease release failed',
        extra: { lease: { reason: 'not-owner', error: 'LeaseLostError' } },
      },
    ]);
  });
});

describe('the lease after a POST', () => {
  const update = toUpdate(parsedClient());

  /** Affix whose POST fails with `error`. */
  const failingAffix = (error: unknown): AffixPort => ({
    getClient: async () => parsedClient(),
    replaceClient: () => Promise.reject(error),
  });

  it('is kept (the release only requires it) when the POST got no answer and may still land', async () => {
    const store = createInMemoryStateStore();
    const { lock, keeper, call } = setup(store);
    const affix = keeper.affix(failingAffix(outcomeToProblem({ kind: 'attempt-timeout' })));
    const c = call();
    await expect(
      lock.runExclusive(c, async () => {
        await affix.getClient(c);
        return affix.replaceClient(update, c);
      }),
    ).rejects.toMatchObject({ slug: 'upstream-timeout' });
    expect(appliedChanges(store).at(-1)?.lease).toEqual({ require: 'owner-1' });
    expect(store.lease()).toEqual({ owner: 'owner-1', expiresAtMs: START_MS + LEASE_MS });
    // Its pending marker stays too: a reader finding that state later sees it as ours.
    expect(store.item?.pending).toBeDefined();
  });

  it('is given back when Affix refused the POST (nothing will land)', async () => {
    const store = createInMemoryStateStore();
    const { lock, keeper, call } = setup(store);
    const affix = keeper.affix(failingAffix(outcomeToProblem({ kind: 'status', status: 400 })));
    const c = call();
    await expect(
      lock.runExclusive(c, async () => {
        await affix.getClient(c);
        return affix.replaceClient(update, c);
      }),
    ).rejects.toMatchObject({ slug: 'upstream-rejected' });
    expect(appliedChanges(store).at(-1)?.lease).toEqual({ release: 'owner-1' });
    expect(store.lease()).toBeUndefined();
  });

  it('is given back after a 5xx (Affix answered: whatever it did is done)', async () => {
    const store = createInMemoryStateStore();
    const { lock, keeper, call } = setup(store);
    const affix = keeper.affix(failingAffix(outcomeToProblem({ kind: 'status', status: 502 })));
    const c = call();
    await expect(lock.runExclusive(c, () => affix.replaceClient(update, c))).rejects.toMatchObject({
      slug: 'upstream-error',
    });
    expect(store.lease()).toBeUndefined();
  });

  it('a later write of the same container starts clean: its own release gives the lease back', async () => {
    const store = createInMemoryStateStore();
    const { lock, keeper, call, clock } = setup(store);
    const affix = keeper.affix(failingAffix(outcomeToProblem({ kind: 'attempt-timeout' })));
    const first = call();
    await lock.runExclusive(first, () => affix.replaceClient(update, first)).catch(() => undefined);
    clock.ms += LEASE_MS + 1; // the kept lease expires
    const second = call();
    expect(await lock.runExclusive(second, async () => store.lease()?.owner)).toBe('owner-2');
    expect(store.lease()).toBeUndefined();
  });
});
