/**
 * The HTTP edge of the middy chain: the rules about an incoming API Gateway (REST, v1) event (which
 * route, who calls, whether its body may be parsed; each throws the problem the README's table names),
 * the middlewares that apply them (the request guard: 403/404/405/413/415, If-Match's form, and UTF-8,
 * JSON nesting and repeated keys before anything is parsed; the JSON body parser limited to the JSON
 * routes), and the answers (JSON, and RFC 9457 problem+json for every error). One module: a rule, the
 * middleware that applies it and the answer it gives change together. What is logged and counted per
 * request is `telemetry.ts`'s.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { MiddlewareObj, Request } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
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
import type { BudgetNotes } from '../domain/budget-notes.ts';
import type { ClientField } from '../domain/client-state.ts';
import { ProblemError, type ProblemSlug, problemDocument } from '../domain/problems.ts';
import { checkJsonDepth, checkNoRepeatedKeys, strictBodyText } from '../domain/schemas.ts';
import type { UpstreamExchange } from '../ports.ts';

/** What one invocation learns about itself, for the audit line and the metrics. */
export interface RequestState {
  requestId: string;
  route?: RouteKey;
  /** The method, when it is one of the methods this API serves or a known write method. */
  method?: string;
  /** The resource path, when it is one of ours (also for a wrong method on it). */
  resource?: string;
  caller?: string;
  /** Known field names the caller asked to change (never values). */
  requestedFields: string[];
  changedFields: ClientField[];
  exchanges: UpstreamExchange[];
  /** How long a write waited for the write lease (ms); unset for reads. */
  lockWaitMs?: number;
  /** Where the answer came from (cache, back-off, Affix), for the budget metrics and the audit line. */
  budget: BudgetNotes;
  outcome?: ProblemSlug | 'success';
}

/** The Lambda context plus our per-request state, which `requestGuard` sets first thing. */
export type ProxyContext = Context & { state?: RequestState };

export function stateOf(context: ProxyContext): RequestState {
  if (context.state === undefined) throw new Error('requestGuard did not run before the handler');
  return context.state;
}
export type ProxyRequest = Request<APIGatewayProxyEvent, APIGatewayProxyResult, Error, ProxyContext>;
export type ProxyMiddleware = MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult, Error, ProxyContext>;

// The rules about an incoming event.

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

// The answers.

/** Nothing we answer may be cached by an intermediary: it describes live, sensitive state. */
const COMMON_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
} as const;

export function jsonResponse(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { ...COMMON_HEADERS, 'content-type': 'application/json; charset=utf-8', ...headers },
    body: JSON.stringify(body),
  };
}

export function problemResponse(problem: ProblemError, instance: string): APIGatewayProxyResult {
  const headers: Record<string, string> = {
    ...COMMON_HEADERS,
    ...problem.headers,
    'content-type': 'application/problem+json',
  };
  if (problem.retryAfterSeconds !== undefined) headers['retry-after'] = String(problem.retryAfterSeconds);
  return { statusCode: problem.status, headers, body: JSON.stringify(problemDocument(problem, instance)) };
}

// The middlewares.

/** Methods named in audit lines as they are; anything else is `OTHER` (no caller-chosen text in logs). */
const KNOWN_METHODS: ReadonlySet<string> = new Set([
  'GET',
  'HEAD',
  'OPTIONS',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
]);

/** Runs first among ours: identifies the route and the caller, and refuses what must not be parsed. */
export function requestGuard(): ProxyMiddleware {
  return {
    before: (request) => {
      const { event, context } = request;
      const state: RequestState = {
        requestId: event.requestContext?.requestId || context.awsRequestId || 'unknown',
        requestedFields: [],
        changedFields: [],
        exchanges: [],
        budget: {},
      };
      context.state = state;
      const method = String(event.httpMethod ?? '').toUpperCase();
      state.method = KNOWN_METHODS.has(method) ? method : 'OTHER';
      const path = resourcePath(event);
      if (RESOURCE_PATHS.includes(path)) state.resource = path;
      // The route is known before the caller is checked, so a write refused with 403 is audited too;
      // a caller without identity still gets 403 before learning anything about routes.
      let route: RouteKey | undefined;
      let routeProblem: unknown;
      try {
        route = resolveRoute(event);
      } catch (error) {
        routeProblem = error;
      }
      state.route = route;
      state.caller = requireCaller(event);
      if (route === undefined) throw routeProblem;
      checkIfMatchHeader(route, event);
      if (!routeHasBody(route)) {
        // A GET's body means nothing here; drop it so no parser looks at it.
        event.body = null;
        return;
      }
      checkBodySize(event, route);
      // A webhook delivery is verified as the exact bytes it came as: any type, empty allowed, no JSON.
      if (routeTakesRawBody(route)) return;
      checkContentType(route, event.headers?.['content-type']);
      requireBody(event);
      const text = strictBodyText(event);
      checkJsonDepth(text);
      checkNoRepeatedKeys(text);
    },
  };
}

/**
 * Runs `parser` only for routes whose body is JSON: a webhook delivery must reach its handler as the
 * bytes that were signed, whatever its content type says.
 */
export function jsonRoutesOnly(parser: ProxyMiddleware): ProxyMiddleware {
  const before = parser.before;
  return {
    ...parser,
    before: (request) => {
      const route = request.context.state?.route;
      if (before === undefined || (route !== undefined && routeTakesRawBody(route))) return;
      return before(request);
    },
  };
}

/** middy's own HTTP errors (from the JSON body parser) mapped onto our table. */
function fromMiddyError(error: Error & { statusCode?: unknown }): ProblemError | undefined {
  if (typeof error.statusCode !== 'number') return undefined;
  if (error.statusCode === 415) {
    return new ProblemError('unsupported-media-type', 'The request body must be JSON.');
  }
  if (error.statusCode === 422 && error.message === 'Forbidden key in JSON body') {
    return new ProblemError('validation-failed', 'The request body contains a forbidden key.', {
      errors: [{ pointer: '', detail: 'keys such as __proto__ and constructor.prototype are not accepted' }],
    });
  }
  if (error.statusCode === 422) {
    return new ProblemError('malformed-json', 'The request body is not valid JSON.');
  }
  return undefined;
}

export function toProblem(error: unknown): ProblemError {
  if (error instanceof ProblemError) return error;
  if (error instanceof Error) {
    const mapped = fromMiddyError(error);
    if (mapped !== undefined) return mapped;
  }
  return new ProblemError('internal', 'The request failed unexpectedly; it has been logged.', {
    cause: error,
  });
}

/** A loggable description of an unexpected error: its name and stack frames, never its message. */
function describeUnexpected(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { type: typeof error };
  const frames = (error.stack ?? '')
    .split('\n')
    .slice(1, 8)
    .map((line) => line.trim());
  return { name: error.name, frames };
}

/** Turns any error into a problem+json response. Nothing of the error's message leaks unless it is ours. */
export function problemResponder(options: { logger: Logger }): ProxyMiddleware {
  return {
    onError: (request) => {
      const problem = toProblem(request.error);
      const { state } = request.context;
      if (state !== undefined) state.outcome = problem.slug;
      const instance = state?.requestId ?? request.event?.requestContext?.requestId ?? 'unknown';
      if (problem.slug === 'internal') {
        options.logger.error('unexpected error', {
          problem: problem.slug,
          error: describeUnexpected(problem.cause),
        });
      } else if (problem.status >= 500) {
        // Our causes are plain descriptions (status, error name, reason), never payloads or secrets.
        options.logger.warn('request failed', { problem: problem.slug, cause: problem.cause });
      }
      request.response = problemResponse(problem, instance);
    },
  };
}
