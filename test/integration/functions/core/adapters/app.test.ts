/**
 * The handler through the real middy chain (header normalizer, guard, JSON body parser, problem
 * responder, telemetry, Powertools middlewares) with the real use cases and the real Affix HTTP
 * client; only `fetch` and the credential loader are in-memory. Every route and every row of the
 * status table is exercised here; the same scenarios also prove no secret leaks.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DeleteItemCommand, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAffixHttpClient } from '../../../../../functions/core/adapters/affix-http.ts';
import { createHandler } from '../../../../../functions/core/adapters/app.ts';
import {
  createDynamoDbWriteLock,
  LEASE_KEY,
} from '../../../../../functions/core/adapters/dynamodb-write-lock.ts';
import { createCredentialsCache } from '../../../../../functions/core/app/credentials.ts';
import { computeEtag } from '../../../../../functions/core/domain/client-state.ts';
import { ProblemError } from '../../../../../functions/core/domain/problems.ts';
import type { AffixCredentials, WriteLock } from '../../../../../functions/core/ports.ts';
import {
  createAffixSandbox,
  type InProcessAffixSandbox,
  type SandboxFault,
} from '../../../../../local/affix-sandbox.ts';
import { type LocalDynamoDb, startLocalDynamoDb } from '../../../../../local/dynamodb.ts';
import {
  CLIENT_ID,
  ETAG_KEY,
  initialClient,
  parsedClient,
  SECRET_A,
  SECRET_B,
} from '../../../../support/affix-fixtures.ts';
import { captureOutput } from '../../../../support/capture.ts';
import { apiEvent, CALLER_ARN, type EventOptions, lambdaContext } from '../../../../support/events.ts';
import { createInMemoryWriteLock, type InMemoryWriteLock } from '../../../../support/in-memory-write-lock.ts';

const output = captureOutput();
const responses: APIGatewayProxyResult[] = [];

interface Harness {
  affix: InProcessAffixSandbox;
  /** The fetch the Affix client uses (default: the sandbox's); a test may wrap it. */
  affixFetch: typeof fetch;
  /** Queues `fault` for the next `times` requests (of `method`, default both). */
  fault(fault: SandboxFault, times?: number, method?: 'GET' | 'POST'): void;
  lock: InMemoryWriteLock;
  /** For every Affix request, in order: its method and whether the write lease was held. */
  leaseDuring: { method: string; held: boolean }[];
  invoke(
    options: EventOptions,
    remainingMs?: number,
  ): Promise<APIGatewayProxyResult & { json: Record<string, unknown> }>;
  loads: () => number;
  ssm: { credentials: AffixCredentials; fail: Error | undefined; gate: Promise<void> | undefined };
}

function harness(
  options: {
    deadlineMs?: number;
    attemptTimeoutMs?: number;
    safetyMarginMs?: number;
    throwFromAffix?: Error;
    writeLock?: WriteLock;
  } = {},
): Harness {
  const affix = createAffixSandbox({ client: initialClient() });
  const lock = createInMemoryWriteLock();
  const leaseDuring: { method: string; held: boolean }[] = [];
  const recordingFetch: typeof fetch = (input, init) => {
    leaseDuring.push({ method: init?.method ?? 'GET', held: lock.held });
    return built.affixFetch(input, init);
  };
  const ssm = {
    credentials: { clientId: CLIENT_ID, clientSecret: SECRET_A } as AffixCredentials,
    fail: undefined as Error | undefined,
    /** While set, a credentials read waits for it (an SSM call that hangs). */
    gate: undefined as Promise<void> | undefined,
  };
  let loads = 0;
  const credentials = createCredentialsCache({
    maxAgeMs: 300_000,
    load: async () => {
      loads += 1;
      if (ssm.gate !== undefined) await ssm.gate;
      if (ssm.fail !== undefined) throw ssm.fail;
      return { ...ssm.credentials, etagKey: ETAG_KEY };
    },
  });
  const httpClient = createAffixHttpClient({
    baseUrl: 'https://affix.test',
    credentials,
    attemptTimeoutMs: options.attemptTimeoutMs ?? 1_000,
    maxAttempts: 3,
    fetch: recordingFetch,
    random: () => 0,
  });
  const ports = {
    credentials,
    writeLock: options.writeLock ?? lock,
    affix: options.throwFromAffix
      ? {
          getClient: () => Promise.reject(options.throwFromAffix),
          replaceClient: () => Promise.reject(options.throwFromAffix),
        }
      : httpClient,
  };
  const handler = createHandler({
    config: {
      upstreamDeadlineMs: options.deadlineMs ?? 3_000,
      deadlineSafetyMarginMs: options.safetyMarginMs ?? 100,
    },
    ports,
    logger: new Logger({ serviceName: 'affix-webhook-config' }),
    metrics: new Metrics({
      namespace: 'AffixWebhookConfig',
      serviceName: 'affix-webhook-config',
      defaultDimensions: { stage: 'test' },
    }),
  });
  const built: Harness = {
    affix,
    affixFetch: affix.fetch,
    fault: (fault, times = 1, method) => affix.injectFault(fault, { times, ...(method ? { method } : {}) }),
    lock,
    leaseDuring,
    ssm,
    loads: () => loads,
    async invoke(eventOptions, remainingMs) {
      const result = await handler(apiEvent(eventOptions), lambdaContext(remainingMs));
      responses.push(result);
      return { ...result, json: JSON.parse(result.body) as Record<string, unknown> };
    },
  };
  return built;
}

const GET = { method: 'GET', path: '/client' };
const patch = (body: unknown, headers: Record<string, string> = {}): EventOptions => ({
  method: 'PATCH',
  path: '/client',
  body,
  headers,
});
const putSecrets = (list: unknown, headers: Record<string, string> = {}): EventOptions => ({
  method: 'PUT',
  path: '/client/secrets',
  body: { client_secret: list },
  headers,
});

function expectProblem(
  result: APIGatewayProxyResult & { json: Record<string, unknown> },
  status: number,
  slug: string,
) {
  expect(result.statusCode).toBe(status);
  expect(result.headers?.['content-type']).toBe('application/problem+json');
  expect(result.json.type).toBe(`urn:affix-webhook-config:problem:${slug}`);
  expect(result.json.status).toBe(status);
  expect(typeof result.json.title).toBe('string');
  expect(typeof result.json.detail).toBe('string');
  expect(result.json.instance).toMatch(/^req-\d+$/);
  expect(JSON.stringify(result.json)).not.toMatch(/at .*\.ts:\d+/); // never a stack
}

describe('GET /client', () => {
  it('returns the client with every secret masked and a strong ETag over the full client', async () => {
    const h = harness();
    h.affix.setClient({ ...h.affix.client, client_secret: [SECRET_A, SECRET_B] });
    const result = await h.invoke(GET);
    expect(result.statusCode).toBe(200);
    expect(result.headers?.['content-type']).toBe('application/json; charset=utf-8');
    expect(result.json).toEqual({
      client_id: CLIENT_ID,
      name: 'Test App',
      redirect_uris: ['https://app.example.com/callback'],
      webhook_uri: 'https://hooks.example.com/affix',
      client_secret: [`****${SECRET_A.slice(-4)}`, `****${SECRET_B.slice(-4)}`],
    });
    expect(result.headers?.etag).toBe(computeEtag(parsedClient(h.affix.client), ETAG_KEY));
    expect(result.headers?.etag).toMatch(/^"[A-Za-z0-9_-]{22}"$/);
    expect(result.headers?.['cache-control']).toBe('no-store');
  });

  it('shows a missing webhook_uri as null', async () => {
    const h = harness();
    const { webhook_uri: _dropped, ...withoutWebhook } = h.affix.client;
    h.affix.setClient(withoutWebhook);
    const result = await h.invoke(GET);
    expect(result.json.webhook_uri).toBeNull();
  });

  it('ignores a body on GET', async () => {
    const h = harness();
    const result = await h.invoke({
      ...GET,
      rawBody: '{not json',
      headers: { 'content-type': 'application/json' },
    });
    expect(result.statusCode).toBe(200);
  });
});

describe('PATCH /client', () => {
  it('changes only webhook_uri and sends the full object with the secrets and redirect URIs as they were', async () => {
    const h = harness();
    const before = structuredClone(h.affix.client);
    const result = await h.invoke(patch({ webhook_uri: 'https://hooks.example.com/v2' }));
    expect(result.statusCode).toBe(200);
    expect(result.json.webhook_uri).toBe('https://hooks.example.com/v2');
    const post = h.affix.requests.find((call) => call.method === 'POST');
    expect(post?.body).toEqual({
      name: before.name,
      webhook_uri: 'https://hooks.example.com/v2',
      redirect_uris: before.redirect_uris,
      client_secret: before.client_secret,
    });
    expect(h.affix.client.client_secret).toEqual(before.client_secret);
    expect(result.headers?.etag).toBe(computeEtag(parsedClient(h.affix.client), ETAG_KEY));
  });

  it('turns webhooks off with null, accepts application/merge-patch+json and trims the name', async () => {
    const h = harness();
    const result = await h.invoke(
      patch(
        { webhook_uri: null, name: '  New Name  ' },
        { 'Content-Type': 'application/merge-patch+json; charset=utf-8' },
      ),
    );
    expect(result.statusCode).toBe(200);
    expect(h.affix.client.webhook_uri).toBeNull();
    expect(h.affix.client.name).toBe('New Name');
  });

  it('sends no update when nothing changes', async () => {
    const h = harness();
    const result = await h.invoke(patch({ name: 'Test App' }));
    expect(result.statusCode).toBe(200);
    expect(h.affix.requests.map((call) => call.method)).toEqual(['GET']);
  });

  it('applies the change when If-Match carries the current ETag', async () => {
    const h = harness();
    const etag = (await h.invoke(GET)).headers?.etag as string;
    const result = await h.invoke(patch({ name: 'Renamed' }, { 'If-Match': etag }));
    expect(result.statusCode).toBe(200);
    expect(h.affix.client.name).toBe('Renamed');
    expect(result.headers?.etag).not.toBe(etag);
  });

  it('answers 412 and sends nothing when If-Match is stale', async () => {
    const h = harness();
    const result = await h.invoke(patch({ name: 'Renamed' }, { 'If-Match': '"stale-etag-value"' }));
    expectProblem(result, 412, 'precondition-failed');
    expect(h.affix.requests.map((call) => call.method)).toEqual(['GET']);
    expect(h.affix.client.name).toBe('Test App');
  });

  it('answers 400 with a per-field errors list when the body fails the schema', async () => {
    const h = harness();
    const result = await h.invoke(
      patch({ webhook_uri: 'http://insecure.example.com', redirect_uris: [], name: '', extra: 1 }),
    );
    expectProblem(result, 400, 'validation-failed');
    const pointers = (result.json.errors as { pointer: string }[]).map((error) => error.pointer).sort();
    expect(pointers).toEqual(['/extra', '/name', '/redirect_uris', '/webhook_uri']);
    expect(h.affix.requests).toHaveLength(0);
  });

  it('answers 400 pointing to the secrets route when client_secret is patched', async () => {
    const h = harness();
    const result = await h.invoke(patch({ client_secret: [SECRET_B] }));
    expectProblem(result, 400, 'validation-failed');
    expect(result.json.errors).toEqual([
      { pointer: '/client_secret', detail: 'client_secret cannot be changed here: use PUT /client/secrets' },
    ]);
  });

  it('answers 400 for an empty patch and for a body that is not an object', async () => {
    const h = harness();
    expectProblem(await h.invoke(patch({})), 400, 'validation-failed');
    expectProblem(await h.invoke(patch([1, 2])), 400, 'validation-failed');
    expectProblem(await h.invoke(patch('string')), 400, 'validation-failed');
  });

  it('answers 400 malformed-json for a body that is not JSON, or empty', async () => {
    const h = harness();
    expectProblem(
      await h.invoke({ method: 'PATCH', path: '/client', rawBody: '{"name": ' }),
      400,
      'malformed-json',
    );
    expectProblem(
      await h.invoke({
        method: 'PATCH',
        path: '/client',
        rawBody: '',
        headers: { 'content-type': 'application/json' },
      }),
      400,
      'malformed-json',
    );
  });

  it('answers 400 for prototype-pollution keys without touching any prototype', async () => {
    const h = harness();
    const result = await h.invoke({
      method: 'PATCH',
      path: '/client',
      rawBody: '{"__proto__": {"polluted": true}}',
    });
    expectProblem(result, 400, 'validation-failed');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('decodes base64-encoded bodies', async () => {
    const h = harness();
    const rawBody = Buffer.from(JSON.stringify({ name: 'From Base64' })).toString('base64');
    const result = await h.invoke({
      method: 'PATCH',
      path: '/client',
      rawBody,
      isBase64Encoded: true,
      headers: { 'content-type': 'application/json' },
    });
    expect(result.statusCode).toBe(200);
    expect(h.affix.client.name).toBe('From Base64');
  });

  it('answers 413 for a body over 16 KiB', async () => {
    const h = harness();
    const result = await h.invoke(patch({ name: 'x'.repeat(17 * 1024) }));
    expectProblem(result, 413, 'payload-too-large');
  });

  it('answers 415 for other content types, and for none', async () => {
    const h = harness();
    expectProblem(
      await h.invoke(patch({ name: 'x' }, { 'Content-Type': 'text/plain' })),
      415,
      'unsupported-media-type',
    );
    expectProblem(
      await h.invoke(patch({ name: 'x' }, { 'Content-Type': 'application/json-patch+json' })),
      415,
      'unsupported-media-type',
    );
    const none = await h.invoke({
      method: 'PATCH',
      path: '/client',
      rawBody: '{"name":"x"}',
      omitContentType: true,
    });
    expectProblem(none, 415, 'unsupported-media-type');
  });
});

describe('PUT /client/secrets', () => {
  it('replaces the secret list and keeps every other field', async () => {
    const h = harness();
    const before = structuredClone(h.affix.client);
    const result = await h.invoke(putSecrets([SECRET_A, SECRET_B]));
    expect(result.statusCode).toBe(200);
    expect(h.affix.client).toEqual({ ...before, client_secret: [SECRET_A, SECRET_B] });
    expect(result.json.client_secret).toEqual([`****${SECRET_A.slice(-4)}`, `****${SECRET_B.slice(-4)}`]);
  });

  it('answers 409 would-lock-out and sends nothing when the list drops the secret the proxy uses', async () => {
    const h = harness();
    const result = await h.invoke(putSecrets([SECRET_B]));
    expectProblem(result, 409, 'would-lock-out');
    expect(h.affix.requests.map((call) => call.method)).toEqual(['GET']);
    expect(h.affix.client.client_secret).toEqual([SECRET_A]);
  });

  it('checks the lock-out guard against fresh credentials when SSM already holds the new secret', async () => {
    const h = harness();
    expect((await h.invoke(putSecrets([SECRET_A, SECRET_B]))).statusCode).toBe(200);
    h.ssm.credentials = { clientId: CLIENT_ID, clientSecret: SECRET_B }; // step 2: SSM updated
    const result = await h.invoke(putSecrets([SECRET_B])); // step 3: the cache still holds SECRET_A
    expect(result.statusCode).toBe(200);
    expect(h.affix.client.client_secret).toEqual([SECRET_B]);
    expect(h.loads()).toBe(3); // the first Affix call, then one fresh SSM read per secrets PUT
  });

  it('validates the list: count, length, printable characters, duplicates', async () => {
    const h = harness();
    for (const list of [
      [],
      ['short'],
      [SECRET_A, SECRET_A],
      [`${SECRET_A} with space`],
      Array(6)
        .fill(0)
        .map((_, i) => `${SECRET_A}-${i}`),
      'x',
    ]) {
      expectProblem(await h.invoke(putSecrets(list)), 400, 'validation-failed');
    }
    expect(h.affix.requests).toHaveLength(0);
  });

  it('answers 412 on a stale If-Match', async () => {
    const h = harness();
    expectProblem(
      await h.invoke(putSecrets([SECRET_A, SECRET_B], { 'If-Match': '"old"' })),
      412,
      'precondition-failed',
    );
  });
});

describe('routing and identity', () => {
  it('answers 403 when API Gateway passed no IAM caller', async () => {
    const h = harness();
    expectProblem(await h.invoke({ ...GET, identity: null }), 403, 'forbidden');
    expect(h.affix.requests).toHaveLength(0);
  });

  it('accepts a caller given only as identity.caller', async () => {
    const h = harness();
    expect((await h.invoke({ ...GET, identity: { userArn: null, caller: 'AIDAEXAMPLE' } })).statusCode).toBe(
      200,
    );
  });

  it('answers 404 for unknown routes and 405 with Allow for wrong methods', async () => {
    const h = harness();
    expectProblem(await h.invoke({ method: 'GET', path: '/nope' }), 404, 'not-found');
    const wrong = await h.invoke({ method: 'DELETE', path: '/client' });
    expectProblem(wrong, 405, 'method-not-allowed');
    expect(wrong.headers?.allow).toBe('GET, PATCH');
    expect((await h.invoke({ method: 'GET', path: '/client/secrets' })).headers?.allow).toBe('PUT');
  });
});

describe('upstream outcomes', () => {
  it('maps an Affix 400 to 422: its words when they hold no secret, else only the fields it named', async () => {
    const h = harness();
    h.fault(
      { kind: 'status', status: 400, body: { message: 'bad name', validation_error: 'name\u0000 too long' } },
      1,
      'POST',
    );
    const plain = await h.invoke(patch({ name: 'Other' }));
    expectProblem(plain, 422, 'upstream-rejected');
    expect(plain.json.detail).toBe('Affix rejected the change: bad name: name  too long');
    h.fault(
      {
        kind: 'status',
        status: 400,
        body: { message: `bad secret ${SECRET_A}`, validation_error: 'name\u0000 too long' },
      },
      1,
      'POST',
    );
    const result = await h.invoke(patch({ name: 'Another' }));
    expectProblem(result, 422, 'upstream-rejected');
    expect(result.json.detail).toBe(
      'Affix rejected the change. Its message is withheld because it may repeat a secret. It mentioned: name.',
    );
  });

  it('reloads credentials once on 401 and succeeds with the rotated secret', async () => {
    const h = harness();
    h.affix.setClient({ ...h.affix.client, client_secret: [SECRET_B] });
    // SSM already holds the new secret, but the cache still has the old one.
    await h.invoke(GET).catch(() => undefined);
    h.ssm.credentials = { clientId: CLIENT_ID, clientSecret: SECRET_B };
    const result = await h.invoke(GET);
    expect(result.statusCode).toBe(200);
    expect(h.loads()).toBe(3); // first load, refresh on the first request's 401, refresh on the second's
  });

  it('answers 502 upstream-auth-failed when Affix still says 401 after one refresh', async () => {
    const h = harness();
    h.affix.setClient({ ...h.affix.client, client_secret: [SECRET_B] });
    const result = await h.invoke(GET);
    expectProblem(result, 502, 'upstream-auth-failed');
    expect(h.loads()).toBe(2);
    expect(h.affix.requests).toHaveLength(2);
  });

  it('maps an Affix 409 to 409 upstream-conflict', async () => {
    const h = harness();
    h.fault({ kind: 'status', status: 409, body: { error: 'conflict' } }, 1, 'POST');
    expectProblem(await h.invoke(patch({ name: 'Other' })), 409, 'upstream-conflict');
  });

  it('retries 429 with a short Retry-After and succeeds', async () => {
    const h = harness();
    h.fault({ kind: 'status', status: 429, body: { message: 'slow down' }, retryAfter: '0' });
    expect((await h.invoke(GET)).statusCode).toBe(200);
    expect(h.affix.requests).toHaveLength(2);
  });

  it('answers 429 at once, passing Retry-After on, when it is longer than the deadline', async () => {
    const h = harness();
    h.fault({ kind: 'status', status: 429, body: { message: 'slow down' }, retryAfter: '120' });
    const result = await h.invoke(GET);
    expectProblem(result, 429, 'upstream-rate-limited');
    expect(result.headers?.['retry-after']).toBe('120');
    expect(h.affix.requests).toHaveLength(1);
  });

  it('answers 429 after three rate-limited attempts', async () => {
    const h = harness();
    h.fault({ kind: 'status', status: 429, body: { message: 'slow down' }, retryAfter: '0' }, 3);
    const result = await h.invoke(GET);
    expectProblem(result, 429, 'upstream-rate-limited');
    expect(result.headers?.['retry-after']).toBe('0');
    expect(h.affix.requests).toHaveLength(3);
  });

  it('retries a 500 and returns the 200 that follows', async () => {
    const h = harness();
    h.fault({ kind: 'status', status: 500, body: { message: 'oops' } });
    expect((await h.invoke(GET)).statusCode).toBe(200);
    expect(h.affix.requests).toHaveLength(2);
  });

  it('answers 502 upstream-error after three 5xx, and for an unknown status', async () => {
    const h = harness();
    h.fault({ kind: 'status', status: 503, body: { message: 'down' }, headers: {} }, 3);
    expectProblem(await h.invoke(GET), 502, 'upstream-error');
    expect(h.affix.requests).toHaveLength(3);
    h.fault({ kind: 'status', status: 404, body: { message: 'no' } });
    expectProblem(await h.invoke(GET), 502, 'upstream-error');
  });

  it('answers 502 upstream-bad-response for a 200 that is not JSON, has the wrong shape, or is too large', async () => {
    const h = harness();
    h.fault({ kind: 'non-json', text: '<html>oops</html>' });
    expectProblem(await h.invoke(GET), 502, 'upstream-bad-response');
    h.fault({ kind: 'wrong-shape', value: { client_id: 1, name: 'x' } });
    expectProblem(await h.invoke(GET), 502, 'upstream-bad-response');
    h.fault({ kind: 'huge-body', bytes: 1024 * 1024 + 21 });
    expectProblem(await h.invoke(GET), 502, 'upstream-bad-response');
  });

  it('answers 502 upstream-unreachable after three connection failures', async () => {
    const h = harness();
    h.fault({ kind: 'network', code: 'ECONNREFUSED' }, 3);
    expectProblem(await h.invoke(GET), 502, 'upstream-unreachable');
    expect(h.affix.requests).toHaveLength(3);
  });

  it('answers 504 upstream-timeout when Affix hangs past the deadline', async () => {
    const h = harness({ deadlineMs: 300, attemptTimeoutMs: 200 });
    h.fault({ kind: 'hang-before-headers' }, 3);
    const result = await h.invoke(GET);
    expectProblem(result, 504, 'upstream-timeout');
    // The deadline, not the attempts, ended it: no third attempt (three would fit without a deadline).
    expect(h.affix.requests.length).toBeLessThanOrEqual(2);
  });

  it('shrinks the deadline to the Lambda remaining time minus the safety margin', async () => {
    // Budget min(10 s, 1.5 s - 0.5 s) = 1 s; the backstop would answer only at 1.5 s - 0.25 s. On fake
    // clocks and timers, so the abort is asserted at the budget's instant, whatever the machine's load.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] });
    try {
      const h = harness({ deadlineMs: 10_000, attemptTimeoutMs: 5_000, safetyMarginMs: 500 });
      let abortedAfterMs: number | undefined;
      let attemptStarted: () => void = () => {};
      const attempting = new Promise<void>((resolve) => {
        attemptStarted = resolve;
      });
      const started = performance.now();
      h.fault({ kind: 'hang-before-headers' });
      h.affixFetch = (input, init) => {
        const signal = init?.signal;
        signal?.addEventListener('abort', () => {
          abortedAfterMs = performance.now() - started;
        });
        attemptStarted();
        return h.affix.fetch(input, init);
      };
      const answer = h.invoke(GET, 1_500);
      await attempting;
      await vi.advanceTimersByTimeAsync(999);
      expect(abortedAfterMs).toBeUndefined();
      await vi.advanceTimersByTimeAsync(1);
      // Our deadline aborted the attempt (not its 5 s timeout, not the backstop) at the shrunk budget.
      expect(abortedAfterMs).toBe(1_000);
      expectProblem(await answer, 504, 'upstream-timeout');
    } finally {
      vi.useRealTimers();
    }
  });

  it('sends nothing to Affix after a 504: the backstop fires only after the request deadline has ended', async () => {
    // An SSM read (the lock-out guard's) that the deadline does not bound hangs past the deadline:
    // the backstop answers 504, and when the read returns the POST is refused by the ended deadline.
    const h = harness({ deadlineMs: 10_000, attemptTimeoutMs: 5_000, safetyMarginMs: 500 });
    expect((await h.invoke(GET)).statusCode).toBe(200);
    let resume = () => {};
    h.ssm.gate = new Promise<void>((resolve) => {
      resume = resolve;
    });
    const result = await h.invoke(putSecrets([SECRET_A, SECRET_B]), 1_200);
    expectProblem(result, 504, 'upstream-timeout');
    h.ssm.gate = undefined;
    resume();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(h.affix.requests.map((call) => call.method)).toEqual(['GET', 'GET']);
    expect(h.affix.client.client_secret).toEqual([SECRET_A]);
    expect(h.lock.events).toEqual(['acquire', 'release']);
  });

  it('answers 503 credentials-unavailable when SSM fails, and recovers on the next request', async () => {
    const h = harness();
    h.ssm.fail = new ProblemError('credentials-unavailable', 'The Affix credentials could not be read.');
    expectProblem(await h.invoke(GET), 503, 'credentials-unavailable');
    h.ssm.fail = undefined;
    expect((await h.invoke(GET)).statusCode).toBe(200);
  });

  it('answers 500 internal for anything else, without its message', async () => {
    const h = harness({ throwFromAffix: new Error(`boom with ${SECRET_A}`) });
    const result = await h.invoke(GET);
    expectProblem(result, 500, 'internal');
    expect(result.body).not.toContain('boom');
  });
});

describe('the write lock', () => {
  it('takes the lease for every write around its GET and POST, and not for a GET', async () => {
    const h = harness();
    expect((await h.invoke(GET)).statusCode).toBe(200);
    expect(h.lock.events).toEqual([]);
    expect((await h.invoke(patch({ name: 'Leased' }))).statusCode).toBe(200);
    expect((await h.invoke(putSecrets([SECRET_A, SECRET_B]))).statusCode).toBe(200);
    expect(h.leaseDuring).toEqual([
      { method: 'GET', held: false },
      { method: 'GET', held: true },
      { method: 'POST', held: true },
      { method: 'GET', held: true },
      { method: 'POST', held: true },
    ]);
    expect(h.lock.events).toEqual(['acquire', 'release', 'acquire', 'release']);
  });

  it.each([
    ['PATCH', patch({ name: 'Blocked' })],
    ['PUT secrets', putSecrets([SECRET_A, SECRET_B])],
  ])(
    '%s: answers 503 write-contention with Retry-After and sends nothing when the lease is held',
    async (_, request) => {
      const h = harness();
      h.lock.mode = 'contended';
      const result = await h.invoke(request);
      expectProblem(result, 503, 'write-contention');
      expect(result.headers?.['retry-after']).toBe('7');
      expect(h.affix.requests).toEqual([]);
    },
  );

  it('answers 503 write-lock-unavailable and sends nothing when the lock store fails', async () => {
    const h = harness();
    h.lock.mode = 'broken';
    const result = await h.invoke(patch({ name: 'Blocked' }));
    expectProblem(result, 503, 'write-lock-unavailable');
    expect(result.headers?.['retry-after']).toBe('1');
    expect(h.affix.requests).toEqual([]);
  });

  it('releases the lease when the write fails: 412, Affix errors, the lock-out guard, unexpected errors', async () => {
    const h = harness();
    expectProblem(
      await h.invoke(patch({ name: 'Stale' }, { 'If-Match': '"stale"' })),
      412,
      'precondition-failed',
    );
    h.fault({ kind: 'status', status: 503, body: { message: 'down' }, headers: {} }, 3, 'POST');
    expectProblem(await h.invoke(patch({ name: 'Affix down' })), 502, 'upstream-error');
    expectProblem(await h.invoke(putSecrets([SECRET_B])), 409, 'would-lock-out');
    expect(h.lock.events).toEqual(['acquire', 'release', 'acquire', 'release', 'acquire', 'release']);
    const broken = harness({ throwFromAffix: new Error('boom') });
    expectProblem(await broken.invoke(patch({ name: 'Boom' })), 500, 'internal');
    expect(broken.lock.events).toEqual(['acquire', 'release']);
    expect(broken.lock.held).toBe(false);
  });

  describe('on a real DynamoDB engine (dynalite), shared by two containers', () => {
    let engine: LocalDynamoDb;
    beforeAll(async () => {
      engine = await startLocalDynamoDb({ port: 0 });
    });
    afterAll(async () => {
      await engine?.close();
    });
    const dynamoLock = () =>
      createDynamoDbWriteLock({ client: engine.client(), tableName: engine.tableName, leaseMs: 30_000 });
    const leaseItem = async () =>
      (
        await engine.client().send(
          new GetItemCommand({
            TableName: engine.tableName,
            Key: { pk: { S: LEASE_KEY.pk }, sk: { S: LEASE_KEY.sk } },
            ConsistentRead: true,
          }),
        )
      ).Item;

    it('a write holds the lease during its GET and POST, and gives it up afterwards', async () => {
      const h = harness({ writeLock: dynamoLock() });
      const owners: (string | undefined)[] = [];
      const inner = h.affix.fetch;
      h.affixFetch = async (input, init) => {
        owners.push((await leaseItem())?.owner?.S);
        return inner(input, init);
      };
      expect((await h.invoke(patch({ name: 'Dynamo Leased' }))).statusCode).toBe(200);
      expect(owners).toHaveLength(2);
      expect(owners[0]).toMatch(/^[0-9a-f-]{36}$/);
      expect(owners[1]).toBe(owners[0]);
      // Released: the state item stays, without an owner.
      expect((await leaseItem())?.owner).toBeUndefined();
    });

    it('a lease held by another container: 503 write-contention, Retry-After from its lease, nothing sent', async () => {
      await engine.client().send(
        new PutItemCommand({
          TableName: engine.tableName,
          Item: {
            pk: { S: LEASE_KEY.pk },
            sk: { S: LEASE_KEY.sk },
            owner: { S: 'other-container' },
            expiresAtMs: { N: String(Date.now() + 4_500) },
          },
        }),
      );
      // A budget the engine answers within on a busy machine; the wait ends at half of it either way.
      const h = harness({ writeLock: dynamoLock(), deadlineMs: 3_000 });
      const result = await h.invoke(patch({ name: 'Refused' }));
      expectProblem(result, 503, 'write-contention');
      // The holder's remaining lease in whole seconds: at most the 4.5 s it had, at least 1.
      const retryAfter = Number(result.headers?.['retry-after']);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(5);
      expect(h.affix.requests).toEqual([]);
      expect((await leaseItem())?.owner?.S).toBe('other-container');
      await engine.client().send(
        new DeleteItemCommand({
          TableName: engine.tableName,
          Key: { pk: { S: LEASE_KEY.pk }, sk: { S: LEASE_KEY.sk } },
        }),
      );
    });

    it('makes If-Match exact across containers: of 6 writers with the same ETag one succeeds, one POST', async () => {
      // Six handlers (containers) with their own caches and lock adapters over one Affix and one table.
      const first = harness({ writeLock: dynamoLock() });
      const containers = [first, ...Array.from({ length: 5 }, () => harness({ writeLock: dynamoLock() }))];
      const shared = first.affix.fetch;
      // A slow POST, so without the lock every container would read the old client before it lands.
      const slowPosts: typeof fetch = async (input, init) => {
        if (init?.method === 'POST') await new Promise((resolve) => setTimeout(resolve, 30));
        return shared(input, init);
      };
      for (const container of containers) container.affixFetch = slowPosts;
      const etag = (await first.invoke(GET)).headers?.etag as string;
      // A writer answered a retryable 503 sends the same PATCH again, as a caller does; on a busy machine
      // every writer of a race can time out waiting for the lock, and a later attempt settles it.
      const results: Awaited<ReturnType<typeof first.invoke>>[] = [];
      let waiting = containers.map((container, i) => ({ container, i }));
      for (let attempt = 1; attempt <= 5 && waiting.length > 0; attempt += 1) {
        const answers = await Promise.all(
          waiting.map(({ container, i }) =>
            container.invoke(patch({ name: `Writer ${i}` }, { 'If-Match': etag })),
          ),
        );
        const again: typeof waiting = [];
        for (const [k, answer] of answers.entries()) {
          if (answer.statusCode !== 503) {
            results.push(answer);
            continue;
          }
          // Gave up waiting (write-contention) or the lock store did not answer in time: nothing was sent.
          const slug = String(answer.json.type).split(':').pop();
          expectProblem(answer, 503, slug === 'write-lock-unavailable' ? slug : 'write-contention');
          expect(Number(answer.headers?.['retry-after'])).toBeGreaterThanOrEqual(1);
          const writer = waiting[k];
          if (writer !== undefined) again.push(writer);
        }
        waiting = again;
      }
      const winners = results.filter((result) => result.statusCode === 200);
      expect(winners).toHaveLength(1);
      // Every other writer read the winner's write: 412.
      for (const loser of results.filter((result) => result.statusCode !== 200)) {
        expectProblem(loser, 412, 'precondition-failed');
      }
      // No lost change: one POST, and it is the winner's.
      const posted = first.affix.requests.filter((call) => call.method === 'POST');
      expect(posted).toHaveLength(1);
      expect(JSON.parse(winners[0]?.body ?? '{}').name).toBe(first.affix.client.name);
    });

    it('a second writer with the same ETag, after the first wrote, gets 412 and sends nothing', async () => {
      const a = harness({ writeLock: dynamoLock() });
      const b = harness({ writeLock: dynamoLock() });
      b.affixFetch = a.affix.fetch;
      const etag = (await a.invoke(GET)).headers?.etag as string;
      expect((await a.invoke(patch({ name: 'First' }, { 'If-Match': etag }))).statusCode).toBe(200);
      const second = await b.invoke(patch({ name: 'Second' }, { 'If-Match': etag }));
      expectProblem(second, 412, 'precondition-failed');
      expect(a.affix.requests.filter((call) => call.method === 'POST')).toHaveLength(1);
      expect(a.affix.client.name).toBe('First');
    });
  });
});

describe('observability', () => {
  let firstLine = 0;
  beforeEach(() => {
    firstLine = output.lines.length;
  });
  const linesOfThisTest = () => output.json(firstLine);

  it('writes one audit line per write with caller, route, changed fields, upstream status and latency', async () => {
    const h = harness();
    await h.invoke(patch({ webhook_uri: 'https://hooks.example.com/audited' }));
    const audits = linesOfThisTest().filter((line) => line.message === 'audit');
    expect(audits).toHaveLength(1);
    expect(audits[0]?.audit).toMatchObject({
      caller: CALLER_ARN,
      route: 'PATCH /client',
      outcome: 'success',
      status: 200,
      requestedFields: ['webhook_uri'],
      changedFields: ['webhook_uri'],
      upstreamStatus: 200,
    });
    const audit = audits[0]?.audit as { upstreamCalls: unknown[]; upstreamLatencyMs: unknown };
    expect(audit.upstreamCalls).toHaveLength(2);
    expect(typeof audit.upstreamLatencyMs).toBe('number');
  });

  it('audits failed writes too, and emits the outcome metric per request', async () => {
    const h = harness();
    h.affix.setClient({ ...h.affix.client, client_secret: [SECRET_B] });
    await h.invoke(putSecrets([SECRET_A, SECRET_B]));
    const lines = linesOfThisTest();
    const audit = lines.find((line) => line.message === 'audit')?.audit as Record<string, unknown>;
    expect(audit).toMatchObject({
      route: 'PUT /client/secrets',
      outcome: 'upstream-auth-failed',
      status: 502,
    });
    const emf = lines.find((line) => line.RequestOutcome !== undefined);
    expect(emf).toMatchObject({
      RequestOutcome: 1,
      outcome: 'upstream-auth-failed',
      service: 'affix-webhook-config',
      stage: 'test',
    });
    expect(lines.some((line) => line.UpstreamLatency !== undefined)).toBe(true);
  });
});

afterAll(() => {
  // Every response and every log line written by the scenarios above: no secret in any form.
  const forbidden = [SECRET_A, SECRET_B].flatMap((secret) => [
    secret,
    Buffer.from(secret).toString('base64'),
    Buffer.from(`${CLIENT_ID}:${secret}`).toString('base64'),
  ]);
  const haystack = [...responses.map((response) => JSON.stringify(response)), ...output.lines].join('\n');
  expect(responses.length).toBeGreaterThan(40);
  expect(output.lines.length).toBeGreaterThan(40);
  for (const needle of forbidden) expect(haystack).not.toContain(needle);
});
