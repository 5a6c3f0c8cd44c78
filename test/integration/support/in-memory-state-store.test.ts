/**
 * The unit tests' in-memory state store (test/support/in-memory-state-store.ts) against the DynamoDB
 * adapter on dynalite: the same operations, in the same order, on both, must return the same and leave
 * the same validated state. This keeps the fake honest where the unit tests of the shared state and the
 * write lease rely on it: the lease's conditions, a newer view, a later back-off, the digests' version,
 * and the order in which the adapter drops optional parts when one fails.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDynamoDbStateStore } from '../../../functions/core/adapters/dynamodb-state.ts';
import { toPublicClient, toUpdate } from '../../../functions/core/domain/client-state.ts';
import { bucketOf, fieldDigests } from '../../../functions/core/domain/state-item.ts';
import type { StateChange, StateStore } from '../../../functions/core/ports.ts';
import { createStateTable, type LocalDynamoDb, startLocalDynamoDb } from '../../../local/dynamodb.ts';
import { ETAG_KEY, parsedClient } from '../../support/affix-fixtures.ts';
import { createInMemoryStateStore } from '../../support/in-memory-state-store.ts';

const NOW = 1_750_000_000_000;
let engine: LocalDynamoDb;
let client: DynamoDBClient;
let tables = 0;
let stores: { name: string; store: StateStore }[] = [];

beforeAll(async () => {
  engine = await startLocalDynamoDb({ port: 0 });
  client = engine.client();
});
afterAll(async () => {
  await engine?.close();
});
beforeEach(async () => {
  tables += 1;
  const tableName = `fake-check-${tables}`;
  await createStateTable(client, tableName);
  stores = [
    { name: 'dynamodb', store: createDynamoDbStateStore({ client, tableName, timeoutMs: 10_000 }) },
    { name: 'in-memory', store: createInMemoryStateStore() },
  ];
});

type Step =
  | { acquire: { owner: string; expiresAtMs: number; nowMs: number } }
  | { apply: StateChange; nowMs?: number };

/** Runs `steps` on both stores; after each, what it returned (or threw) and the state loaded. */
async function onBoth(steps: Step[]) {
  const outcomes = await Promise.all(
    stores.map(async ({ store }) => {
      const trail: unknown[] = [];
      for (const step of steps) {
        try {
          if ('acquire' in step) {
            const { owner, expiresAtMs, nowMs } = step.acquire;
            const result = await store.acquire(owner, expiresAtMs, nowMs);
            trail.push(result.acquired ? { acquired: true } : result);
          } else {
            trail.push(await store.apply(step.apply, step.nowMs ?? NOW));
          }
        } catch (error) {
          trail.push({ threw: (error as Error).name });
        }
        trail.push((await store.load(NOW)).state);
      }
      return trail;
    }),
  );
  return { dynamodb: outcomes[0], inMemory: outcomes[1] };
}

const client1 = parsedClient();
const digestsA = fieldDigests(toUpdate(client1), ETAG_KEY);
const digestsB = fieldDigests({ ...toUpdate(client1), name: 'Other' }, ETAG_KEY);
const view = (readAtMs: number) => ({ client: toPublicClient(client1), etag: '"abc"', readAtMs });

describe('the in-memory state store behaves as the DynamoDB adapter', () => {
  it('for the lease: take, refuse another, take again with the same token, take over when expired, release', async () => {
    const { dynamodb, inMemory } = await onBoth([
      { acquire: { owner: 'a', expiresAtMs: NOW + 1_000, nowMs: NOW } },
      { acquire: { owner: 'b', expiresAtMs: NOW + 2_000, nowMs: NOW } },
      { acquire: { owner: 'a', expiresAtMs: NOW + 1_000, nowMs: NOW } },
      { acquire: { owner: 'b', expiresAtMs: NOW + 5_000, nowMs: NOW + 1_001 } },
      { apply: { lease: { require: 'a' } } },
      { apply: { lease: { release: 'a' } } },
      { apply: { spend: [{ bucket: bucketOf(NOW), count: 1 }], lease: { require: 'b' } } },
      { apply: { lease: { release: 'b' } } },
    ]);
    expect(inMemory).toEqual(dynamodb);
    expect(dynamodb?.[8]).toEqual({ threw: 'LeaseLostError' });
  });

  it('for the view, the counts and the back-off: newer only, counts always, later only or beyond the ceiling', async () => {
    const bucket = bucketOf(NOW);
    const { dynamodb, inMemory } = await onBoth([
      { apply: { view: view(NOW), spend: [{ bucket, count: 2 }] } },
      {
        apply: {
          view: view(NOW - 5),
          spend: [
            { bucket, count: 1 },
            { bucket, count: 1 },
          ],
        },
      },
      { apply: { notBeforeMs: NOW + 60_000, notBeforeCeilingMs: NOW + 302_000 } },
      { apply: { notBeforeMs: NOW + 30_000, notBeforeCeilingMs: NOW + 302_000 } },
      { apply: { notBeforeMs: NOW + 90_000, notBeforeCeilingMs: NOW + 302_000, view: view(NOW + 1) } },
      { apply: { dropBuckets: [bucket], spend: [{ bucket: bucket + 1, count: 1 }] } },
    ]);
    expect(inMemory).toEqual(dynamodb);
  });

  it('for the digests: first observation, one conditional on the version, pending, written, cleared', async () => {
    const { dynamodb, inMemory } = await onBoth([
      { apply: { observe: { fields: digestsA, expectedVersion: undefined }, view: view(NOW) } },
      { apply: { observe: { fields: digestsB, expectedVersion: undefined } } },
      // A stale observation drops the (newer) view with it, as the adapter's second try does.
      { apply: { observe: { fields: digestsB, expectedVersion: 7 }, view: view(NOW + 10) } },
      { apply: { observe: { fields: digestsB, expectedVersion: 1 } } },
      { apply: { pending: digestsA } },
      { apply: { written: { fields: digestsA, replaced: digestsB, atMs: NOW + 20 } } },
      { apply: { pending: digestsB } },
      { apply: { pending: 'clear' } },
    ]);
    expect(inMemory).toEqual(dynamodb);
  });
});
