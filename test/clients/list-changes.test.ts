/**
 * The typed client's `listChanges`: over a recording server, what it sends (the query in the signed
 * URL) and that an answer that is not a page is `invalid-response`; against the local API with the
 * local identities (the real handler and journal), a reader pages journal items with the cursor, a
 * forged cursor is `invalid-cursor`, and the verifier is `access-denied`.
 */
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, expectTypeOf, it } from 'vitest';
import { type ChangePage, createClientConfigClient } from '../../clients/index.ts';
import { STATE_KEY } from '../../functions/core/adapters/dynamodb-state.ts';
import { type ChangeEntry, journalSortKey } from '../../functions/core/domain/change-journal.ts';
import { LOCAL_IDENTITIES, type LocalSigner } from '../../local/identities.ts';
import { type LocalStack, startLocalStack } from '../../local/start.ts';
import { captureOutput } from '../support/capture.ts';
import { failure } from './support/failure.ts';
import { jsonAnswer, type RecordingServer, startRecordingServer } from './support/recording-server.ts';
import { parseAuthorization, sigV4Problem } from './support/sigv4.ts';

captureOutput();
const CREDENTIALS = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};
const T0 = Date.UTC(2026, 11, 6, 22, 0, 0);

function entryAt(index: number): ChangeEntry {
  return {
    at: new Date(T0 + index * 1_000).toISOString(),
    actor: 'arn:aws:sts::000000000000:assumed-role/local-writer/local',
    request_id: `client-req-${index}`,
    fields: [{ field: 'name', before: `Name ${index - 1}`, after: `Name ${index}` }],
    etag_before: null,
    etag_after: `"e-${index}"`,
  };
}

describe('listChanges over a recording server', () => {
  let server: RecordingServer;
  beforeAll(async () => {
    server = await startRecordingServer();
  });
  afterAll(() => server.close());
  beforeEach(() => {
    server.requests.length = 0;
  });
  const api = () =>
    createClientConfigClient({
      baseUrl: `${server.url}/prod`,
      region: 'eu-west-1',
      credentials: CREDENTIALS,
    });

  it('sends GET /client/changes with limit and cursor in the signed query, and returns the typed page', async () => {
    const page = { changes: [entryAt(2), entryAt(1)], next_cursor: 'abc_-' };
    server.answer(jsonAnswer(200, page));
    const result = await api().listChanges({ limit: 2, cursor: 'abc_-' });
    expectTypeOf(result).toEqualTypeOf<ChangePage>();
    expect(result).toEqual(page);
    const request = server.requests[0];
    expect(request?.method).toBe('GET');
    expect(request?.url).toBe('/prod/client/changes?limit=2&cursor=abc_-');
    expect(parseAuthorization(request?.headers.authorization)?.service).toBe('execute-api');
    expect(
      request === undefined
        ? 'no request'
        : sigV4Problem(request, { ...CREDENTIALS, region: 'eu-west-1', service: 'execute-api' }),
    ).toBeUndefined();
  });

  it('sends no query without arguments', async () => {
    server.answer(jsonAnswer(200, { changes: [] }));
    expect(await api().listChanges()).toEqual({ changes: [] });
    expect(server.requests[0]?.url).toBe('/prod/client/changes');
  });

  it.each([
    ['no changes member', { next_cursor: 'x' }],
    ['an entry without actor', { changes: [{ ...entryAt(1), actor: undefined }] }],
    [
      'an unknown field change',
      { changes: [{ ...entryAt(1), fields: [{ field: 'owner', before: 'a', after: 'b' }] }] },
    ],
    ['a numeric cursor', { changes: [], next_cursor: 7 }],
  ])('answers %s as invalid-response', async (_name, body) => {
    server.answer(jsonAnswer(200, body));
    const error = await failure(api().listChanges());
    expect(error).toMatchObject({ slug: 'invalid-response', status: 200 });
    expect(error.detail).toMatch(/not a page of changes/);
  });
});

describe('listChanges against the local API', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLocalStack({ port: 0 });
    for (const index of [1, 2, 3]) {
      const entry = entryAt(index);
      await stack.dynamodb.client().send(
        new PutItemCommand({
          TableName: stack.dynamodb.tableName,
          Item: marshall({
            pk: STATE_KEY.pk,
            sk: journalSortKey(T0 + index * 1_000, entry.request_id),
            ttl: Math.ceil(T0 / 1_000) + 86_400,
            entry,
          }),
        }),
      );
    }
  });
  afterAll(async () => {
    await stack?.close();
  });
  const clientAs = (signer: LocalSigner) =>
    createClientConfigClient({
      baseUrl: stack.apiUrl,
      region: 'us-east-1',
      credentials: { accessKeyId: signer.accessKeyId, secretAccessKey: signer.secretAccessKey },
      timeoutMs: 10_000,
    });

  it('reader: pages the journal newest first with the cursor', async () => {
    const reader = clientAs(LOCAL_IDENTITIES.readers);
    const first = await reader.listChanges({ limit: 2 });
    expect(first.changes).toEqual([entryAt(3), entryAt(2)]);
    expect(first.next_cursor).toBeDefined();
    const second = await reader.listChanges({ limit: 2, cursor: first.next_cursor });
    expect(second).toEqual({ changes: [entryAt(1)] });
  });

  it('a forged cursor is invalid-cursor (400, not retryable); a limit of 0 is validation-failed', async () => {
    const reader = clientAs(LOCAL_IDENTITIES.readers);
    const forged = Buffer.from(JSON.stringify({ v: 1, sk: 'state' })).toString('base64url');
    expect(await failure(reader.listChanges({ cursor: forged }))).toMatchObject({
      slug: 'invalid-cursor',
      status: 400,
      retryable: false,
    });
    const invalid = await failure(reader.listChanges({ limit: 0 }));
    expect(invalid).toMatchObject({ slug: 'validation-failed', status: 400 });
    expect(invalid.errors).toEqual([{ pointer: '/limit', detail: 'must be an integer from 1 to 100' }]);
  });

  it('verifier: access-denied', async () => {
    expect(await failure(clientAs(LOCAL_IDENTITIES.verifiers).listChanges())).toMatchObject({
      slug: 'access-denied',
      status: 403,
    });
  });
});
