/** Builders for API Gateway REST (v1) events and Lambda contexts, as API Gateway sends them. */
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { apiGatewayIdentity } from '../../local/api-gateway.ts';

export const CALLER_ARN = 'arn:aws:sts::111122223333:assumed-role/webhook-admin/session';

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
  const requestId = options.requestId ?? `req-${counter}`;
  const hasBody = options.rawBody !== undefined || options.body !== undefined;
  const body =
    options.rawBody !== undefined ? options.rawBody : hasBody ? JSON.stringify(options.body) : null;
  const headers: Record<string, string> = {
    ...(hasBody && !options.omitContentType ? { 'Content-Type': 'application/json' } : {}),
    ...options.headers,
  };
  const identity =
    options.identity === null
      ? { userArn: null, caller: null }
      : (options.identity ?? { userArn: CALLER_ARN, caller: 'AROAEXAMPLE:session' });
  return {
    resource: options.path,
    path: options.path,
    httpMethod: options.method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, value]) => [k, [value]])),
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body,
    isBase64Encoded: options.isBase64Encoded ?? false,
    requestContext: {
      accountId: '111122223333',
      apiId: 'api123',
      authorizer: null,
      protocol: 'HTTP/1.1',
      httpMethod: options.method,
      path: `/test${options.path}`,
      stage: 'test',
      requestId,
      requestTimeEpoch: Date.now(),
      resourceId: 'res',
      resourcePath: options.path,
      identity: apiGatewayIdentity({
        accountId: '111122223333',
        caller: identity.caller,
        sourceIp: '10.0.0.1',
        userAgent: 'vitest',
        userArn: identity.userArn,
      }),
    },
  };
}

export function lambdaContext(remainingMs = 15_000): Context {
  const deadline = Date.now() + remainingMs;
  counter += 1;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'affix-webhook-config-test',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:111122223333:function:affix-webhook-config-test',
    memoryLimitInMB: '256',
    awsRequestId: `lambda-req-${counter}`,
    logGroupName: '/aws/lambda/affix-webhook-config-test',
    logStreamName: 'stream',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
