/**
 * openapi.json against the real handler (the middy chain, use cases, Affix HTTP client and SSM loader;
 * only `fetch` and the SSM client are fakes): for each operation, every problem the handler can be
 * driven to answer is documented under that operation, and every problem documented there is one
 * the handler was driven to answer. The documented media types and examples are accepted.
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES, routeKeyOf } from '../../functions/contract/routes.ts';
import { createAffixHttpClient } from '../../functions/core/adapters/affix-http.ts';
import { createHandler } from '../../functions/core/adapters/app.ts';
import { createDynamoDbJournal } from '../../functions/core/adapters/dynamodb-journal.ts';
import type { RouteKey } from '../../functions/core/adapters/middlewares.ts';
import { createSsmCredentialsLoader } from '../../functions/core/adapters/ssm-credentials.ts';
import { createCredentialsCache } from '../../functions/core/app/credentials.ts';
import { PROBLEM_TYPE_PREFIX } from '../../functions/core/domain/problems.ts';
import {
  createAffixSandbox,
  type InProcessAffixSandbox,
  type SandboxFault,
} from '../../local/affix-sandbox.ts';
import { type LocalDynamoDb, startLocalDynamoDb } from '../../local/dynamodb.ts';
import { OPENAPI_PATH, ROUTE_PROBLEMS } from '../../scripts/openapi.ts';
import { CLIENT_ID, ETAG_KEY_BASE64, initialClient, SECRET_A, SECRET_B } from '../support/affix-fixtures.ts';
import { captureOutput } from '../support/capture.ts';
import { apiEvent, type EventOptions, lambdaContext } from '../support/events.ts';
import { createInMemoryWriteLock, type InMemoryWriteLock } from '../support/in-memory-write-lock.ts';

captureOutput();

// biome-ignore lint/suspicious/noExplicitAny: walking a parsed JSON document
const doc: any = JSON.parse(readFileSync(OPENAPI_PATH, 'utf8'));

interface Setup {
  affix: InProcessAffixSandbox;
  lock: InMemoryWriteLock;
  ssmFails: boolean;
  affixThrows: boolean;
  journalThrows: boolean;
}

interface Scenario {
  name: string;
  routes: readonly RouteKey[];
  setup?: (setup: Setup) => void;
  /** Changes to the route's valid request. */
  request?: Partial<EventOptions>;
  deadlineMs?: number;
}

const ALL: readonly RouteKey[] = [
  'GET /client',
  'PATCH /client',
  'PUT /client/secrets',
  'POST /webhooks/verify',
  'GET /client/changes',
];
/** The routes that ask Affix: the Affix and SSM scenarios are theirs. */
const AFFIX: readonly RouteKey[] = ROUTES.filter((route) => route.callsAffix).map(routeKeyOf);
const CHANGES: readonly RouteKey[] = ['GET /client/changes'];
const VERIFY: readonly RouteKey[] = ['POST /webhooks/verify'];
const DELIVERY = '{"added":[],"removed":[],"updated":[]}';
const hmacHex = (body: string, secret: string) => createHmac('sha256', secret).update(body).digest('hex');
const WRITES: readonly RouteKey[] = ['PATCH /client', 'PUT /client/secrets'];

const VALID_REQUEST: Record<RouteKey, EventOptions> = {
  'GET /client': { method: 'GET', path: '/client' },
  'PATCH /client': { method: 'PATCH', path: '/client', body: { name: 'Renamed' } },
  'PUT /client/secrets': {
    method: 'PUT',
    path: '/client/secrets',
    body: { client_secret: [SECRET_A, SECRET_B] },
  },
  'POST /webhooks/verify': {
    method: 'POST',
    path: '/webhooks/verify',
    rawBody: DELIVERY,
    headers: { 'x-affix-api-signature': hmacHex(DELIVERY, SECRET_A) },
  },
  'GET /client/changes': { method: 'GET', path: '/client/changes' },
};

/** The next GETs get `fault`, `times` times. */
const onGet =
  (fault: SandboxFault, times = 1) =>
  (s: Setup) =>
    s.affix.injectFault(fault, { method: 'GET', times });

const SCENARIOS: Scenario[] = [
  { name: 'success', routes: ALL },
  { name: 'no IAM caller', routes: ALL, request: { identity: null } },
  {
    name: 'an unexpected error',
    routes: AFFIX,
    setup: (s) => {
      s.affixThrows = true;
    },
  },
  {
    name: 'the journal failing',
    routes: CHANGES,
    setup: (s) => {
      s.journalThrows = true;
    },
  },
  {
    name: 'a limit over 100',
    routes: CHANGES,
    request: { path: '/client/changes?limit=101' },
  },
  {
    name: 'a cursor this API did not issue',
    routes: CHANGES,
    request: { path: `/client/changes?cursor=${Buffer.from('{"v":1,"sk":"state"}').toString('base64url')}` },
  },
  {
    name: 'Affix 400',
    routes: AFFIX,
    setup: onGet({ kind: 'status', status: 400, body: { message: 'no' } }),
  },
  { name: 'Affix 409', routes: AFFIX, setup: onGet({ kind: 'status', status: 409, body: {} }) },
  {
    name: 'Affix 429 with a long Retry-After',
    routes: AFFIX,
    setup: onGet({ kind: 'status', status: 429, body: {}, retryAfter: '3600' }),
  },
  {
    name: 'Affix 401 twice',
    routes: AFFIX,
    setup: onGet({ kind: 'status', status: 401, body: {} }, 2),
  },
  {
    name: 'Affix 500 on every attempt',
    routes: AFFIX,
    setup: onGet({ kind: 'status', status: 500, body: {} }, 3),
  },
  {
    name: 'Affix 200 that is not JSON',
    routes: AFFIX,
    setup: onGet({ kind: 'non-json', text: '<html>' }),
  },
  {
    name: 'Affix unreachable',
    routes: AFFIX,
    setup: onGet({ kind: 'network', code: 'ECONNREFUSED' }, 3),
  },
  {
    name: 'SSM failing',
    routes: AFFIX,
    setup: (s) => {
      s.ssmFails = true;
    },
  },
  {
    name: 'Affix hanging past the deadline',
    routes: AFFIX,
    deadlineMs: 150,
    setup: onGet({ kind: 'hang-before-headers' }, 4),
  },
  { name: 'an invalid body', routes: WRITES, request: { body: { name: '' }, rawBody: undefined } },
  { name: 'malformed JSON', routes: WRITES, request: { rawBody: '{"name":' } },
  { name: 'a repeated key', routes: WRITES, request: { rawBody: '{"name":"a","name":"b"}' } },
  { name: 'an If-Match without quotes', routes: WRITES, request: { headers: { 'If-Match': 'abc' } } },
  {
    name: 'a webhook_uri at an IP address',
    routes: ['PATCH /client'],
    request: { body: { webhook_uri: 'https://169.254.169.254/latest/meta-data/' }, rawBody: undefined },
  },
  {
    name: 'JSON nested too deep',
    routes: WRITES,
    request: { rawBody: `${'['.repeat(40)}${']'.repeat(40)}` },
  },
  {
    name: 'a 17 KiB body',
    routes: WRITES,
    request: { rawBody: JSON.stringify({ name: 'x'.repeat(17 * 1024) }) },
  },
  {
    name: 'a text/plain body',
    routes: WRITES,
    request: { omitContentType: true, headers: { 'Content-Type': 'text/plain' } },
  },
  { name: 'a stale If-Match', routes: WRITES, request: { headers: { 'If-Match': '"stale"' } } },
  {
    name: 'another write holding the write lease',
    routes: WRITES,
    setup: (s) => {
      s.lock.mode = 'contended';
    },
  },
  {
    name: 'the write lock store failing',
    routes: WRITES,
    setup: (s) => {
      s.lock.mode = 'broken';
    },
  },
  {
    name: 'a delivery over 5 MiB',
    routes: VERIFY,
    request: { rawBody: 'x'.repeat(5 * 1024 * 1024 + 1) },
  },
  { name: 'a tampered delivery', routes: VERIFY, request: { rawBody: DELIVERY.replace('added', 'addeD') } },
  {
    name: 'a br-encoded delivery',
    routes: VERIFY,
    request: { headers: { 'content-encoding': 'br', 'x-affix-api-signature': hmacHex(DELIVERY, SECRET_A) } },
  },
  {
    name: 'a corrupt gzip delivery',
    routes: VERIFY,
    request: {
      rawBody: Buffer.from('not gzip').toString('base64'),
      isBase64Encoded: true,
      headers: { 'content-encoding': 'gzip', 'x-affix-api-signature': hmacHex(DELIVERY, SECRET_A) },
    },
  },
  {
    name: 'a secret list without the current secret',
    routes: ['PUT /client/secrets'],
    request: { body: { client_secret: [SECRET_B] } },
  },
];

let dynamodb: LocalDynamoDb;
beforeAll(async () => {
  dynamodb = await startLocalDynamoDb();
});
afterAll(async () => {
  await dynamodb?.close();
});

async function run(route: RouteKey, scenario: Scenario) {
  const setup: Setup = {
    affix: createAffixSandbox({ client: initialClient() }),
    lock: createInMemoryWriteLock(),
    ssmFails: false,
    affixThrows: false,
    journalThrows: false,
  };
  scenario.setup?.(setup);
  const ssm = {
    send: async () => {
      if (setup.ssmFails) throw Object.assign(new Error('ssm down'), { name: 'InternalServerError' });
      return {
        Parameters: [
          { Name: '/affix/test/client-id', Value: CLIENT_ID },
          { Name: '/affix/test/client-secret', Value: SECRET_A },
          { Name: '/affix/test/etag-key', Value: ETAG_KEY_BASE64 },
        ],
      };
    },
  } as unknown as SSMClient;
  const credentials = createCredentialsCache({
    maxAgeMs: 60_000,
    load: createSsmCredentialsLoader({
      client: ssm,
      clientIdParameter: '/affix/test/client-id',
      clientSecretParameter: '/affix/test/client-secret',
      etagKeyParameter: '/affix/test/etag-key',
    }),
  });
  const http = createAffixHttpClient({
    baseUrl: 'https://affix.test',
    credentials,
    attemptTimeoutMs: 100,
    maxAttempts: 3,
    fetch: setup.affix.fetch,
    random: () => 0,
  });
  const boom = () => Promise.reject(new Error('boom'));
  const logger = new Logger({ serviceName: 'affix-webhook-config' });
  const journal = createDynamoDbJournal({ client: dynamodb.client(), tableName: dynamodb.tableName, logger });
  const handler = createHandler({
    config: { upstreamDeadlineMs: scenario.deadlineMs ?? 2_000, deadlineSafetyMarginMs: 100 },
    ports: {
      credentials,
      affix: setup.affixThrows ? { getClient: boom, replaceClient: boom } : http,
      writeLock: setup.lock,
    },
    journal: setup.journalThrows ? { list: boom } : journal,
    logger,
    metrics: new Metrics({ namespace: 'AffixWebhookConfig', serviceName: 'affix-webhook-config' }),
  });
  const request = { ...VALID_REQUEST[route], ...scenario.request };
  if (scenario.request?.rawBody !== undefined) delete request.body;
  if (scenario.request?.body !== undefined) delete request.rawBody;
  return handler(apiEvent(request), lambdaContext());
}

function operationOf(route: RouteKey) {
  const [method, path] = route.split(' ') as [string, string];
  return doc.paths[path][method.toLowerCase()];
}

describe('what the handler answers is what openapi.json documents', () => {
  it.each(ALL)('%s', async (route) => {
    const operation = operationOf(route);
    const observed = new Set<string>();
    for (const scenario of SCENARIOS.filter((s) => s.routes.includes(route))) {
      const result = await run(route, scenario);
      const status = String(result.statusCode);
      const response = operation.responses[status];
      expect(response, `${scenario.name}: ${status} is not documented for ${route}`).toBeDefined();
      if (result.statusCode === 200 && route === 'POST /webhooks/verify') {
        expect(JSON.parse(result.body)).toEqual({ valid: true, secret: `****${SECRET_A.slice(-4)}` });
        continue;
      }
      if (result.statusCode === 200 && route === 'GET /client/changes') {
        expect(JSON.parse(result.body)).toEqual({ changes: [] });
        expect(result.headers?.['cache-control']).toBe('no-store');
        continue;
      }
      if (result.statusCode === 200) {
        expect(result.headers?.etag).toMatch(new RegExp(doc.components.headers.ETag.schema.pattern));
        continue;
      }
      expect(result.headers?.['content-type']).toBe('application/problem+json');
      const { type } = JSON.parse(result.body) as { type: string };
      const documented: string[] =
        response.content['application/problem+json'].schema.allOf[1].properties.type.enum;
      expect(documented, `${scenario.name}: ${type} not under ${route} ${status}`).toContain(type);
      observed.add(type.slice(PROBLEM_TYPE_PREFIX.length));
    }
    // Nothing documented that the handler was not driven to answer.
    expect([...observed].sort()).toEqual([...ROUTE_PROBLEMS[route]].sort());
  });

  it.each(WRITES)('%s accepts every documented media type and example', async (route) => {
    const content: Record<string, { examples: Record<string, { value: unknown }> }> =
      operationOf(route).requestBody.content;
    for (const [media, { examples }] of Object.entries(content)) {
      for (const { value } of Object.values(examples)) {
        const body = route === 'PUT /client/secrets' ? { client_secret: [SECRET_A, SECRET_B] } : value;
        const result = await run(route, {
          name: media,
          routes: [route],
          request: { body, omitContentType: true, headers: { 'Content-Type': `${media}; charset=utf-8` } },
        });
        expect(result.statusCode, `${media} ${JSON.stringify(body)}: ${result.body}`).toBe(200);
      }
    }
  });
});
