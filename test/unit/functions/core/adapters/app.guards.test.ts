/**
 * The input guards through the real middy chain, with the local stage's destination policy (what
 * `npm start` runs): destinations outside the policy, bodies that are not UTF-8 or repeat a key, an
 * If-Match that is not one, and names with characters that change how they display. Every refusal is
 * an RFC 9457 problem answered before Affix sees a POST (and, for the request guard's, any request).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { LOCAL_DESTINATION_POLICY } from '../../../../../functions/contract/destination-policy.ts';
import { createAffixHttpClient } from '../../../../../functions/core/adapters/affix-http.ts';
import { createHandler } from '../../../../../functions/core/adapters/app.ts';
import { createCredentialsCache } from '../../../../../functions/core/app/credentials.ts';
import { createAffixSandbox } from '../../../../../local/affix-sandbox.ts';
import { CLIENT_ID, ETAG_KEY, initialClient, SECRET_A } from '../../../../support/affix-fixtures.ts';
import { captureOutput } from '../../../../support/capture.ts';
import { apiEvent, type EventOptions, lambdaContext } from '../../../../support/events.ts';
import { createInMemoryWriteLock } from '../../../../support/in-memory-write-lock.ts';

captureOutput();

type Answer = APIGatewayProxyResult & { json: Record<string, unknown> };

/** The chain over the in-process Affix sandbox, recording every Affix request's method. */
function harness() {
  const affix = createAffixSandbox({ client: initialClient() });
  const affixRequests: string[] = [];
  const credentials = createCredentialsCache({
    maxAgeMs: 300_000,
    load: async () => ({ clientId: CLIENT_ID, clientSecret: SECRET_A, etagKey: ETAG_KEY }),
  });
  const handler = createHandler({
    config: { upstreamDeadlineMs: 3_000, deadlineSafetyMarginMs: 100 },
    ports: {
      credentials,
      writeLock: createInMemoryWriteLock(),
      affix: createAffixHttpClient({
        baseUrl: 'https://affix.test',
        credentials,
        attemptTimeoutMs: 1_000,
        maxAttempts: 1,
        fetch: (input, init) => {
          affixRequests.push(init?.method ?? 'GET');
          return affix.fetch(input, init);
        },
        random: () => 0,
      }),
    },
    logger: new Logger({ serviceName: 'affix-webhook-config' }),
    metrics: new Metrics({ namespace: 'AffixWebhookConfig', serviceName: 'affix-webhook-config' }),
    destinations: LOCAL_DESTINATION_POLICY,
  });
  const send = async (event: APIGatewayProxyEvent): Promise<Answer> => {
    const result = await handler(event, lambdaContext());
    return { ...result, json: JSON.parse(result.body) as Record<string, unknown> };
  };
  return {
    affix,
    affixRequests,
    posts: () => affixRequests.filter((method) => method === 'POST').length,
    send,
    invoke: (options: EventOptions) => send(apiEvent(options)),
  };
}

const patch = (body: unknown, headers: Record<string, string> = {}): EventOptions => ({
  method: 'PATCH',
  path: '/client',
  body,
  headers,
});

function expectProblem(answer: Answer, status: number, slug: string): void {
  expect(answer.statusCode, answer.body).toBe(status);
  expect(answer.headers?.['content-type']).toBe('application/problem+json');
  expect(answer.json.type).toBe(`urn:affix-webhook-config:problem:${slug}`);
  expect(answer.json.status).toBe(status);
}

describe('destinations outside the stage policy', () => {
  it.each([
    ['https://hooks.attacker.net/x', 'host-not-allowed'],
    ['https://169.254.169.254/latest/meta-data/', 'ip-literal'],
    ['https://example.com.attacker.net/h', 'host-not-allowed'],
    ['https://10.0.0.7/h', 'ip-literal'],
    ['https://[::ffff:7f00:1]/', 'ip-literal'],
    ['https://exa_mple.com/h', 'invalid-host'],
    ['https://hooks.example.com:0/h', 'port'],
  ])('refuses webhook_uri %s (%s) with a 422 and sends Affix nothing', async (uri, rule) => {
    const h = harness();
    const answer = await h.invoke(patch({ webhook_uri: uri }));
    expectProblem(answer, 422, 'destination-not-allowed');
    expect(answer.json.errors).toEqual([
      { pointer: '/webhook_uri', detail: expect.stringMatching(new RegExp(`^${rule}: webhook_uri `)) },
    ]);
    expect(answer.json.detail).toContain(`rule ${rule}`);
    expect(h.affixRequests).toEqual([]);
    expect(h.affix.client.webhook_uri).toBe(initialClient().webhook_uri);
  });

  it('refuses redirect_uris ["https://app.attacker.net/cb"] and sends Affix nothing', async () => {
    const h = harness();
    const answer = await h.invoke(patch({ redirect_uris: ['https://app.attacker.net/cb'] }));
    expectProblem(answer, 422, 'destination-not-allowed');
    expect(answer.json.errors).toEqual([
      {
        pointer: '/redirect_uris/0',
        detail: expect.stringMatching(/^host-not-allowed: redirect_uris\[0\] /),
      },
    ]);
    expect(h.affixRequests).toEqual([]);
  });

  it('refuses the whole change when one of several fields is outside, naming that one', async () => {
    const h = harness();
    const answer = await h.invoke(
      patch({
        name: 'Renamed',
        webhook_uri: 'https://hooks.example.com/ok',
        redirect_uris: ['http://localhost:3000/cb', 'https://10.0.0.7/cb'],
      }),
    );
    expectProblem(answer, 422, 'destination-not-allowed');
    expect((answer.json.errors as { pointer: string }[]).map((error) => error.pointer)).toEqual([
      '/redirect_uris/1',
    ]);
    expect(h.posts()).toBe(0);
    expect(h.affix.client.name).toBe(initialClient().name);
  });

  it('applies https://hooks.example.com/allowed (200), and loopback redirects in the local stage', async () => {
    const h = harness();
    const answer = await h.invoke(
      patch({
        webhook_uri: 'https://hooks.example.com/allowed',
        redirect_uris: ['http://localhost:3000/cb'],
      }),
    );
    expect(answer.statusCode, answer.body).toBe(200);
    expect(answer.json.webhook_uri).toBe('https://hooks.example.com/allowed');
    expect(h.posts()).toBe(1);
    expect(h.affix.client.webhook_uri).toBe('https://hooks.example.com/allowed');
  });

  it('lets webhooks be turned off and other fields change whatever the current destinations are', async () => {
    const h = harness();
    h.affix.setClient({ ...h.affix.client, webhook_uri: 'https://set-elsewhere.attacker.net/h' });
    expect((await h.invoke(patch({ name: 'Renamed' }))).statusCode).toBe(200);
    expect((await h.invoke(patch({ webhook_uri: null }))).statusCode).toBe(200);
    expect(h.affix.client.webhook_uri ?? null).toBeNull();
  });
});

describe('bodies that are not I-JSON', () => {
  const bytesBody = (bytes: number[]): EventOptions => ({
    method: 'PATCH',
    path: '/client',
    rawBody: Buffer.from(bytes).toString('base64'),
    isBase64Encoded: true,
    headers: { 'content-type': 'application/json' },
  });
  const json = (text: string) => [...Buffer.from(text, 'utf8')];

  it.each([
    ['the byte 0xff', [...json('{"name":"a'), 0xff, ...json('"}')]],
    ['an overlong C0 AF', [...json('{"name":"a'), 0xc0, 0xaf, ...json('"}')]],
    ['a UTF-8 surrogate', [...json('{"name":"a'), 0xed, 0xa0, 0x80, ...json('"}')]],
  ])('refuses %s with a 400 and asks Affix nothing', async (_name, bytes) => {
    const h = harness();
    const answer = await h.invoke(bytesBody(bytes));
    expectProblem(answer, 400, 'malformed-json');
    expect(answer.json.detail).toMatch(/not valid UTF-8/);
    expect(h.affixRequests).toEqual([]);
  });

  it('refuses a text body holding an unpaired surrogate', async () => {
    const h = harness();
    const answer = await h.invoke({ ...patch(undefined), rawBody: '{"name":"a\uD800"}' });
    expectProblem(answer, 400, 'malformed-json');
    expect(h.affixRequests).toEqual([]);
  });

  it('still accepts UTF-8 sent base64-encoded', async () => {
    const h = harness();
    const answer = await h.invoke(bytesBody(json('{"name":"ünïcødé ✓"}')));
    expect(answer.statusCode, answer.body).toBe(200);
    expect(h.affix.client.name).toBe('ünïcødé ✓');
  });

  it.each([
    [
      '{"webhook_uri":"http://evil","webhook_uri":"https://ok.example.com/"}',
      '"webhook_uri"',
      '"/webhook_uri"',
    ],
    ['{"name":"A","redirect_uris":["https://app.example.com/cb"],"name":"B"}', '"name"', '"/name"'],
    ['{"name":"A","\\u006eame":"B"}', '"name"', '"/name"'],
    ['{"name":"A","extra":{"k":1,"k":2}}', '"k"', '"/extra/k"'],
  ])('refuses %s with a 400 naming the key', async (body, key, pointer) => {
    const h = harness();
    const answer = await h.invoke({ ...patch(undefined), rawBody: body });
    expectProblem(answer, 400, 'malformed-json');
    expect(answer.json.detail).toBe(
      `The request body repeats the key ${key} (at ${pointer}); each key may appear once in an object.`,
    );
    expect(h.affixRequests).toEqual([]);
  });
});

describe('If-Match', () => {
  it.each(['abc', 'H4zGLj5ObcTrhKEUTuGG4a', 'junk"H4zGLj5ObcTrhKEUTuGG4a"junk', '*, "a"', ''])(
    'answers %j with a 400 invalid-if-match showing the expected form',
    async (value) => {
      const h = harness();
      const answer = await h.invoke(patch({ name: 'Renamed' }, { 'If-Match': value }));
      expectProblem(answer, 400, 'invalid-if-match');
      expect(answer.json.detail).toContain('If-Match: * or a comma-separated list of quoted entity tags');
      expect(h.affixRequests).toEqual([]);
    },
  );

  it('answers a current tag without its quotes with 400, not 412', async () => {
    const h = harness();
    const etag = (await h.invoke({ method: 'GET', path: '/client' })).headers?.etag as string;
    const answer = await h.invoke(patch({ name: 'Renamed' }, { 'If-Match': etag.slice(1, -1) }));
    expectProblem(answer, 400, 'invalid-if-match');
    expect((await h.invoke(patch({ name: 'Renamed' }, { 'If-Match': etag }))).statusCode).toBe(200);
  });

  it('answers two If-Match fields with 400, whatever the last says', async () => {
    const h = harness();
    const event = apiEvent(patch({ name: 'Renamed' }));
    event.headers['If-Match'] = '*';
    event.multiValueHeaders['If-Match'] = ['"wrong"', '*'];
    const answer = await h.send(event);
    expectProblem(answer, 400, 'invalid-if-match');
    expect(answer.json.detail).toMatch(/^Send one If-Match header/);
    expect(h.affixRequests).toEqual([]);
  });

  it('reads a weak tag as If-Match and never matches it (412)', async () => {
    const h = harness();
    const etag = (await h.invoke({ method: 'GET', path: '/client' })).headers?.etag as string;
    const answer = await h.invoke(patch({ name: 'Renamed' }, { 'If-Match': `W/${etag}` }));
    expectProblem(answer, 412, 'precondition-failed');
    expect(h.posts()).toBe(0);
  });

  it('checks PUT /client/secrets too', async () => {
    const h = harness();
    const answer = await h.invoke({
      method: 'PUT',
      path: '/client/secrets',
      body: { client_secret: [SECRET_A] },
      headers: { 'If-Match': 'abc' },
    });
    expectProblem(answer, 400, 'invalid-if-match');
  });
});

describe('names that would display as something else', () => {
  it.each([
    ['Invoice\u202Egnp.exe', 'U+202E'],
    ['App\u2066x\u2069', 'U+2066'],
    ['Line\u2028break', 'U+2028'],
    ['Tagged\u{E0041}', 'U+E0041'],
    ['Non\uFDD0char', 'U+FDD0'],
    ['Non\u{1FFFF}char', 'U+1FFFF'],
  ])('refuses %j with validation-failed naming %s', async (name, label) => {
    const h = harness();
    const answer = await h.invoke(patch({ name }));
    expectProblem(answer, 400, 'validation-failed');
    expect(answer.json.errors).toEqual([
      { pointer: '/name', detail: expect.stringContaining(`name must not contain ${label}`) },
    ]);
    expect(h.affixRequests).toEqual([]);
  });
});
