/**
 * How the local API, the pool (`lambda-pool.ts`) and one execution environment
 * (`lambda-environment.mjs`) talk: the messages between the pool and an environment (plain data only:
 * they cross a worker boundary by structured clone), and the refusal the pool answers an invoke with
 * when it is at its concurrency limit.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';

/** What the environment needs to build its own Lambda `Context` (its clock starts there). */
export interface InvokeContext {
  requestId: string;
  timeoutMs: number;
  functionName: string;
  memoryLimitInMB: number;
}

export interface InvokeMessage {
  type: 'invoke';
  event: APIGatewayProxyEvent;
  context: InvokeContext;
}

export type EnvironmentMessage =
  | { type: 'ready' }
  | { type: 'init-error'; message: string }
  | { type: 'result'; result: unknown }
  | { type: 'error'; name: string; message: string };

/**
 * Lambda's answer to a synchronous invoke when the function is at its concurrency limit (HTTP 429,
 * `Rate Exceeded.`): the invocation is refused before anything runs, never queued.
 */
export class TooManyRequestsException extends Error {
  readonly reason = 'ConcurrentInvocationLimitExceeded';
  constructor() {
    super('Rate Exceeded.');
    this.name = 'TooManyRequestsException';
  }
}

/**
 * The deployed function timeout (`CLIENT_CONFIG_TIMEOUT` in infra/service.ts; a test in test/local
 * keeps the two equal): the default of the pool and of the local API's in-process path.
 */
export const DEFAULT_FUNCTION_TIMEOUT_MS = 15_000;

/** Lambda's limit on an environment's init phase (loading the handler module): 10 s. */
export const LAMBDA_INIT_TIMEOUT_MS = 10_000;

/**
 * Runs `callback` after `ms` and returns what cancels it: how the pool and the local API set their
 * limits, so tests can fire a limit when they choose instead of waiting for it.
 */
export type Schedule = (callback: () => void, ms: number) => () => void;

/** {@link Schedule} on the real clock. */
export const realSchedule: Schedule = (callback, ms) => {
  const timer = setTimeout(callback, ms);
  return () => clearTimeout(timer);
};
