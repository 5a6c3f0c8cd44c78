/**
 * The journal reader on a real DynamoDB engine (dynalite), with journal items put as the write side
 * stores them (`{ pk, sk: journalSortKey(atMs, request_id), ttl, entry }`): pages newest first, leaves
 * out (and logs by sort key only) an item that does not validate, never reads the state item or any
 * other key, and refuses a cursor that points outside the journal.
 */
import { type DynamoDBClient, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDynamoDbJournal } from '../../../../../functions/core/adapters/dynamodb-journal.ts';
import { STATE_KEY } from '../../../../../functions/core/adapters/dynamodb-state.ts';
import { type ChangeEntry, journalSortKey } from '../../../../../functions/core/domain/change-journal.ts';
import { encodeCursor } from '../../../../../functions/core/domain/journal-cursor.ts';
import { ProblemError } from '../../../../../functions/core/domain/problems.ts';
import { createStateTable, type LocalDynamoDb, startLocalDynamoDb } from '../../../../../local/dynamodb.ts';

const T0 = Date.UTC(2026, 11, 6, 20, 0, 0);
const RAW_SECRET = 'sandbox-secret-zzzzzzzzzzzzzzzz';

let engine: LocalDynamoDb;
let client: DynamoDBClient;
let table = '';
let tables = 0;
let warnings: { message: string; attributes: Record<string, unknown> }[] = [];

beforeAll(async () => {
  engine = await startLocalDynamoDb({ port: 0 });
  client = engine.client();
});
afterAll(async () => {
  await engine?.close();
});
// A fresh table per test: nothing one test leaves can make another pass.
beforeEach(async () => {
  tables += 1;
  table = `journal-${tables}`;
  warnings = [];
  await createStateTable(client, table);
});

function journal() {
  return createDynamoDbJournal({
    client,
    tableName: table,
    logger: { warn: (message, attributes) => warnings.push({ message, attributes }) },
  });
}

function entryAt(index: number): ChangeEntry {
  return {
    at: new Date(T0 + index * 1_000).toISOString(),
    actor: 'arn:aws:sts::000000000000:assumed-role/local-writer/local',
    request_id: `req-${index}`,
    fields: [
      { field: 'webhook_uri', before: null, after: `https://hooks.example.com/${index}` },
      { field: 'client_secret', before: ['****aaaa'], after: ['****aaaa', '****bbbb'] },
    ],
    etag_before: `"before-${index}"`,
    etag_after: `"after-${index}"`,
  };
}

/** A journal item exactly as the write side stores it. */
async function putItem(sk: string, entry: unknown, pk: string = STATE_KEY.pk): Promise<void> {
  await client.send(
    new PutItemCommand({
      TableName: table,
      Item: marshall({ pk, sk, ttl: Math.ceil(T0 / 1_000) + 86_400, entry }, { removeUndefinedValues: true }),
    }),
  );
}

async function putEntry(index: number): Promise<void> {
  const entry = entryAt(index);
  await putItem(journalSortKey(T0 + index * 1_000, entry.request_id), entry);
}

/** Items of other kinds around the journal: the state item, keys before and after the prefix, another partition. */
async function putNeighbours(): Promise<void> {
  await client.send(
    new PutItemCommand({
      TableName: table,
      Item: marshall({ ...STATE_KEY, owner: 'someone', expiresAtMs: T0, view: { secret: RAW_SECRET } }),
    }),
  );
  await putItem('zzz#after-the-prefix', entryAt(90));
  await putItem('chang#before-the-prefix', entryAt(91));
  await putItem(journalSortKey(T0 + 99_000, 'other-partition'), entryAt(99), 'another-partition');
}

function problemOf(error: unknown): ProblemError {
  if (error instanceof ProblemError) return error;
  throw error;
}

describe('the DynamoDB journal reader', () => {
  it('pages newest first: 6 entries, limit 2, three pages, the last without a cursor', async () => {
    for (const index of [3, 1, 6, 2, 5, 4]) await putEntry(index);
    await putNeighbours();
    const reader = journal();
    const pages: string[][] = [];
    let cursor: string | undefined;
    do {
      const page = await reader.list({ limit: 2, cursor });
      pages.push(page.entries.map((entry) => entry.request_id));
      cursor = page.nextCursor;
    } while (cursor !== undefined && pages.length < 10);
    expect(pages).toEqual([
      ['req-6', 'req-5'],
      ['req-4', 'req-3'],
      ['req-2', 'req-1'],
    ]);
    const first = await reader.list({ limit: 2 });
    expect(first.entries[0]).toEqual(entryAt(6));
    expect(warnings).toEqual([]);
  });

  it('answers an empty journal with no entries and no cursor, beside the state item', async () => {
    await putNeighbours();
    expect(await journal().list({ limit: 20 })).toEqual({ entries: [] });
    // Not read at all: an item outside the prefix would have been refused (and logged) had it been.
    expect(warnings).toEqual([]);
  });

  it('leaves out an item that does not validate, and logs its sort key, never its content', async () => {
    for (const index of [1, 2, 4]) await putEntry(index);
    const badKey = journalSortKey(T0 + 3_000, 'req-3');
    // A raw secret where a masked one belongs is still a string: this one fails on its fields instead.
    await putItem(badKey, { ...entryAt(3), fields: 'client_secret', leaked: RAW_SECRET, etag_after: 7 });
    const page = await journal().list({ limit: 10 });
    expect(page.entries.map((entry) => entry.request_id)).toEqual(['req-4', 'req-2', 'req-1']);
    expect(page.nextCursor).toBeUndefined();
    expect(warnings).toEqual([
      { message: 'journal item refused', attributes: { journal: { refused: badKey } } },
    ]);
    expect(JSON.stringify(warnings)).not.toContain(RAW_SECRET);
  });

  it('keeps paging past a page whose only item was left out', async () => {
    await putEntry(1);
    await putItem(journalSortKey(T0 + 2_000, 'req-2'), { nonsense: true });
    await putEntry(3);
    const reader = journal();
    const first = await reader.list({ limit: 1 });
    expect(first.entries.map((entry) => entry.request_id)).toEqual(['req-3']);
    const second = await reader.list({ limit: 1, cursor: first.nextCursor });
    expect(second.entries).toEqual([]);
    expect(second.nextCursor).toBeDefined();
    const third = await reader.list({ limit: 1, cursor: second.nextCursor });
    expect(third).toEqual({ entries: [entryAt(1)] });
  });

  it('refuses a cursor crafted to point at the state item, another prefix or another partition', async () => {
    await putNeighbours();
    await putEntry(1);
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    for (const cursor of [
      b64({ v: 1, sk: 'state' }),
      b64({ v: 1, sk: 'zzz#after-the-prefix' }),
      b64({ v: 1, sk: journalSortKey(T0, 'x'), pk: 'another-partition' }),
      b64({ pk: { S: 'another-partition' }, sk: { S: 'state' } }),
      'not a cursor',
      `${encodeCursor(journalSortKey(T0, 'req-1'))}x`,
    ]) {
      const problem = problemOf(
        await journal()
          .list({ limit: 5, cursor })
          .catch((error: unknown) => error),
      );
      expect(problem.slug, cursor).toBe('invalid-cursor');
      expect(problem.status).toBe(400);
    }
  });

  it('starts a journal-shaped cursor in our own partition only: nothing of another partition is read', async () => {
    await putNeighbours();
    for (const index of [1, 2]) await putEntry(index);
    // The key of the other partition's item, as a cursor: it starts our journal there, still in our pk.
    const cursor = encodeCursor(journalSortKey(T0 + 99_000, 'other-partition'));
    const page = await journal().list({ limit: 5, cursor });
    expect(page.entries.map((entry) => entry.request_id)).toEqual(['req-2', 'req-1']);
    // The other partition's item is really there, and was not read.
    const other = await client.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: marshall({ ':pk': 'another-partition' }),
      }),
    );
    expect(other.Items).toHaveLength(1);
  });
});
