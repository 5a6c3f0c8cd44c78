/**
 * The local stack at its concurrency limit behaves as production does: Lambda refuses an invocation
 * it has no environment for (never queues it), API Gateway answers that as a throttled integration,
 * and nothing the API has answered runs afterwards. Counted at the sandbox: every POST that reached
 * Affix belongs to a 200. Cold starts do not count against the function timeout.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PROBLEM_TYPE_PREFIX } from '../../functions/contract/gateway-responses.ts';
import { STATS_PATH } from '../../local/affix-sandbox.ts';
import { LOCAL_IDENTITIES } from '../../local/identities.ts';
import { type LocalStack, startLocalStack } from '../../local/start.ts';
import { signedFetch } from '../support/signed-fetch.ts';

let stack: LocalStack | undefined;

afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

interface Answer {
  status: number;
  body: string;
}

async function patch(apiUrl: string, name: string): Promise<Answer> {
  const res = await signedFetch(
    `${apiUrl}/client`,
    { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name }) },
    LOCAL_IDENTITIES.writers,
  );
  return { status: res.status, body: await res.text() };
}

async function sandboxPosts(affixBaseUrl: string): Promise<number> {
  const stats = (await (await fetch(`${affixBaseUrl}${STATS_PATH}`)).json()) as {
    requests: { POST: number };
  };
  return stats.requests.POST;
}

const idle = (current: LocalStack): boolean =>
  (current.pool?.environments() ?? []).every((environment) => environment.state === 'idle');

describe('LAMBDA_CONCURRENCY=1 with a slow Affix (2000 ms per answer)', () => {
  it('concurrent PATCHes: Affix receives exactly as many POSTs as there were 200s; every other answer is the throttled integration, with no side effect', async () => {
    const current = await startLocalStack({
      port: 0,
      concurrency: 1,
      sandboxLatencyMs: 2_000,
      onOutput: () => {},
    });
    stack = current;
    const before = await sandboxPosts(current.affixBaseUrl);
    const names = Array.from({ length: 5 }, (_, i) => `writer-${i}`);
    const answers = await Promise.all(names.map((name) => patch(current.apiUrl, name)));

    const ok = answers.filter((answer) => answer.status === 200);
    const refused = answers.filter((answer) => answer.status !== 200);
    const summary = answers.map((answer) => `${answer.status} ${answer.body.slice(0, 200)}`).join('\n');
    expect(ok.length, summary).toBeGreaterThanOrEqual(1);
    for (const answer of refused) {
      expect(answer.status, answer.body).toBe(504);
      expect(JSON.parse(answer.body)).toMatchObject({ type: `${PROBLEM_TYPE_PREFIX}integration-failure` });
    }
    // No invocation is left running, so no later POST can arrive: the count is final.
    expect(idle(current)).toBe(true);
    expect((await sandboxPosts(current.affixBaseUrl)) - before).toBe(ok.length);
    // What Affix holds is what the last 200 said.
    const last = JSON.parse(ok.at(-1)?.body ?? '{}') as { name?: string };
    const read = await signedFetch(`${current.apiUrl}/client`, {}, LOCAL_IDENTITIES.readers);
    expect(read.status).toBe(200);
    if (ok.length === 1) expect(((await read.json()) as { name: string }).name).toBe(last.name);
  }, 120_000);
});

describe('LAMBDA_CONCURRENCY=20 on a fresh stack', () => {
  it('200 GET /client from 20 concurrent callers all answer 200: cold starts do not count against the function timeout', async () => {
    const current = await startLocalStack({
      port: 0,
      concurrency: 20,
      onOutput: () => {},
      // Twenty inits share this machine's two cores where Lambda gives each its own, so neither init's
      // own limit nor API Gateway's timeout (which counts init) is what this test is about; both are
      // checked on their own in lambda-pool.test.ts.
      initTimeoutMs: 120_000,
      integrationTimeoutMs: 120_000,
    });
    stack = current;
    const statuses: number[] = [];
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        for (let i = 0; i < 10; i += 1) {
          const res = await signedFetch(`${current.apiUrl}/client`, {}, LOCAL_IDENTITIES.readers);
          await res.arrayBuffer();
          statuses.push(res.status);
        }
      }),
    );
    expect(statuses).toHaveLength(200);
    expect(statuses.filter((status) => status !== 200)).toEqual([]);
    expect(current.pool?.environments().length).toBeLessThanOrEqual(20);
  }, 240_000);
});
