/**
 * The shared state around the real Affix HTTP client (talking to the sandbox) on a real DynamoDB engine
 * (dynalite): two keepers on one table stand for two containers. Clocks are injected where time decides.
 */
import { type DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAffixHttpClient } from '../../../../../functions/core/adapters/affix-http.ts';
import {
  createDynamoDbStateStore,
  STATE_KEY,
} from '../../../../../functions/core/adapters/dynamodb-state.ts';
import { createClientReads } from '../../../../../functions/core/app/client-reads.ts';
import { createCredentialsCache } from '../../../../../functions/core/app/credentials.ts';
import { createDeadline } from '../../../../../functions/core/app/deadline.ts';
import {
  createLeaseWriteLock,
  createSharedState,
  type SharedStateOptions,
} from '../../../../../functions/core/app/shared-state.ts';
import type { BudgetNotes } from '../../../../../functions/core/domain/budget-notes.ts';
import { computeEtag, toUpdate } from '../../../../../functions/core/domain/client-state.ts';
import { parseEtagKey } from '../../../../../functions/core/domain/etag-key.ts';
import type { ProblemError } from '../../../../../functions/core/domain/problems.ts';
import type { StatePart } from '../../../../../functions/core/domain/state-item.ts';
import type { AffixPort, CallContext, StateStore } from '../../../../../functions/core/ports.ts';
import {
  type AffixSandbox,
  SANDBOX_DEFAULTS,
  startAffixSandbox,
} from '../../../../../local/affix-sandbox.ts';
import { createStateTable, type LocalDynamoDb, startLocalDynamoDb } from '../../../../../local/dynamodb.ts';
import { ETAG_KEY_BASE64 } from '../../../../support/affix-fixtures.ts';

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
  table = `state-${tables}`;
  await createStateTable(client, table);
  sandbox.setClient({
    client_id: SANDBOX_DEFAULTS.clientId,
    client_secret: [...SANDBOX_DEFAULTS.clientSecret],
    name: 'State App',
    redirect_uris: ['https://app.example.com/callback'],
    webhook_uri: 'https://hooks.example.com/affix',
  });
  sandbox.resetRequests();
  sandbox.clearFaults();
});

const call = (budget: BudgetNotes = {}): CallContext => ({
  deadline: createDeadline(3_000),
  exchanges: [],
  budget,
});
const http = () =>
  createAffixHttpClient({ baseUrl: sandbox.url, credentials, attemptTimeoutMs: 1_000, maxAttempts: 3 });

/** One container: its keeper over the table, its decorated Affix client, and what it reported. */
function container(options: Partial<SharedStateOptions> & { inner?: AffixPort } = {}) {
  const reported: string[][] = [];
  const failures: string[] = [];
  const refused: StatePart[][] = [];
  const store = options.store ?? createDynamoDbStateStore({ client, tableName: table });
  const keeper = createSharedState({
    store,
    credentials,
    report: (fields) => reported.push(fields),
    onStoreFailure: (operation) => failures.push(operation),
    onRefused: (parts) => refused.push(parts),
    ...options,
  });
  const affix = keeper.affix(options.inner ?? http());
  const writeLock = createLeaseWriteLock({ store, keeper, leaseMs: 30_000 });
  return { keeper, affix, writeLock, reported, failures, refused, store };
}

async function item(): Promise<string> {
  const read = await client.send(
    new GetItemCommand({ TableName: table, Key: marshall(STATE_KEY), ConsistentRead: true }),
  );
  return JSON.stringify(read.Item ?? {});
}

describe('the shared back-off', () => {
  it('after one 429 with Retry-After 60, every container answers 429 without calling Affix, counting down', async () => {
    let clock = Date.now();
    const now = () => clock;
    const a = container({ now });
    const b = container({ now });
    sandbox.injectFault({ kind: 'status', status: 429, headers: { 'retry-after': '60' } });
    const first = await a.affix.getClient(call()).catch((error: unknown) => error);
    expect((first as ProblemError).retryAfterSeconds).toBe(60);
    expect(sandbox.requests).toHaveLength(1);
    const seen: number[] = [];
    for (const keeper of [b, a, b]) {
      clock += 10_000;
      const budget: BudgetNotes = {};
      const answer = await keeper.affix.getClient(call(budget)).catch((error: unknown) => error);
      expect((answer as ProblemError).slug).toBe('upstream-rate-limited');
      expect(budget.answeredFrom).toBe('backoff');
      seen.push((answer as ProblemError).retryAfterSeconds ?? -1);
    }
    expect(seen).toEqual([50, 40, 30]);
    expect(sandbox.requests).toHaveLength(1);
    clock += 31_000;
    expect((await b.affix.getClient(call())).name).toBe('State App');
    expect(sandbox.requests).toHaveLength(2);
  });

  it('caps an absurd Retry-After at 300 s, and the shared record is the authority (removing it ends the back-off)', async () => {
    const a = container();
    sandbox.injectFault({ kind: 'status', status: 429, headers: { 'retry-after': '86400' } });
    const first = (await a.affix.getClient(call()).catch((error: unknown) => error)) as ProblemError;
    expect(first.retryAfterSeconds).toBe(300);
    const during = (await a.affix.getClient(call()).catch((error: unknown) => error)) as ProblemError;
    expect(during.retryAfterSeconds).toBeLessThanOrEqual(300);
    expect(sandbox.requests).toHaveLength(1);
    // An operator removes the back-off: the same container asks Affix with its next call.
    await client.send(new PutItemCommand({ TableName: table, Item: marshall(STATE_KEY) }));
    expect((await a.affix.getClient(call())).name).toBe('State App');
  });

  it('a state store that fails never fails the request: Affix is called', async () => {
    const a = container({ store: createDynamoDbStateStore({ client, tableName: 'no-such-table' }) });
    expect((await a.affix.getClient(call())).name).toBe('State App');
    expect(a.failures).toEqual(['read', 'write']);
  });
});

describe('the view, fed by every exchange', () => {
  it('a read anywhere refreshes the view another container answers from, masked, with the ETag', async () => {
    const a = container();
    const b = container();
    await a.affix.getClient(call());
    const reads = createClientReads({ state: b.keeper.state, maxAgeSeconds: 30 });
    const budget: BudgetNotes = {};
    const hit = await reads.read(call(budget), () => Promise.reject(new Error('no Affix read expected')), {
      noCache: false,
    });
    expect(budget).toEqual({ cacheHit: true, answeredFrom: 'cache' });
    expect(hit.etag).toBe(computeEtag({ ...sandbox.client, extra: {} } as never, etagKey));
    expect(hit.client.client_secret).toEqual([`****${SANDBOX_DEFAULTS.clientSecret[0].slice(-4)}`]);
    expect(await item()).not.toContain(SANDBOX_DEFAULTS.clientSecret[0]);
  });

  it('an older read never replaces a newer view', async () => {
    let clock = 1_000_000;
    const a = container({ now: () => clock });
    clock = 2_000_000;
    await a.affix.getClient(call());
    sandbox.setClient({ ...sandbox.client, name: 'Read earlier' });
    clock = 1_500_000;
    await container({ now: () => clock }).affix.getClient(call());
    const { view } = await container({ now: () => 2_000_001 }).keeper.state(call());
    expect(view?.client.name).toBe('State App');
    expect(view?.readAtMs).toBe(2_000_000);
  });

  it('a malformed item is refused part by part, logged by part, and never served: a raw secret, a back-off of 1e100', async () => {
    const raw = {
      client: {
        client_id: 'c',
        name: 'Forged',
        redirect_uris: [],
        webhook_uri: null,
        client_secret: ['RAW-SECRET-VALUE'],
      },
      etag: '"AAAAAAAAAAAAAAAAAAAAAA"',
      readAtMs: Date.now(),
    };
    await client.send(
      new PutItemCommand({
        TableName: table,
        Item: { ...marshall({ ...STATE_KEY, view: raw }), notBeforeMs: { N: '1e100' } },
      }),
    );
    const a = container();
    const reads = createClientReads({ state: a.keeper.state, maxAgeSeconds: 30 });
    const answer = await reads.read(
      call(),
      async (context) => {
        const current = await a.affix.getClient(context);
        return { client: current, etag: computeEtag(current, etagKey) };
      },
      { noCache: false },
    );
    // Served from Affix (no back-off, no forged view), and the view is replaced by the real one.
    expect(answer.client.name).toBe('State App');
    expect(a.refused).toEqual([['view', 'back-off']]);
    expect(sandbox.requests).toHaveLength(1);
    expect(await item()).not.toContain('RAW-SECRET-VALUE');
  });
});

describe('the outside-change watch', () => {
  it('records the first read quietly, reports a change made at Affix once, by field name', async () => {
    const a = container();
    const b = container();
    await a.affix.getClient(call());
    await b.affix.getClient(call());
    expect([...a.reported, ...b.reported]).toEqual([]);
    sandbox.setClient({ ...sandbox.client, webhook_uri: 'https://attacker.example.com/hook' });
    await b.affix.getClient(call());
    await a.affix.getClient(call());
    expect([...a.reported, ...b.reported]).toEqual([['webhook_uri']]);
    // The digests hold no value (the view shows webhook_uri, as GET /client does).
    expect(JSON.stringify(JSON.parse(await item()).fields)).not.toContain('attacker.example.com');
  });

  it('never reports a write through the proxy, also to readers before its POST and before its release', async () => {
    const reader = container();
    const inner = http();
    // The writer's Affix: another container reads right before the POST reaches Affix and right after
    // Affix applied it, before the writer's release (the interleavings a real race can produce).
    const writer = container({
      inner: {
        getClient: (context) => inner.getClient(context),
        replaceClient: async (update, context) => {
          await reader.affix.getClient(call());
          const written = await inner.replaceClient(update, context);
          await reader.affix.getClient(call());
          return written;
        },
      },
    });
    for (const name of ['Renamed once', 'Renamed twice']) {
      const writeCall = call();
      await writer.writeLock.runExclusive(writeCall, async () => {
        const current = await writer.affix.getClient(writeCall);
        await writer.affix.replaceClient({ ...toUpdate(current), name }, writeCall);
      });
      await reader.affix.getClient(call());
    }
    expect(sandbox.client.name).toBe('Renamed twice');
    expect([...reader.reported, ...writer.reported]).toEqual([]);
    // The watch is live: a change at Affix after these writes is reported.
    sandbox.setClient({ ...sandbox.client, redirect_uris: ['https://elsewhere.example.com/cb'] });
    await reader.affix.getClient(call());
    expect(reader.reported).toEqual([['redirect_uris']]);
  });

  it('never reports a read that loaded the state before a write recorded its pending marker and read Affix after its POST', async () => {
    await container().affix.getClient(call());
    const inner = http();
    let readerLoaded = (): void => undefined;
    const loaded = new Promise<void>((resolve) => {
      readerLoaded = resolve;
    });
    let postAnswered = (): void => undefined;
    const posted = new Promise<void>((resolve) => {
      postAnswered = resolve;
    });
    // The reader holds its state item (loaded before any record of the write) until the POST is answered.
    const reader = container({
      inner: {
        getClient: async (context) => {
          readerLoaded();
          await posted;
          return inner.getClient(context);
        },
        replaceClient: (update, context) => inner.replaceClient(update, context),
      },
    });
    const reading = reader.affix.getClient(call());
    await loaded;
    // The writer lets the reader judge and record its read after the POST, before the release.
    const writer = container({
      inner: {
        getClient: (context) => inner.getClient(context),
        replaceClient: async (update, context) => {
          const written = await inner.replaceClient(update, context);
          postAnswered();
          await reading;
          return written;
        },
      },
    });
    const writeCall = call();
    await writer.writeLock.runExclusive(writeCall, async () => {
      const current = await writer.affix.getClient(writeCall);
      await writer.affix.replaceClient({ ...toUpdate(current), name: 'Renamed during a read' }, writeCall);
    });
    expect((await reading).name).toBe('Renamed during a read');
    expect([...reader.reported, ...writer.reported]).toEqual([]);
    // The watch is live: a change at Affix is reported once, by the first read that finds it.
    sandbox.setClient({ ...sandbox.client, webhook_uri: 'https://attacker.example.com/hook' });
    const other = container();
    await reader.affix.getClient(call());
    await other.affix.getClient(call());
    expect([...reader.reported, ...other.reported, ...writer.reported]).toEqual([['webhook_uri']]);
  });

  it('never reports a write whose own record was lost (its release failed) to readers racing the next write', async () => {
    let offsetMs = 0;
    const now = () => Date.now() + offsetMs;
    await container({ now }).affix.getClient(call());
    const tableStore = createDynamoDbStateStore({ client, tableName: table });
    // The first writer's release never reaches the table: its written record is lost, its lease expires.
    const releaseLost: StateStore = {
      ...tableStore,
      apply: (change, nowMs) =>
        change.lease !== undefined && 'release' in change.lease
          ? Promise.reject(new Error('the state store timed out'))
          : tableStore.apply(change, nowMs),
    };
    const first = container({ now, store: releaseLost });
    const firstCall = call();
    await first.writeLock.runExclusive(firstCall, async () => {
      const current = await first.affix.getClient(firstCall);
      await first.affix.replaceClient({ ...toUpdate(current), name: 'Renamed, record lost' }, firstCall);
    });
    offsetMs = 60_000;
    const reader = container({ now });
    const inner = http();
    // Another container reads after the second write's pending marker, before its POST.
    const second = container({
      now,
      inner: {
        getClient: (context) => inner.getClient(context),
        replaceClient: async (update, context) => {
          await reader.affix.getClient(call());
          return inner.replaceClient(update, context);
        },
      },
    });
    const secondCall = call();
    await second.writeLock.runExclusive(secondCall, async () => {
      const current = await second.affix.getClient(secondCall);
      await second.affix.replaceClient(
        { ...toUpdate(current), webhook_uri: 'https://hooks.example.com/second' },
        secondCall,
      );
    });
    await reader.affix.getClient(call());
    expect(sandbox.client.name).toBe('Renamed, record lost');
    expect(sandbox.client.webhook_uri).toBe('https://hooks.example.com/second');
    expect([...first.reported, ...second.reported, ...reader.reported]).toEqual([]);
    // The watch is live: a change at Affix after these writes is reported, once.
    sandbox.setClient({ ...sandbox.client, name: 'Changed outside' });
    await reader.affix.getClient(call());
    await second.affix.getClient(call());
    expect([...first.reported, ...second.reported, ...reader.reported]).toEqual([['name']]);
  });

  it('a 412 under the lease is written back: its fresh read is the view, and its outside change is reported', async () => {
    const writer = container();
    await writer.affix.getClient(call());
    sandbox.setClient({ ...sandbox.client, name: 'Changed outside' });
    const writeCall = call();
    await writer.writeLock.runExclusive(writeCall, async () => {
      await writer.affix.getClient(writeCall);
      // The use case answers 412 here; nothing is POSTed.
    });
    expect(writer.reported).toEqual([['name']]);
    const { view } = await container().keeper.state(call());
    expect(view?.client.name).toBe('Changed outside');
    expect(view?.etag).toBe(computeEtag({ ...sandbox.client, extra: {} } as never, etagKey));
    expect(sandbox.requests.map((request) => request.method)).toEqual(['GET', 'GET']);
  });
});

describe('the write lease after a POST', () => {
  /** One container whose POST gives up after one short attempt. */
  const impatient = () =>
    container({
      inner: createAffixHttpClient({
        baseUrl: sandbox.url,
        credentials,
        attemptTimeoutMs: 200,
        maxAttempts: 1,
      }),
    });
  const writeOnce = async (writer: ReturnType<typeof container>, name: string) => {
    const writeCall = call();
    const failure = await writer.writeLock
      .runExclusive(writeCall, async () => {
        const current = await writer.affix.getClient(writeCall);
        return writer.affix.replaceClient({ ...toUpdate(current), name }, writeCall);
      })
      .catch((error: unknown) => error as ProblemError);
    return failure;
  };
  const lease = async () => JSON.parse(await item()) as { owner?: unknown; pending?: unknown };

  it('is kept until it expires when the POST may still land (Affix did not answer in time); its pending marker stays', async () => {
    let landPost: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      landPost = resolve;
    });
    sandbox.injectFault({ kind: 'delay', ms: 0, until: held }, { method: 'POST' });
    const writer = impatient();
    try {
      const failure = await writeOnce(writer, 'In doubt');
      expect((failure as ProblemError).slug).toBe('upstream-timeout');
      const after = await lease();
      expect(after.owner).toBeDefined();
      expect(after.pending).toBeDefined();
      // Another container cannot take the lease while the POST may still land.
      const other = container();
      const refused = await writeOnce(other, 'Second writer');
      expect((refused as ProblemError).slug).toBe('write-contention');
      expect(sandbox.requests.filter((request) => request.method === 'POST')).toHaveLength(1);
    } finally {
      landPost();
    }
  });

  it('is given up at once when Affix refused the POST (nothing will land); the pending marker is cleared', async () => {
    sandbox.injectFault({ kind: 'status', status: 400 }, { method: 'POST' });
    const writer = impatient();
    const failure = await writeOnce(writer, 'Refused');
    expect((failure as ProblemError).slug).toBe('upstream-rejected');
    const after = await lease();
    expect(after.owner).toBeUndefined();
    expect(after.pending).toBeUndefined();
    const next = await writeOnce(container(), 'Next writer');
    expect(next).toMatchObject({ name: 'Next writer' });
  });
});
