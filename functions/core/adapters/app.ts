/**
 * The primary adapter: the middy chain and the route handlers, built from injected dependencies
 * so tests run the real chain with their own ports. `handler.ts` wires the production ones.
 *
 * @example
 * export const handler = createHandler({ config, ports, logger, metrics });
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import middy, { type MiddyHandlerObject } from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import httpJsonBodyParser from '@middy/http-json-body-parser';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { type DestinationPolicy, OPEN_DESTINATION_POLICY } from '../../contract/destination-policy.ts';
import { type OperationId, operationIdOf, type RouteKey } from '../../contract/routes.ts';
import { type ClientReads, UNCACHED_READS } from '../app/client-reads.ts';
import { backstopMs, createDeadline, requestBudgetMs } from '../app/deadline.ts';
import { createChangeListing } from '../app/list-changes.ts';
import { type ClientResult, createUseCases, type UseCaseOptions } from '../app/use-cases.ts';
import { checkDestinations, toPublicClient } from '../domain/client-state.ts';
import { ProblemError } from '../domain/problems.ts';
import { requestsNoCache } from '../domain/read-cache.ts';
import {
  PatchClientRequestSchema,
  parseRequestBody,
  ReplaceSecretsRequestSchema,
} from '../domain/schemas.ts';
import { SIGNATURE_HEADER } from '../domain/webhook-signature.ts';
import type { CallContext, ChangeJournalReader, Ports } from '../ports.ts';
import { parseChangesQuery } from './changes-query.ts';
import type { Config } from './config.ts';
import {
  jsonResponse,
  jsonRoutesOnly,
  type ProxyContext,
  problemResponder,
  type RequestState,
  requestGuard,
  routeMaxBodyBytes,
  stateOf,
} from './middlewares.ts';
import { createDestinationTelemetry, requestTelemetry } from './telemetry.ts';
import { deliveryBytes } from './webhook-body.ts';

export interface HandlerDependencies {
  config: Pick<Config, 'upstreamDeadlineMs' | 'deadlineSafetyMarginMs'>;
  ports: Ports;
  logger: Logger;
  metrics: Metrics;
  /** `GET /client` over the shared view (`client-reads.ts`); default: every GET reads Affix. */
  reads?: ClientReads;
  /** How long the container keeps Affix's secret list for webhook verification (default 60 s). */
  webhookSecrets?: UseCaseOptions['webhookSecrets'];
  /**
   * Where writes may point `webhook_uri` and `redirect_uris`. `handler.ts` always passes the stage's
   * (required at cold start); the default, for code that embeds the chain, allows any host and
   * loopback and still refuses what no policy allows (IP literals other than loopback, `user@`, port 0).
   */
  destinations?: DestinationPolicy;
  /** `AWS_LAMBDA_FUNCTION_VERSION`, the dimension of the 5xx answers a deploy rolls back on (`$LATEST` if unset). */
  functionVersion?: string | undefined;
  /**
   * The change journal `GET /client/changes` reads (`handler.ts` passes the DynamoDB one). Without it
   * that route answers `internal`: no journal is not the same as an empty one.
   */
  journal?: ChangeJournalReader;
}

/** Stands in for a journal that was not wired: `GET /client/changes` fails rather than answer nothing. */
const UNWIRED_JOURNAL: ChangeJournalReader = {
  list: () => Promise.reject(new Error('no change journal is wired')),
};

/** The field names the PATCH and PUT bodies know (`client_secret` is PUT's; PATCH refuses it). */
const KNOWN_BODY_FIELDS = ['name', 'webhook_uri', 'redirect_uris', 'client_secret'];

/**
 * `logEvent: false` whatever `POWERTOOLS_LOGGER_LOG_EVENT` says: the event holds the caller's
 * Authorization header, session token and new secrets.
 */
const LOGGER_CONTEXT_OPTIONS = { resetKeys: true, logEvent: false } as const;

/** Known field names present in a body: safe to log, unlike the values or arbitrary keys. */
function requestedFields(body: unknown): string[] {
  if (body === null || typeof body !== 'object') return [];
  return KNOWN_BODY_FIELDS.filter((field) => Object.hasOwn(body, field));
}

/** What an operation's handler gets: the event, the call's deadline and signal, the request's state. */
interface OperationRequest {
  event: APIGatewayProxyEvent;
  call: CallContext;
  state: RequestState;
  route: RouteKey;
}

export function createHandler(dependencies: HandlerDependencies) {
  const { config, ports, logger, metrics } = dependencies;
  // Once per container: the use cases keep per-container state (the webhook secret list).
  const useCases = createUseCases(
    ports,
    dependencies.webhookSecrets === undefined ? {} : { webhookSecrets: dependencies.webhookSecrets },
  );
  const reads = dependencies.reads ?? UNCACHED_READS;
  const destinations = dependencies.destinations ?? OPEN_DESTINATION_POLICY;
  const destinationTelemetry = createDestinationTelemetry(metrics);
  const listChanges = createChangeListing({
    journal: dependencies.journal ?? UNWIRED_JOURNAL,
    // The request id only: the entry held a value that may be a secret.
    onRefused: (requestId) =>
      logger.warn('journal entry refused', { journal: { refused: requestId, reason: 'unmasked secret' } }),
  });

  /** `signal` is middy's: it fires at the early-timeout backstop, and then no Affix request starts. */
  async function routeRequest(
    event: APIGatewayProxyEvent,
    context: ProxyContext,
    { signal }: MiddyHandlerObject,
  ): Promise<APIGatewayProxyResult> {
    const state = stateOf(context);
    state.requestedFields = requestedFields(event.body);
    const invocationRemainingMs =
      typeof context.getRemainingTimeInMillis === 'function'
        ? () => context.getRemainingTimeInMillis()
        : undefined;
    const call: CallContext = {
      deadline: createDeadline(
        requestBudgetMs(config.upstreamDeadlineMs, invocationRemainingMs?.(), config.deadlineSafetyMarginMs),
      ),
      signal,
      exchanges: state.exchanges,
      budget: state.budget,
      invocationRemainingMs,
      onLockWait: (waitMs) => {
        state.lockWaitMs = waitMs;
      },
      // The journal names a change's author as the audit line does: the caller and the request id.
      ...(state.caller === undefined ? {} : { author: { actor: state.caller, requestId: state.requestId } }),
    };
    // requestGuard has set the route (it answers not-found otherwise).
    const route = state.route as RouteKey;
    return operations[operationIdOf(route)]({ event, call, state, route });
  }

  /** A write's answer: the changed fields for the audit line and the destination-change count, the
   * secrets masked. (The Affix port has refreshed the shared view already.) */
  function written(result: ClientResult, state: RequestState): APIGatewayProxyResult {
    state.changedFields = result.changed;
    destinationTelemetry.record(result.changed);
    return jsonResponse(200, toPublicClient(result.client), { etag: result.etag });
  }

  // One handler per operation id of the route table: the compiler flags a route added to the contract
  // without its handler here, and no route is spelled outside the table.
  const operations: Record<OperationId, (request: OperationRequest) => Promise<APIGatewayProxyResult>> = {
    getClient: async ({ event, call }) => {
      // A miss reads through the use case, which also refreshes this container's webhook secret list.
      const read = await reads.read(call, (readCall) => useCases.getClient(readCall), {
        noCache: requestsNoCache(event.headers?.['cache-control']),
      });
      return jsonResponse(200, read.client, { etag: read.etag, ...read.headers });
    },
    updateClient: async ({ event, call, state }) => {
      const patch = parseRequestBody(PatchClientRequestSchema, event.body);
      // Before the write lease and any Affix request: a refused destination costs nothing upstream.
      checkDestinations(patch, destinations);
      return written(
        await useCases.patchClient(patch, call, { ifMatch: event.headers?.['if-match'] }),
        state,
      );
    },
    replaceSecrets: async ({ event, call, state }) => {
      const body = parseRequestBody(ReplaceSecretsRequestSchema, event.body);
      return written(
        await useCases.replaceSecrets(body.client_secret, call, { ifMatch: event.headers?.['if-match'] }),
        state,
      );
    },
    verifyWebhook: async ({ event, call, route }) => {
      const verification = await useCases.verifyWebhook(
        deliveryBytes(event, routeMaxBodyBytes(route)),
        event.headers?.[SIGNATURE_HEADER],
        call,
      );
      return jsonResponse(200, verification);
    },
    // One DynamoDB query, no Affix request; `jsonResponse` answers it with `Cache-Control: no-store`.
    listChanges: async ({ event, call }) =>
      jsonResponse(200, await listChanges(parseChangesQuery(event), call.signal)),
  };

  // requestGuard has checked the media type (case-insensitive, whitespace around `;` allowed); the
  // parser's own stricter pattern would leave such a body unparsed and answer validation-failed.
  const jsonBodyParser = httpJsonBodyParser<APIGatewayProxyEvent>({ disableContentTypeCheck: true });

  return middy<APIGatewayProxyEvent, APIGatewayProxyResult, Error, ProxyContext>({
    // The backstop only (deadline.ts): our request deadline has ended before this fires, so no Affix
    // request can start after this 504. It answers for work the deadline does not bound (an SSM read).
    timeoutEarlyInMillis: backstopMs(config.deadlineSafetyMarginMs),
    timeoutEarlyResponse: () => {
      throw new ProblemError('upstream-timeout', 'The request ran out of time.');
    },
  })
    .use(injectLambdaContext(logger, LOGGER_CONTEXT_OPTIONS))
    .use(httpHeaderNormalizer())
    .use(requestTelemetry({ logger, metrics, functionVersion: dependencies.functionVersion }))
    .use(problemResponder({ logger }))
    .use(requestGuard())
    .use(jsonRoutesOnly(jsonBodyParser))
    .handler(routeRequest);
}
