/**
 * End to end through the local stack: a writer changes `webhook_uri` through the API, and a reader's
 * `GET /client/changes` then lists that change, newest first, with the writer's ARN as its actor and
 * the field before and after. Needs the journal's write side (every accepted change appends an entry).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChangeEntry } from '../../../functions/core/domain/change-journal.ts';
import { LOCAL_IDENTITIES } from '../../../local/identities.ts';
import { type LocalStack, startLocalStack } from '../../../local/start.ts';
import { captureOutput } from '../../support/capture.ts';
import { signedFetch } from '../../support/signed-fetch.ts';

captureOutput();
let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({ port: 0 });
});
afterAll(async () => {
  await stack?.close();
});

describe('a change through the API, then the journal', () => {
  it("lists the writer's webhook_uri change with the writer's ARN", async () => {
    const writer = LOCAL_IDENTITIES.writers;
    const read = await signedFetch(`${stack.apiUrl}/client`, { method: 'GET' }, writer);
    expect(read.status).toBe(200);
    const before = ((await read.json()) as { webhook_uri: string | null }).webhook_uri;
    const etag = read.headers.get('etag') ?? '';
    const target = 'https://hooks.example.com/journal-e2e';
    const patch = await signedFetch(
      `${stack.apiUrl}/client`,
      {
        method: 'PATCH',
        headers: { 'content-type': 'application/json', 'if-match': etag },
        body: JSON.stringify({ webhook_uri: target }),
      },
      writer,
    );
    expect(patch.status, await patch.clone().text()).toBe(200);
    const etagAfter = patch.headers.get('etag');

    const listed = await signedFetch(
      `${stack.apiUrl}/client/changes?limit=5`,
      { method: 'GET' },
      LOCAL_IDENTITIES.readers,
    );
    expect(listed.status).toBe(200);
    const { changes } = (await listed.json()) as { changes: ChangeEntry[] };
    expect(changes.length, 'the write left no journal entry').toBeGreaterThan(0);
    const newest = changes[0];
    expect(newest).toMatchObject({
      actor: writer.identity.userArn,
      fields: [{ field: 'webhook_uri', before, after: target }],
    });
    // The entity tags of the answers, with or without the quotes of the header.
    expect(etag).toContain(newest?.etag_before ?? '(none)');
    expect(etagAfter).toContain(newest?.etag_after ?? '(none)');
    expect(Date.parse(newest?.at ?? '')).not.toBeNaN();
  });
});
