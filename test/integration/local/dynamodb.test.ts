/**
 * The local DynamoDB engine (dynalite on 127.0.0.1) with the proxy's state table, through the real
 * SDK: the table's keys as the stack defines them, conditional writes decided one way, and `close()`
 * ending the engine.
 */
import {
  ConditionalCheckFailedException,
  DescribeTableCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_STATE_TABLE_NAME, type LocalDynamoDb, startLocalDynamoDb } from '../../../local/dynamodb.ts';

let engine: LocalDynamoDb;
let client: DynamoDBClient;

beforeAll(async () => {
  engine = await startLocalDynamoDb();
  client = engine.client();
});
afterAll(async () => {
  await engine?.close();
});

describe('startLocalDynamoDb', () => {
  it('listens on 127.0.0.1 with the state table, keyed pk (hash) and sk (range), on demand and active', async () => {
    expect(engine.url).toBe(`http://127.0.0.1:${engine.port}`);
    expect(engine.tableName).toBe(DEFAULT_STATE_TABLE_NAME);
    const { Table } = await client.send(new DescribeTableCommand({ TableName: engine.tableName }));
    expect(Table?.TableStatus).toBe('ACTIVE');
    expect(Table?.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    expect(Table?.AttributeDefinitions).toEqual(
      expect.arrayContaining([
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ]),
    );
    expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
  });

  it('decides racing conditional writes one way: exactly one succeeds', async () => {
    const put = (owner: string) =>
      client.send(
        new PutItemCommand({
          TableName: engine.tableName,
          Item: { pk: { S: 'lease' }, sk: { S: 'race' }, owner: { S: owner } },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    const outcomes = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => put(`writer-${i}`)));
    const won = outcomes.filter((outcome) => outcome.status === 'fulfilled');
    const lost = outcomes.filter((outcome) => outcome.status === 'rejected');
    expect(won).toHaveLength(1);
    for (const outcome of lost) expect(outcome.reason).toBeInstanceOf(ConditionalCheckFailedException);
    const { Item } = await client.send(
      new GetItemCommand({
        TableName: engine.tableName,
        Key: { pk: { S: 'lease' }, sk: { S: 'race' } },
        ConsistentRead: true,
      }),
    );
    expect(Item?.owner?.S).toMatch(/^writer-\d$/);
  });

  it('starts a second engine with a table of its own name beside the first', async () => {
    const other = await startLocalDynamoDb({ tableName: 'other-state' });
    try {
      expect(other.port).not.toBe(engine.port);
      const { Table } = await other.client().send(new DescribeTableCommand({ TableName: 'other-state' }));
      expect(Table?.TableName).toBe('other-state');
    } finally {
      await other.close();
    }
    // Closed: nothing listens there any more.
    await expect(fetch(other.url, { method: 'POST' })).rejects.toThrow();
  });
});
