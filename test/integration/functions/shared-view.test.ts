/**
 * One view fed by every Affix exchange, through the local pool (the bundled handler in isolated
 * environments, the state table in dynalite) with the read cache on (30 s): a rotation run by the job
 * and a change made at Affix directly are what the next `GET /client` shows, with an ETag a PATCH
 * accepts, although the cache window has not ended.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rotateLocalStack } from '../../../local/rotate.ts';
import { writeStackFile } from '../../../local/stack-file.ts';
import { freshRound, useConcurrencyStack } from '../../concurrency/harness.ts';

const ENVIRONMENTS = 2;
const stackOf = useConcurrencyStack({
  environments: ENVIRONMENTS,
  handlerEnv: { CLIENT_CACHE_MAX_AGE_SECONDS: '30' },
});
let dir = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shared-view-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/**
 * Every environment answers a plain GET (from the view when it is fresh): one call per environment at
 * once, since past its concurrency the pool refuses, as Lambda does.
 */
async function everyGet() {
  const run = stackOf();
  return Promise.all(Array.from({ length: ENVIRONMENTS }, () => run.caller.call('GET', '/client')));
}

describe('the shared view after changes not made by an HTTP write', () => {
  it('after a change made at Affix directly: the old ETag gets 412, the very next GET gives the new ETag, which a PATCH accepts', async () => {
    const run = stackOf();
    freshRound(run, 1);
    const before = await run.caller.call('GET', '/client', undefined, { 'cache-control': 'no-cache' });
    expect(before.status, before.body).toBe(200);
    for (const read of await everyGet()) expect(read.headers.etag).toBe(before.headers.etag);

    run.sandbox.setClient({ ...run.sandbox.client, name: 'Changed at Affix' });
    const stale = await run.caller.call(
      'PATCH',
      '/client',
      { name: 'Built on the old state' },
      { 'if-match': before.headers.etag ?? '' },
    );
    run.caller.expectProblem(stale, 412, 'precondition-failed');
    expect(run.sandbox.client.name).toBe('Changed at Affix');

    // The 412's fresh read under the lease refreshed the view: every environment serves it at once.
    const reads = await everyGet();
    for (const read of reads) {
      expect(JSON.parse(read.body).name).toBe('Changed at Affix');
      expect(read.headers.etag).not.toBe(before.headers.etag);
      expect(read.headers.etag).toBe(reads[0]?.headers.etag);
    }
    const accepted = await run.caller.call(
      'PATCH',
      '/client',
      { name: 'Built on the new state' },
      { 'if-match': reads[0]?.headers.etag ?? '' },
    );
    expect(accepted.status, accepted.body).toBe(200);
    expect(run.sandbox.client.name).toBe('Built on the new state');
  }, 60_000);

  it('after a rotation (grace 0) the next GET shows exactly the new secret and an ETag a PATCH accepts', async () => {
    // After the round above: SSM's secret is still the one the client lists, and the rotation changes both.
    const run = stackOf();
    freshRound(run, 2);
    const before = await run.caller.call('GET', '/client', undefined, { 'cache-control': 'no-cache' });
    expect(before.status).toBe(200);
    // The cache is fresh in every environment before the rotation.
    for (const read of await everyGet()) expect(read.headers.etag).toBe(before.headers.etag);

    const path = join(dir, '.stack.json');
    await writeStackFile(run.stack, path);
    const outcome = await rotateLocalStack(path, { ROTATION_GRACE_SECONDS: '0' });
    expect(outcome.steps).toEqual(['start', 'store-pending', 'retire', 'steady']);
    const secrets = run.sandbox.client.client_secret;
    expect(secrets).toHaveLength(1);
    const tail = `****${secrets[0]?.slice(-4)}`;

    for (const read of await everyGet()) {
      expect(read.status).toBe(200);
      expect(JSON.parse(read.body).client_secret).toEqual([tail]);
      expect(read.headers.etag).not.toBe(before.headers.etag);
    }
    const [next] = await everyGet();
    const patched = await run.caller.call(
      'PATCH',
      '/client',
      { name: 'After rotation' },
      { 'if-match': next?.headers.etag ?? '' },
    );
    expect(patched.status, patched.body).toBe(200);
    expect(run.sandbox.client.name).toBe('After rotation');
  }, 60_000);
});
