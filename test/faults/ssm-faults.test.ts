/**
 * SSM faults over real HTTP: the real handler with the real SDK SSM client (maxAttempts 3) against
 * the local SSM endpoint. A failed read answers 503 credentials-unavailable and is not cached: once
 * the fault clears, the very next request reads SSM again and succeeds (no poisoned cache).
 *
 * The credentials are kept for 1 s here, so each test starts with an expired cache, as a container
 * does every CREDENTIALS_MAX_AGE_SECONDS; the first test starts with none (a cold start).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SANDBOX_DEFAULTS } from '../../local/affix-sandbox.ts';
import { DEFAULT_CLIENT_SECRET_PARAMETER } from '../../local/handler-env.ts';
import { type LocalStack, startLocalStack } from '../../local/start.ts';
import { captureOutput } from '../support/capture.ts';
import { createCaller } from '../support/http-caller.ts';
import { findLeaks } from '../support/leaks.ts';

const CACHE_SECONDS = 1;
Object.assign(process.env, {
  UPSTREAM_ATTEMPT_TIMEOUT_MS: '300',
  UPSTREAM_DEADLINE_MS: '2000',
  CREDENTIALS_MAX_AGE_SECONDS: String(CACHE_SECONDS),
});

const SECRET = SANDBOX_DEFAULTS.clientSecret[0];
const output = captureOutput();
let stack: LocalStack;
let lastLoad = 0;
const { call, expectProblem, answers } = createCaller(() => stack.apiUrl);

beforeAll(async () => {
  // Every GET must need the credentials: no shared read cache here (it answers without them).
  stack = await startLocalStack({ port: 0, handlerEnv: { CLIENT_CACHE_MAX_AGE_SECONDS: '0' } });
});

afterAll(async () => {
  await stack?.close();
});

beforeEach(async () => {
  // Let the cached credentials expire (the first test runs before anything was cached).
  const wait = lastLoad + CACHE_SECONDS * 1_000 + 50 - Date.now();
  if (wait > 0) await sleep(wait);
  stack.ssm.resetRequests();
  stack.sandbox?.resetRequests();
});

afterEach(() => {
  lastLoad = Date.now();
  stack.ssm.clearFaults();
});

async function expectRecoveryWithOneRead(): Promise<void> {
  stack.ssm.resetRequests();
  const next = await call('GET', '/client');
  expect(next.status, next.body).toBe(200);
  expect(stack.ssm.requests.map((request) => request.target)).toEqual(['AmazonSSM.GetParameters']);
}

describe('SSM fails while the proxy needs the credentials', () => {
  it('throttled on every SDK attempt at cold start: 503, Affix never called; then the next request reads SSM again and succeeds', async () => {
    stack.ssm.injectFault({ kind: 'error', type: 'ThrottlingException' }, { times: 3 });
    const result = await call('GET', '/client');
    expectProblem(result, 503, 'credentials-unavailable');
    expect(stack.ssm.requestCount).toBe(3); // the SDK retried twice
    expect(stack.sandbox?.requests).toHaveLength(0);
    await expectRecoveryWithOneRead();
  });

  it('throttled once: the SDK retries and the request succeeds', async () => {
    stack.ssm.injectFault({ kind: 'error', type: 'ThrottlingException' });
    const result = await call('GET', '/client');
    expect(result.status).toBe(200);
    // The throttled read and the SDK's retry; a busy machine may hold this request past the 1 s cache,
    // and only then may it read again.
    const [, retry, ...later] = stack.ssm.requests;
    expect(retry).toBeDefined();
    for (const read of later)
      expect(read.at - (retry?.at ?? 0)).toBeGreaterThanOrEqual(CACHE_SECONDS * 1_000);
  });

  it('access denied (an IAM change): 503, not retried by the SDK; then the next request succeeds', async () => {
    stack.ssm.injectFault({ kind: 'error', type: 'AccessDeniedException' });
    const result = await call('GET', '/client');
    expectProblem(result, 503, 'credentials-unavailable');
    expect(stack.ssm.requestCount).toBe(1);
    await expectRecoveryWithOneRead();
  });

  it('KMS refuses to decrypt the SecureString: 503; then the next request succeeds', async () => {
    stack.ssm.injectFault({ kind: 'error', type: 'KMSAccessDeniedException', status: 400 });
    const result = await call('GET', '/client');
    expectProblem(result, 503, 'credentials-unavailable');
    await expectRecoveryWithOneRead();
  });

  it('SSM internal errors on every SDK attempt: 503; then the next request succeeds', async () => {
    stack.ssm.injectFault({ kind: 'error', type: 'InternalServerError' }, { times: 3 });
    const result = await call('GET', '/client');
    expectProblem(result, 503, 'credentials-unavailable');
    expect(stack.ssm.requestCount).toBe(3);
    await expectRecoveryWithOneRead();
  });

  it('the secret parameter is missing: 503 on reads and writes; once it is back, the next request succeeds', async () => {
    stack.ssm.deleteParameter(DEFAULT_CLIENT_SECRET_PARAMETER);
    const read = await call('GET', '/client');
    expectProblem(read, 503, 'credentials-unavailable');
    const write = await call('PATCH', '/client', { name: 'Not While SSM Is Broken' });
    expectProblem(write, 503, 'credentials-unavailable');
    expect(stack.sandbox?.requests).toHaveLength(0);
    expect(stack.sandbox?.client.name).toBe(SANDBOX_DEFAULTS.name);
    stack.ssm.setParameter(DEFAULT_CLIENT_SECRET_PARAMETER, SECRET, 'SecureString');
    await expectRecoveryWithOneRead();
  });
});

afterAll(() => {
  const texts = [
    ...answers.map((answer) => `${JSON.stringify(answer.headers)}\n${answer.body}`),
    ...output.lines,
  ];
  expect(answers.length).toBeGreaterThanOrEqual(12);
  expect(output.lines.some((line) => line.includes('credentials-unavailable'))).toBe(true);
  expect(findLeaks(texts, [SECRET], SANDBOX_DEFAULTS.clientId)).toEqual([]);
});
