/**
 * DynamoDB requests per operation, counted by a relay in front of dynalite (`bench/lib/dynamodb-counter.ts`)
 * while the bundled handler runs in the local pool with the read cache on. The targets: a changing PATCH
 * 3 with its journal entry (lease, pending marker, release carrying the entry in one transaction), a
 * no-op PATCH (and a 412) 2 with no entry, a GET from the cache 1, a GET that asks Affix at most 2.
 */
import { QueryCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  countsBetween,
  type DynamoDbCounter,
  type OperationCounts,
  startDynamoDbCounter,
  totalOf,
} from '../../../bench/lib/dynamodb-counter.ts';
import { LEASE_KEY } from '../../../functions/core/adapters/dynamodb-write-lock.ts';
import { JOURNAL_SORT_PREFIX } from '../../../functions/core/domain/change-journal.ts';
import { type LocalDynamoDb, startLocalDynamoDb } from '../../../local/dynamodb.ts';
import { type ConcurrencyStack, freshRound, startConcurrencyStack } from '../../concurrency/harness.ts';

let engine: LocalDynamoDb;
let counter: DynamoDbCounter;
let run: ConcurrencyStack;
const measured: Record<string, OperationCounts> = {};

beforeAll(async () => {
  engine = await startLocalDynamoDb({ port: 0 });
  counter = await startDynamoDbCounter(engine.url);
  // The environment's DynamoDB client talks to the counter, which relays to this engine's table.
  run = await startConcurrencyStack({
    environments: 1,
    handlerEnv: {
      CLIENT_CACHE_MAX_AGE_SECONDS: '30',
      AWS_ENDPOINT_URL_DYNAMODB: counter.url,
      STATE_TABLE_NAME: engine.tableName,
    },
  });
}, 60_000);

afterAll(async () => {
  await run?.close();
  await counter?.close();
  await engine?.close();
  // The figures, for the report.
  process.stdout.write(`DynamoDB requests per operation: ${JSON.stringify(measured)}\n`);
});

async function counted(
  name: string,
  operation: () => Promise<{ status: number; body: string }>,
  status: number,
): Promise<number> {
  const before = counter.snapshot();
  const answer = await operation();
  expect(answer.status, answer.body).toBe(status);
  const counts = countsBetween(before, counter.snapshot());
  measured[name] = counts;
  return totalOf(counts);
}

/** The journal entries the table holds, newest first. */
async function journalEntries(): Promise<{ actor: string; request_id: string }[]> {
  const page = await engine.client().send(
    new QueryCommand({
      TableName: engine.tableName,
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
      ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
      ExpressionAttributeValues: { ':pk': { S: LEASE_KEY.pk }, ':prefix': { S: JOURNAL_SORT_PREFIX } },
      ConsistentRead: true,
      ScanIndexForward: false,
    }),
  );
  return (page.Items ?? []).map((item) => unmarshall(item).entry);
}

describe('DynamoDB requests per operation', () => {
  it('GET miss <= 2, GET hit 1, no-cache GET <= 2, changing PATCH 3 with its journal entry, no-op PATCH 2, 412 2', async () => {
    freshRound(run, 1);
    const get = (headers: Record<string, string> = {}) =>
      run.caller.call('GET', '/client', undefined, headers);
    // The warm-up GET filled the view; a no-cache GET asks Affix whatever the view.
    expect(
      await counted('GET no-cache', () => get({ 'cache-control': 'no-cache' }), 200),
    ).toBeLessThanOrEqual(2);
    expect(await counted('GET hit', () => get(), 200)).toBe(1);
    const entriesBefore = (await journalEntries()).length;
    const changing = await counted(
      'PATCH changing',
      () => run.caller.call('PATCH', '/client', { name: 'Counted change' }),
      200,
    );
    // The entry rides in the release: a transaction in place of its update, no request of its own.
    expect(changing).toBe(3);
    expect(measured['PATCH changing']).toEqual({ UpdateItem: 2, TransactWriteItems: 1 });
    const entries = await journalEntries();
    expect(entries).toHaveLength(entriesBefore + 1);
    // Written for the caller the audit line names, under its request id.
    expect(entries[0]?.actor).toMatch(/^arn:aws:/);
    expect(entries[0]?.request_id).not.toBe('');
    const noOp = await counted(
      'PATCH no-op',
      () => run.caller.call('PATCH', '/client', { name: 'Counted change' }),
      200,
    );
    expect(noOp).toBe(2);
    const stale = await counted(
      'PATCH 412',
      () =>
        run.caller.call('PATCH', '/client', { name: 'Stale' }, { 'if-match': '"AAAAAAAAAAAAAAAAAAAAAA"' }),
      412,
    );
    expect(stale).toBe(2);
    expect(await journalEntries()).toHaveLength(entries.length);
    // The writes refreshed the view: a hit.
    expect(await counted('GET hit after writes', () => get(), 200)).toBe(1);
    // A miss: without a view, the read refills it.
    await engine.client().send(
      new UpdateItemCommand({
        TableName: engine.tableName,
        Key: { pk: { S: LEASE_KEY.pk }, sk: { S: LEASE_KEY.sk } },
        UpdateExpression: 'REMOVE #view',
        ExpressionAttributeNames: { '#view': 'view' },
      }),
    );
    expect(await counted('GET miss', () => get(), 200)).toBeLessThanOrEqual(2);
    expect(await counted('GET hit after miss', () => get(), 200)).toBe(1);
  }, 60_000);
});
