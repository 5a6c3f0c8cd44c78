/**
 * The rate-budget items against a real DynamoDB engine (dynalite on 127.0.0.1) and the decorators
 * around the real Affix HTTP client talking to the sandbox: two decorator instances on one table stand
 * for two containers.
 */
import { type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAffixHttpClient } from '../../functions/client-config/affix-http.ts';
import type { BudgetNotes } from '../../functions/client-config/budget-notes.ts';
import { createClientReads } from '../../functions/client-config/client-reads.ts';
import { computeEtag, toUpdate } from '../../functions/client-config/client-state.ts';
import { createCredentialsCache } from '../../functions/client-config/credentials.ts';
import { createDeadline } from '../../functions/client-config/deadline.ts';
import {
  createDynamoDbBackoffStore,
  createDynamoDbLastSeenStore,
  createDynamoDbReadCache,
} from '../../functions/client-config/dynamodb-budget-state.ts';
import { parseEtagKey } from '../../functions/client-config/etag-key.ts';
import { fieldDigests, withOutsideChangeWatch } from '../../functions/client-config/outside-change.ts';
import type { CallContext } from '../../functions/client-config/ports.ts';
import { ProblemError } from '../../functions/client-config/problems.ts';
import { withSharedBackoff } from '../../functions/client-config/rate-limit-backoff.ts';
import { type AffixSandbox, SANDBOX_DEFAULTS, startAffixSandbox } from '../../local/affix-sandbox.ts';
import { createStateTable, type LocalDynamoDb, startLocalDynamoDb } from '../../local/dynamodb.ts';
import { ETAG_KEY_BASE64 } from '../support/affix-fixtures.ts';

let engine: LocalDynamoDb;
let client: DynamoDBClient;
let sandbox: AffixSandbox;
let table = '';
let tables = 0;
const etagKey = parseEtagKey(ETAG_KEY_BASE64);
const credentials = createCredentialsCache({
  load: async () => ({
    clientId: SANDBOX_DEFAULTS.clientId,
    clientSecret: SANDBOX_DEFAULTS.clientSecret[0],
    etagKey,
  }),
  maxAgeMs: 60_000,
});

beforeAll(async () => {
  engine = await startLocalDynamoDb({ port: 0 });
  client = engine.client();
  sandbox = await startAffixSandbox({ port: 0 });
});
afterAll(async () => {
  await sandbox?.close();
  await engine?.close();
});
// A fresh table per test: nothing one test leaves can make another pass.
beforeEach(async () => {
  tables += 1;
  table = `budget-${tables}`;
  await createStateTable(client, table);
  sandbox.setClient({
    client_id: SANDBOX_DEFAULTS.clientId,
    client_secret: [...SANDBOX_DEFAULTS.clientSecret],
    name: 'Budget App',
    redirect_uris: ['https://app.example.com/callback'],
    webhook_uri: 'https://hooks.example.com/affix',
  });
  sandbox.resetRequests();
  sandbox.clearFaults();
});

const state = (now?: () => number) => ({ client, tableName: table, now });
const call = (budget: BudgetNotes = {}): CallContext => ({
  deadline: createDeadline(3_000),
  exchanges: [],
  budget,
});
const http = () =>
  createAffixHttpClient({ baseUrl: sandbox.url, credentials, attemptTimeoutMs: 1_000, maxAttempts: 3 });
const view = (name: string) => ({
  client_id: 'c',
  name,
  redirect_uris: [],
  webhook_uri: null,
  client_secret: ['****aaaa'],
});

async function items(): Promise<string> {
  const scan = await client.send(new ScanCommand({ TableName: table }));
  return JSON.stringify(scan.Items ?? []);
}

describe('read-cache item', () => {
  it('keeps the newest read: a put of an older read is refused', async () => {
    const cache = createDynamoDbReadCache(state());
    expect(await cache.get()).toBeUndefined();
    expect(await cache.put({ client: view('new'), etag: '"n"', readAtMs: 2_000 })).toBe(true);
    expect(await cache.put({ client: view('old'), etag: '"o"', readAtMs: 1_000 })).toBe(false);
    expect(await cache.get()).toEqual({ client: view('new'), etag: '"n"', readAtMs: 2_000 });
    expect(await cache.put({ client: view('newer'), etag: '"x"', readAtMs: 3_000 })).toBe(true);
    expect((await cache.get())?.client.name).toBe('newer');
  });
});

describe('rate-limit item', () => {
  it('only ever moves "not before" later', async () => {
    const store = createDynamoDbBackoffStore(state());
    expect(await store.notBefore()).toBeUndefined();
    await store.extend(60_000);
    await store.extend(30_000);
    expect(await store.notBefore()).toBe(60_000);
    await store.extend(90_000);
    expect(await store.notBefore()).toBe(90_000);
  });
});

describe('last-seen item', () => {
  it('a reader updates only the version it read; a write records pending, then its result', async () => {
    const store = createDynamoDbLastSeenStore(state());
    const a = fieldDigests(toUpdate({ ...(await http().getClient(call())) }), etagKey);
    const b = { ...a, webhook_uri: 'other' };
    expect(await store.putObserved(a, undefined)).toBe(true);
    expect(await store.putObserved(a, undefined)).toBe(false);
    const first = await store.get();
    expect(first).toMatchObject({ fields: a, version: 1 });
    expect(await store.putObserved(b, 0)).toBe(false);
    expect(await store.putObserved(b, 1)).toBe(true);
    await store.putPending(a);
    expect(await store.get()).toMatchObject({ fields: b, version: 2, pending: a });
    await store.putWritten(a, b, 5_000);
    const written = await store.get();
    expect(written).toMatchObject({ fields: a, version: 3, replaced: b, changedAtMs: 5_000 });
    expect(written?.pending).toBeUndefined();
    await store.putPending(b);
    await store.clearPending();
    expect((await store.get())?.pending).toBeUndefined();
  });
});

describe('shared back-off around the Affix client', () => {
  it('after one 429 with Retry-After 60, every container answers 429 without calling Affix, counting down', async () => {
    let clock = 1_000_000;
    const now = () => clock;
    const containerA = withSharedBackoff(http(), { store: createDynamoDbBackoffStore(state()), now });
    const containerB = withSharedBackoff(http(), { store: createDynamoDbBackoffStore(state()), now });
    sandbox.injectFault({ kind: 'status', status: 429, headers: { 'retry-after': '60' } });
    const first = await containerA.getClient(call()).catch((error: unknown) => error);
    expect(first).toBeInstanceOf(ProblemError);
    expect((first as ProblemError).retryAfterSeconds).toBe(60);
    // The adapter's retry loop did not spend budget past the known 429: one request.
    expect(sandbox.requests).toHaveLength(1);
    const seen: number[] = [];
    for (const [index, container] of [containerB, containerA, containerB].entries()) {
      clock += 10_000;
      const budget: BudgetNotes = {};
      const answer = await container.getClient(call(budget)).catch((error: unknown) => error);
      expect((answer as ProblemError).slug).toBe('upstream-rate-limited');
      expect(budget.answeredFrom, `answer ${index}`).toBe('backoff');
      seen.push((answer as ProblemError).retryAfterSeconds ?? -1);
    }
    expect(seen).toEqual([50, 40, 30]);
    expect(sandbox.requests).toHaveLength(1);
    // Once T has passed, Affix is called again.
    clock += 31_000;
    expect((await containerB.getClient(call())).name).toBe('Budget App');
    expect(sandbox.requests).toHaveLength(2);
  });

  it('a back-off store that fails never fails the request: Affix is called', async () => {
    const failures: string[] = [];
    const affix = withSharedBackoff(http(), {
      store: createDynamoDbBackoffStore({ client, tableName: 'no-such-table' }),
      onStoreFailure: (operation) => failures.push(operation),
    });
    expect((await affix.getClient(call())).name).toBe('Budget App');
    expect(failures).toEqual(['read']);
  });
});

describe('shared read cache', () => {
  it('concurrent misses in one container share one Affix read; a fresh entry answers without Affix', async () => {
    const affix = http();
    const reads = createClientReads({ store: createDynamoDbReadCache(state()), maxAgeSeconds: 30 });
    const load = async (context: CallContext) => {
      const read = await affix.getClient(context);
      return { client: read, etag: computeEtag(read, etagKey) };
    };
    const notes = Array.from({ length: 10 }, (): BudgetNotes => ({}));
    const answers = await Promise.all(
      notes.map((budget) => reads.read(call(budget), load, { noCache: false })),
    );
    expect(sandbox.requests).toHaveLength(1);
    expect(new Set(answers.map((answer) => answer.etag)).size).toBe(1);
    // A second container on the same table: a hit, with Age and max-age.
    const other = createClientReads({ store: createDynamoDbReadCache(state()), maxAgeSeconds: 30 });
    const budget: BudgetNotes = {};
    const hit = await other.read(call(budget), load, { noCache: false });
    expect(budget).toEqual({ cacheHit: true, answeredFrom: 'cache' });
    expect(hit.headers).toEqual({ 'cache-control': 'private, max-age=30', age: '0' });
    expect(hit.client.client_secret).toEqual(['****aaaa']);
    expect(sandbox.requests).toHaveLength(1);
    // no-cache reads Affix.
    await other.read(call(), load, { noCache: true });
    expect(sandbox.requests).toHaveLength(2);
    // The item holds the masked view only, never a secret.
    expect(await items()).not.toContain(SANDBOX_DEFAULTS.clientSecret[0]);
  });

  it('a cache store that fails degrades to reading Affix, never an error', async () => {
    const failures: string[] = [];
    const affix = http();
    const reads = createClientReads({
      store: createDynamoDbReadCache({ client, tableName: 'no-such-table' }),
      maxAgeSeconds: 30,
      onStoreFailure: (operation) => failures.push(operation),
    });
    const read = await reads.read(
      call(),
      async (context) => {
        const current = await affix.getClient(context);
        return { client: current, etag: computeEtag(current, etagKey) };
      },
      { noCache: false },
    );
    expect(read.client.name).toBe('Budget App');
    expect(failures).toEqual(['read', 'write']);
  });
});

describe('outside-change watch', () => {
  const watch = (reported: string[][]) =>
    withOutsideChangeWatch(http(), {
      store: createDynamoDbLastSeenStore(state()),
      credentials,
      report: (fields) => reported.push(fields),
    });

  it('records the first read quietly, reports a change made at Affix once, by field name', async () => {
    const reported: string[][] = [];
    const containerA = watch(reported);
    const containerB = watch(reported);
    await containerA.getClient(call());
    await containerB.getClient(call());
    expect(reported).toEqual([]);
    sandbox.setClient({ ...sandbox.client, webhook_uri: 'https://attacker.example.com/hook' });
    await containerB.getClient(call());
    await containerA.getClient(call());
    expect(reported).toEqual([['webhook_uri']]);
    expect(await items()).not.toContain('attacker.example.com');
  });

  it('never reports a write through the proxy, also to readers before its POST and before its bookkeeping', async () => {
    const reported: string[][] = [];
    const reader = watch(reported);
    const inner = http();
    // The writer's Affix: another container reads right before the POST reaches Affix and right after
    // Affix applied it, before the writer's bookkeeping (the interleavings a real race can produce).
    const writer = withOutsideChangeWatch(
      {
        getClient: (context) => inner.getClient(context),
        replaceClient: async (update, context) => {
          await reader.getClient(call());
          const written = await inner.replaceClient(update, context);
          await reader.getClient(call());
          return written;
        },
      },
      { store: createDynamoDbLastSeenStore(state()), credentials, report: (fields) => reported.push(fields) },
    );
    for (const name of ['Renamed once', 'Renamed twice']) {
      const writeCall = call();
      const current = await writer.getClient(writeCall);
      await writer.replaceClient({ ...toUpdate(current), name }, writeCall);
      await reader.getClient(call());
    }
    expect(sandbox.client.name).toBe('Renamed twice');
    expect(reported).toEqual([]);
    // The watch is live: a change at Affix after these writes is reported.
    sandbox.setClient({ ...sandbox.client, redirect_uris: ['https://elsewhere.example.com/cb'] });
    await reader.getClient(call());
    expect(reported).toEqual([['redirect_uris']]);
  });
});
