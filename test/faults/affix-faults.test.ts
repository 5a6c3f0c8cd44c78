/**
 * Fault injection over real HTTP: the real handler module (configuration from the environment, the
 * real SDK SSM client against the local SSM endpoint) behind the local API, talking to the Affix
 * sandbox with injected faults. For every fault: the status and problem type of the status table,
 * the attempts it took, and recovery on the very next request without anyone clearing anything.
 *
 * Tight timings (set before the handler module loads): 300 ms per attempt, 2 s per request.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type AffixSandbox, SANDBOX_DEFAULTS, startAffixSandbox } from '../../local/affix-sandbox.ts';
import { type LocalApi, startLocalApi } from '../../local/api-gateway.ts';
import { DEFAULT_CLIENT_SECRET_PARAMETER } from '../../local/handler-env.ts';
import { type LocalStack, startLocalStack } from '../../local/start.ts';
import { captureOutput } from '../support/capture.ts';
import { createCaller } from '../support/http-caller.ts';
import { findLeaks } from '../support/leaks.ts';

const ATTEMPT_TIMEOUT_MS = 300;
const DEADLINE_MS = 2_000;
const SAFETY_MARGIN_MS = 1_000;
Object.assign(process.env, {
  UPSTREAM_ATTEMPT_TIMEOUT_MS: String(ATTEMPT_TIMEOUT_MS),
  UPSTREAM_DEADLINE_MS: String(DEADLINE_MS),
  UPSTREAM_MAX_ATTEMPTS: '3',
  DEADLINE_SAFETY_MARGIN_MS: String(SAFETY_MARGIN_MS),
  CREDENTIALS_MAX_AGE_SECONDS: '300',
});

const CURRENT_SECRET = SANDBOX_DEFAULTS.clientSecret[0];
const ROTATED_SECRET = 'rotated-secret-faults-0123456789';
const output = captureOutput();
let sandbox: AffixSandbox;
let stack: LocalStack;
const { call, expectProblem, answers } = createCaller(() => stack.apiUrl);

/** Bytes the proxy's sockets read from the sandbox, to show a huge body is not read whole. */
const sandboxSockets = new Map<Socket, number>();
const onClientSocket = (message: unknown) => {
  const { socket } = message as { socket: Socket };
  socket.once('connect', () => {
    if (socket.remotePort === sandbox.port) sandboxSockets.set(socket, socket.bytesRead);
  });
};
const bytesReadFromSandbox = () => {
  let total = 0;
  for (const [socket, before] of sandboxSockets) total += socket.bytesRead - before;
  return total;
};

beforeAll(async () => {
  subscribe('net.client.socket', onClientSocket);
  sandbox = await startAffixSandbox({ port: 0 });
  stack = await startLocalStack({
    port: 0,
    external: { baseUrl: sandbox.url, clientId: SANDBOX_DEFAULTS.clientId, clientSecret: CURRENT_SECRET },
    // Every GET must reach Affix to meet its fault: no shared read cache here (test/concurrency/rate-budget).
    // This sandbox enforces no rate limits, so neither does the proxy's shared budget.
    handlerEnv: { CLIENT_CACHE_MAX_AGE_SECONDS: '0', AFFIX_REQUESTS_PER_5_MINUTES: '1000000' },
  });
});

afterAll(async () => {
  unsubscribe('net.client.socket', onClientSocket);
  await stack?.close();
  await sandbox?.close();
});

beforeEach(() => {
  sandbox.resetRequests();
  stack.ssm.resetRequests();
});

afterEach(() => {
  // Only hygiene: every test injects exactly the faults its request consumes (asserted below).
  sandbox.clearFaults();
  stack.ssm.clearFaults();
});

const methods = () => sandbox.requests.map((request) => request.method);

async function expectRecovery(): Promise<void> {
  sandbox.resetRequests();
  const next = await call('GET', '/client');
  expect(next.status, next.body).toBe(200);
  expect(methods()).toEqual(['GET']);
}

describe('Affix hangs', () => {
  it('before sending headers: 504 upstream-timeout after three timed-out attempts', async () => {
    sandbox.injectFault({ kind: 'hang-before-headers' }, { times: 3 });
    const result = await call('GET', '/client');
    expectProblem(result, 504, 'upstream-timeout');
    expect(methods()).toEqual(['GET', 'GET', 'GET']);
    // Each attempt waited out its own timeout (timers never fire early; the deadline's upper bound is
    // proven with an injected clock in test/unit/functions/core/app/deadline.test.ts).
    expect(result.elapsedMs).toBeGreaterThanOrEqual(3 * ATTEMPT_TIMEOUT_MS - 50);
    await expectRecovery();
  });

  it('in the middle of the body: 504 upstream-timeout, the half body is not used', async () => {
    sandbox.injectFault({ kind: 'hang-mid-body' }, { times: 3 });
    const result = await call('GET', '/client');
    expectProblem(result, 504, 'upstream-timeout');
    expect(methods()).toEqual(['GET', 'GET', 'GET']);
    await expectRecovery();
  });

  it('once, then answers: the retry succeeds within the same request', async () => {
    sandbox.injectFault({ kind: 'hang-before-headers' });
    const result = await call('GET', '/client');
    expect(result.status).toBe(200);
    expect(methods()).toEqual(['GET', 'GET']);
  });
});

describe('Affix connections fail', () => {
  it('reset on every attempt: 502 upstream-unreachable', async () => {
    sandbox.injectFault({ kind: 'reset' }, { times: 3 });
    const result = await call('GET', '/client');
    expectProblem(result, 502, 'upstream-unreachable');
    expect(methods()).toEqual(['GET', 'GET', 'GET']);
    await expectRecovery();
  });

  it('reset once: retried, 200', async () => {
    sandbox.injectFault({ kind: 'reset' });
    const result = await call('GET', '/client');
    expect(result.status).toBe(200);
    expect(methods()).toEqual(['GET', 'GET']);
  });

  it('refused (Affix down): 502 upstream-unreachable; back up, the next request succeeds', async () => {
    const { port } = sandbox;
    const state = sandbox.client;
    await sandbox.close();
    const result = await call('GET', '/client');
    expectProblem(result, 502, 'upstream-unreachable');
    sandbox = await startAffixSandbox({ port, client: state });
    await expectRecovery();
  });
});

describe('Affix answers with an error status', () => {
  it('500 then 200: retried, the 200 is returned', async () => {
    sandbox.injectFault({ kind: 'status', status: 500 });
    const result = await call('GET', '/client');
    expect(result.status).toBe(200);
    expect(methods()).toEqual(['GET', 'GET']);
  });

  it('503 three times: 502 upstream-error after three attempts', async () => {
    sandbox.injectFault({ kind: 'status', status: 503, headers: {} }, { times: 3 });
    const result = await call('GET', '/client');
    expectProblem(result, 502, 'upstream-error');
    expect(methods()).toEqual(['GET', 'GET', 'GET']);
    await expectRecovery();
  });

  it('503 three times on the write: 502, nothing changed; the same write then succeeds', async () => {
    const before = sandbox.client;
    sandbox.injectFault({ kind: 'status', status: 503, headers: {} }, { times: 3, method: 'POST' });
    const change = { webhook_uri: 'https://hooks.example.com/after-503' };
    const failed = await call('PATCH', '/client', change);
    expectProblem(failed, 502, 'upstream-error');
    expect(methods()).toEqual(['GET', 'POST', 'POST', 'POST']);
    expect(sandbox.client).toEqual(before);
    const retried = await call('PATCH', '/client', change);
    expect(retried.status).toBe(200);
    expect(sandbox.client.webhook_uri).toBe(change.webhook_uri);
  });

  it('429 with a short Retry-After: waited for, retried, 200', async () => {
    sandbox.injectFault({ kind: 'status', status: 429, headers: { 'retry-after': '1' } });
    const result = await call('GET', '/client');
    expect(result.status).toBe(200);
    expect(methods()).toEqual(['GET', 'GET']);
    const [first, second] = sandbox.requests;
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(950);
  });

  it('429 with a long Retry-After: 429 at once, Retry-After passed on; the shared back-off answers until it ends', async () => {
    // 3 s: longer than our 2 s deadline, so not waited for; short enough to see the back-off end.
    sandbox.injectFault({ kind: 'status', status: 429, headers: { 'retry-after': '3' } });
    const result = await call('GET', '/client');
    expectProblem(result, 429, 'upstream-rate-limited');
    expect(result.headers['retry-after']).toBe('3');
    // One GET: the 3 s were not waited for within the request (a retry would be a second GET).
    expect(methods()).toEqual(['GET']);
    sandbox.resetRequests();
    const backedOff = await call('GET', '/client');
    expectProblem(backedOff, 429, 'upstream-rate-limited');
    expect(Number(backedOff.headers['retry-after'])).toBeLessThanOrEqual(3);
    expect(methods()).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 3_100));
    await expectRecovery();
  });
});

describe('Affix answers 200 with a body we cannot use', () => {
  it('not JSON: 502 upstream-bad-response, not retried', async () => {
    sandbox.injectFault({ kind: 'non-json' });
    const result = await call('GET', '/client');
    expectProblem(result, 502, 'upstream-bad-response');
    expect(methods()).toEqual(['GET']);
    await expectRecovery();
  });

  it('the wrong shape: 502 upstream-bad-response', async () => {
    sandbox.injectFault({ kind: 'wrong-shape' });
    const result = await call('GET', '/client');
    expectProblem(result, 502, 'upstream-bad-response');
    await expectRecovery();
  });

  it('5 MiB without Content-Length: 502 upstream-bad-response after reading little more than 1 MiB', async () => {
    sandbox.injectFault({ kind: 'huge-body', bytes: 5 * 1024 * 1024 });
    const before = bytesReadFromSandbox();
    const result = await call('GET', '/client');
    expectProblem(result, 502, 'upstream-bad-response');
    const read = bytesReadFromSandbox() - before;
    expect(read).toBeGreaterThan(1024 * 1024);
    expect(read).toBeLessThan(1.5 * 1024 * 1024); // of 5 MiB
    await expectRecovery();
  });

  it('5 MiB with Content-Length: refused on the headers, the body is hardly read', async () => {
    sandbox.injectFault({ kind: 'huge-body', bytes: 5 * 1024 * 1024, contentLength: true });
    const before = bytesReadFromSandbox();
    const result = await call('GET', '/client');
    expectProblem(result, 502, 'upstream-bad-response');
    expect(bytesReadFromSandbox() - before).toBeLessThan(256 * 1024);
    await expectRecovery();
  });
});

describe('Affix rejects our credentials', () => {
  it('after a rotation outside the proxy: 502 upstream-auth-failed until SSM has the new secret, then 401 once and 200', async () => {
    sandbox.setClient({ ...sandbox.client, client_secret: [ROTATED_SECRET] });
    // SSM still holds the old secret: one refresh, still 401.
    const stale = await call('GET', '/client');
    expectProblem(stale, 502, 'upstream-auth-failed');
    expect(sandbox.requests.map((request) => request.authorized)).toEqual([false, false]);
    expect(stack.ssm.requestCount).toBe(1);

    stack.ssm.setParameter(DEFAULT_CLIENT_SECRET_PARAMETER, ROTATED_SECRET, 'SecureString');
    stack.ssm.resetRequests();
    sandbox.resetRequests();
    const recovered = await call('GET', '/client');
    expect(recovered.status).toBe(200);
    expect(sandbox.requests.map((request) => request.authorized)).toEqual([false, true]);
    expect(stack.ssm.requestCount).toBe(1);
    await expectRecovery();
    expect(stack.ssm.requestCount).toBe(1);
  });
});

describe('a Lambda with little time left', () => {
  let shortApi: LocalApi;
  const LAMBDA_TIMEOUT_MS = 1_600;

  beforeAll(async () => {
    // The stack's own handler instance (and container state) behind a second API whose Lambda times
    // out soon: not a fresh import, which in a shared module graph may be another file's instance.
    const { handler } = stack;
    shortApi = await startLocalApi({ handler, port: 0, timeoutMs: LAMBDA_TIMEOUT_MS });
  });
  afterAll(async () => {
    await shortApi?.close();
  });

  it('shrinks the deadline to the remaining time minus the margin: 504 before the Lambda is killed', async () => {
    const short = createCaller(() => shortApi.url);
    sandbox.injectFault({ kind: 'hang-before-headers' }, { times: 2 });
    const result = await short.call('GET', '/client');
    // Budget: 1600 ms - 1000 ms margin = 600 ms (not the configured 2000 ms).
    short.expectProblem(result, 504, 'upstream-timeout');
    // Our own 504, not API Gateway's 502 for a killed invocation: answered before the function timeout.
    expect(result.elapsedMs).toBeGreaterThanOrEqual(LAMBDA_TIMEOUT_MS - SAFETY_MARGIN_MS - 50);
    expect(methods()).toEqual(['GET', 'GET']);
    answers.push(...short.answers);
    sandbox.resetRequests();
    const next = await short.call('GET', '/client');
    expect(next.status).toBe(200);
    expect(stack.ssm.requestCount).toBe(0); // the same container: its cached credentials
  });
});

afterAll(() => {
  const secrets = [CURRENT_SECRET, ROTATED_SECRET];
  const texts = [
    ...answers.map((answer) => `${JSON.stringify(answer.headers)}\n${answer.body}`),
    ...output.lines,
  ];
  expect(answers.length).toBeGreaterThan(25);
  expect(findLeaks(texts, secrets, SANDBOX_DEFAULTS.clientId)).toEqual([]);
});
