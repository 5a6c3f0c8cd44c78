/**
 * What `If-Match` guarantees, over real HTTP, with the handler running as Lambda runs it: a pool of
 * four isolated execution environments (each its own module instance, caches and clients), the Affix
 * sandbox at 50 ms and the local DynamoDB engine. Concurrent requests land in different environments,
 * so nothing in one process can serialize them: only the cross-container write lock can. Of N writes
 * carrying the same ETag exactly one succeeds, and no accepted change is lost.
 *
 * Assertions marked LOCK hold only with that lock; without it they fail, which is the point: the
 * in-process version of this suite passed while production lost writes. A writer that waited for the
 * lease longer than its budget allows is answered 503 `write-contention` with `Retry-After`: legal, and
 * on a busy machine it happens, so the tests accept it where the contract does.
 *
 * At most as many callers as environments at once: past its concurrency Lambda (and the local pool)
 * refuses an invocation instead of queueing it, which API Gateway answers 504 `integration-failure`.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { ENVIRONMENT_ID_HEADER } from '../../local/lambda-pool.ts';
import { useConcurrencyStack } from '../concurrency/harness.ts';
import { documentedAnswer } from '../support/answers.ts';
import { until } from '../support/until.ts';

const ENVIRONMENTS = 4;
const run = useConcurrencyStack({ environments: ENVIRONMENTS });

function sandbox() {
  return run().sandbox;
}

const first = {
  call: (...args: Parameters<ReturnType<typeof run>['caller']['call']>) => run().caller.call(...args),
  expectProblem: (...args: Parameters<ReturnType<typeof run>['caller']['expectProblem']>) =>
    run().caller.expectProblem(...args),
};

async function currentEtag(): Promise<string> {
  // no-cache: the tests set the client at Affix directly, behind the shared read cache.
  const read = await first.call('GET', '/client', undefined, { 'cache-control': 'no-cache' });
  expect(read.status).toBe(200);
  return read.headers.etag ?? '';
}

/** A writer that lost: 412 (it read the winner's change), or 503 write-contention with a Retry-After. */
function expectRefused(answer: Awaited<ReturnType<typeof first.call>>): void {
  if (answer.status === 503) {
    first.expectProblem(answer, 503, 'write-contention');
    expect(Number(answer.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  } else first.expectProblem(answer, 412, 'precondition-failed');
}

beforeEach(() => {
  sandbox().resetRequests();
  sandbox().clearFaults();
});

describe('If-Match across execution environments', () => {
  it('of concurrent PATCHes with the same ETag, one per environment, exactly one succeeds, the others get 412 (or a retryable 503)', async () => {
    const etag = await currentEtag();
    sandbox().resetRequests();
    const results = await Promise.all(
      Array.from({ length: ENVIRONMENTS }, (_, i) =>
        first.call('PATCH', '/client', { name: `Writer ${i}` }, { 'if-match': etag }),
      ),
    );
    // Spread over every environment of the pool.
    expect(new Set(results.map((result) => result.headers[ENVIRONMENT_ID_HEADER])).size).toBe(ENVIRONMENTS);
    const winners = results.filter((result) => result.status === 200);
    const losers = results.filter((result) => result.status !== 200);
    // LOCK (this and the rest of the test).
    expect(winners, results.map((result) => result.status).join(' ')).toHaveLength(1);
    for (const loser of losers) expectRefused(loser);
    // One POST in all, and the state is the winner's.
    expect(sandbox().requests.filter((request) => request.method === 'POST')).toHaveLength(1);
    const winner = winners[0]?.documented;
    expect(winner?.kind === 'success' && winner.client.name).toBe(sandbox().client.name);
  });

  it('writers that re-read and retry on 412 all get their change in: no accepted change is lost', async () => {
    const WRITERS = ENVIRONMENTS;
    const original = sandbox().client.redirect_uris;
    let accepted = 0;
    let preconditionFailures = 0;
    let contentions = 0;
    // Every writer's first read completes before any first write is sent: they all hold the same
    // ETag, so at most one first write can win and the contention below is certain, not a race.
    let firstReads = 0;
    let releaseFirstWrites: () => void = () => {};
    const allFirstReadsDone = new Promise<void>((resolve) => {
      releaseFirstWrites = resolve;
    });
    const writer = async (i: number) => {
      const mine = `https://writer-${i}.example.com/callback`;
      for (let attempt = 0; attempt < 100; attempt += 1) {
        // no-cache: re-reading after a 412, as the docs say (the view may lag a concurrent write briefly).
        const read = await first.call('GET', '/client', undefined, { 'cache-control': 'no-cache' });
        if (attempt === 0) {
          firstReads += 1;
          if (firstReads === WRITERS) releaseFirstWrites();
          await allFirstReadsDone;
        }
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
        expectRefused(write);
        if (write.status === 412) preconditionFailures += 1;
        else {
          contentions += 1;
          await new Promise((resolve) =>
            setTimeout(resolve, Math.min(Number(write.headers['retry-after']), 1) * 1_000),
          );
        }
      }
      throw new Error(`writer ${i} never got its change in`);
    };
    await Promise.all(Array.from({ length: WRITERS }, (_, i) => writer(i)));
    expect(accepted).toBe(WRITERS);
    // LOCK: every change that was answered 200 is at Affix (without it, later POSTs undo earlier ones).
    const final = sandbox().client.redirect_uris;
    expect(final).toHaveLength(original.length + WRITERS);
    for (let i = 0; i < WRITERS; i += 1) expect(final).toContain(`https://writer-${i}.example.com/callback`);
    expect(sandbox().requests.filter((request) => request.method === 'POST')).toHaveLength(WRITERS);
    // The contention was real: all first writes carried one ETag, so all but one had to re-read.
    expect(preconditionFailures + contentions).toBeGreaterThanOrEqual(WRITERS - 1);
  });

  it('concurrent PATCHes of different fields without If-Match: every change survives', async () => {
    const results = await Promise.all([
      first.call('PATCH', '/client', { name: 'Concurrent Name' }),
      first.call('PATCH', '/client', { webhook_uri: 'https://hooks.example.com/concurrent' }),
      first.call('PATCH', '/client', { redirect_uris: ['https://concurrent.example.com/cb'] }),
    ]);
    expect(results.map((result) => result.status)).toEqual([200, 200, 200]);
    expect(new Set(results.map((result) => result.headers[ENVIRONMENT_ID_HEADER])).size).toBeGreaterThan(1);
    // LOCK: each write read the state the previous one left.
    expect(sandbox().client).toMatchObject({
      name: 'Concurrent Name',
      webhook_uri: 'https://hooks.example.com/concurrent',
      redirect_uris: ['https://concurrent.example.com/cb'],
    });
  });

  it('a write in another environment while one is in flight waits for it, and then sees the changed ETag', async () => {
    const etag = await currentEtag();
    sandbox().resetRequests();
    sandbox().injectFault({ kind: 'delay', ms: 300 }, { method: 'POST' });
    const slow = first.call('PATCH', '/client', { name: 'Slow Writer' }, { 'if-match': etag });
    await until(() => sandbox().requests.some((request) => request.method === 'POST'), { timeoutMs: 5_000 });
    const late = await first.call(
      'PATCH',
      '/client',
      { webhook_uri: 'https://hooks.example.com/late' },
      { 'if-match': etag },
    );
    const slowAnswer = await slow;
    expect(slowAnswer.status).toBe(200);
    // Two containers: the in-process queue of the first cannot have held the second back.
    expect(late.headers[ENVIRONMENT_ID_HEADER]).not.toBe(slowAnswer.headers[ENVIRONMENT_ID_HEADER]);
    // LOCK: the late writer waited for the lease, read the slow writer's change, and was refused.
    first.expectProblem(late, 412, 'precondition-failed');
    expect(sandbox().client.name).toBe('Slow Writer');
    expect(sandbox().client.webhook_uri).not.toBe('https://hooks.example.com/late');
  });
});
