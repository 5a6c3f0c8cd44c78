/**
 * The local engine's `TransactWriteItems` (dynalite has none): all items written or none, with
 * DynamoDB's cancellation reasons, and no other request seeing a transaction half done.
 */

import type { AddressInfo } from 'node:net';
import {
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import dynalite from 'dynalite';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createStateTable, type LocalDynamoDb, startLocalDynamoDb } from '../../local/dynamodb.ts';
import { addTransactWriteItems } from '../../local/dynamodb-transactions.ts';

let engine: LocalDynamoDb;
let client: DynamoDBClient;
let table = '';
let tables = 0;

beforeAll(async () => {
  engine = await startLocalDynamoDb({ port: 0 });
  client = engine.client();
});
afterAll(async () => {
  await engine?.close();
});
beforeEach(async () => {
  tables += 1;
  table = `transactions-${tables}`;
  await createStateTable(client, table);
  await client.send(
    new PutItemCommand({ TableName: table, Item: marshall({ pk: 'p', sk: 'state', owner: 'me', n: 0 }) }),
  );
});

const read = async (sk: string) =>
  (
    await client.send(
      new GetItemCommand({ TableName: table, Key: marshall({ pk: 'p', sk }), ConsistentRead: true }),
    )
  ).Item;

/** Releases `owner`'s lease, sets `n` and puts a journal item `sk`, all in one transaction. */
const release = (owner: string, n: number, sk: string) =>
  new TransactWriteItemsCommand({
    TransactItems: [
      {
        Update: {
          TableName: table,
          Key: marshall({ pk: 'p', sk: 'state' }),
          UpdateExpression: 'SET #n = :n REMOVE #owner',
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#n': 'n', '#owner': 'owner' },
          ExpressionAttributeValues: marshall({ ':n': n, ':owner': owner }),
        },
      },
      {
        Put: {
          TableName: table,
          Item: marshall({ pk: 'p', sk, entry: { n } }),
          ConditionExpression: 'attribute_not_exists(#sk)',
          ExpressionAttributeNames: { '#sk': 'sk' },
        },
      },
    ],
  });

describe('TransactWriteItems on the local engine', () => {
  it('writes every item when every condition holds', async () => {
    await client.send(release('me', 1, 'change#1'));
    expect(unmarshall((await read('state')) ?? {})).toEqual({ pk: 'p', sk: 'state', n: 1 });
    expect(unmarshall((await read('change#1')) ?? {})).toEqual({ pk: 'p', sk: 'change#1', entry: { n: 1 } });
  });

  it('writes nothing when one condition fails, and names the failed item among the reasons', async () => {
    await client.send(new PutItemCommand({ TableName: table, Item: marshall({ pk: 'p', sk: 'change#1' }) }));
    const failure = await client.send(release('me', 2, 'change#1')).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TransactionCanceledException);
    expect(
      (failure as TransactionCanceledException).CancellationReasons?.map((reason) => reason.Code),
    ).toEqual(['None', 'ConditionalCheckFailed']);
    // The update that passed was undone.
    expect(unmarshall((await read('state')) ?? {})).toEqual({ pk: 'p', sk: 'state', owner: 'me', n: 0 });
    expect(unmarshall((await read('change#1')) ?? {})).toEqual({ pk: 'p', sk: 'change#1' });
  });

  it('a failed state condition cancels the put too', async () => {
    const failure = await client
      .send(release('someone-else', 3, 'change#3'))
      .catch((error: unknown) => error);
    expect(
      (failure as TransactionCanceledException).CancellationReasons?.map((reason) => reason.Code),
    ).toEqual(['ConditionalCheckFailed', 'None']);
    expect(await read('change#3')).toBeUndefined();
  });

  it('refuses two operations on one item', async () => {
    const twice = new TransactWriteItemsCommand({
      TransactItems: [
        { Put: { TableName: table, Item: marshall({ pk: 'p', sk: 'x' }) } },
        { Put: { TableName: table, Item: marshall({ pk: 'p', sk: 'x', a: 1 }) } },
      ],
    });
    await expect(client.send(twice)).rejects.toMatchObject({ name: 'ValidationException' });
  });

  it('no other request sees a transaction half done: a read arriving mid-transaction waits for its end', async () => {
    // An engine of its own whose transaction pauses after its writes, before it undoes them.
    let paused: () => void = () => {};
    const pausedNow = new Promise<void>((resolve) => {
      paused = resolve;
    });
    let resume: () => void = () => {};
    const resumed = new Promise<void>((resolve) => {
      resume = resolve;
    });
    const server = dynalite({ createTableMs: 0 });
    let arrivals = 0;
    let ownUrl = '';
    addTransactWriteItems(server, {
      afterWrites: async () => {
        paused();
        await resumed;
      },
    });
    server.on('request', () => {
      arrivals += 1;
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    ownUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const own = new DynamoDBClient({
      endpoint: ownUrl,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    try {
      await createStateTable(own, 'isolated');
      await own.send(
        new PutItemCommand({
          TableName: 'isolated',
          Item: marshall({ pk: 'p', sk: 'state', owner: 'me', n: 0 }),
        }),
      );
      await own.send(new PutItemCommand({ TableName: 'isolated', Item: marshall({ pk: 'p', sk: 'taken' }) }));
      table = 'isolated';
      // Fails on its put (the item exists): its update is written, then undone.
      const failing = own.send(release('me', 99, 'taken')).catch((error: unknown) => error);
      await pausedNow;
      const before = arrivals;
      const reading = own.send(
        new GetItemCommand({
          TableName: 'isolated',
          Key: marshall({ pk: 'p', sk: 'state' }),
          ConsistentRead: true,
        }),
      );
      while (arrivals === before) await new Promise((resolve) => setTimeout(resolve, 5));
      // Time for an engine without isolation to answer the read from the half-done state.
      await Promise.race([reading, new Promise((resolve) => setTimeout(resolve, 200))]);
      resume();
      expect(await failing).toBeInstanceOf(TransactionCanceledException);
      expect(unmarshall((await reading).Item ?? {})).toEqual({ pk: 'p', sk: 'state', owner: 'me', n: 0 });
    } finally {
      resume();
      own.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
