/** The pure rules about an incoming event: route, caller, body size, media type, body presence, If-Match. */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { WEBHOOK_MAX_BODY_BYTES } from '../../../../../functions/contract/limits.ts';
import { ROUTE_KEYS } from '../../../../../functions/contract/routes.ts';
import {
  ACCEPTED_MEDIA_TYPES,
  checkBodySize,
  checkContentType,
  checkIfMatchHeader,
  MAX_REQUEST_BODY_BYTES,
  mediaType,
  requireBody,
  requireCaller,
  resolveRoute,
  resourcePath,
  routeHasBody,
  routeMaxBodyBytes,
  routeTakesRawBody,
} from '../../../../../functions/core/adapters/middlewares.ts';
import type { ProblemError } from '../../../../../functions/core/domain/problems.ts';

function refusal(run: () => unknown): ProblemError {
  try {
    run();
  } catch (error) {
    return error as ProblemError;
  }
  throw new Error('accepted');
}

const route = (httpMethod: string, resource: string, path = resource) => ({ httpMethod, resource, path });

describe('resolveRoute and resourcePath', () => {
  it('finds each route of the contract by method and resource', () => {
    for (const key of ROUTE_KEYS) {
      const [method, path] = key.split(' ') as [string, string];
      expect(resolveRoute(route(method, path))).toBe(key);
      expect(resolveRoute(route(method.toLowerCase(), path))).toBe(key);
    }
  });

  it('falls back to the path (local runs), without a trailing slash', () => {
    expect(resourcePath({ resource: '/{proxy+}', path: '/client/' })).toBe('/client');
    expect(resourcePath({ resource: '/client', path: '/whatever' })).toBe('/client');
    expect(resourcePath({ resource: '', path: '/' })).toBe('/');
    expect(resolveRoute(route('GET', '', '/client//'))).toBe('GET /client');
  });

  it('answers not-found for a path the API does not have, also for object-prototype names', () => {
    for (const path of ['/clients', '/', '__proto__', 'toString', '/client/secrets/x']) {
      const problem = refusal(() => resolveRoute(route('GET', path)));
      expect(problem.slug, path).toBe('not-found');
    }
  });

  it('answers method-not-allowed with Allow for a known path and another method', () => {
    const problem = refusal(() => resolveRoute(route('DELETE', '/client')));
    expect(problem.slug).toBe('method-not-allowed');
    expect(problem.headers.allow).toBe('GET, PATCH');
  });
});

describe('requireCaller', () => {
  const identity = (userArn: string | null, caller: string | null) =>
    ({ requestContext: { identity: { userArn, caller } } }) as unknown as Pick<
      APIGatewayProxyEvent,
      'requestContext'
    >;

  it('is the authenticated user ARN, else the caller', () => {
    expect(requireCaller(identity('arn:aws:iam::1:role/a', 'AROA:s'))).toBe('arn:aws:iam::1:role/a');
    expect(requireCaller(identity(null, 'AROA:s'))).toBe('AROA:s');
  });

  it('refuses an event without an IAM identity with forbidden', () => {
    expect(refusal(() => requireCaller(identity(null, null))).slug).toBe('forbidden');
    expect(refusal(() => requireCaller(identity('', '  '))).slug).toBe('forbidden');
    const none = { requestContext: undefined } as unknown as Pick<APIGatewayProxyEvent, 'requestContext'>;
    expect(refusal(() => requireCaller(none)).slug).toBe('forbidden');
  });
});

describe('body rules', () => {
  it('knows which routes take a body, which take raw bytes, and their limits', () => {
    expect(routeHasBody('GET /client')).toBe(false);
    expect(routeHasBody('PATCH /client')).toBe(true);
    expect(routeTakesRawBody('POST /webhooks/verify')).toBe(true);
    expect(routeTakesRawBody('PUT /client/secrets')).toBe(false);
    expect(routeMaxBodyBytes('PATCH /client')).toBe(MAX_REQUEST_BODY_BYTES);
    expect(routeMaxBodyBytes('POST /webhooks/verify')).toBe(WEBHOOK_MAX_BODY_BYTES);
  });

  it('counts the body in decoded bytes: UTF-8 for text, what a base64 body encodes', () => {
    const limit = MAX_REQUEST_BODY_BYTES;
    expect(() =>
      checkBodySize({ body: 'a'.repeat(limit), isBase64Encoded: false }, 'PATCH /client'),
    ).not.toThrow();
    // Two bytes per é: over the limit in bytes though not in characters.
    const wide = refusal(() => checkBodySize({ body: 'é'.repeat(limit / 2 + 1), isBase64Encoded: false }));
    expect(wide.slug).toBe('payload-too-large');
    const encoded = Buffer.alloc(limit).toString('base64'); // longer as text than the limit
    expect(() => checkBodySize({ body: encoded, isBase64Encoded: true }, 'PATCH /client')).not.toThrow();
    const over = Buffer.alloc(limit + 1).toString('base64');
    expect(refusal(() => checkBodySize({ body: over, isBase64Encoded: true }, 'PATCH /client')).slug).toBe(
      'payload-too-large',
    );
    expect(() => checkBodySize({ body: null, isBase64Encoded: false })).not.toThrow();
  });

  it('lets the webhook route take more than the JSON routes', () => {
    const body = 'a'.repeat(MAX_REQUEST_BODY_BYTES + 1);
    expect(() => checkBodySize({ body, isBase64Encoded: false }, 'POST /webhooks/verify')).not.toThrow();
    expect(refusal(() => checkBodySize({ body, isBase64Encoded: false }, 'PUT /client/secrets')).slug).toBe(
      'payload-too-large',
    );
  });

  it('requires a non-blank body', () => {
    expect(refusal(() => requireBody({ body: null })).slug).toBe('malformed-json');
    expect(refusal(() => requireBody({ body: ' \n' })).slug).toBe('malformed-json');
    expect(() => requireBody({ body: '{}' })).not.toThrow();
  });
});

describe('media types', () => {
  it('reads the media type without parameters, lower-cased', () => {
    expect(mediaType('Application/JSON; charset=utf-8')).toBe('application/json');
    expect(mediaType(' ; x=1')).toBeUndefined();
    expect(mediaType(undefined)).toBeUndefined();
  });

  it('accepts the route’s media types and refuses others with unsupported-media-type', () => {
    expect(ACCEPTED_MEDIA_TYPES['PATCH /client']).toContain('application/merge-patch+json');
    expect(() => checkContentType('PATCH /client', 'application/merge-patch+json')).not.toThrow();
    expect(() => checkContentType('PUT /client/secrets', 'application/json; charset=utf-8')).not.toThrow();
    expect(refusal(() => checkContentType('PUT /client/secrets', 'text/plain')).slug).toBe(
      'unsupported-media-type',
    );
    expect(refusal(() => checkContentType('PUT /client/secrets', undefined)).message).toContain(
      'no Content-Type was sent',
    );
  });

  it('tells a PATCH caller what it may send (Accept-Patch), and no one else', () => {
    expect(refusal(() => checkContentType('PATCH /client', 'text/plain')).headers).toEqual({
      'accept-patch': 'application/json, application/merge-patch+json',
    });
    expect(refusal(() => checkContentType('PUT /client/secrets', 'text/plain')).headers).toEqual({});
  });

  it('accepts any media type on the webhook route, and asks nothing of routes without a body', () => {
    expect(() => checkContentType('POST /webhooks/verify', 'application/octet-stream')).not.toThrow();
    expect(() => checkContentType('GET /client', undefined)).not.toThrow();
  });
});

describe('checkIfMatchHeader', () => {
  const headers = (single?: string, multi?: string[]) => ({
    headers: single === undefined ? {} : { 'if-match': single },
    multiValueHeaders: multi === undefined ? {} : { 'if-match': multi },
  });

  it('accepts * or quoted entity tags on a write, and nothing at all', () => {
    expect(() => checkIfMatchHeader('PATCH /client', headers('*'))).not.toThrow();
    expect(() => checkIfMatchHeader('PATCH /client', headers('"a", W/"b"'))).not.toThrow();
    expect(() => checkIfMatchHeader('PUT /client/secrets', headers())).not.toThrow();
  });

  it('refuses a malformed or repeated If-Match with invalid-if-match, counting every field', () => {
    expect(refusal(() => checkIfMatchHeader('PATCH /client', headers('abc'))).slug).toBe('invalid-if-match');
    // API Gateway's `headers` keeps only the last field; both are in multiValueHeaders.
    expect(refusal(() => checkIfMatchHeader('PATCH /client', headers('"b"', ['"a"', '"b"']))).slug).toBe(
      'invalid-if-match',
    );
  });

  it('does not look at If-Match on a route that writes nothing', () => {
    expect(() => checkIfMatchHeader('GET /client', headers('abc'))).not.toThrow();
  });
});
