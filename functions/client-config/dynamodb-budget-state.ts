/**
 * Secondary adapter: the rate-budget items of the state table (`@aws-sdk/client-dynamodb`), beside the
 * write lease under `pk` = `affix-client`:
 *
 * - `sk` = `read-cache`: the masked public view and the ETag (`GetItem`; `PutItem` conditioned on
 *   `readAtMs`, so an older read never replaces a newer one);
 * - `sk` = `rate-limit`: "not before" after an Affix 429 (`GetItem`; `UpdateItem` that only moves it later);
 * - `sk` = `last-seen`: per-field HMAC digests (`GetItem`, `PutItem` conditioned on `version`,
 *   `UpdateItem` for a write's pending and result).
 *
 * No item holds a secret or a client value. Each call has a short timeout: this is bookkeeping, and the
 * callers treat a failure as "no shared state" rather than failing the request.
 *
 * @example
 * const cache = createDynamoDbReadCache({ client, tableName, ttlSeconds: 3_600 });
 */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { LEASE_KEY } from './dynamodb-write-lock.ts';
import {
  type FieldDigests,
  LAST_SEEN_SK,
  type LastSeen,
  type LastSeenStore,
  WATCHED_FIELDS,
} from './outside-change.ts';
import { type BackoffStore, RATE_LIMIT_SK } from './rate-limit-backoff.ts';
import { type CachedView, READ_CACHE_SK, type ReadCacheStore } from './read-cache.ts';
import type { PublicClient } from './schemas.ts';

/** Bookkeeping must not hold an answer back for long. */
export const BUDGET_STATE_TIMEOUT_MS = 1_000;
/** How long DynamoDB keeps an item nobody touched (the `ttl` attribute); the items are small. */
const ITEM_TTL_SECONDS = 7 * 24 * 3_600;

export interface DynamoDbBudgetStateOptions {
  client: DynamoDBClient;
  tableName: string;
  /** Wall clock (epoch ms), for the `ttl` attribute. */
  now?: () => number;
  timeoutMs?: number;
}

const keyOf = (sk: string) => ({ pk: { S: LEASE_KEY.pk }, sk: { S: sk } });

function numberOf(value: AttributeValue | undefined): number | undefined {
  const parsed = value?.N === undefined ? Number.NaN : Number(value.N);
  return Number.isFinite(parsed) ? parsed : undefined;
}

/** What every store of one item (`sk`) needs: its key, a consistent read of it, timeouts and `ttl`. */
function common(options: DynamoDbBudgetStateOptions, sk: string) {
  const now = options.now ?? Date.now;
  const timeoutMs = options.timeoutMs ?? BUDGET_STATE_TIMEOUT_MS;
  const Key = keyOf(sk);
  /** Per call: a fresh timeout signal. */
  const within = () => ({ abortSignal: AbortSignal.timeout(timeoutMs) });
  return {
    client: options.client,
    Key,
    within,
    /** The item as it is now (strongly consistent: another container may just have written it). */
    getItem: async (): Promise<Record<string, AttributeValue> | undefined> =>
      (
        await options.client.send(
          new GetItemCommand({ TableName: options.tableName, Key, ConsistentRead: true }),
          within(),
        )
      ).Item,
    ttl: (atMs: number) => ({ N: String(Math.ceil(atMs / 1_000) + ITEM_TTL_SECONDS) }),
    now,
  };
}

/** A put whose condition failed is an answer ("someone was first"), not an error. */
async function conditional(put: Promise<unknown>): Promise<boolean> {
  try {
    await put;
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

export function createDynamoDbReadCache(options: DynamoDbBudgetStateOptions): ReadCacheStore {
  const { client, Key, within, getItem, ttl } = common(options, READ_CACHE_SK);
  return {
    async get() {
      const item = await getItem();
      const readAtMs = numberOf(item?.readAtMs);
      const view = item?.view?.S;
      const etag = item?.etag?.S;
      if (readAtMs === undefined || view === undefined || etag === undefined) return undefined;
      return { client: JSON.parse(view) as PublicClient, etag, readAtMs } satisfies CachedView;
    },
    put(view) {
      return conditional(
        client.send(
          new PutItemCommand({
            TableName: options.tableName,
            Item: {
              ...Key,
              view: { S: JSON.stringify(view.client) },
              etag: { S: view.etag },
              readAtMs: { N: String(view.readAtMs) },
              ttl: ttl(view.readAtMs),
            },
            ConditionExpression: 'attribute_not_exists(pk) OR #readAt < :readAt',
            ExpressionAttributeNames: { '#readAt': 'readAtMs' },
            ExpressionAttributeValues: { ':readAt': { N: String(view.readAtMs) } },
          }),
          within(),
        ),
      );
    },
  };
}

export function createDynamoDbBackoffStore(options: DynamoDbBudgetStateOptions): BackoffStore {
  const { client, Key, within, getItem, ttl } = common(options, RATE_LIMIT_SK);
  return {
    async notBefore() {
      const item = await getItem();
      return numberOf(item?.notBeforeMs);
    },
    async extend(notBeforeMs) {
      await conditional(
        client.send(
          new UpdateItemCommand({
            TableName: options.tableName,
            Key,
            UpdateExpression: 'SET #notBefore = :notBefore, #ttl = :ttl',
            ConditionExpression: 'attribute_not_exists(#notBefore) OR #notBefore < :notBefore',
            ExpressionAttributeNames: { '#notBefore': 'notBeforeMs', '#ttl': 'ttl' },
            ExpressionAttributeValues: { ':notBefore': { N: String(notBeforeMs) }, ':ttl': ttl(notBeforeMs) },
          }),
          within(),
        ),
      );
    },
  };
}

function digestsToMap(fields: FieldDigests): AttributeValue {
  return { M: Object.fromEntries(WATCHED_FIELDS.map((field) => [field, { S: fields[field] }])) };
}

/** Digests back from the item; a field missing (an older item) reads as '' and so differs. */
function mapToDigests(value: AttributeValue | undefined): FieldDigests | undefined {
  if (value?.M === undefined) return undefined;
  const map = value.M;
  return Object.fromEntries(WATCHED_FIELDS.map((field) => [field, map[field]?.S ?? ''])) as FieldDigests;
}

export function createDynamoDbLastSeenStore(options: DynamoDbBudgetStateOptions): LastSeenStore {
  const { client, Key, within, getItem, ttl, now } = common(options, LAST_SEEN_SK);
  return {
    async get() {
      const item = await getItem();
      const fields = mapToDigests(item?.fields);
      if (item === undefined || fields === undefined) return undefined;
      return {
        fields,
        version: numberOf(item.version) ?? 0,
        pending: mapToDigests(item.pending),
        replaced: mapToDigests(item.replaced),
        changedAtMs: numberOf(item.changedAtMs),
      } satisfies LastSeen;
    },
    putObserved(fields, expectedVersion) {
      // Only `fields` and `version` change: a write's pending or replaced state stays as it is.
      const values: Record<string, AttributeValue> = {
        ':fields': digestsToMap(fields),
        ':ttl': ttl(now()),
        ':one': { N: '1' },
      };
      if (expectedVersion !== undefined) values[':expected'] = { N: String(expectedVersion) };
      return conditional(
        client.send(
          new UpdateItemCommand({
            TableName: options.tableName,
            Key,
            UpdateExpression: 'SET #fields = :fields, #ttl = :ttl ADD #version :one',
            ConditionExpression:
              expectedVersion === undefined ? 'attribute_not_exists(#fields)' : '#version = :expected',
            ExpressionAttributeNames: { '#fields': 'fields', '#ttl': 'ttl', '#version': 'version' },
            ExpressionAttributeValues: values,
          }),
          within(),
        ),
      );
    },
    async putPending(fields) {
      await client.send(
        new UpdateItemCommand({
          TableName: options.tableName,
          Key,
          UpdateExpression: 'SET #pending = :pending, #ttl = :ttl',
          ExpressionAttributeNames: { '#pending': 'pending', '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':pending': digestsToMap(fields), ':ttl': ttl(now()) },
        }),
        within(),
      );
    },
    async putWritten(fields, replaced, atMs) {
      const values: Record<string, AttributeValue> = {
        ':fields': digestsToMap(fields),
        ':at': { N: String(atMs) },
        ':ttl': ttl(atMs),
        ':one': { N: '1' },
      };
      let set = '#fields = :fields, #changedAt = :at, #ttl = :ttl';
      const names: Record<string, string> = {
        '#fields': 'fields',
        '#changedAt': 'changedAtMs',
        '#ttl': 'ttl',
        '#version': 'version',
        '#pending': 'pending',
      };
      if (replaced !== undefined) {
        set += ', #replaced = :replaced';
        names['#replaced'] = 'replaced';
        values[':replaced'] = digestsToMap(replaced);
      }
      await client.send(
        new UpdateItemCommand({
          TableName: options.tableName,
          Key,
          UpdateExpression: `SET ${set} ADD #version :one REMOVE #pending`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
        within(),
      );
    },
    async clearPending() {
      await client
        .send(
          new UpdateItemCommand({
            TableName: options.tableName,
            Key,
            UpdateExpression: 'REMOVE #pending',
            ConditionExpression: 'attribute_exists(pk)',
            ExpressionAttributeNames: { '#pending': 'pending' },
          }),
          within(),
        )
        .catch((error: unknown) => {
          if (!(error instanceof ConditionalCheckFailedException)) throw error;
        });
    },
  };
}
