/**
 * Local stand-in for API Gateway (REST API v1, Lambda proxy integration, `AWS_IAM` auth): the HTTP
 * server, composing the jobs of its own modules. Per request: read the body within the payload limit,
 * admit it (`admission.ts`: route, SigV4 signature of the fixed local identities, the resource
 * policy's group grant), turn it into an `APIGatewayProxyEvent` carrying the signer's identity
 * (`lambda-event.ts`), call the handler with a Lambda `Context` (`lambda-context.ts`) within the
 * integration timeout, and write the `APIGatewayProxyResult` or API Gateway's own problem answer back
 * (`gateway-answers.ts`); one access-log entry per answer (`access-log.ts`).
 *
 * Nothing it has answered runs on: when it gives up (the integration timeout, or the function timeout
 * of an in-process handler) it aborts the invocation's signal, and the pool kills the environment
 * running it. A refused invoke (the pool at its concurrency limit) gets the answer API Gateway gives a
 * throttled Lambda integration. See docs/local-concurrency.md.
 *
 * @example
 * ```ts
 * const api = await startLocalApi({ handler, port: 0 });
 * // sign with LOCAL_IDENTITIES.readers (local-reader / local-reader-secret), service execute-api, us-east-1
 * await api.close();
 * ```
 */

import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { type GatewayResponseType, gatewayProblem } from '../functions/contract/gateway-responses.ts';
import { type AccessEntry, type AccessFacts, trackAccess } from './access-log.ts';
import { admit } from './admission.ts';
import { isProxyResult, sendFunctionError, sendGatewayProblem, writeProxyResult } from './gateway-answers.ts';
import { LOCAL_SIGNERS, type LocalIdentity, type LocalSigner } from './identities.ts';
import { createLambdaContext } from './lambda-context.ts';
import { toApiGatewayEvent } from './lambda-event.ts';
import { DEFAULT_FUNCTION_TIMEOUT_MS, type Schedule, TooManyRequestsException } from './lambda-protocol.ts';
import { ServerLifecycle } from './loopback-server.ts';

/**
 * Set on the answer to an invocation the pool refused at its concurrency limit (local only, like the
 * environment id header): the request ran nowhere, so a caller may simply send it again.
 */
export const THROTTLED_HEADER = 'x-local-throttled';

/** API Gateway's maximum payload size (10 MB). */
export const API_GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024;
/**
 * API Gateway REST API's default (and the deployed) integration timeout: the stack's Lambda
 * integrations set none (a test in test/local checks the synthesized template).
 */
export const API_GATEWAY_INTEGRATION_TIMEOUT_MS = 29_000;

/**
 * What the local API invokes, as API Gateway invokes a Lambda function. It may refuse an invoke with
 * {@link TooManyRequestsException}; `signal` aborts when the API has answered without its result.
 */
export interface LocalHandler {
  (event: APIGatewayProxyEvent, context: Context, signal?: AbortSignal): Promise<APIGatewayProxyResult>;
  /**
   * True when the handler runs the function as Lambda does (the pool): it enforces the function
   * timeout from dispatch itself and stops an invocation whose signal aborts. Otherwise (a handler
   * called in-process) the API enforces the function timeout from the request's arrival, and cannot
   * stop the handler once it has answered.
   */
  readonly isolated?: boolean;
}

export interface LocalApiOptions {
  handler: LocalHandler;
  port?: number;
  /**
   * Who may sign: every request must carry a valid SigV4 signature (service `execute-api`, region
   * `us-east-1`) by one of these, for a route its group may call. Default {@link LOCAL_SIGNERS}.
   */
  signers?: readonly LocalSigner[];
  /**
   * TEST ONLY: no signature check and no route grant at all (as if API Gateway were misconfigured);
   * every request reaches the handler with this identity, `null` meaning no IAM caller. For the
   * function's own defense-in-depth tests; `npm start` never sets it.
   */
  testOnlyIdentity?: LocalIdentity | null;
  /** The clock the signature's 5-minute window is checked against (epoch ms). Default `Date.now`. */
  now?: () => number;
  /**
   * The function timeout of an in-process handler: its context's deadline, and when the API answers
   * 502 as for a timed-out Lambda. Default {@link DEFAULT_FUNCTION_TIMEOUT_MS} (the deployed value).
   * An isolated handler (the pool) has its own.
   */
  timeoutMs?: number;
  /**
   * API Gateway's integration timeout, from the request's arrival: the API answers
   * `INTEGRATION_TIMEOUT` (504) and aborts the invocation. Default {@link API_GATEWAY_INTEGRATION_TIMEOUT_MS}.
   */
  integrationTimeoutMs?: number;
  /** Sets the integration and function timeouts (default the real clock; tests fire them at will). */
  schedule?: Schedule;
  /** Default {@link API_GATEWAY_MAX_BODY_BYTES}; larger bodies get 413. */
  maxBodyBytes?: number;
  stage?: string;
  functionName?: string;
  /** Called when the handler throws, times out or returns a malformed result. Default: one line on stderr. */
  onError?: (message: string, error: unknown, requestId: string) => void;
  /**
   * Called when API Gateway's authentication or authorization refuses a request, with a reason that
   * names no secret. Default: one line on stderr.
   */
  onRefused?: (responseType: GatewayResponseType, reason: string, requestId: string) => void;
  /** Called once per answered request (after the last byte is written). Default: nothing. */
  onAccess?: (entry: AccessEntry) => void;
}

export interface LocalApi {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

type ReadResult = { ok: true; body: Buffer } | { ok: false };

function readCapped(req: IncomingMessage, max: number): Promise<ReadResult> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > max) {
      req.resume(); // discard the upload so the client can read our answer
      resolve({ ok: false });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > max) {
        over = true;
        chunks.length = 0;
        resolve({ ok: false });
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!over) resolve({ ok: true, body: Buffer.concat(chunks) });
    });
    req.on('error', reject);
  });
}

/** Starts the local API on 127.0.0.1 (port 0 = ephemeral). */
export async function startLocalApi(options: LocalApiOptions): Promise<LocalApi> {
  const signers = options.signers ?? LOCAL_SIGNERS;
  const now = options.now ?? Date.now;
  const timeoutMs = options.timeoutMs ?? DEFAULT_FUNCTION_TIMEOUT_MS;
  const integrationTimeoutMs = options.integrationTimeoutMs ?? API_GATEWAY_INTEGRATION_TIMEOUT_MS;
  const handler = options.handler;
  const lifecycle = new ServerLifecycle();
  const schedule: Schedule =
    options.schedule ??
    ((callback, ms) => {
      const timer = lifecycle.setTimer(callback, ms);
      return () => lifecycle.clearTimer(timer);
    });
  const maxBodyBytes = options.maxBodyBytes ?? API_GATEWAY_MAX_BODY_BYTES;
  const onError =
    options.onError ??
    ((message: string, error: unknown, requestId: string) => {
      const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      process.stderr.write(`[local-api] ${requestId} ${message}: ${detail}\n`);
    });
  const onRefused =
    options.onRefused ??
    ((responseType: GatewayResponseType, reason: string, requestId: string) => {
      process.stderr.write(
        `[local-api] ${requestId} refused (${gatewayProblem(responseType).slug}): ${reason}\n`,
      );
    });

  const handle = async (
    req: IncomingMessage,
    res: ServerResponse,
    requestId: string,
    access: AccessFacts,
  ): Promise<void> => {
    const answer = (outcome: string | undefined): void => {
      if (outcome !== undefined) access.outcome = outcome;
    };
    const read = await readCapped(req, maxBodyBytes);
    if (!read.ok) {
      answer(sendGatewayProblem(res, 'REQUEST_TOO_LARGE', requestId, { connection: 'close' }));
      return;
    }
    let identity: LocalIdentity | null;
    if (options.testOnlyIdentity !== undefined) {
      identity = options.testOnlyIdentity;
    } else {
      const request = {
        method: req.method ?? 'GET',
        target: req.url ?? '/',
        rawHeaders: req.rawHeaders,
        body: read.body,
      };
      const admission = await admit(request, signers, now());
      if (!admission.ok) {
        onRefused(admission.responseType, admission.reason, requestId);
        answer(sendGatewayProblem(res, admission.responseType, requestId));
        return;
      }
      identity = admission.identity;
    }
    access.caller = identity?.userArn ?? identity?.accessKey ?? null;
    const event = toApiGatewayEvent({
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      headers: req.headers,
      rawHeaders: req.rawHeaders,
      body: read.body,
      identity,
      requestId,
      stage: options.stage ?? 'local',
    });
    const context = createLambdaContext({ requestId, timeoutMs, functionName: options.functionName });

    // API Gateway's integration timeout runs from arrival; an in-process handler's function timeout
    // too (the pool measures its own from dispatch).
    const abort = new AbortController();
    const cancels: (() => void)[] = [];
    const giveUp = new Promise<'integration-timeout' | 'function-timeout'>((resolve) => {
      cancels.push(schedule(() => resolve('integration-timeout'), integrationTimeoutMs));
      if (handler.isolated !== true) cancels.push(schedule(() => resolve('function-timeout'), timeoutMs));
    });
    let outcome: APIGatewayProxyResult | 'integration-timeout' | 'function-timeout';
    try {
      outcome = await Promise.race([
        Promise.resolve().then(() => handler(event, context, abort.signal)),
        giveUp,
      ]);
    } catch (error) {
      if (error instanceof TooManyRequestsException) {
        // API Gateway answers a throttled Lambda invoke as an integration failure (its execution log:
        // "Lambda invocation failed with status: 429"); our Gateway Response gives it its status.
        onError('Lambda throttled the invocation', error, requestId);
        // A local-only mark, like the environment id: tests tell a refusal that ran nothing apart.
        res.setHeader(THROTTLED_HEADER, '1');
        answer(sendGatewayProblem(res, 'INTEGRATION_FAILURE', requestId));
        return;
      }
      onError('handler threw', error, requestId);
      answer(sendFunctionError(res, requestId));
      return;
    } finally {
      for (const cancel of cancels) cancel();
    }
    if (outcome === 'integration-timeout' || outcome === 'function-timeout') {
      // Answered without the function's result: nothing of this invocation may run on.
      abort.abort();
      if (outcome === 'integration-timeout') {
        onError(`Endpoint request timed out (${integrationTimeoutMs} ms)`, undefined, requestId);
        answer(sendGatewayProblem(res, 'INTEGRATION_TIMEOUT', requestId));
      } else {
        onError(`Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`, undefined, requestId);
        answer(sendFunctionError(res, requestId));
      }
      return;
    }
    if (!isProxyResult(outcome)) {
      onError('Malformed Lambda proxy response', JSON.stringify(outcome)?.slice(0, 200), requestId);
      answer(sendFunctionError(res, requestId));
      return;
    }
    if (res.destroyed) return;
    try {
      answer(writeProxyResult(res, outcome, requestId));
    } catch (error) {
      onError('Malformed Lambda proxy response', error, requestId);
      for (const name of res.getHeaderNames()) res.removeHeader(name);
      answer(sendFunctionError(res, requestId));
    }
  };

  const server = createServer((req, res) => {
    res.on('error', () => {});
    const requestId = randomUUID();
    const access = trackAccess(req, res, requestId, options.onAccess);
    handle(req, res, requestId, access).catch((error: unknown) => {
      onError('local API failure', error, requestId);
      if (!res.headersSent && !res.destroyed) {
        access.outcome = sendGatewayProblem(res, 'DEFAULT_5XX', requestId) ?? access.outcome;
      } else res.destroy();
    });
  });
  const { url, port } = await lifecycle.listen(server, options.port);

  return {
    url,
    port,
    close: () => lifecycle.close(server),
  };
}
