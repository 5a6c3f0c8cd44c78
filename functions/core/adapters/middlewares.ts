/**
 * Our own middy middlewares: the request guard (403/404/405/413/415, If-Match's form, and UTF-8, JSON
 * nesting and repeated keys before anything is parsed), the JSON body parser limited to the JSON
 * routes, the RFC 9457 error responder, and the per-request telemetry (audit line and outcome metric).
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { MiddlewareObj, Request } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { RESOURCE_PATHS, ROUTES, routeKeyOf } from '../../contract/routes.ts';
import { METRIC } from '../../contract/telemetry.ts';
import type { BudgetNotes } from '../domain/budget-notes.ts';
import type { ClientField } from '../domain/client-state.ts';
import { ProblemError, type ProblemSlug } from '../domain/problems.ts';
import { checkJsonDepth, checkNoRepeatedKeys, strictBodyText } from '../domain/schemas.ts';
import type { UpstreamExchange } from '../ports.ts';
import { answeredFrom, createBudgetTelemetry } from './budget-telemetry.ts';
import {
  checkBodySize,
  checkContentType,
  checkIfMatchHeader,
  type RouteKey,
  requireBody,
  requireCaller,
  resolveRoute,
  resourcePath,
  routeHasBody,
  routeTakesRawBody,
} from './request-rules.ts';
import { problemResponse } from './responses.ts';
import { createVersionTelemetry } from './version-telemetry.ts';

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
type ProxyMiddleware = MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult, Error, ProxyContext>;

const AUDITED_ROUTES: ReadonlySet<RouteKey> = new Set(ROUTES.filter((route) => route.writes).map(routeKeyOf));
/** Methods that change nothing: refusing one of them is no refused write. */
const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);
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

/** Whether this request was, or tried to be, a write: audited whatever its outcome. */
function isWriteAttempt(state: RequestState): boolean {
  if (state.route !== undefined) return AUDITED_ROUTES.has(state.route);
  return state.method !== undefined && !SAFE_METHODS.has(state.method);
}

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

/**
 * After every request: the outcome metric, the 5xx answer by version, upstream latency, and (for
 * writes) one audit line. `functionVersion` is `AWS_LAMBDA_FUNCTION_VERSION` (`$LATEST` when unset).
 */
export function requestTelemetry(options: {
  logger: Logger;
  metrics: Metrics;
  functionVersion?: string | undefined;
}): ProxyMiddleware {
  // Built once per container: singleMetric() constructs a whole Metrics (Console, env parsing) per call.
  // A single-metric instance publishes on every addMetric and keeps only its default dimensions.
  const latencyMetrics = options.metrics.singleMetric();
  const budgetTelemetry = createBudgetTelemetry(options.metrics);
  const versionTelemetry = createVersionTelemetry(options.metrics, options.functionVersion);
  const record = (request: ProxyRequest) => {
    const { state } = request.context;
    const outcome = state?.outcome ?? (request.response?.statusCode === 200 ? 'success' : 'internal');
    options.metrics.addDimension('outcome', outcome);
    options.metrics.addMetric(METRIC.requestOutcome, MetricUnit.Count, 1);
    versionTelemetry.record(request.response?.statusCode);
    if (state === undefined) return;
    const upstreamLatencyMs = state.exchanges.reduce((sum, exchange) => sum + exchange.latencyMs, 0);
    if (state.exchanges.length > 0) {
      latencyMetrics.addMetric(METRIC.upstreamLatency, MetricUnit.Milliseconds, upstreamLatencyMs);
    }
    if (state.lockWaitMs !== undefined) {
      latencyMetrics.addMetric(METRIC.writeLockWait, MetricUnit.Milliseconds, state.lockWaitMs);
    }
    budgetTelemetry.record(state);
    const from = answeredFrom(state.budget, state.exchanges);
    // Every write attempt, and every request the shared back-off answered (no Affix call made).
    if (isWriteAttempt(state) || from === 'backoff') {
      const last = state.exchanges.at(-1);
      // Names and statuses only, never values: a refused write (403, 404, 405 included) is audited too.
      options.logger.info('audit', {
        audit: {
          caller: state.caller ?? null,
          route: state.route ?? null,
          method: state.method,
          resource: state.resource ?? null,
          outcome,
          status: request.response?.statusCode,
          requestedFields: state.requestedFields,
          changedFields: state.changedFields,
          upstreamStatus: last?.status ?? null,
          upstreamCalls: state.exchanges,
          upstreamLatencyMs: Math.round(upstreamLatencyMs * 10) / 10,
          lockWaitMs: state.lockWaitMs ?? null,
          answeredFrom: from,
        },
      });
    }
  };
  return {
    before: (request) => {
      // API Gateway's request id: the `instance` of our problems, so logs and answers line up.
      const requestId = request.event.requestContext?.requestId;
      if (requestId) options.logger.setCorrelationId(requestId);
    },
    after: (request) => {
      const { state } = request.context;
      if (state !== undefined) state.outcome = 'success';
      record(request);
    },
    onError: (request) => record(request),
  };
}
