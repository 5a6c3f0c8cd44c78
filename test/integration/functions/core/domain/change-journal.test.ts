/**
 * The change journal's write side on a real DynamoDB engine (dynalite, with the local engine's
 * transactions) and the Affix sandbox: the use cases' writes under the real lease, and two keepers on
 * one table standing for two containers. Every journal item is read back raw from the table.
 */
import { type DynamoDBClient, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import * as v from 'valibot';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAffixHttpClient } from '../../../../../functions/core/adapters/affix-http.ts';
import {
  createDynamoDbStateStore,
  STATE_KEY,
} from '../../../../../functions/core/adapters/dynamodb-state.ts';
import { createCredentialsCache } from '../../../../../functions/core/app/credentials.ts';
import { createDeadline } from '../../../../../functions/core/app/deadline.ts';
import { createLeaseWriteLock, createSharedState } from '../../../../../functions/core/app/shared-state.ts';
import { createUseCases } from '../../../../../functions/core/app/use-cases.ts';
import {
  ChangeEntrySchema,
  JOURNAL_SORT_PREFIX,
  journalSortKey,
  OUTSIDE_ACTOR,
} from '../../../../../functions/core/domain/change-journal.ts';
import { computeEtag } from '../../../../../functions/core/domain/client-state.ts';
import type { ProblemError } from '../../../../../functions/core/domain/problems.ts';
import { parseAffixClient } from '../../../../../functions/core/domain/schemas.ts';
import type { AffixPort, CallContext } from '../../../../../functions/core/ports.ts';
import { type AffixSandbox, startAffixSandbox } from '../../../../../local/affix-sandbox.ts';
import { createStateTable, type LocalDynamoDb, startLocalDynamoDb } from '../../../../../local/dynamodb.ts';
import { CLIENT_ID, ETAG_KEY, ETAG_KEY_BASE64, SECRET_A } from '../../../../support/affix-fixtures.ts';
import { findLeaks } from '../../../../support/leaks.ts';

const CALLER = 'arn:aws:sts::123456789012:assumed-role/deployer/session-1';
const RETENTION_DAYS = 30;
const NEW_SECRET = 'journal-new-secret-0123456789-zyxw';

let engine: LocalDynamoDb;
let client: DynamoDBClient;
let sandbox: AffixSandbox;
let table = '';
let tables = 0;
/** What SSM would serve: the secret the proxy authenticates with. */
let servedSecret = SECRET_A;

beforeAll(async () => {
  engine = await startLocalDynamoDb({ port: 0 });
  client = engine.client();
  sandbox = await startAffixSandbox({ port: 0 });
});
afterAll(async () => {
  await sandbox?.close();
  await engine?.close();
});
// A fresh table per test: entries one test leaves cannot count for another.
beforeEach(async () => {
  tables += 1;
  table = `journal-${tables}`;
  await createStateTable(client, table);
  servedSecret = SECRET_A;
  sandbox.setClient({
    client_id: CLIENT_ID,
    client_secret: [SECRET_A],
    name: 'Journal App',
    redirect_uris: ['https://app.example.com/callback'],
    webhook_uri: 'https://hooks.example.com/affix',
  });
  sandbox.resetRequests();
  sandbox.clearFaults();
});

let requests = 0;
const call = (actor = CALLER): CallContext => {
  requests += 1;
  return {
    deadline: createDeadline(3_000),
    exchanges: [],
    author: { actor, requestId: `request-${requests}` },
  };
};

/** Why releases failed, as the lease's warnings name it. */
let warnings: string[] = [];
beforeEach(() => {
  warnings = [];
});

/** One container: the use cases over its keeper, its lease and the sandbox (`wrap`: around the HTTP client). */
function container(options: { token?: () => string; wrap?: (inner: AffixPort) => AffixPort } = {}) {
  const reported: string[][] = [];
  const credentials = createCredentialsCache({
    load: async () => ({ clientId: CLIENT_ID, clientSecret: servedSecret, etagKey: ETAG_KEY }),
    maxAgeMs: 60_000,
  });
  const store = createDynamoDbStateStore({ client, tableName: table, journalRetentionDays: RETENTION_DAYS });
  const keeper = createSharedState({
    store,
    credentials,
    report: (fields) => reported.push(fields),
    onStoreFailure: () => {},
  });
  const http = createAffixHttpClient({
    baseUrl: sandbox.url,
    credentials,
    attemptTimeoutMs: 1_000,
    maxAttempts: 2,
  });
  const affix = keeper.affix(options.wrap === undefined ? http : options.wrap(http));
  const logger = {
    warn: (_message: string, extra: Record<string, unknown>) =>
      warnings.push((extra.lease as { reason: string }).reason),
  };
  const writeLock = createLeaseWriteLock({
    store,
    keeper,
    leaseMs: 30_000,
    logger,
    ...(options.token === undefined ? {} : { token: options.token }),
  });
  return { affix, reported, useCases: createUseCases({ affix, credentials, writeLock }) };
}

/** Every journal item of the table, raw (as DynamoDB holds them). */
async function rawJournal() {
  const page = await client.send(
    new QueryCommand({
      TableName: table,
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
      ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
      ExpressionAttributeValues: marshall({ ':pk': STATE_KEY.pk, ':prefix': JOURNAL_SORT_PREFIX }),
      ConsistentRead: true,
    }),
  );
  return page.Items ?? [];
}

async function journal() {
  return (await rawJournal()).map((item) => unmarshall(item));
}

const etagOf = () => computeEtag(parseAffixClient(sandbox.client) ?? never(), ETAG_KEY);
function never(): never {
  throw new Error('the sandbox holds no valid client');
}

describe('the change journal, written with each accepted change', () => {
  it('a changing PATCH leaves exactly one entry: the changed field only, the caller, the request, both ETags', async () => {
    const { useCases } = container();
    const before = etagOf();
    const writeCall = call();
    const result = await useCases.patchClient(
      { webhook_uri: 'https://hooks.example.com/new', name: 'Journal App' },
      writeCall,
      { ifMatch: before },
    );
    const items = await journal();
    expect(items).toHaveLength(1);
    const [item] = items;
    const entry = v.parse(ChangeEntrySchema, item?.entry);
    const atMs = Date.parse(entry.at);
    expect(item).toEqual({
      pk: STATE_KEY.pk,
      sk: journalSortKey(atMs, writeCall.author?.requestId ?? ''),
      ttl: Math.floor(atMs / 1_000) + RETENTION_DAYS * 86_400,
      entry,
    });
    expect(entry).toEqual({
      at: entry.at,
      actor: CALLER,
      request_id: writeCall.author?.requestId,
      fields: [
        {
          field: 'webhook_uri',
          before: 'https://hooks.example.com/affix',
          after: 'https://hooks.example.com/new',
        },
      ],
      etag_before: before,
      etag_after: result.etag,
    });
    expect(result.etag).toBe(etagOf());
  });

  it('a no-op write and a 412 append nothing', async () => {
    const { useCases } = container();
    await useCases.patchClient({ name: 'Journal App' }, call());
    const stale = await useCases
      .patchClient({ name: 'Stale' }, call(), { ifMatch: '"AAAAAAAAAAAAAAAAAAAAAA"' })
      .catch((error: unknown) => error as ProblemError);
    expect((stale as ProblemError).slug).toBe('precondition-failed');
    expect(sandbox.client.name).toBe('Journal App');
    expect(await journal()).toEqual([]);
  });

  it('a secret replacement shows the secrets as masked tails only', async () => {
    const { useCases } = container();
    await useCases.replaceSecrets([SECRET_A, NEW_SECRET], call());
    const [item] = await journal();
    expect(item?.entry.fields).toEqual([
      { field: 'client_secret', before: ['****tial'], after: ['****tial', '****zyxw'] },
    ]);
  });

  it('an outside change leaves one `outside` entry, once, though two containers see it at once', async () => {
    const b = container();
    let seeing: CallContext | undefined;
    // Container a loads the state, then b reads and records the change, then a's read returns: both
    // judged the same change against the same record, and only the first to record it journals it.
    const a = container({
      wrap: (inner) => ({
        getClient: async (context) => {
          if (seeing === undefined) {
            seeing = call();
            await b.useCases.getClient(seeing);
          }
          return inner.getClient(context);
        },
        replaceClient: (update, context) => inner.replaceClient(update, context),
      }),
    });
    await b.useCases.getClient(call());
    const viewEtag = etagOf();
    sandbox.setClient({ ...sandbox.client, name: 'Renamed at Affix' });
    await a.useCases.getClient(call());
    expect(seeing).toBeDefined();
    expect([...a.reported, ...b.reported]).toEqual([['name']]);
    const items = await journal();
    expect(items).toHaveLength(1);
    expect(v.parse(ChangeEntrySchema, items[0]?.entry)).toEqual({
      at: expect.any(String),
      actor: OUTSIDE_ACTOR,
      request_id: seeing?.author?.requestId,
      fields: [{ field: 'name', before: 'Journal App', after: 'Renamed at Affix' }],
      etag_before: viewEtag,
      etag_after: etagOf(),
    });
    // Seen again later by either: not journaled again.
    await a.useCases.getClient(call());
    await b.useCases.getClient(call());
    expect(await journal()).toHaveLength(1);
  });

  it('a write whose lease was lost before its release still leaves its entry, once', async () => {
    // The write's lease expires and another writer takes it after the POST was answered, before the release.
    const { useCases } = container({
      token: () => 'first-writer',
      wrap: (inner) => ({
        getClient: (context) => inner.getClient(context),
        replaceClient: async (update, context) => {
          const answered = await inner.replaceClient(update, context);
          await client.send(
            new PutItemCommand({
              TableName: table,
              Item: marshall({ ...STATE_KEY, owner: 'second-writer', expiresAtMs: Date.now() + 30_000 }),
            }),
          );
          return answered;
        },
      }),
    });
    const result = await useCases.patchClient({ name: 'Lease lost' }, call());
    expect(result.client.name).toBe('Lease lost');
    expect(warnings).toEqual(['not-owner']);
    expect((await journal()).map((item) => item.entry.fields)).toEqual([
      [{ field: 'name', before: 'Journal App', after: 'Lease lost' }],
    ]);
  });

  it('no secret value, ETag key or Authorization appears in any journal item', async () => {
    const { useCases } = container();
    await useCases.replaceSecrets([SECRET_A, NEW_SECRET], call());
    servedSecret = NEW_SECRET;
    await useCases.replaceSecrets([NEW_SECRET], call());
    await useCases.patchClient({ redirect_uris: ['https://app.example.com/other'] }, call());
    const items = await rawJournal();
    expect(items).toHaveLength(3);
    const texts = items.map((item) => JSON.stringify(item));
    expect(findLeaks(texts, [SECRET_A, NEW_SECRET, ETAG_KEY_BASE64], CLIENT_ID)).toEqual([]);
    const authorization = `Basic ${Buffer.from(`${CLIENT_ID}:${NEW_SECRET}`).toString('base64')}`;
    for (const text of texts) {
      expect(text).not.toContain(authorization.slice(6));
      expect(text.toLowerCase()).not.toContain('authorization');
      expect(text).not.toContain(Buffer.from(ETAG_KEY_BASE64, 'base64').toString('hex'));
    }
  });
});
