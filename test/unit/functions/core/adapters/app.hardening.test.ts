/**
 * Hardening, through the real middy chain: the event is never logged
 * (whatever POWERTOOLS_LOGGER_LOG_EVENT says), every refused write leaves an audit line without values,
 * error answers are bounded, `name` counts code points and refuses invisible names, and deeply nested
 * JSON is `json-too-deep`.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_FIELD_ERRORS } from '../../../../../functions/contract/limits.ts';
import { MAX_REQUEST_BODY_BYTES } from '../../../../../functions/core/adapters/middlewares.ts';
import { createCredentialsCache } from '../../../../../functions/core/app/credentials.ts';
import { exceedsJsonDepth } from '../../../../../functions/core/domain/schemas.ts';
import { createAffixSandbox } from '../../../../../local/affix-sandbox.ts';
import { CLIENT_ID, ETAG_KEY, initialClient, SECRET_A } from '../../../../support/affix-fixtures.ts';
import { captureOutput } from '../../../../support/capture.ts';
import { chainOverFetch } from '../../../../support/chain-over-fetch.ts';
import { apiEvent, CALLER_ARN, type EventOptions, lambdaContext } from '../../../../support/events.ts';
import { findLeaks } from '../../../../support/leaks.ts';

const output = captureOutput();

function harness() {
  const affix = createAffixSandbox({ client: initialClient() });
  const credentials = createCredentialsCache({
    maxAgeMs: 300_000,
    load: async () => ({ clientId: CLIENT_ID, clientSecret: SECRET_A, etagKey: ETAG_KEY }),
  });
  // Built per test, after the environment is set: Powertools reads POWERTOOLS_LOGGER_LOG_EVENT here.
  const handler = chainOverFetch({ credentials, fetch: affix.fetch });
  return {
    affix,
    async invoke(options: EventOptions) {
      const from = output.lines.length;
      const result = await handler(apiEvent(options), lambdaContext());
      const lines = output.json(from);
      return {
        ...result,
        json: JSON.parse(result.body) as Record<string, unknown>,
        lines,
        rawLines: output.lines.slice(from),
        audits: lines
          .filter((line) => line.message === 'audit')
          .map((line) => line.audit as Record<string, unknown>),
      };
    },
  };
}

const NEW_SECRET = 'brand-new-secret-value-9999';
const SIGNATURE =
  'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/eu-west-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7';
const SESSION_TOKEN = 'IQoJb3JpZ2luX2VjEXAMPLEtokenFQoGZXIvYXdzEJr';

describe('event logging is off whatever the environment says', () => {
  let previous: string | undefined;
  beforeEach(() => {
    previous = process.env.POWERTOOLS_LOGGER_LOG_EVENT;
    process.env.POWERTOOLS_LOGGER_LOG_EVENT = 'true';
  });
  afterEach(() => {
    if (previous === undefined) delete process.env.POWERTOOLS_LOGGER_LOG_EVENT;
    else process.env.POWERTOOLS_LOGGER_LOG_EVENT = previous;
  });

  it('POWERTOOLS_LOGGER_LOG_EVENT=true: no event, Authorization, session token or new secret in any line', async () => {
    const h = harness();
    const headers = { Authorization: SIGNATURE, 'X-Amz-Security-Token': SESSION_TOKEN };
    const results = [
      await h.invoke({
        method: 'PUT',
        path: '/client/secrets',
        body: { client_secret: [SECRET_A, NEW_SECRET] },
        headers,
      }),
      await h.invoke({ method: 'PATCH', path: '/client', body: { name: NEW_SECRET }, headers }),
      await h.invoke({
        method: 'PUT',
        path: '/client/secrets',
        rawBody: `{"client_secret":["${NEW_SECRET}"`,
        headers,
      }),
    ];
    expect(results.map((result) => result.statusCode)).toEqual([200, 200, 400]);
    const lines = results.flatMap((result) => result.rawLines);
    expect(lines.length).toBeGreaterThan(3);
    expect(lines.filter((line) => line.includes('Lambda invocation event'))).toEqual([]);
    for (const canary of [SIGNATURE, 'Signature=', SESSION_TOKEN, '"httpMethod"', '"requestContext"']) {
      expect(
        lines.filter((line) => line.includes(canary)),
        canary,
      ).toEqual([]);
    }
    expect(findLeaks(lines, [SECRET_A, NEW_SECRET], CLIENT_ID)).toEqual([]);
  });
});

describe('every refused write leaves one audit line, never with values', () => {
  const CANARY = 'canary-value-never-logged';
  const cases: [string, EventOptions, number, Record<string, unknown>][] = [
    [
      '403 without a caller',
      { method: 'PATCH', path: '/client', body: { name: CANARY }, identity: null },
      403,
      { caller: null, route: 'PATCH /client', outcome: 'forbidden', status: 403, requestedFields: [] },
    ],
    [
      '403 on the secrets route',
      { method: 'PUT', path: '/client/secrets', body: { client_secret: [CANARY] }, identity: null },
      403,
      { caller: null, route: 'PUT /client/secrets', outcome: 'forbidden' },
    ],
    [
      '405 a write method on a resource of ours',
      { method: 'DELETE', path: '/client' },
      405,
      {
        caller: CALLER_ARN,
        route: null,
        method: 'DELETE',
        resource: '/client',
        outcome: 'method-not-allowed',
      },
    ],
    [
      '404 a write to no route',
      { method: 'POST', path: '/nope', body: { name: CANARY } },
      404,
      { route: null, method: 'POST', resource: null, outcome: 'not-found' },
    ],
    [
      '413',
      { method: 'PATCH', path: '/client', rawBody: JSON.stringify({ name: CANARY.repeat(1_000) }) },
      413,
      { route: 'PATCH /client', outcome: 'payload-too-large' },
    ],
    [
      '415',
      { method: 'PATCH', path: '/client', rawBody: CANARY, headers: { 'Content-Type': 'text/plain' } },
      415,
      { route: 'PATCH /client', outcome: 'unsupported-media-type' },
    ],
    [
      '400 validation',
      { method: 'PATCH', path: '/client', body: { name: '', webhook_uri: CANARY } },
      400,
      { route: 'PATCH /client', outcome: 'validation-failed', requestedFields: ['name', 'webhook_uri'] },
    ],
    [
      '400 too deep',
      { method: 'PUT', path: '/client/secrets', rawBody: `${'['.repeat(40)}"${CANARY}"${']'.repeat(40)}` },
      400,
      { route: 'PUT /client/secrets', outcome: 'json-too-deep' },
    ],
  ];
  for (const [label, request, status, audit] of cases) {
    it(label, async () => {
      const h = harness();
      const result = await h.invoke(request);
      expect(result.statusCode, result.body).toBe(status);
      expect(result.audits).toHaveLength(1);
      expect(result.audits[0]).toMatchObject({ status, ...audit });
      expect(result.rawLines.filter((line) => line.includes(CANARY))).toEqual([]);
      expect(h.affix.requests).toHaveLength(0);
    });
  }

  it('no audit line for a refused read', async () => {
    const h = harness();
    const result = await h.invoke({ method: 'GET', path: '/client', identity: null });
    expect(result.statusCode).toBe(403);
    expect(result.audits).toEqual([]);
  });
});

describe('error answers are bounded', () => {
  it('a 16 KiB body of bad redirect URIs: the first 20 errors and the total, a small answer', async () => {
    const h = harness();
    const count = Math.floor((MAX_REQUEST_BODY_BYTES - 40) / 2);
    const rawBody = `{"redirect_uris":[${Array.from({ length: count }, () => '1').join(',')}]}`;
    expect(Buffer.byteLength(rawBody)).toBeLessThanOrEqual(MAX_REQUEST_BODY_BYTES);
    const result = await h.invoke({ method: 'PATCH', path: '/client', rawBody });
    expect(result.statusCode).toBe(400);
    expect(result.json.errors).toHaveLength(MAX_FIELD_ERRORS);
    expect(result.json.detail).toBe(
      `The request body has ${count} invalid field(s); the first 20 are listed.`,
    );
    expect(result.body.length).toBeLessThan(4_000);
  });

  it('a 16 KiB unknown key: pointer and detail cut to 200 code points', async () => {
    const h = harness();
    const key = '😀'.repeat(3_000);
    const result = await h.invoke({ method: 'PATCH', path: '/client', body: { [key]: 1 } });
    expect(result.statusCode).toBe(400);
    const [error] = result.json.errors as { pointer: string; detail: string }[];
    expect([...(error?.pointer ?? '')].length).toBe(201);
    expect([...(error?.detail ?? '')].length).toBe(201);
    expect(result.body.length).toBeLessThan(2_000);
  });

  it('any 16 KiB body yields an answer of at most 12 KB', async () => {
    const h = harness();
    const bodies = [
      JSON.stringify(Object.fromEntries(Array.from({ length: 1_100 }, (_, i) => [`k${i}`, i]))),
      JSON.stringify({ client_secret: Array.from({ length: 1_200 }, () => 'x') }),
      JSON.stringify({ redirect_uris: Array.from({ length: 700 }, (_, i) => `ftp://${'a'.repeat(10)}${i}`) }),
    ];
    for (const rawBody of bodies) {
      expect(Buffer.byteLength(rawBody)).toBeLessThanOrEqual(MAX_REQUEST_BODY_BYTES);
      const result = await h.invoke({ method: 'PATCH', path: '/client', rawBody });
      expect(result.statusCode).toBe(400);
      expect(result.body.length).toBeLessThan(12_000);
    }
  });
});

describe('name: code points, and something visible', () => {
  const rename = async (h: ReturnType<typeof harness>, name: string) =>
    h.invoke({ method: 'PATCH', path: '/client', body: { name } });
  const family = '👨‍👩‍👧‍👦'; // 7 code points, 11 UTF-16 units
  const BIDI = (codePoint: string) =>
    `name must not contain ${codePoint}: it is a bidirectional control, which changes the order in which the name is displayed`;

  it.each([
    ['200 emoji (400 UTF-16 units)', '😀'.repeat(200)],
    ['28 ZWJ family sequences (196 code points, 308 UTF-16 units)', family.repeat(28)],
    // Right-to-left scripts need no bidi controls: the bidirectional algorithm orders them.
    ['an Arabic name', 'تطبيق الرواتب'],
    ['a Hebrew name', 'אפליקציה'],
    ['combining marks on letters', 'Cafe\u0301 Zu\u0308rich'],
  ])('accepts %s', async (_label, name) => {
    const h = harness();
    const result = await rename(h, name);
    expect(result.statusCode, result.body).toBe(200);
    expect(h.affix.client.name).toBe(name.trim());
  });

  it.each([
    ['201 emoji', '😀'.repeat(201), 'name must be at most 200 characters (Unicode code points)'],
    [
      '29 family sequences (203 code points)',
      family.repeat(29),
      'name must be at most 200 characters (Unicode code points)',
    ],
    ['zero-width characters only', '\u200b\u200c\u200d', 'name must contain a visible character'],
    ['a word joiner', '\u2060', 'name must contain a visible character'],
    ['a right-to-left mark only', '\u200f', BIDI('U+200F')],
    ['bidi controls only', '\u202e\u2066\u2069', BIDI('U+202E')],
    ['an Arabic name with a right-to-left mark', '\u200fتطبيق الرواتب', BIDI('U+200F')],
    ['Hebrew with RTL embedding', '\u202bאפליקציה\u202c', BIDI('U+202B')],
    ['combining marks alone', '\u0301\u0308\u20dd', 'name must contain a visible character'],
    ['a soft hyphen', '\u00ad', 'name must contain a visible character'],
    ['Hangul fillers', '\u3164\u115f', 'name must contain a visible character'],
    ['a braille blank', '\u2800', 'name must contain a visible character'],
    ['variation selectors', '\ufe0f\u{e0100}', 'name must contain a visible character'],
    ['spaces of every kind', ' \u00a0\u2003\u3000', 'name must not be empty'],
    [
      'a control character inside',
      'Bad\u0007Name',
      'name must not contain control characters or unpaired surrogates',
    ],
    ['a lone surrogate', 'App \ud800', 'name must not contain control characters or unpaired surrogates'],
  ])('refuses %s', async (_label, name, detail) => {
    const h = harness();
    const result = await rename(h, name);
    expect(result.statusCode).toBe(400);
    expect(result.json.errors).toEqual([{ pointer: '/name', detail }]);
    expect(h.affix.requests).toHaveLength(0);
  });
});

describe('deeply nested JSON', () => {
  const nested = (depth: number, inner = '1') =>
    `{"name":${'['.repeat(depth - 1)}${inner}${']'.repeat(depth - 1)}}`;

  it('3,000 levels: 400 json-too-deep, not malformed-json, and nothing reaches Affix', async () => {
    const h = harness();
    for (const rawBody of [
      nested(3_000),
      `${'['.repeat(3_000)}${']'.repeat(3_000)}`,
      `${'{"a":'.repeat(2_700)}1${'}'.repeat(2_700)}`,
    ]) {
      const result = await h.invoke({ method: 'PATCH', path: '/client', rawBody });
      expect(result.statusCode).toBe(400);
      expect(result.json.type).toBe('urn:affix-webhook-config:problem:json-too-deep');
      expect(result.json.detail).toBe('The request body nests arrays or objects deeper than 32 levels.');
    }
    expect(h.affix.requests).toHaveLength(0);
  });

  it('also when the body is Base64-encoded', async () => {
    const h = harness();
    const rawBody = Buffer.from(nested(100)).toString('base64');
    const result = await h.invoke({ method: 'PATCH', path: '/client', rawBody, isBase64Encoded: true });
    expect(result.json.type).toBe('urn:affix-webhook-config:problem:json-too-deep');
  });

  it('32 levels are parsed (and fail the schema), 33 are too deep; brackets in strings do not count', async () => {
    const h = harness();
    expect((await h.invoke({ method: 'PATCH', path: '/client', rawBody: nested(32) })).json.type).toBe(
      'urn:affix-webhook-config:problem:validation-failed',
    );
    expect((await h.invoke({ method: 'PATCH', path: '/client', rawBody: nested(33) })).json.type).toBe(
      'urn:affix-webhook-config:problem:json-too-deep',
    );
    const brackets = await h.invoke({
      method: 'PATCH',
      path: '/client',
      body: { name: `[{\\"${'['.repeat(100)}` },
    });
    expect(brackets.statusCode, brackets.body).toBe(200);
  });

  it('exceedsJsonDepth: strings and escapes skipped, one pass', () => {
    expect(exceedsJsonDepth('[[["\\"]]]]]]"]]]', 3)).toBe(false);
    expect(exceedsJsonDepth('[[[[', 3)).toBe(true);
    expect(exceedsJsonDepth('{"a":{"b":{"c":{}}}}', 3)).toBe(true);
    expect(exceedsJsonDepth('"[[[[[[[["', 3)).toBe(false);
    // One pass over a million characters; a pass that went back over them would need about 10^12
    // steps here and run past the test's timeout (no wall-clock bound: the machine may be busy).
    expect(exceedsJsonDepth('['.repeat(1_000_000), 32)).toBe(true);
    expect(exceedsJsonDepth(`"${'['.repeat(1_000_000)}"`, 32)).toBe(false);
  });
});
