/**
 * The write lock over DynamoDB: the lease on the shared state item (`createLeaseWriteLock` of
 * `shared-state.ts` over `dynamodb-state.ts`), for callers that want the lock alone (the lock's own
 * tests, the bench).
 * `wiring.ts` builds the same pieces and shares the keeper with the Affix port.
 *
 * @example
 * const writeLock = createDynamoDbWriteLock({ client: new DynamoDBClient({}), tableName, leaseMs: 30_000 });
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createLeaseWriteLock, createSharedState, type LeaseWriteLockOptions } from '../app/shared-state.ts';
import type { WriteLock } from '../ports.ts';
import { createDynamoDbStateStore, STATE_KEY } from './dynamodb-state.ts';

/** The item the lease lives on; its `pk` is the one partition the functions' role may touch. */
export const LEASE_KEY = STATE_KEY;

export interface DynamoDbWriteLockOptions extends Omit<LeaseWriteLockOptions, 'store' | 'keeper'> {
  client: DynamoDBClient;
  tableName: string;
  /** Wall clock (epoch ms): lease expiries are compared across containers. */
  now?: () => number;
  /** Timeout of each state write, the release among them. */
  releaseTimeoutMs?: number;
}

export function createDynamoDbWriteLock(options: DynamoDbWriteLockOptions): WriteLock {
  const { client, tableName, now, releaseTimeoutMs, ...lock } = options;
  const store = createDynamoDbStateStore({
    client,
    tableName,
    ...(releaseTimeoutMs === undefined ? {} : { timeoutMs: releaseTimeoutMs }),
  });
  const keeper = createSharedState({
    store,
    credentials: { get: () => Promise.reject(new Error('the lock alone reads no credentials')) },
    report: () => undefined,
    onStoreFailure: () => undefined,
    ...(now === undefined ? {} : { now }),
  });
  return createLeaseWriteLock({ ...lock, store, keeper });
}
