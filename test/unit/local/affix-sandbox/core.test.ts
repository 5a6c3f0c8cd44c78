/**
 * The sandbox reports each request its rate limiter refuses (what `npm start` turns into a line naming
 * AFFIX_SANDBOX_RATE_LIMITS), and only those: admitted requests and queued 429 faults are not reported.
 */
import { expect, it } from 'vitest';
import { createAffixSandbox, type SandboxRateLimited } from '../../../../local/affix-sandbox/core.ts';
import { basicAuthHeader, CLIENT_PATH, SANDBOX_DEFAULTS } from '../../../../local/affix-sandbox.ts';

it('calls onRateLimited once per refusal, with the limit and the Retry-After it answered', async () => {
  const refused: SandboxRateLimited[] = [];
  let now = 1_000_000;
  const sandbox = createAffixSandbox({
    rateLimits: { perIp: { limit: 100, windowMs: 60_000 }, perClientId: { limit: 2, windowMs: 300_000 } },
    clock: () => now,
    onRateLimited: (refusal) => refused.push(refusal),
  });
  const get = () =>
    sandbox.fetch(`https://affix.test${CLIENT_PATH}`, {
      headers: {
        authorization: basicAuthHeader(SANDBOX_DEFAULTS.clientId, SANDBOX_DEFAULTS.clientSecret[0]),
      },
    });
  expect((await get()).status).toBe(200);
  expect((await get()).status).toBe(200);
  expect(refused).toEqual([]);
  now += 1_000;
  const third = await get();
  expect(third.status).toBe(429);
  expect(refused).toEqual([
    {
      method: 'GET',
      path: CLIENT_PATH,
      limit: 'client_id',
      retryAfterSeconds: Number(third.headers.get('retry-after')),
    },
  ]);
  expect(refused[0]?.retryAfterSeconds).toBe(299);

  sandbox.injectFault({ kind: 'status', status: 429, retryAfter: '5' });
  now += 300_000;
  expect((await get()).status).toBe(429);
  expect(refused).toHaveLength(1);
  await sandbox.close();
});
