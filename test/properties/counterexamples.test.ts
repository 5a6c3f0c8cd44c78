/**
 * The counterexamples the property suite found, replayed as plain examples so they stay fixed,
 * and one it cannot reach by design: the lock-out guard trusting a stale credentials cache.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createAffixHttpClient } from '../../functions/core/adapters/affix-http.ts';
import { createHandler } from '../../functions/core/adapters/app.ts';
import { createCredentialsCache } from '../../functions/core/app/credentials.ts';
import { createAffixSandbox } from '../../local/affix-sandbox.ts';
import { CLIENT_ID, ETAG_KEY, initialClient, SECRET_A, SECRET_B } from '../support/affix-fixtures.ts';
import { documentedAnswer, toAnswer } from '../support/answers.ts';
import { captureOutput } from '../support/capture.ts';
import { createInMemoryWriteLock } from '../support/in-memory-write-lock.ts';
import { findLeaks } from '../support/leaks.ts';
import {
  buildEvent,
  lambdaContextFor,
  plainRequest,
  type RequestSpec,
  type Scenario,
  type UpstreamStep,
} from './arbitraries.ts';
import { type Instruments, prepareRun } from './harness.ts';

const output = captureOutput();
const instruments: Instruments = {
  logger: new Logger({ serviceName: 'affix-webhook-config' }),
  metrics: new Metrics({ namespace: 'AffixWebhookConfig', serviceName: 'affix-webhook-config' }),
};

const request = plainRequest;

function scenarioOf(spec: RequestSpec, upstream: Partial<Scenario['upstream']> = {}): Scenario {
  return {
    request: spec,
    upstream: { get: [], post: [], ...upstream },
    ssm: { rotation: 'none', affixHasBoth: false, faults: [] },
    lock: 'free',
  };
}

describe('secrets Affix echoes back in a 400', () => {
  const echo = (parts: Extract<UpstreamStep, { kind: 'echo-400' }>['parts']): UpstreamStep => ({
    kind: 'echo-400',
    parts,
    validationError: '',
  });

  it('withholds a message with our Basic credentials (the Base64 of client_id:secret) or the raw id:secret', async () => {
    output.clear();
    const run = prepareRun(
      scenarioOf(request({}), { get: [echo(['authorization', 'credentials'])] }),
      instruments,
    );
    const answer = toAnswer(await run.invoke());
    expect(documentedAnswer(answer)).toMatchObject({ kind: 'problem', slug: 'upstream-rejected' });
    expect(JSON.parse(answer.body).detail).toBe(
      'Affix rejected the change. Its message is withheld because it may repeat a secret.',
    );
    expect(findLeaks([answer.body, ...output.lines], [SECRET_A], CLIENT_ID)).toEqual([]);
  });

  it('withholds a secret holding a quote in its JSON-escaped form when Affix repeats our body', async () => {
    output.clear();
    const quoted = 'new"secret\\with-quote';
    const run = prepareRun(
      scenarioOf(
        request({
          method: 'PUT',
          path: '/client/secrets',
          headers: [['content-type', 'application/json']],
          body: JSON.stringify({ client_secret: [SECRET_A, quoted] }),
        }),
        { post: [echo(['body'])] },
      ),
      instruments,
    );
    const answer = toAnswer(await run.invoke());
    expect(documentedAnswer(answer)).toMatchObject({ kind: 'problem', slug: 'upstream-rejected' });
    expect(JSON.parse(answer.body).detail).toBe(
      'Affix rejected the change. Its message is withheld because it may repeat a secret. It mentioned: name, webhook_uri, redirect_uris, client_secret.',
    );
    expect(findLeaks([answer.body, ...output.lines], [SECRET_A, quoted], CLIENT_ID)).toEqual([]);
  });
});

describe('Content-Type spellings the guard accepts are parsed too', () => {
  for (const type of ['application/json ; charset=utf-8', ' application/json', 'application/json\t']) {
    it(`applies a PATCH sent as ${JSON.stringify(type)}`, async () => {
      const run = prepareRun(
        scenarioOf(
          request({
            method: 'PATCH',
            headers: [['Content-Type', type]],
            body: JSON.stringify({ name: 'Renamed App' }),
          }),
        ),
        instruments,
      );
      const answer = toAnswer(await run.invoke());
      expect(answer.status, answer.body).toBe(200);
      expect(run.upstream.client.name).toBe('Renamed App');
    });
  }
});

describe('names of Object.prototype members are no routes', () => {
  for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
    it(`answers 404 for the path and the resource ${name}`, async () => {
      for (const spec of [request({ path: name }), request({ path: '/nothing', resource: name })]) {
        const answer = toAnswer(await prepareRun(scenarioOf(spec), instruments).invoke());
        expect(documentedAnswer(answer)).toMatchObject({ kind: 'problem', slug: 'not-found' });
      }
    });
  }
});

describe('Retry-After passed on from Affix', () => {
  it('is always delta-seconds: an absurd value is ignored, not passed on as 1e+23', async () => {
    const absurd: UpstreamStep = { kind: 'status', status: 429, retryAfter: '99999999999999999999999' };
    const run = prepareRun(scenarioOf(request({}), { get: [absurd, absurd, absurd] }), instruments);
    const answer = toAnswer(await run.invoke());
    expect(documentedAnswer(answer)).toMatchObject({ kind: 'problem', slug: 'upstream-rate-limited' });
    expect(answer.headers['retry-after']).toBeUndefined();
    expect(run.upstream.requests).toHaveLength(3);
  });
});

describe('the lock-out guard', () => {
  // Found by the property suite: the guard once compared the list with the cached secret, so in step 2
  // of a rotation (SSM already holds the new secret, this container caches the old one) a caller could
  // remove the new secret and lock out every container that reads SSM afterwards.
  it('never lets a write remove the secret SSM holds, even when the cache still holds the old one', async () => {
    const ssm = { secret: SECRET_A };
    const upstream = createAffixSandbox({ client: initialClient() });
    const container = () => {
      const credentials = createCredentialsCache({
        load: async () => ({ clientId: CLIENT_ID, clientSecret: ssm.secret, etagKey: ETAG_KEY }),
        maxAgeMs: 300_000,
      });
      const affix = createAffixHttpClient({
        baseUrl: 'https://affix.test',
        credentials,
        attemptTimeoutMs: 2_000,
        maxAttempts: 3,
        fetch: upstream.fetch,
      });
      return createHandler({
        config: { upstreamDeadlineMs: 5_000, deadlineSafetyMarginMs: 100 },
        ports: { affix, credentials, writeLock: createInMemoryWriteLock() },
        ...instruments,
      });
    };
    const warm = container();
    const put = (list: string[]) =>
      prepareEvent('PUT', '/client/secrets', JSON.stringify({ client_secret: list }));
    // Step 1: add SECRET_B. Step 2: SSM now holds SECRET_B; this container still caches SECRET_A.
    expect((await warm(...put([SECRET_A, SECRET_B]))).statusCode).toBe(200);
    ssm.secret = SECRET_B;
    // A caller removes SECRET_B (by mistake, or an old script): the guard must refuse.
    const removal = await warm(...put([SECRET_A]));
    const cold = await container()(...prepareEvent('GET', '/client', null));
    expect({ removal: removal.statusCode, coldStart: cold.statusCode }).toEqual({
      removal: 409,
      coldStart: 200,
    });
  });
});

let events = 0;

function prepareEvent(method: string, path: string, body: string | null): [APIGatewayProxyEvent, Context] {
  events += 1;
  const spec = request({
    method,
    path,
    body,
    headers: body === null ? [] : [['content-type', 'application/json']],
  });
  return [buildEvent(spec, '', `example-${events}`), lambdaContextFor(15_000)];
}
