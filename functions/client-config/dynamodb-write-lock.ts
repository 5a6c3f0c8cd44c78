/**
 * Secondary adapter: the write lock as a lease item in DynamoDB (`@aws-sdk/client-dynamodb`).
 *
 * - acquire: a conditional `PutItem` of the one lease item (`pk` = `affix-client`, `sk` =
 *   `write-lease`) with a fresh owner token, the lease expiry in epoch ms and `ttl` in epoch seconds,
 *   accepted only when no unexpired lease exists. A refusal returns the holder's item
 *   (`ReturnValuesOnConditionCheckFailure: ALL_OLD`), so the writer knows when that lease ends; engines
 *   that do not return it (dynalite) are asked with one consistent `GetItem`. Tries repeat with
 *   jittered backoff while at least half the request's budget is left for the GET and POST.
 * - release: a `DeleteItem` conditioned on our owner token, in `finally`; a failed release is logged
 *   as a warning and never replaces the write's own result (the lease then simply expires).
 *
 * @example
 * const writeLock = createDynamoDbWriteLock({ client: new DynamoDBClient({}), tableName, leaseMs: 30_000 });
 */

import { randomUUID } from 'node:crypto';
import { setTimeout as wait } from 'node:timers/promises';
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { CallContext, WriteLock } from './ports.ts';
import {
  contentionRetryAfterSeconds,
  leaseBackoffMs,
  leaseDurationMs,
  workReserveMs,
  writeAbandoned,
  writeContention,
  writeLockUnavailable,
} from './write-lock.ts';

/** The lease item's key. The table keeps other state of the proxy beside it under other keys. */
export const LEASE_KEY = { pk: 'affix-client', sk: 'write-lease' } as const;

/**
 * A release is one small delete; it must not hold the answer back for long (it runs after the POST,
 * inside the safety margin's backstop). A release that times out leaves the lease to expire.
 */
export const RELEASE_TIMEOUT_MS = 200;

export interface LeaseWarningLogger {
  warn(message: string, extra: Record<string, unknown>): void;
}

export interface DynamoDbWriteLockOptions {
  client: DynamoDBClient;
  tableName: string;
  /** The configured lease; a lease is always extended past the invocation's end. */
  leaseMs: number;
  logger?: LeaseWarningLogger;
  /** Wall clock (epoch ms): lease expiries are compared across containers. */
  now?: () => number;
  random?: () => number;
  /** The pause between tries; given the call's signal, so it may end early when that fires. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** The owner token of each acquisition. */
  token?: () => string;
  /** Default {@link RELEASE_TIMEOUT_MS}. */
  releaseTimeoutMs?: number;
}

/** Resolves after `ms`, or as soon as `signal` fires (its only rejection, an AbortError, is the early end). */
const defaultSleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  wait(ms, undefined, { signal }).catch(() => undefined);

type TryOutcome = { kind: 'acquired' } | { kind: 'held'; holderExpiresAtMs: number | undefined };

function expiresAtOf(item: Record<string, AttributeValue> | undefined): number | undefined {
  const raw = item?.expiresAtMs?.N;
  const value = raw === undefined ? Number.NaN : Number(raw);
  return Number.isFinite(value) ? value : undefined;
}

/** What may be logged of a DynamoDB failure: names and statuses, never a message (it can echo values). */
function describeFailure(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { error: typeof error };
  const status = (error as { $metadata?: { httpStatusCode?: unknown } }).$metadata?.httpStatusCode;
  return { error: error.name, ...(typeof status === 'number' ? { status } : {}) };
}

export function createDynamoDbWriteLock(options: DynamoDbWriteLockOptions): WriteLock {
  const { client, tableName } = options;
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? defaultSleep;
  const token = options.token ?? randomUUID;
  const key = { pk: { S: LEASE_KEY.pk }, sk: { S: LEASE_KEY.sk } };

  async function holderExpiry(
    error: ConditionalCheckFailedException,
    signal: AbortSignal,
  ): Promise<{ owner: string | undefined; expiresAtMs: number | undefined }> {
    if (error.Item !== undefined) {
      return { owner: error.Item.owner?.S, expiresAtMs: expiresAtOf(error.Item) };
    }
    const read = await client.send(
      new GetItemCommand({ TableName: tableName, Key: key, ConsistentRead: true }),
      { abortSignal: signal },
    );
    return { owner: read.Item?.owner?.S, expiresAtMs: expiresAtOf(read.Item) };
  }

  async function tryAcquire(owner: string, call: CallContext): Promise<TryOutcome> {
    const at = now();
    const expiresAtMs = at + leaseDurationMs(options.leaseMs, call.invocationRemainingMs?.());
    const timeout = AbortSignal.timeout(Math.max(1, Math.ceil(call.deadline.remainingMs())));
    const signal = call.signal === undefined ? timeout : AbortSignal.any([timeout, call.signal]);
    try {
      await client.send(
        new PutItemCommand({
          TableName: tableName,
          Item: {
            ...key,
            owner: { S: owner },
            expiresAtMs: { N: String(expiresAtMs) },
            // DynamoDB's TTL removes leases nobody released (TTL is in epoch seconds).
            ttl: { N: String(Math.ceil(expiresAtMs / 1_000)) },
          },
          ConditionExpression: 'attribute_not_exists(pk) OR #expires < :now',
          ExpressionAttributeNames: { '#expires': 'expiresAtMs' },
          ExpressionAttributeValues: { ':now': { N: String(at) } },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
        { abortSignal: signal },
      );
      return { kind: 'acquired' };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const holder = await holderExpiry(error, signal);
      // An SDK retry of a put that had succeeded finds our own lease: it is ours.
      if (holder.owner === owner) return { kind: 'acquired' };
      return { kind: 'held', holderExpiresAtMs: holder.expiresAtMs };
    }
  }

  async function release(owner: string): Promise<void> {
    try {
      await client.send(
        new DeleteItemCommand({
          TableName: tableName,
          Key: key,
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': { S: owner } },
        }),
        { abortSignal: AbortSignal.timeout(options.releaseTimeoutMs ?? RELEASE_TIMEOUT_MS) },
      );
    } catch (error) {
      // Not ours any more (it expired and another writer took it), or DynamoDB failed: the lease
      // expires by itself. The write's own answer stands.
      const reason = error instanceof ConditionalCheckFailedException ? 'not-owner' : 'failed';
      options.logger?.warn('write lease release failed', { lease: { reason, ...describeFailure(error) } });
    }
  }

  async function acquire(owner: string, call: CallContext): Promise<void> {
    const started = performance.now();
    const reserve = workReserveMs(call.deadline);
    const waited = () => Math.round(performance.now() - started);
    for (let attempt = 0; ; attempt += 1) {
      if (call.signal?.aborted) {
        call.onLockWait?.(waited());
        throw writeAbandoned(waited());
      }
      let outcome: TryOutcome;
      try {
        outcome = await tryAcquire(owner, call);
      } catch (error) {
        call.onLockWait?.(waited());
        // The put may have been applied although we saw no answer: give back what may be ours.
        await release(owner);
        if (call.signal?.aborted) throw writeAbandoned(waited());
        throw writeLockUnavailable({ reason: 'lock-store-failed', ...describeFailure(error) });
      }
      if (outcome.kind === 'acquired') {
        call.onLockWait?.(waited());
        return;
      }
      const holderRemainingMs =
        outcome.holderExpiresAtMs === undefined ? undefined : Math.max(0, outcome.holderExpiresAtMs - now());
      const delay = leaseBackoffMs(attempt, holderRemainingMs, random);
      if (delay > call.deadline.remainingMs() - reserve) {
        call.onLockWait?.(waited());
        throw writeContention(contentionRetryAfterSeconds(holderRemainingMs, options.leaseMs), waited());
      }
      await sleep(delay, call.signal);
    }
  }

  return {
    async runExclusive(call, work) {
      const owner = token();
      await acquire(owner, call);
      try {
        return await work();
      } finally {
        await release(owner);
      }
    },
  };
}
