/**
 * The typed client over real HTTP against a local recording server: what it sends (a valid SigV4
 * signature, checked by aws4fetch and by an independent implementation, with a fixed clock and fake
 * credentials), and how every answer, failure, timeout and abort surfaces. Canned answers are built
 * with the handler's own response builders, so a change of the wire format shows up here.
 */
import type { APIGatewayProxyResult } from 'aws-lambda';
import { AwsV4Signer } from 'aws4fetch';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type ClientConfigClientOptions,
  type ClientConfigErrorSlug,
  createClientConfigClient,
  GATEWAY_PROBLEMS,
  PROBLEMS,
  type ProblemSlug,
  RETRYABLE_SLUGS,
} from '../../clients/index.ts';
import { gatewayProblemDocument } from '../../functions/contract/gateway-responses.ts';
import { PROBLEM_SLUGS, problemDefinition } from '../../functions/contract/problems.ts';
import { jsonResponse, problemResponse } from '../../functions/core/adapters/middlewares.ts';
import { toPublicClient } from '../../functions/core/domain/client-state.ts';
import { ProblemError, type ProblemOptions } from '../../functions/core/domain/problems.ts';
import { failure } from './support/failure.ts';
import {
  type Answer,
  jsonAnswer,
  type RecordingServer,
  startRecordingServer,
} from './support/recording-server.ts';
import { parseAuthorization, sigV4Problem } from './support/sigv4.ts';

const CREDENTIALS = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  sessionToken: 'FwoGZXIvYXdzEXAMPLE-session-token',
};
const REGION = 'eu-west-1';
const FIXED_NOW = new Date('2025-01-02T03:04:05.678Z');
const ETAG = '"9gd6VQ-DXTMw57ehjTuhj3"';
const CLIENT = toPublicClient({
  client_id: 'client-0001',
  client_secret: ['secret-AAAA-aaaa-1111-initial'],
  name: 'Test App',
  redirect_uris: ['https://app.example.com/callback'],
  webhook_uri: 'https://hooks.example.com/affix',
});

let server: RecordingServer;
beforeAll(async () => {
  server = await startRecordingServer();
});
afterAll(() => server.close());
beforeEach(() => {
  server.requests.length = 0;
  server.answer(fromProxyResult(jsonResponse(200, CLIENT, { etag: ETAG })));
});
afterEach(() => {
  vi.unstubAllEnvs();
});

/** The HTTP answer API Gateway makes of a Lambda proxy result. */
function fromProxyResult(result: APIGatewayProxyResult): Answer {
  const headers: Record<string, string> = { 'x-amzn-requestid': 'gw-request-1' };
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = String(value);
  return { status: result.statusCode, headers, body: result.body };
}

function api(options: Partial<ClientConfigClientOptions> = {}) {
  return createClientConfigClient({
    baseUrl: `${server.url}/prod`,
    region: REGION,
    credentials: CREDENTIALS,
    now: () => FIXED_NOW,
    ...options,
  });
}

function onlyRequest() {
  expect(server.requests).toHaveLength(1);
  return server.requests[0] as (typeof server.requests)[number];
}

const verify = { ...CREDENTIALS, region: REGION, service: 'execute-api' };

describe('what the client sends', () => {
  it('GET /client under the stage path, SigV4-signed for execute-api at the fixed clock', async () => {
    const result = await api().getClient();
    expect(result).toEqual({ client: CLIENT, etag: ETAG });

    const request = onlyRequest();
    expect(request.method).toBe('GET');
    expect(request.url).toBe('/prod/client');
    expect(request.body).toBe('');
    expect(request.headers.accept).toBe('application/json, application/problem+json');
    expect(request.headers['x-amz-date']).toBe('20250102T030405Z');
    expect(request.headers['x-amz-security-token']).toBe(CREDENTIALS.sessionToken);
    expect(parseAuthorization(request.headers.authorization)).toMatchObject({
      accessKeyId: CREDENTIALS.accessKeyId,
      date: '20250102',
      region: REGION,
      service: 'execute-api',
      signedHeaders: ['accept', 'host', 'x-amz-date', 'x-amz-security-token'],
    });
    expect(sigV4Problem(request, verify)).toBeUndefined();
  });

  it('sends a signature that aws4fetch itself computes again from what arrived', async () => {
    await api().updateClient({ name: 'Renamed' }, { ifMatch: ETAG });
    const request = onlyRequest();
    const auth = parseAuthorization(request.headers.authorization);
    const signedHeaders = Object.fromEntries(
      (auth?.signedHeaders ?? [])
        .filter((name) => name !== 'host')
        .map((name) => [name, String(request.headers[name])]),
    );
    const again = await new AwsV4Signer({
      method: request.method,
      url: `${server.url}${request.url}`,
      headers: signedHeaders,
      body: request.body,
      ...CREDENTIALS,
      service: 'execute-api',
      region: REGION,
      datetime: String(request.headers['x-amz-date']),
    }).authHeader();
    expect(again).toBe(request.headers.authorization);
  });

  it('PATCH sends a merge patch with If-Match; body and If-Match are covered by the signature', async () => {
    await api().updateClient({ webhook_uri: 'https://hooks.example.com/v2' }, { ifMatch: ETAG });
    const request = onlyRequest();
    expect(request.method).toBe('PATCH');
    expect(request.url).toBe('/prod/client');
    expect(request.headers['content-type']).toBe('application/merge-patch+json');
    expect(request.headers['if-match']).toBe(ETAG);
    expect(JSON.parse(request.body)).toEqual({ webhook_uri: 'https://hooks.example.com/v2' });
    expect(parseAuthorization(request.headers.authorization)?.signedHeaders).toContain('if-match');
    expect(sigV4Problem(request, verify)).toBeUndefined();

    // The verifier is not a rubber stamp: any change in transit breaks the signature.
    expect(sigV4Problem({ ...request, body: '{"webhook_uri":null}' }, verify)).toBe('signature mismatch');
    expect(sigV4Problem({ ...request, headers: { ...request.headers, 'if-match': '*' } }, verify)).toBe(
      'signature mismatch',
    );
    expect(sigV4Problem({ ...request, method: 'PUT' }, verify)).toBe('signature mismatch');
    expect(sigV4Problem(request, { ...verify, secretAccessKey: 'another-secret' })).toBe(
      'signature mismatch',
    );
    expect(sigV4Problem(request, { ...verify, region: 'us-east-1' })).toBe('scope eu-west-1/execute-api');
  });

  it('PUT /client/secrets sends {"client_secret": [...]} as application/json, without If-Match unless given', async () => {
    const secrets = ['secret-AAAA-aaaa-1111-initial', 'secret-BBBB-bbbb-2222-rotated'];
    await api().replaceSecrets(secrets);
    const request = onlyRequest();
    expect(request.method).toBe('PUT');
    expect(request.url).toBe('/prod/client/secrets');
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['if-match']).toBeUndefined();
    expect(JSON.parse(request.body)).toEqual({ client_secret: secrets });
    expect(sigV4Problem(request, verify)).toBeUndefined();
  });

  it('accepts a base URL with a trailing slash and signs with the real clock by default', async () => {
    const before = Date.now();
    await api({ baseUrl: `${server.url}/prod/`, now: undefined }).getClient();
    const request = onlyRequest();
    expect(request.url).toBe('/prod/client');
    const amzDate = String(request.headers['x-amz-date']);
    const signedAt = Date.parse(
      amzDate.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, '$1-$2-$3T$4:$5:$6Z'),
    );
    expect(signedAt).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(signedAt).toBeLessThanOrEqual(Date.now());
    expect(sigV4Problem(request, verify)).toBeUndefined();
  });

  it('without credentials, signs with the default AWS chain (the environment, as in a Lambda)', async () => {
    vi.stubEnv('AWS_PROFILE', undefined);
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDFROMENVIRONMENT');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret-from-the-environment');
    vi.stubEnv('AWS_SESSION_TOKEN', 'token-from-the-environment');
    await api({ credentials: undefined }).getClient();
    const request = onlyRequest();
    expect(request.headers['x-amz-security-token']).toBe('token-from-the-environment');
    expect(
      sigV4Problem(request, {
        ...verify,
        accessKeyId: 'AKIDFROMENVIRONMENT',
        secretAccessKey: 'secret-from-the-environment',
      }),
    ).toBeUndefined();
  });

  it('asks a credential provider only when a call is made, and signs without a session token when it has none', async () => {
    const provider = vi.fn(async () => ({ accessKeyId: 'AKIDPROVIDED', secretAccessKey: 'provided-secret' }));
    const client = api({ credentials: provider });
    expect(provider).not.toHaveBeenCalled();
    await client.getClient();
    await client.getClient();
    expect(provider).toHaveBeenCalledTimes(2); // the provider decides what to cache
    const request = server.requests[1];
    expect(request?.headers['x-amz-security-token']).toBeUndefined();
    expect(
      sigV4Problem(request as (typeof server.requests)[number], {
        ...verify,
        accessKeyId: 'AKIDPROVIDED',
        secretAccessKey: 'provided-secret',
      }),
    ).toBeUndefined();
  });

  it('turns a failing or empty credential provider into aws-credentials-unavailable, sending nothing', async () => {
    const cause = new Error('Could not load credentials from any providers');
    const failed = await failure(api({ credentials: () => Promise.reject(cause) }).getClient());
    expect(failed).toMatchObject({
      slug: 'aws-credentials-unavailable',
      type: 'urn:affix-webhook-config:client:aws-credentials-unavailable',
      status: 0,
    });
    expect(failed.cause).toBe(cause);
    const empty = await failure(
      api({ credentials: async () => ({ accessKeyId: '', secretAccessKey: 'x' }) }).getClient(),
    );
    expect(empty.slug).toBe('aws-credentials-unavailable');
    expect(server.requests).toHaveLength(0);
  });

  it('refuses bad options at once', () => {
    expect(() => api({ baseUrl: 'not a url' })).toThrow(TypeError);
    expect(() => api({ baseUrl: 'http://api.example.com/prod' })).toThrow(/https/);
    expect(() => api({ baseUrl: 'https://api.example.com/prod?stage=x' })).toThrow(/query/);
    expect(() => api({ baseUrl: 'https://user:pw@api.example.com/prod' })).toThrow(/user:password@/);
    expect(() => api({ region: ' ' })).toThrow(/region/);
    expect(() => api({ timeoutMs: 0 })).toThrow(/timeoutMs/);
    expect(() => api({ timeoutMs: Number.NaN })).toThrow(/timeoutMs/);
  });
});

/** Details and options that make each problem of the table realistic. */
function problemFor(slug: ProblemSlug): ProblemError {
  const options: ProblemOptions = {};
  if (slug === 'validation-failed') {
    options.errors = [
      { pointer: '/webhook_uri', detail: 'webhook_uri must be an absolute https:// URL' },
      { pointer: '/redirect_uris/1', detail: 'each redirect URI must be a string' },
    ];
  }
  if (slug === 'upstream-rate-limited') options.retryAfterSeconds = 17;
  if (slug === 'method-not-allowed') options.headers = { allow: 'GET, PATCH' };
  return new ProblemError(slug, `detail of ${slug}`, options);
}

describe('every status of the table surfaces as a typed ClientConfigError', () => {
  it.each(Object.keys(PROBLEMS) as ProblemSlug[])('%s', async (slug) => {
    server.answer(fromProxyResult(problemResponse(problemFor(slug), 'req-abc-123')));
    const error = await failure(api().getClient());
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('ClientConfigError');
    expect(error).toMatchObject({
      slug,
      type: `urn:affix-webhook-config:problem:${slug}`,
      status: PROBLEMS[slug].status,
      title: PROBLEMS[slug].title,
      detail: `detail of ${slug}`,
      instance: 'req-abc-123',
    });
    expect(error.message).toBe(`${PROBLEMS[slug].status} ${slug}: detail of ${slug}`);
    expect(error.errors).toEqual(problemFor(slug).errors);
    expect(error.retryAfterSeconds).toBe(slug === 'upstream-rate-limited' ? 17 : undefined);
    expect(server.requests).toHaveLength(1); // no retries, whatever the status
  });

  it('412 from a write, with the If-Match that was sent', async () => {
    server.answer(
      fromProxyResult(problemResponse(new ProblemError('precondition-failed', 'changed'), 'req-412')),
    );
    const error = await failure(api().updateClient({ name: 'x' }, { ifMatch: '"stale"' }));
    expect(error).toMatchObject({ slug: 'precondition-failed', status: 412, instance: 'req-412' });
    expect(onlyRequest().headers['if-match']).toBe('"stale"');
  });

  it('a problem type this client does not know keeps its type as unknown-problem', async () => {
    server.answer(
      jsonAnswer(
        409,
        {
          type: 'urn:affix-webhook-config:problem:brand-new',
          title: 'New',
          status: 409,
          detail: 'd',
          instance: 'i',
        },
        { 'content-type': 'application/problem+json' },
      ),
    );
    const error = await failure(api().getClient());
    expect(error).toMatchObject({
      slug: 'unknown-problem',
      type: 'urn:affix-webhook-config:problem:brand-new',
      status: 409,
      title: 'New',
      instance: 'i',
    });
  });
});

describe("API Gateway's own answers as problem documents (the Gateway Responses)", () => {
  it.each(GATEWAY_PROBLEMS.map((problem) => [problem.slug, problem] as const))(
    '%s becomes a ClientConfigError with that slug',
    async (slug, problem) => {
      const status = problem.status ?? (problem.responseType === 'DEFAULT_4XX' ? 400 : 500);
      server.answer(
        jsonAnswer(status, gatewayProblemDocument(problem, 'gw-request-7'), {
          'content-type': 'application/problem+json',
          'x-amzn-RequestId': 'gw-request-7',
          ...(status === 429 ? { 'retry-after': '3' } : {}),
        }),
      );
      const error = await failure(api().getClient());
      expect(error).toMatchObject({
        slug,
        type: `urn:affix-webhook-config:problem:${slug}`,
        status,
        title: problem.title,
        detail: problem.detail,
        instance: 'gw-request-7',
        retryable: slug === 'throttled',
      });
      if (status === 429) expect(error.retryAfterSeconds).toBe(3);
      expect(server.requests).toHaveLength(1);
    },
  );

  it('authentication and authorization failures are never retryable; throttling, Affix rate limits and the write lease are', () => {
    for (const slug of ['missing-signature', 'invalid-signature', 'expired-credentials', 'access-denied']) {
      expect(RETRYABLE_SLUGS.has(slug as ClientConfigErrorSlug)).toBe(false);
    }
    expect([...RETRYABLE_SLUGS].sort()).toEqual([
      'gateway-throttled',
      'throttled',
      'upstream-rate-limited',
      'write-contention',
      'write-lock-unavailable',
    ]);
  });

  it('a problem answered with Retry-After in the catalogue is retryable (derived, not a second list)', () => {
    for (const slug of PROBLEM_SLUGS) {
      expect(RETRYABLE_SLUGS.has(slug), slug).toBe(problemDefinition(slug).retryAfter === true);
    }
  });
});

describe('answers that are not our problem documents', () => {
  const gatewayAnswers: [string, number, Answer, string, string][] = [
    [
      'bad signature',
      403,
      jsonAnswer(403, {
        message: 'The request signature we calculated does not match the signature you provided.',
      }),
      'gateway-forbidden',
      'The request signature we calculated does not match the signature you provided.',
    ],
    [
      'explicit IAM deny (capital Message)',
      403,
      jsonAnswer(403, {
        Message:
          'User: arn:aws:sts::111122223333:assumed-role/reader/x is not authorized to perform: execute-api:Invoke',
      }),
      'gateway-forbidden',
      'User: arn:aws:sts::111122223333:assumed-role/reader/x is not authorized to perform: execute-api:Invoke',
    ],
    [
      'unknown route',
      403,
      jsonAnswer(403, { message: 'Missing Authentication Token' }),
      'gateway-forbidden',
      'Missing Authentication Token',
    ],
    [
      'stage throttling',
      429,
      jsonAnswer(429, { message: 'Too Many Requests' }),
      'gateway-throttled',
      'Too Many Requests',
    ],
    [
      'body too large',
      413,
      jsonAnswer(413, { message: 'Request Too Long' }),
      'gateway-error',
      'Request Too Long',
    ],
    [
      'function crashed',
      502,
      jsonAnswer(502, { message: 'Internal server error' }),
      'gateway-error',
      'Internal server error',
    ],
    [
      'integration timeout',
      504,
      jsonAnswer(504, { message: 'Endpoint request timed out' }),
      'gateway-error',
      'Endpoint request timed out',
    ],
    [
      'an HTML error page',
      500,
      { status: 500, headers: { 'content-type': 'text/html' }, body: '<h1>oops</h1>' },
      'gateway-error',
      'HTTP 500 without a problem document.',
    ],
    [
      'problem+json that is not a problem document',
      400,
      { status: 400, headers: { 'content-type': 'application/problem+json' }, body: '{"oops":true}' },
      'gateway-error',
      'HTTP 400 without a problem document.',
    ],
  ];

  it.each(gatewayAnswers)('%s (%i) becomes %s', async (_name, status, answer, slug, detail) => {
    const withId =
      typeof answer === 'object'
        ? { ...answer, headers: { ...answer.headers, 'x-amzn-RequestId': 'gw-1' } }
        : answer;
    server.answer(withId);
    const error = await failure(api().getClient());
    expect(error).toMatchObject({
      slug,
      type: `urn:affix-webhook-config:client:${slug}`,
      status,
      detail,
      instance: 'gw-1',
      errors: undefined,
    });
    expect(server.requests).toHaveLength(1);
  });

  it.each([
    ['not JSON', { status: 200, headers: { etag: ETAG }, body: 'hello' }, /not JSON/],
    ['not a client', jsonAnswer(200, { client_id: 1 }, { etag: ETAG }), /not a client/],
    ['no ETag', jsonAnswer(200, CLIENT), /no ETag/],
    ['too large', jsonAnswer(200, { ...CLIENT, name: 'x'.repeat(1024 * 1024) }, { etag: ETAG }), /too large/],
  ] satisfies [string, Answer, RegExp][])(
    'a 2xx that is %s is invalid-response',
    async (_name, answer, detail) => {
      server.answer(answer);
      const error = await failure(api().getClient());
      expect(error).toMatchObject({ slug: 'invalid-response', status: 200 });
      expect(error.detail).toMatch(detail);
    },
  );

  it('does not follow a redirect with the signed request', async () => {
    server.answer({ status: 302, headers: { location: 'https://elsewhere.example.com/' } });
    const error = await failure(api().getClient());
    expect(error).toMatchObject({ slug: 'gateway-error', status: 302 });
    expect(server.requests).toHaveLength(1);
  });
});

describe('timeouts, aborts and network errors', () => {
  it('gives up after the default timeoutMs with a timeout error', async () => {
    server.answer('hang');
    // The server never answers: only the client's own timer can end the call.
    const error = await failure(api({ timeoutMs: 150 }).getClient());
    expect(error).toMatchObject({ slug: 'timeout', status: 0, detail: 'No answer within 150 ms.' });
  });

  it('a per-call timeoutMs wins over the default', async () => {
    server.answer('hang');
    const error = await failure(api({ timeoutMs: 60_000 }).updateClient({ name: 'x' }, { timeoutMs: 100 }));
    expect(error.detail).toBe('No answer within 100 ms.');
  });

  it('the timeout also bounds a slow credential provider', async () => {
    const error = await failure(
      api({ credentials: () => new Promise(() => undefined), timeoutMs: 100 }).getClient(),
    );
    expect(error.slug).toBe('timeout');
    expect(server.requests).toHaveLength(0);
  });

  it("the caller's signal aborts the call, and its reason is the cause", async () => {
    server.answer('hang');
    const controller = new AbortController();
    const reason = new Error('shutting down');
    setTimeout(() => controller.abort(reason), 50);
    const error = await failure(api().getClient({ signal: controller.signal }));
    expect(error).toMatchObject({ slug: 'aborted', status: 0 });
    expect(error.cause).toBe(reason);
  });

  it('an AbortSignal.timeout() signal counts as a timeout', async () => {
    server.answer('hang');
    const error = await failure(api().replaceSecrets(['a'.repeat(16)], { signal: AbortSignal.timeout(50) }));
    expect(error.slug).toBe('timeout');
  });

  it('an already aborted signal sends nothing', async () => {
    const error = await failure(api().getClient({ signal: AbortSignal.abort() }));
    expect(error.slug).toBe('aborted');
    expect(server.requests).toHaveLength(0);
  });

  it('a refused connection or a reset is a network-error, never retried', async () => {
    const closed = await startRecordingServer();
    await closed.close();
    const refused = await failure(api({ baseUrl: closed.url }).getClient());
    expect(refused).toMatchObject({ slug: 'network-error', status: 0 });
    expect(refused.detail).toMatch(/ECONNREFUSED/);

    server.answer('reset');
    const reset = await failure(api().getClient());
    expect(reset.slug).toBe('network-error');
    expect(server.requests).toHaveLength(1);
  });
});
