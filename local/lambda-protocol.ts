/**
 * Messages between the pool (`lambda-pool.ts`) and one execution environment
 * (`lambda-environment.mjs`). Plain data only: they cross a worker boundary by structured clone.
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
