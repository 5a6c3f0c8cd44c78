/**
 * Test shorthands over the one event builder and Lambda context of `local/`: a caller with an ARN by
 * default, a JSON body from a value, the test account and stage.
 */
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import type { ProxyRequest } from '../../functions/core/adapters/middlewares.ts';
import { createLambdaContext } from '../../local/lambda-context.ts';
import { toApiGatewayEvent } from '../../local/lambda-event.ts';

export const CALLER_ARN = 'arn:aws:sts::111122223333:assumed-role/webhook-admin/session';
const TEST_ACCOUNT_ID = '111122223333';

export interface EventOptions {
  method: string;
  path: string;
  body?: unknown;
  /** A raw body string, sent as is (for malformed JSON and such). */
  rawBody?: string | null;
  headers?: Record<string, string>;
  identity?: { userArn: string | null; caller: string | null } | null;
  isBase64Encoded?: boolean;
  requestId?: string;
  /** Send a body without any Content-Type header. */
  omitContentType?: boolean;
}

let counter = 0;

export function apiEvent(options: EventOptions): APIGatewayProxyEvent {
  counter += 1;
  const hasBody = options.rawBody !== undefined || options.body !== undefined;
  const body =
    options.rawBody !== undefined ? options.rawBody : hasBody ? JSON.stringify(options.body) : null;
  const identity =
    options.identity === null
      ? null
      : (options.identity ?? { userArn: CALLER_ARN, caller: 'AROAEXAMPLE:session' });
  return toApiGatewayEvent({
    method: options.method,
    url: options.path,
    headers: {
      ...(hasBody && !options.omitContentType ? { 'Content-Type': 'application/json' } : {}),
      ...options.headers,
    },
    body,
    isBase64Encoded: options.isBase64Encoded ?? false,
    identity: identity === null ? null : { ...identity, accountId: TEST_ACCOUNT_ID },
    requestId: options.requestId ?? `req-${counter}`,
    stage: 'test',
    accountId: TEST_ACCOUNT_ID,
    apiId: 'api123',
    sourceIp: '10.0.0.1',
  });
}

export function lambdaContext(remainingMs = 15_000): Context {
  counter += 1;
  return createLambdaContext({
    timeoutMs: remainingMs,
    requestId: `lambda-req-${counter}`,
    functionName: 'affix-webhook-config-test',
    region: 'eu-west-1',
    accountId: TEST_ACCOUNT_ID,
  });
}

/** A middy request around {@link apiEvent} (no Content-Type unless given), for one middleware at a time. */
export function proxyRequest(options: EventOptions): ProxyRequest {
  return {
    event: apiEvent({ omitContentType: true, ...options }),
    context: lambdaContext(),
    response: undefined,
    error: undefined,
    internal: {},
  };
}
