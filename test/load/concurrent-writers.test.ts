/**
 * What `If-Match` guarantees, over real HTTP (local API, real handler, sandbox, local DynamoDB). Every
 * write takes the DynamoDB write lease around its read-check-write, so of N writes carrying the same
 * ETag exactly one succeeds and no accepted change is lost, also between two handler copies (two
 * containers with their own module state sharing one table). In one process; the multi-environment
 * versions of these tests run on separate execution environments.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { SANDBOX_DEFAULTS } from '../../local/affix-sandbox.ts';
import { type LocalApi, type LocalHandler, startLocalApi } from '../../local/api-gateway.ts';
import { type LocalStack, startLocalStack } from '../../local/start.ts';
import { documentedAnswer } from '../support/answers.ts';
import { captureOutput } from '../support/capture.ts';
import { createCaller } from '../support/http-caller.ts';
import { findLeaks } from '../support/leaks.ts';

const output = captureOutput();
let stack: LocalStack;
let otherContainer: LocalApi;
const first = createCaller(() => stack.apiUrl);
const second = createCaller(() => otherContainer.url);

function sandbox() {
  if (stack.sandbox === undefined) throw new Error('the sandbox should run');
  return stack.sandbox;
}

async function currentEtag(): Promise<string> {
  const read = await first.call('GET', '/client');
  expect(read.status).toBe(200);
  return read.headers.etag ?? '';
}

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

beforeAll(async () => {
  stack = await startLocalStack({ port: 0 });
  // A second container: a fresh copy of the handler module (own caches, own clients), same table.
  vi.resetModules();
  const { handler } = (await import('../../functions/client-config/handler.ts')) as { handler: LocalHandler };
  otherContainer = await startLocalApi({ handler, port: 0 });
  // Warm both containers up (credentials read from SSM), so timing below is about writes only.
  expect((await first.call('GET', '/client')).status).toBe(200);
  expect((await second.call('GET', '/client')).status).toBe(200);
});

afterAll(async () => {
  await otherContainer?.close();
  await stack?.close();
});

beforeEach(() => {
  sandbox().resetRequests();
  sandbox().clearFaults();
});

describe('If-Match within one container', () => {
  it('of 20 concurrent PATCHes with the same ETag exactly one succeeds, the others get 412', async () => {
    const etag = await currentEtag();
    sandbox().resetRequests();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        first.call('PATCH', '/client', { name: `Writer ${i}` }, { 'if-match': etag }),
      ),
    );
    const winners = results.filter((result) => result.status === 200);
    const losers = results.filter((result) => result.status !== 200);
    expect(winners).toHaveLength(1);
    for (const loser of losers) first.expectProblem(loser, 412, 'precondition-failed');
    // One POST in all, and the state is the winner's.
    expect(sandbox().requests.filter((request) => request.method === 'POST')).toHaveLength(1);
    const winner = winners[0]?.documented;
    expect(winner?.kind === 'success' && winner.client.name).toBe(sandbox().client.name);
  });

  it('10 writers that re-read and retry on 412 all get their change in: no accepted change is lost', async () => {
    const original = sandbox().client.redirect_uris;
    let accepted = 0;
    let preconditionFailures = 0;
    const writer = async (i: number) => {
      const mine = `https://writer-${i}.example.com/callback`;
      for (let attempt = 0; attempt < 100; attempt += 1) {
        const read = await first.call('GET', '/client');
        const doc = documentedAnswer(read);
        if (doc.kind !== 'success') throw new Error('read failed');
        const uris = doc.client.redirect_uris as string[];
        const write = await first.call(
          'PATCH',
          '/client',
          { redirect_uris: [...uris, mine] },
          {
            'if-match': read.headers.etag ?? '',
          },
        );
        if (write.status === 200) {
          accepted += 1;
          return;
        }
        first.expectProblem(write, 412, 'precondition-failed');
        preconditionFailures += 1;
      }
      throw new Error(`writer ${i} never got its change in`);
    };
    await Promise.all(Array.from({ length: 10 }, (_, i) => writer(i)));
    expect(accepted).toBe(10);
    const final = sandbox().client.redirect_uris;
    expect(final).toHaveLength(original.length + 10);
    for (let i = 0; i < 10; i += 1) expect(final).toContain(`https://writer-${i}.example.com/callback`);
    expect(sandbox().requests.filter((request) => request.method === 'POST')).toHaveLength(10);
    // The contention was real: some writers had to re-read.
    expect(preconditionFailures).toBeGreaterThan(0);
  });

  it('concurrent PATCHes of different fields without If-Match: every change survives', async () => {
    const results = await Promise.all([
      first.call('PATCH', '/client', { name: 'Concurrent Name' }),
      first.call('PATCH', '/client', { webhook_uri: 'https://hooks.example.com/concurrent' }),
      first.call('PATCH', '/client', { redirect_uris: ['https://concurrent.example.com/cb'] }),
    ]);
    expect(results.map((result) => result.status)).toEqual([200, 200, 200]);
    expect(sandbox().client).toMatchObject({
      name: 'Concurrent Name',
      webhook_uri: 'https://hooks.example.com/concurrent',
      redirect_uris: ['https://concurrent.example.com/cb'],
    });
  });

  it('a write that arrives while another is in flight waits for it, and then sees the changed ETag', async () => {
    const etag = await currentEtag();
    sandbox().resetRequests();
    sandbox().injectFault({ kind: 'delay', ms: 300 }, { method: 'POST' });
    const slow = first.call('PATCH', '/client', { name: 'Slow Writer' }, { 'if-match': etag });
    await until(() => sandbox().requests.some((request) => request.method === 'POST'));
    const late = await first.call(
      'PATCH',
      '/client',
      { webhook_uri: 'https://hooks.example.com/late' },
      { 'if-match': etag },
    );
    first.expectProblem(late, 412, 'precondition-failed');
    expect((await slow).status).toBe(200);
    expect(sandbox().client.name).toBe('Slow Writer');
    expect(sandbox().client.webhook_uri).not.toBe('https://hooks.example.com/late');
  });
});

describe('If-Match across containers (the write lease)', () => {
  it('a second container waits for the first one’s write, then sees the changed ETag: 412, nothing lost', async () => {
    const etag = await currentEtag();
    sandbox().resetRequests();
    sandbox().injectFault({ kind: 'delay', ms: 1_000 }, { method: 'POST' });
    // Container 1 holds the lease while its full-object POST is applied late.
    const slow = first.call('PATCH', '/client', { name: 'Container One' }, { 'if-match': etag });
    await until(() => sandbox().requests.some((request) => request.method === 'POST'));
    // Container 2 shares no module state with container 1, only the lease: it waits, then reads anew.
    const fast = await second.call(
      'PATCH',
      '/client',
      { webhook_uri: 'https://hooks.example.com/container-two' },
      { 'if-match': etag },
    );
    second.expectProblem(fast, 412, 'precondition-failed');
    expect((await slow).status).toBe(200);
    expect(sandbox().client.name).toBe('Container One');
    expect(sandbox().requests.filter((request) => request.method === 'POST')).toHaveLength(1);
  });

  it('two containers writing different fields without If-Match: both changes survive', async () => {
    sandbox().injectFault({ kind: 'delay', ms: 200 }, { method: 'POST' });
    const results = await Promise.all([
      first.call('PATCH', '/client', { name: 'Across One' }),
      second.call('PATCH', '/client', { webhook_uri: 'https://hooks.example.com/across-two' }),
    ]);
    expect(results.map((result) => result.status)).toEqual([200, 200]);
    expect(sandbox().client).toMatchObject({
      name: 'Across One',
      webhook_uri: 'https://hooks.example.com/across-two',
    });
  });
});

afterAll(() => {
  const answers = [...first.answers, ...second.answers];
  const texts = [...answers.map((answer) => answer.body), ...output.lines];
  expect(answers.length).toBeGreaterThan(50);
  expect(findLeaks(texts, [SANDBOX_DEFAULTS.clientSecret[0]], SANDBOX_DEFAULTS.clientId)).toEqual([]);
});
