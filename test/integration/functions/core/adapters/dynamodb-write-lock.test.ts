/**
 * The write lease on the shared state item against a real DynamoDB engine (dynalite, in-process on
 * 127.0.0.1) through the real SDK client: acquire, contention, waiting, expiry takeover, release by
 * owner only, the deadline, and the lock store failing. Each test uses its own table, so tests share
 * nothing. Waits are asserted by what the lock decided (its pauses), never by elapsed time.
 */
import {
  type AttributeValue,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createDynamoDbWriteLock,
  type DynamoDbWriteLockOptions,
  LEASE_KEY,
} from '../../../../../functions/core/adapters/dynamodb-write-lock.ts';
import { createDeadline } from '../../../../../functions/core/app/deadline.ts';
import { ProblemError } from '../../../../../functions/core/domain/problems.ts';
import { LEASE_MARGIN_MS } from '../../../../../functions/core/domain/state-item.ts';
import type { CallContext } from '../../../../../functions/core/ports.ts';
import { createStateTable, type LocalDynamoDb, startLocalDynamoDb } from '../../../../../local/dynamodb.ts';

let engine: LocalDynamoDb;
let client: DynamoDBClient;
let tableName: string;
let tables = 0;
const warnings: Record<string, unknown>[] = [];
const key = { pk: { S: LEASE_KEY.pk }, sk: { S: LEASE_KEY.sk } };

beforeAll(async () => {
  engine = await startLocalDynamoDb({ port: 0 });
  client = engine.client();
});
afterAll(async () => {
  await engine?.close();
});

beforeEach(async () => {
  tables += 1;
  tableName = `lease-test-${tables}`;
  warnings.length = 0;
  await createStateTable(client, tableName);
});

function lock(options: Partial<DynamoDbWriteLockOptions> = {}) {
  return createDynamoDbWriteLock({
    client,
    tableName,
    leaseMs: 30_000,
    // Generous: on a busy 2-core machine the production 200 ms can pass, which only leaves a lease to expire.
    releaseTimeoutMs: 2_000,
    logger: { warn: (message, extra) => warnings.push({ message, ...extra }) },
    ...options,
  });
}

function call(budgetMs = 3_000, extra: Partial<CallContext> = {}): CallContext & { waits: number[] } {
  const waits: number[] = [];
  return { deadline: createDeadline(budgetMs), onLockWait: (ms) => waits.push(ms), waits, ...extra };
}

/** The state item while it carries a lease (owner and expiry); undefined when no lease is held. */
async function leaseItem(): Promise<Record<string, AttributeValue> | undefined> {
  const read = await client.send(
    new GetItemCommand({ TableName: tableName, Key: key, ConsistentRead: true }),
  );
  return read.Item?.owner === undefined && read.Item?.expiresAtMs === undefined ? undefined : read.Item;
}

async function putForeignLease(owner: string, expiresAtMs: number): Promise<void> {
  await client.send(
    new PutItemCommand({
      TableName: tableName,
      Item: {
        ...key,
        owner: { S: owner },
        expiresAtMs: { N: String(expiresAtMs) },
        ttl: { N: String(Math.ceil(expiresAtMs / 1_000)) },
      },
    }),
  );
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function rejection(promise: Promise<unknown>): Promise<ProblemError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(error instanceof ProblemError)) throw new Error(`expected a ProblemError, got ${String(error)}`);
  return error;
}

describe('the DynamoDB write lease', () => {
  it('acquires the lease on the state item (owner, expiry in ms), runs the work, and removes it after', async () => {
    const before = Date.now();
    let during: Record<string, AttributeValue> | undefined;
    const c = call();
    const result = await lock({ token: () => 'owner-1' }).runExclusive(c, async () => {
      during = await leaseItem();
      return 'done';
    });
    expect(result).toBe('done');
    expect(during?.owner?.S).toBe('owner-1');
    const expiresAtMs = Number(during?.expiresAtMs?.N);
    expect(expiresAtMs).toBeGreaterThanOrEqual(before + 30_000);
    expect(expiresAtMs).toBeLessThanOrEqual(Date.now() + 30_000);
    // The item's TTL (epoch s) never removes the item under a live lease.
    expect(Number(during?.ttl?.N)).toBeGreaterThan(Math.ceil(expiresAtMs / 1_000));
    expect(await leaseItem()).toBeUndefined();
    expect(c.waits).toHaveLength(1);
    expect(warnings).toEqual([]);
  });

  it('makes the lease outlive the invocation: expiry is past the remaining Lambda time plus the margin', async () => {
    let expiresAtMs = 0;
    const before = Date.now();
    await lock({ leaseMs: 1_000 }).runExclusive(
      call(3_000, { invocationRemainingMs: () => 60_000 }),
      async () => {
        expiresAtMs = Number((await leaseItem())?.expiresAtMs?.N);
      },
    );
    expect(expiresAtMs).toBeGreaterThanOrEqual(before + 60_000 + LEASE_MARGIN_MS);
  });

  it('lets only one of many racing writers in at a time, and every one gets its turn', async () => {
    let active = 0;
    let maxActive = 0;
    const order: number[] = [];
    const writers = Array.from({ length: 6 }, (_, i) =>
      // A budget no busy machine runs out of: the property is the exclusion, not the speed.
      lock().runExclusive(call(30_000), async () => {
        active += 1;
        maxActive = Math.max(maxActive, active);
        await pause(30);
        order.push(i);
        active -= 1;
      }),
    );
    await Promise.all(writers);
    expect(maxActive).toBe(1);
    expect(order.sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(await leaseItem()).toBeUndefined();
  });

  it('waits while another holds the lease, then acquires as soon as it is released', async () => {
    let releaseHolder = () => {};
    const holderReleased = new Promise<void>((resolve) => {
      releaseHolder = resolve;
    });
    let holding = () => {};
    const holderIn = new Promise<void>((resolve) => {
      holding = resolve;
    });
    const holder = lock({ token: () => 'holder' }).runExclusive(call(), async () => {
      holding();
      await holderReleased;
    });
    await holderIn;
    const waiter = call();
    const events: string[] = [];
    const second = lock({ token: () => 'waiter' }).runExclusive(waiter, async () => {
      events.push(`waiter in, holder item ${(await leaseItem())?.owner?.S}`);
    });
    await pause(150);
    expect(events).toEqual([]);
    releaseHolder();
    await Promise.all([holder, second]);
    expect(events).toEqual(['waiter in, holder item waiter']);
    expect(waiter.waits).toHaveLength(1);
  });

  it('takes over an expired lease at once (its holder is gone)', async () => {
    await putForeignLease('dead-container', Date.now() - 1);
    const c = call();
    let owner: string | undefined;
    const pauses: number[] = [];
    const sleep = async (ms: number) => {
      pauses.push(ms);
    };
    await lock({ token: () => 'next-writer', sleep }).runExclusive(c, async () => {
      owner = (await leaseItem())?.owner?.S;
    });
    expect(owner).toBe('next-writer');
    // At once: the first try took it, no pause.
    expect(pauses).toEqual([]);
  });

  it('treats a lease that already carries its own token as its own (an SDK retry of a put that succeeded)', async () => {
    await putForeignLease('same-token', Date.now() + 30_000);
    const c = call(400);
    const ran = await lock({ token: () => 'same-token' }).runExclusive(c, async () => 'ran');
    expect(ran).toBe('ran');
    expect(await leaseItem()).toBeUndefined();
  });

  it('releases only its own lease: a lease someone else holds now is left alone, with a warning', async () => {
    await lock({ token: () => 'first' }).runExclusive(call(), async () => {
      // Our lease expired and another writer took it while we were still working.
      await putForeignLease('second', Date.now() + 30_000);
    });
    expect((await leaseItem())?.owner?.S).toBe('second');
    expect(warnings).toEqual([
      {
        message: 'write lease release failed',
        lease: { reason: 'not-owner', error: 'LeaseLostError' },
      },
    ]);
  });

  it('after a real expiry takeover, the late release of the first holder does not delete the second lease', async () => {
    let secondHolds = () => {};
    const secondIn = new Promise<void>((resolve) => {
      secondHolds = resolve;
    });
    let finishSecond = () => {};
    const secondDone = new Promise<void>((resolve) => {
      finishSecond = resolve;
    });
    let ownerAfterFirst: string | undefined;
    const first = lock({ leaseMs: 100, token: () => 'slow' }).runExclusive(call(), async () => {
      await secondIn;
    });
    await pause(120);
    const second = lock({ token: () => 'fast' }).runExclusive(call(), async () => {
      secondHolds();
      await first;
      ownerAfterFirst = (await leaseItem())?.owner?.S;
      await secondDone;
    });
    await first;
    await pause(20);
    finishSecond();
    await second;
    expect(ownerAfterFirst).toBe('fast');
    expect(warnings.map((warning) => (warning.lease as { reason: string }).reason)).toEqual(['not-owner']);
    expect(await leaseItem()).toBeUndefined();
  });

  it('gives up within the deadline with write-contention and the holder’s remaining lease as Retry-After', async () => {
    await putForeignLease('busy', Date.now() + 19_500);
    let ran = false;
    const c = call(400);
    const pauses: number[] = [];
    const sleep = async (ms: number) => {
      pauses.push(ms);
      await pause(ms);
    };
    const error = await rejection(
      lock({ sleep }).runExclusive(c, async () => {
        ran = true;
      }),
    );
    expect(ran).toBe(false);
    expect(error.slug).toBe('write-contention');
    expect(error.status).toBe(503);
    expect(error.retryAfterSeconds).toBe(20);
    // Half the budget is kept for the GET and POST: the lock never pauses into it.
    expect(pauses.reduce((sum, ms) => sum + ms, 0)).toBeLessThanOrEqual(200);
    expect(c.waits).toHaveLength(1);
    expect((await leaseItem())?.owner?.S).toBe('busy');
  });

  it('answers write-lock-unavailable, without running the work, when DynamoDB cannot be reached', async () => {
    const down = await startLocalDynamoDb({ port: 0 });
    const unreachable = new DynamoDBClient({
      endpoint: down.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
    await down.close();
    let ran = false;
    try {
      const error = await rejection(
        lock({ client: unreachable }).runExclusive(call(), async () => {
          ran = true;
        }),
      );
      expect(error.slug).toBe('write-lock-unavailable');
      expect(error.status).toBe(503);
      expect(error.retryAfterSeconds).toBe(1);
      expect(ran).toBe(false);
    } finally {
      unreachable.destroy();
    }
  });

  it('answers write-lock-unavailable when the table does not exist', async () => {
    let ran = false;
    const error = await rejection(
      lock({ tableName: 'no-such-table' }).runExclusive(call(), async () => {
        ran = true;
      }),
    );
    expect(error.slug).toBe('write-lock-unavailable');
    expect(error.cause).toMatchObject({ error: 'ResourceNotFoundException' });
    expect(ran).toBe(false);
  });

  it('releases when the work fails, and passes the work’s own error on', async () => {
    const failure = new ProblemError('upstream-error', 'Affix failed.');
    await expect(
      lock().runExclusive(call(), async () => {
        expect(await leaseItem()).toBeDefined();
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(await leaseItem()).toBeUndefined();
  });
});

describe('the call signal', () => {
  it('ends the wait for a held lease when it fires: no try after it, the work never runs', async () => {
    await putForeignLease('someone-else', Date.now() + 20_000);
    const controller = new AbortController();
    let tries = 0;
    let triesAtAbort = -1;
    const counting = lock({
      // Counts tries by the pauses between them; the default pause is the one that ends at the signal.
      sleep: (ms, signal) => {
        tries += 1;
        return new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, ms);
          signal?.addEventListener('abort', () => {
            clearTimeout(timer);
            resolve();
          });
        });
      },
    });
    setTimeout(() => {
      triesAtAbort = tries;
      controller.abort();
    }, 150);
    let ran = false;
    const c = call(10_000, { signal: controller.signal });
    const error = await rejection(
      counting.runExclusive(c, async () => {
        ran = true;
      }),
    );
    expect(error.slug).toBe('upstream-timeout');
    expect(ran).toBe(false);
    expect(tries).toBe(triesAtAbort);
    expect(c.waits).toHaveLength(1);
    expect((await leaseItem())?.owner?.S).toBe('someone-else');
  });
});
