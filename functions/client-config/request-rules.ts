/**
 * Pure rules about an incoming API Gateway (REST, v1) event: which route it is for, who calls, and
 * whether its body may be parsed. Each rule throws the problem the README's table names.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { ProblemError } from './problems.ts';

export const MAX_REQUEST_BODY_BYTES = 16 * 1024;

export type RouteKey = 'GET /client' | 'PATCH /client' | 'PUT /client/secrets';

const ROUTES: Record<string, Record<string, RouteKey>> = {
  '/client': { GET: 'GET /client', PATCH: 'PATCH /client' },
  '/client/secrets': { PUT: 'PUT /client/secrets' },
};

/** Media types each body-carrying route accepts (`application/merge-patch+json` is RFC 7396). */
export const ACCEPTED_MEDIA_TYPES: Partial<Record<RouteKey, readonly string[]>> = {
  'PATCH /client': ['application/json', 'application/merge-patch+json'],
  'PUT /client/secrets': ['application/json'],
};

export function routeHasBody(route: RouteKey): boolean {
  return ACCEPTED_MEDIA_TYPES[route] !== undefined;
}

/** API Gateway's `resource` is the matched template; `path` is the fallback for local runs. */
export function resolveRoute(
  event: Pick<APIGatewayProxyEvent, 'resource' | 'path' | 'httpMethod'>,
): RouteKey {
  // Own keys only: `__proto__` or `toString` must not find a route on Object.prototype.
  const path = Object.hasOwn(ROUTES, event.resource)
    ? event.resource
    : (event.path ?? '').replace(/(.)\/+$/, '$1');
  const methods = Object.hasOwn(ROUTES, path) ? ROUTES[path] : undefined;
  if (methods === undefined) {
    throw new ProblemError(
      'not-found',
      'There is no such route. Routes: GET /client, PATCH /client, PUT /client/secrets.',
    );
  }
  const route = methods[(event.httpMethod ?? '').toUpperCase()];
  if (route === undefined) {
    const allow = Object.keys(methods).join(', ');
    throw new ProblemError('method-not-allowed', `${path} allows ${allow}.`, { headers: { allow } });
  }
  return route;
}

/**
 * The IAM principal API Gateway authenticated. API Gateway sets these only for AWS_IAM methods, so an
 * event without them means the API is misconfigured: refuse (defense in depth).
 */
export function requireCaller(event: Pick<APIGatewayProxyEvent, 'requestContext'>): string {
  const identity = event.requestContext?.identity;
  const caller = identity?.userArn || identity?.caller;
  if (typeof caller !== 'string' || caller.trim() === '') {
    throw new ProblemError('forbidden', 'The request carries no IAM caller identity.');
  }
  return caller;
}

export function checkBodySize(event: Pick<APIGatewayProxyEvent, 'body' | 'isBase64Encoded'>): void {
  if (event.body === null || event.body === undefined) return;
  const bytes = Buffer.byteLength(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
  if (bytes > MAX_REQUEST_BODY_BYTES) {
    throw new ProblemError(
      'payload-too-large',
      `The request body is ${bytes} bytes; at most ${MAX_REQUEST_BODY_BYTES} are accepted.`,
    );
  }
}

/** The media type without parameters, lower-cased: `Application/JSON; charset=utf-8` -> `application/json`. */
export function mediaType(contentType: string | undefined): string | undefined {
  const value = contentType?.split(';')[0]?.trim().toLowerCase();
  return value === '' ? undefined : value;
}

export function checkContentType(route: RouteKey, contentType: string | undefined): void {
  const accepted = ACCEPTED_MEDIA_TYPES[route];
  if (accepted === undefined) return;
  const type = mediaType(contentType);
  if (type === undefined || !accepted.includes(type)) {
    throw new ProblemError(
      'unsupported-media-type',
      `${route} accepts ${accepted.join(' or ')}${type === undefined ? '; no Content-Type was sent' : ''}.`,
      route === 'PATCH /client' ? { headers: { 'accept-patch': accepted.join(', ') } } : {},
    );
  }
}

/** A body must be present (and non-blank) for the JSON parser; an empty one is not JSON. */
export function requireBody(event: Pick<APIGatewayProxyEvent, 'body'>): void {
  if (event.body === null || event.body === undefined || event.body.trim() === '') {
    throw new ProblemError('malformed-json', 'The request body is empty; a JSON object was expected.');
  }
}
