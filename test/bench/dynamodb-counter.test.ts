/**
 * The DynamoDB request counter the bench puts in front of the local engine for its traffic child:
 * operation names from `X-Amz-Target`, and a relay that passes real SDK calls through unchanged.
 */
import { DeleteItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  countsBetween,
  type DynamoDbCounter,
  dynamoDbOperation,
  startDynamoDbCounter,
  totalOf,
} from '../../bench/lib/dynamodb-counter.ts';
import { type LocalDynamoDb, startLocalDynamoDb } from '../../local/dynamodb.ts';

describe('operation names', () => {
  it('takes the name after the service prefix, and calls anything else unknown', () => {
    expect(dynamoDbOperation('DynamoDB_20120810.PutItem')).toBe('PutItem');
    expect(dynamoDbOperation(['DynamoDB_20120810.DeleteItem'])).toBe('DeleteItem');
    expect(dynamoDbOperation(undefined)).toBe('unknown');
    expect(dynamoDbOperation('DynamoDB_20120810.')).toBe('unknown');
    expect(dynamoDbOperation('x.Put Item<script>')).toBe('unknown');
  });

  it('subtracts snapshots per operation and leaves out what did not change', () => {
    expect(countsBetween({ PutItem: 2, GetItem: 1 }, { PutItem: 5, GetItem: 1, DeleteItem: 3 })).toEqual({
      PutItem: 3,
      DeleteItem: 3,
    });
    expect(totalOf({ PutItem: 3, DeleteItem: 3 })).toBe(6);
  });
});

describe('the counting relay', () => {
  let engine: LocalDynamoDb;
  let counter: DynamoDbCounter;
  let client: DynamoDBClient;

  beforeAll(async () => {
    engine = await startLocalDynamoDb({ port: 0 });
    counter = await startDynamoDbCounter(engine.url);
    client = new DynamoDBClient({
      endpoint: counter.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
  });

  afterAll(async () => {
    client?.destroy();
    await counter?.close();
    await engine?.close();
  });

  it('passes conditional writes through unchanged and counts each request by operation', async () => {
    const before = counter.snapshot();
    const key = { pk: { S: 'bench' }, sk: { S: 'counter' } };
    const TableName = engine.tableName;
    const put = () =>
      client.send(
        new PutItemCommand({ TableName, Item: key, ConditionExpression: 'attribute_not_exists(pk)' }),
      );
    await put();
    // The engine's refusal must arrive as the SDK's own exception, so the relay kept status and body.
    await expect(put()).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
    const read = await client.send(new GetItemCommand({ TableName, Key: key, ConsistentRead: true }));
    expect(read.Item?.sk?.S).toBe('counter');
    await client.send(new DeleteItemCommand({ TableName, Key: key }));
    expect(countsBetween(before, counter.snapshot())).toEqual({ PutItem: 2, GetItem: 1, DeleteItem: 1 });
  });
});
