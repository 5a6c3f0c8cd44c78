/**
 * The state store's requests, against a stand-in DynamoDB client that records each command and answers
 * as DynamoDB would (success, a failed condition, a cancelled transaction). No engine, no sockets: the
 * engine's own behaviour is covered by the integration suites.
 */
import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  type PutItemCommand,
  TransactionCanceledException,
  TransactionConflictException,
  type TransactWriteItemsCommand,
  type UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import {
  createDynamoDbStateStore,
  journalItem,
  STATE_KEY,
} from '../../../../../functions/core/adapters/dynamodb-state.ts';
import { type ChangeEntry, journalSortKey } from '../../../../../functions/core/domain/change-journal.ts';
import { LeaseLostError } from '../../../../../functions/core/domain/state-item.ts';
import type { StateChange } from '../../../../../functions/core/ports.ts';

const AT_MS = Date.UTC(2026, 11, 6, 12, 0, 0, 5);
const entry = (requestId: string, actor = 'arn:aws:iam::123456789012:role/writer'): ChangeEntry => ({
  at: new Date(AT_MS).toISOString(),
  actor,
  request_id: requestId,
  fields: [{ field: 'name', before: 'Before', after: 'After' }],
  etag_before: '"before"',
  etag_after: '"after"',
});
const digests = {
  name: 'a'.repeat(22),
  webhook_uri: 'b'.repeat(22),
  redirect_uris: 'c'.repeat(22),
  client_secret: 'd'.repeat(22),
  unmodelled: 'e'.repeat(22),
};
const view = {
  client: { client_id: 'c', name: 'After', redirect_uris: [], webhook_uri: null, client_secret: [] },
  etag: '"after"',
  readAtMs: AT_MS,
};

const failedCondition = () => new ConditionalCheckFailedException({ message: 'failed', $metadata: {} });
const cancelled = (...codes: string[]) =>
  new TransactionCanceledException({
    message: 'cancelled',
    $metadata: {},
    CancellationReasons: codes.map((Code) => ({ Code })),
  });

/** A client whose answers are given in order (an error is thrown, anything else returned). */
function scripted(...answers: unknown[]) {
  const sent: object[] = [];
  const client = {
    send: async (command: object) => {
      sent.push(command);
      const next = answers.shift();
      if (next instanceof Error) throw next;
      return next ?? {};
    },
  } as unknown as DynamoDBClient;
  const store = createDynamoDbStateStore({ client, tableName: 'state', journalRetentionDays: 10 });
  return { sent, store };
}

const kinds = (sent: object[]) => sent.map((command) => command.constructor.name);
type Transact = TransactWriteItemsCommand['input'];
const transactOf = (command: object | undefined) => (command as TransactWriteItemsCommand).input as Transact;

describe('journalItem', () => {
  it('keys the entry by time and request in the state partition, with its TTL, the entry validated', () => {
    expect(journalItem(entry('r-1'), 10)).toEqual({
      pk: STATE_KEY.pk,
      sk: journalSortKey(AT_MS, 'r-1'),
      ttl: Math.floor(AT_MS / 1_000) + 10 * 86_400,
      entry: entry('r-1'),
    });
  });

  it('refuses an entry that does not validate', () => {
    expect(() =>
      journalItem({ ...entry('r-1'), fields: [{ field: 'logo', before: 1 }] } as never, 10),
    ).toThrow();
  });
});

describe('apply with journal entries', () => {
  const release: StateChange = {
    view,
    written: { fields: digests, replaced: undefined, atMs: AT_MS },
    journal: [entry('r-1')],
    lease: { release: 'owner-1' },
  };

  it('sends one transaction: the state update with its conditions and a Put of each entry, never twice', async () => {
    const { sent, store } = scripted({});
    await store.apply(release, AT_MS);
    expect(kinds(sent)).toEqual(['TransactWriteItemsCommand']);
    const [update, put] = transactOf(sent[0]).TransactItems ?? [];
    expect(update?.Update?.Key).toEqual(marshall(STATE_KEY));
    expect(update?.Update?.ConditionExpression).toContain('#owner = ');
    expect(put?.Put).toEqual({
      TableName: 'state',
      Item: marshall(journalItem(entry('r-1'), 10)),
      ConditionExpression: 'attribute_not_exists(#sk)',
      ExpressionAttributeNames: { '#sk': 'sk' },
    });
  });

  it('a change without entries stays one UpdateItem', async () => {
    const { sent, store } = scripted({});
    await store.apply({ view, lease: { release: 'owner-1' } }, AT_MS);
    expect(kinds(sent)).toEqual(['UpdateItemCommand']);
  });

  it('repeats without its optional parts when their conditions fail, keeping the entry', async () => {
    const { sent, store } = scripted(cancelled('ConditionalCheckFailed', 'None'), {});
    await store.apply(release, AT_MS);
    expect(kinds(sent)).toEqual(['TransactWriteItemsCommand', 'TransactWriteItemsCommand']);
    const [first, second] = sent.map((command) => transactOf(command).TransactItems ?? []);
    expect(first?.[0]?.Update?.ConditionExpression).toContain('readAtMs');
    expect(second?.[0]?.Update?.ConditionExpression).not.toContain('readAtMs');
    expect(second?.[1]?.Put?.Item).toEqual(marshall(journalItem(entry('r-1'), 10)));
  });

  it('a lost lease is LeaseLostError; the accepted change keeps its entry, written alone', async () => {
    const { sent, store } = scripted(
      cancelled('ConditionalCheckFailed', 'None'),
      cancelled('ConditionalCheckFailed', 'None'),
      {},
    );
    await expect(store.apply(release, AT_MS)).rejects.toBeInstanceOf(LeaseLostError);
    expect(kinds(sent)).toEqual(['TransactWriteItemsCommand', 'TransactWriteItemsCommand', 'PutItemCommand']);
    expect((sent[2] as PutItemCommand).input.ConditionExpression).toBe('attribute_not_exists(#sk)');
  });

  it('a lost lease whose entry is already there writes nothing twice', async () => {
    const { sent, store } = scripted(
      cancelled('ConditionalCheckFailed', 'ConditionalCheckFailed'),
      cancelled('ConditionalCheckFailed', 'ConditionalCheckFailed'),
      failedCondition(),
    );
    await expect(store.apply(release, AT_MS)).rejects.toThrow('the write lease is held by another writer');
    expect(kinds(sent).at(-1)).toBe('PutItemCommand');
  });

  it('an entry already written (a repeat after a lost answer) is left out, and the update still made', async () => {
    const { sent, store } = scripted(cancelled('None', 'ConditionalCheckFailed'), {});
    await store.apply(release, AT_MS);
    expect(kinds(sent)).toEqual(['TransactWriteItemsCommand', 'UpdateItemCommand']);
    expect((sent[1] as UpdateItemCommand).input.ConditionExpression).toContain('readAtMs');
  });

  it('another transaction on the item is tried again, a bounded number of times', async () => {
    const conflict = () => cancelled('TransactionConflict', 'None');
    const once = scripted(conflict(), {});
    await once.store.apply(release, AT_MS);
    expect(kinds(once.sent)).toEqual(['TransactWriteItemsCommand', 'TransactWriteItemsCommand']);
    const always = scripted(conflict(), conflict(), conflict(), {});
    await expect(always.store.apply(release, AT_MS)).rejects.toBeInstanceOf(TransactionCanceledException);
    expect(always.sent).toHaveLength(3);
  });

  it('an outside change entry goes with its observation only: dropped with it, never alone', async () => {
    const observed: StateChange = {
      view,
      observe: { fields: digests, expectedVersion: 3, entry: entry('r-2', 'outside') },
    };
    const { sent, store } = scripted(
      cancelled('ConditionalCheckFailed', 'None'),
      cancelled('ConditionalCheckFailed', 'None'),
      {},
    );
    expect(await store.apply(observed, AT_MS)).toEqual({ observed: false });
    expect(kinds(sent)).toEqual([
      'TransactWriteItemsCommand',
      'TransactWriteItemsCommand',
      'UpdateItemCommand',
    ]);
    expect(transactOf(sent[1]).TransactItems?.[1]?.Put?.Item).toEqual(
      marshall(journalItem(entry('r-2', 'outside'), 10)),
    );
  });

  it('other failures are the caller’s to log, as before', async () => {
    const { store } = scripted(new Error('network down'));
    await expect(store.apply(release, AT_MS)).rejects.toThrow('network down');
  });
});

describe('acquire beside a transaction', () => {
  it('another request’s transaction on the item reads as a held lease (tried again), not a failure', async () => {
    const { store } = scripted(new TransactionConflictException({ message: 'conflict', $metadata: {} }));
    expect(await store.acquire('me', AT_MS + 30_000, AT_MS)).toEqual({ acquired: false, holder: undefined });
  });
});
