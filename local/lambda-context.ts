/**
 * The one Lambda `Context` of the local stand-ins: built by each pool environment for its invocation
 * (so the clock runs there), by the local API's in-process path, the tests and the bench.
 *
 * @example
 * ```ts
 * const context = createLambdaContext({ timeoutMs: 10_000 });
 * context.getRemainingTimeInMillis(); // <= 10000, counting down
 * ```
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { LOCAL_ACCOUNT_ID } from './identities.ts';

export const DEFAULT_FUNCTION_NAME = 'affix-webhook-config-local';

export interface LambdaContextOptions {
  /** The function timeout: `getRemainingTimeInMillis()` counts down from it. */
  timeoutMs: number;
  /** Default a fresh UUID, as Lambda gives every invocation. */
  requestId?: string;
  /** Default {@link DEFAULT_FUNCTION_NAME}. */
  functionName?: string;
  memoryLimitInMB?: number;
  /** Default `us-east-1`. */
  region?: string;
  /** Default {@link LOCAL_ACCOUNT_ID}. */
  accountId?: string;
}

/** A Lambda `Context` whose `getRemainingTimeInMillis()` counts down from `timeoutMs`. */
export function createLambdaContext(opts: LambdaContextOptions): Context {
  const functionName = opts.functionName ?? DEFAULT_FUNCTION_NAME;
  const region = opts.region ?? 'us-east-1';
  const deadline = Date.now() + opts.timeoutMs;
  // Lambda's log stream prefix: the UTC day as `2025/01/02`.
  const day = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
  // The callback API is gone from Node.js runtimes' async handlers: fail loudly if code reaches for it.
  const unsupported = (name: string) => (): never => {
    throw new Error(`context.${name}() is not supported locally: return a promise from the handler`);
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:${opts.accountId ?? LOCAL_ACCOUNT_ID}:function:${functionName}`,
    memoryLimitInMB: String(opts.memoryLimitInMB ?? 256),
    awsRequestId: opts.requestId ?? randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `${day}/[$LATEST]${randomBytes(16).toString('hex')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported('done'),
    fail: unsupported('fail'),
    succeed: unsupported('succeed'),
  };
}
