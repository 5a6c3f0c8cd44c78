/**
 * `GET /client/changes` through the local stack (`npm start`'s: the real handler module behind the
 * SigV4 API, whose admission derives from the contract as the stack's resource policy does), with
 * journal items put into its DynamoDB table as the write side stores them: a reader pages them, the
 * verifier is refused before the function, a bad limit or cursor is a 400 problem, the answer is
 * `no-store`, costs no Affix request, and carries secrets only as masked tails.
 */
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { STATE_KEY } from '../../../functions/core/adapters/dynamodb-state.ts';
import { type ChangeEntry, journalSortKey } from '../../../functions/core/domain/change-journal.ts';
import { maskSecret } from '../../../functions/core/domain/client-state.ts';
import { SANDBOX_DEFAULTS } from '../../../local/affix-sandbox.ts';
import { LOCAL_IDENTITIES } from '../../../local/identities.ts';
import { type LocalStack, startLocalStack } from '../../../local/start.ts';
import { captureOutput } from '../../support/capture.ts';
import { findLeaks } from '../../support/leaks.ts';
import { signedFetch } from '../../support/signed-fetch.ts';

const output = captureOutput();
const T0 = Date.UTC(2026, 11, 6, 21, 0, 0);
const OLD_SECRET = SANDBOX_DEFAULTS.clientSecret[0];
const NEW_SECRET = 'rotated-secret-5555555555555555';
const WRITER_ARN = LOCAL_IDENTITIES.writers.identity.userArn ?? '';
let stack: LocalStack;
let table = '';

beforeAll(async () => {
  stack = await startLocalStack({ port: 0 });
});
afterAll(async () => {
  await stack?.close();
});

/** Journal items of this test only: a fresh partition is not possible (the pk is fixed), so fresh times. */
let base = T0;
beforeEach(() => {
  base += 1_000_000;
  table = stack.dynamodb.tableName;
});

/** The entry a secret replacement leaves: both lists as `GET /client` shows them (masked tails). */
function secretReplacement(index: number, raw = false): ChangeEntry {
  const show = raw ? (secret: string) => secret : maskSecret;
  return {
    at: new Date(base + index * 1_000).toISOString(),
    actor: 'arn:aws:sts::000000000000:assumed-role/local-rotator/local',
    request_id: `rotate-${base}-${index}`,
    fields: [
      {
        field: 'client_secret',
        before: [show(OLD_SECRET)],
        after: [show(OLD_SECRET), show(NEW_SECRET)],
      },
    ],
    etag_before: `"b-${index}"`,
    etag_after: `"a-${index}"`,
  };
}

async function put(entry: ChangeEntry): Promise<void> {
  await stack.dynamodb.client().send(
    new PutItemCommand({
      TableName: table,
      Item: marshall({
        pk: STATE_KEY.pk,
        sk: journalSortKey(Date.parse(entry.at), entry.request_id),
        ttl: Math.ceil(Date.parse(entry.at) / 1_000) + 86_400,
        entry,
      }),
    }),
  );
}

async function list(query: string, signer = LOCAL_IDENTITIES.readers) {
  const response = await signedFetch(`${stack.apiUrl}/client/changes${query}`, { method: 'GET' }, signer);
  return { response, text: await response.text() };
}

describe('GET /client/changes through the local SigV4 API', () => {
  it('answers a reader 200, newest first, no-store, without an Affix request', async () => {
    for (const index of [1, 2, 3]) await put(secretReplacement(index));
    stack.sandbox?.resetRequests();
    const { response, text } = await list('?limit=2');
    expect(response.status, text).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const body = JSON.parse(text) as { changes: ChangeEntry[]; next_cursor?: string };
    expect(body.changes).toEqual([secretReplacement(3), secretReplacement(2)]);
    expect(typeof body.next_cursor).toBe('string');
    const next = await list(`?limit=2&cursor=${body.next_cursor}`);
    const older = JSON.parse(next.text) as { changes: ChangeEntry[]; next_cursor?: string };
    expect(older.changes[0]).toEqual(secretReplacement(1));
    expect(stack.sandbox?.requests ?? []).toEqual([]);
  });

  it('is open to writers and rotators too', async () => {
    for (const signer of [LOCAL_IDENTITIES.writers, LOCAL_IDENTITIES.rotators]) {
      expect((await list('?limit=1', signer)).response.status).toBe(200);
    }
  });

  it('refuses local-verifier in the resource policy (403 access-denied), before the function', async () => {
    const from = output.lines.length;
    const { response, text } = await list('', LOCAL_IDENTITIES.verifiers);
    expect(response.status).toBe(403);
    expect(JSON.parse(text)).toMatchObject({ type: 'urn:affix-webhook-config:problem:access-denied' });
    // The function never ran: no log line of the handler for this request.
    expect(output.json(from).filter((line) => line.service === 'affix-webhook-config')).toEqual([]);
  });

  it.each(['0', '101', 'ten', '1.5'])(
    'answers limit=%s with 400 validation-failed at /limit',
    async (limit) => {
      const { response, text } = await list(`?limit=${limit}`);
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      expect(JSON.parse(text)).toMatchObject({
        type: 'urn:affix-webhook-config:problem:validation-failed',
        status: 400,
        errors: [{ pointer: '/limit', detail: 'must be an integer from 1 to 100' }],
      });
    },
  );

  it('answers a repeated limit with 400, and ignores an unknown parameter', async () => {
    expect((await list('?limit=1&limit=2')).response.status).toBe(400);
    expect((await list('?limit=1&page=7')).response.status).toBe(200);
  });

  it('answers a cursor it did not issue with 400 invalid-cursor', async () => {
    const forged = Buffer.from(JSON.stringify({ v: 1, sk: 'state' })).toString('base64url');
    const { response, text } = await list(`?cursor=${forged}`);
    expect(response.status).toBe(400);
    expect(JSON.parse(text)).toMatchObject({
      type: 'urn:affix-webhook-config:problem:invalid-cursor',
      title: 'Cursor was not issued by this API',
    });
  });
});

describe('the leak scan over GET /client/changes', () => {
  it('finds no secret in a body of secret replacements (masked tails only)', async () => {
    for (const index of [1, 2]) await put(secretReplacement(index));
    const { response, text } = await list('?limit=100');
    expect(response.status).toBe(200);
    expect(text).toContain(maskSecret(NEW_SECRET));
    expect(findLeaks([text, ...output.lines], [OLD_SECRET, NEW_SECRET], SANDBOX_DEFAULTS.clientId)).toEqual(
      [],
    );
  });

  it('would catch a raw secret: an item holding one is refused, not served, and logged by request id only', async () => {
    const leaking = secretReplacement(5, true);
    // The scan is not blind: the entry as stored holds the raw secrets, and the scan finds them.
    expect(findLeaks([JSON.stringify(leaking)], [OLD_SECRET, NEW_SECRET]).length).toBeGreaterThan(0);
    await put(secretReplacement(4));
    await put(leaking);
    const from = output.lines.length;
    const { response, text } = await list('?limit=100');
    expect(response.status).toBe(200);
    const lines = output.lines.slice(from);
    expect(findLeaks([text, ...lines], [OLD_SECRET, NEW_SECRET], SANDBOX_DEFAULTS.clientId)).toEqual([]);
    const body = JSON.parse(text) as { changes: ChangeEntry[] };
    expect(body.changes.map((entry) => entry.request_id)).not.toContain(leaking.request_id);
    expect(body.changes.map((entry) => entry.request_id)).toContain(secretReplacement(4).request_id);
    expect(lines.join('\n')).toContain(leaking.request_id);
  });

  it('shows a writer change with the writer ARN as the actor, as stored', async () => {
    const entry: ChangeEntry = {
      at: new Date(base).toISOString(),
      actor: WRITER_ARN,
      request_id: `w-${base}`,
      fields: [{ field: 'webhook_uri', before: null, after: 'https://hooks.example.com/v2' }],
      etag_before: '"x"',
      etag_after: '"y"',
    };
    await put(entry);
    const body = JSON.parse((await list('?limit=1')).text) as { changes: ChangeEntry[] };
    expect(body.changes).toEqual([entry]);
  });
});
