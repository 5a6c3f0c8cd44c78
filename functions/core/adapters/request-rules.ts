/**
 * Pure rules about an incoming API Gateway (REST, v1) event: which route it is for, who calls, and
 * whether its body may be parsed. Each rule throws the problem the README's table names.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { IF_MATCH_REJECTIONS, parseIfMatch } from '../../contract/if-match.ts';
import {
  ANY_MEDIA_TYPE,
  DEFAULT_MAX_BODY_BYTES,
  findRoute,
  maxBodyBytesOf,
  methodsOf,
  RESOURCE_PATHS,
  ROUTE_KEYS,
  ROUTES,
  type RouteKey,
  routeDefinition,
  routeKeyOf,
  takesRawBody,
} from '../../contract/routes.ts';
import { ProblemError } from '../domain/problems.ts';

export type { RouteKey };

/** The JSON routes' body limit; a route may set its own (`maxBodyBytes` in the contract). */
export const MAX_REQUEST_BODY_BYTES = DEFAULT_MAX_BODY_BYTES;

/** Media types each body-carrying route accepts, from the contract. */
export const ACCEPTED_MEDIA_TYPES: Partial<Record<RouteKey, readonly string[]>> = Object.fromEntries(
  ROUTES.flatMap((route) => ('mediaTypes' in route ? [[routeKeyOf(route), route.mediaTypes]] : [])),
);

export function routeHasBody(route: RouteKey): boolean {
  return ACCEPTED_MEDIA_TYPES[route] !== undefined;
}

/** Whether the route's body is opaque bytes (a webhook delivery): never parsed, any content type. */
export function routeTakesRawBody(route: RouteKey): boolean {
  return takesRawBody(routeDefinition(route));
}

/** The route's body limit in decoded bytes. */
export function routeMaxBodyBytes(route: RouteKey): number {
  return maxBodyBytesOf(routeDefinition(route));
}

/** API Gateway's `resource` is the matched template; `path` is the fallback for local runs. */
export function resourcePath(event: Pick<APIGatewayProxyEvent, 'resource' | 'path'>): string {
  return RESOURCE_PATHS.includes(event.resource)
    ? event.resource
    : (event.path ?? '').replace(/(.)\/+$/, '$1');
}

export function resolveRoute(
  event: Pick<APIGatewayProxyEvent, 'resource' | 'path' | 'httpMethod'>,
): RouteKey {
  // Exact matches against the contract's paths only: `__proto__` or `toString` find no route.
  const path = resourcePath(event);
  const methods = methodsOf(path);
  if (methods.length === 0) {
    throw new ProblemError('not-found', `There is no such route. Routes: ${ROUTE_KEYS.join(', ')}.`);
  }
  const route = findRoute(event.httpMethod ?? '', path);
  if (route === undefined) {
    const allow = methods.join(', ');
    throw new ProblemError('method-not-allowed', `${path} allows ${allow}.`, { headers: { allow } });
  }
  return routeKeyOf(route);
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

/** Refuses a body over the route's limit, counted in decoded bytes (a base64 body as what it encodes). */
export function checkBodySize(
  event: Pick<APIGatewayProxyEvent, 'body' | 'isBase64Encoded'>,
  route?: RouteKey,
): void {
  if (event.body === null || event.body === undefined) return;
  const limit = route === undefined ? MAX_REQUEST_BODY_BYTES : routeMaxBodyBytes(route);
  const bytes = Buffer.byteLength(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
  if (bytes > limit) {
    throw new ProblemError(
      'payload-too-large',
      `The request body is ${bytes} bytes; at most ${limit} are accepted.`,
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
  if (accepted === undefined || accepted.includes(ANY_MEDIA_TYPE)) return;
  const type = mediaType(contentType);
  if (type === undefined || !accepted.includes(type)) {
    throw new ProblemError(
      'unsupported-media-type',
      `${route} accepts ${accepted.join(' or ')}${type === undefined ? '; no Content-Type was sent' : ''}.`,
      // Accept-Patch (RFC 5789) tells a PATCH caller which media types it may send.
      routeDefinition(route).method === 'PATCH' ? { headers: { 'accept-patch': accepted.join(', ') } } : {},
    );
  }
}

/** A body must be present (and non-blank) for the JSON parser; an empty one is not JSON. */
export function requireBody(event: Pick<APIGatewayProxyEvent, 'body'>): void {
  if (event.body === null || event.body === undefined || event.body.trim() === '') {
    throw new ProblemError('malformed-json', 'The request body is empty; a JSON object was expected.');
  }
}

/**
 * A write's `If-Match` must be `*` or quoted entity tags, sent once (`if-match.ts`): anything else is
 * `invalid-if-match`, never a 412 that tells the caller the client changed. Every field counts
 * (`multiValueHeaders`): API Gateway's `headers` keeps only the last of several.
 */
export function checkIfMatchHeader(
  route: RouteKey,
  event: Pick<APIGatewayProxyEvent, 'headers' | 'multiValueHeaders'>,
): void {
  if (!routeDefinition(route).writes) return;
  const single = event.headers?.['if-match'];
  const values = event.multiValueHeaders?.['if-match'] ?? (single === undefined ? undefined : [single]);
  const parsed = parseIfMatch(values);
  if (!parsed.ok) throw new ProblemError('invalid-if-match', IF_MATCH_REJECTIONS[parsed.reason]);
}
