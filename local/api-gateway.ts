/**
 * Local stand-in for API Gateway (REST API v1, Lambda proxy integration, `AWS_IAM` auth): checks the
 * SigV4 signature of every request against the fixed local identities (`local/identities.ts`) and
 * their groups' routes (the contract's `groupMayCall`), turns the request into an
 * `APIGatewayProxyEvent` carrying the signer's identity, calls the handler with a Lambda `Context`,
 * and writes the `APIGatewayProxyResult` back. API Gateway's own answers (unknown route, unsigned, bad
 * or expired signature, denied route, too large, integration failure or timeout) are the contract's
 * problem documents (`functions/contract/gateway-responses.ts`), as the deployed Gateway Responses.
 *
 * @example
 * ```ts
 * const api = await startLocalApi({ handler, port: 0 });
 * // sign with LOCAL_IDENTITIES.readers (local-reader / local-reader-secret), service execute-api, us-east-1
 * await api.close();
 * ```
 */
import { isUtf8 } from 'node:buffer';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type {
  APIGatewayEventIdentity,
  APIGatewayProxyEvent,
  APIGatewayProxyResult,
  Context,
} from 'aws-lambda';
import {
  type GatewayResponseType,
  gatewayProblem,
  gatewayProblemDocument,
  PROBLEM_TYPE_PREFIX,
} from '../functions/contract/gateway-responses.ts';
import { findRoute, groupMayCall, RESOURCE_PATHS, routeKeyOf } from '../functions/contract/routes.ts';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../functions/contract/telemetry.ts';
import { LOCAL_ACCOUNT_ID, LOCAL_SIGNERS, type LocalIdentity, type LocalSigner } from './identities.ts';
import { ENVIRONMENT_ID_HEADER } from './lambda-pool.ts';
import { ServerLifecycle } from './loopback-server.ts';
import { verifySigV4 } from './sigv4.ts';

export { LOCAL_ACCOUNT_ID, type LocalIdentity };

/** API Gateway's maximum payload size (10 MB). */
export const API_GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024;
/** API Gateway REST API's maximum integration timeout. */
export const API_GATEWAY_INTEGRATION_TIMEOUT_MS = 29_000;

export const DEFAULT_CLIENT_ID_PARAMETER = '/affix/local/client-id';
export const DEFAULT_CLIENT_SECRET_PARAMETER = '/affix/local/client-secret';
/** SecureString: the ETag HMAC key (Base64 of 32 random bytes; `npm start` makes a fresh one). */
export const DEFAULT_ETAG_KEY_PARAMETER = '/affix/local/etag-key';

const KNOWN_RESOURCES: ReadonlySet<string> = new Set(RESOURCE_PATHS);
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export type LocalHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

export interface ApiGatewayEventInput {
  method: string;
  /** Request target as received, e.g. `/client?x=1`. */
  url: string;
  headers: IncomingHttpHeaders;
  /**
   * Optional `IncomingMessage.rawHeaders`: when given, header names keep the caller's casing (as API
   * Gateway does) and repeated headers keep every value in `multiValueHeaders` (`headers` keeps the last).
   */
  rawHeaders?: string[];
  body: Buffer;
  identity: LocalIdentity | null;
  requestId: string;
  stage?: string;
  sourceIp?: string;
  /** Defaults to now. */
  requestTimeEpoch?: number;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** API Gateway's `requestTime` format, e.g. `09/Apr/2015:12:34:56 +0000`. */
function formatRequestTime(epochMs: number): string {
  const d = new Date(epochMs);
  return `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(
    d.getUTCMinutes(),
  )}:${pad(d.getUTCSeconds())} +0000`;
}

function buildHeaders(
  headers: IncomingHttpHeaders,
  rawHeaders: string[] | undefined,
): { single: Record<string, string>; multi: Record<string, string[]> } {
  const grouped = new Map<string, { name: string; values: string[] }>();
  if (rawHeaders) {
    for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
      const name = rawHeaders[i] as string;
      const value = rawHeaders[i + 1] as string;
      const key = name.toLowerCase();
      const entry = grouped.get(key);
      if (entry) entry.values.push(value);
      else grouped.set(key, { name, values: [value] });
    }
  } else {
    for (const [name, value] of Object.entries(headers)) {
      if (value === undefined) continue;
      grouped.set(name.toLowerCase(), { name, values: Array.isArray(value) ? [...value] : [value] });
    }
  }
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const { name, values } of grouped.values()) {
    // REST API v1: `headers` keeps only the last value of a repeated header; all are in `multiValueHeaders`.
    single[name] = values.at(-1) as string;
    multi[name] = values;
  }
  return { single, multi };
}

/** The fields of `requestContext.identity` an IAM-authorized request carries; Cognito's are null. */
export function apiGatewayIdentity(fields: {
  userArn: string | null;
  caller: string | null;
  accountId: string | null;
  sourceIp: string;
  userAgent: string | null;
  accessKey?: string | null;
  user?: string | null;
}): APIGatewayEventIdentity {
  return {
    accessKey: fields.accessKey ?? null,
    accountId: fields.accountId,
    apiKey: null,
    apiKeyId: null,
    caller: fields.caller,
    clientCert: null,
    cognitoAuthenticationProvider: null,
    cognitoAuthenticationType: null,
    cognitoIdentityId: null,
    cognitoIdentityPoolId: null,
    principalOrgId: null,
    sourceIp: fields.sourceIp,
    user: fields.user ?? null,
    userAgent: fields.userAgent,
    userArn: fields.userArn,
  };
}

/** The API Gateway resource a request path maps to: `/client/` is `/client`; unknown paths stay as they are. */
export function resourceOf(path: string): string {
  const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  return KNOWN_RESOURCES.has(trimmed) ? trimmed : path;
}

/** Builds the REST API (v1) Lambda proxy event API Gateway would send for this request. */
export function toApiGatewayEvent(input: ApiGatewayEventInput): APIGatewayProxyEvent {
  const stage = input.stage ?? 'local';
  const url = new URL(input.url, 'http://localhost');
  const path = url.pathname;
  const resource = resourceOf(path);
  const method = input.method.toUpperCase();
  const requestTimeEpoch = input.requestTimeEpoch ?? Date.now();

  const query: Record<string, string> = {};
  const multiQuery: Record<string, string[]> = {};
  for (const [key, value] of url.searchParams) {
    query[key] = value; // the last value wins, as in API Gateway
    const values = multiQuery[key];
    if (values) values.push(value);
    else multiQuery[key] = [value];
  }
  const hasQuery = Object.keys(query).length > 0;

  const { single, multi } = buildHeaders(input.headers, input.rawHeaders);

  let body: string | null = null;
  let isBase64Encoded = false;
  if (input.body.length > 0) {
    if (isUtf8(input.body)) {
      body = input.body.toString('utf8');
    } else {
      body = input.body.toString('base64');
      isBase64Encoded = true;
    }
  }

  const identity = input.identity;
  const hasCaller = identity !== null && identity.userArn !== null;
  const userAgent = single['user-agent'] ?? input.headers['user-agent'] ?? null;

  return {
    resource,
    path,
    httpMethod: method,
    headers: single,
    multiValueHeaders: multi,
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? multiQuery : null,
    pathParameters: null,
    stageVariables: null,
    body,
    isBase64Encoded,
    requestContext: {
      accountId: LOCAL_ACCOUNT_ID,
      apiId: 'local',
      authorizer: undefined,
      domainName: input.headers.host ?? 'localhost',
      domainPrefix: (input.headers.host ?? 'localhost').split('.')[0],
      extendedRequestId: randomBytes(8).toString('base64url'),
      httpMethod: method,
      identity: apiGatewayIdentity({
        accessKey: hasCaller ? (identity.accessKey ?? 'ASIALOCALACCESSKEY001') : null,
        accountId: identity?.accountId ?? null,
        caller: identity?.caller ?? null,
        sourceIp: input.sourceIp ?? '127.0.0.1',
        user: identity?.user ?? identity?.caller ?? null,
        userAgent,
        userArn: identity?.userArn ?? null,
      }),
      path: `/${stage}${path}`,
      protocol: 'HTTP/1.1',
      requestId: input.requestId,
      requestTime: formatRequestTime(requestTimeEpoch),
      requestTimeEpoch,
      resourceId: createHash('sha256').update(resource).digest('hex').slice(0, 6),
      resourcePath: resource,
      stage,
    },
  };
}

export interface LambdaContextOptions {
  requestId: string;
  timeoutMs: number;
  functionName?: string;
  memoryLimitInMB?: number;
  region?: string;
}

/** A Lambda `Context` whose `getRemainingTimeInMillis()` counts down from `timeoutMs`. */
export function createLambdaContext(opts: LambdaContextOptions): Context {
  const functionName = opts.functionName ?? 'affix-webhook-config-local';
  const region = opts.region ?? 'us-east-1';
  const deadline = Date.now() + opts.timeoutMs;
  const now = new Date();
  const day = `${now.getUTCFullYear()}/${pad(now.getUTCMonth() + 1)}/${pad(now.getUTCDate())}`;
  const unsupported = (name: string) => (): never => {
    throw new Error(`context.${name}() is not supported locally: return a promise from the handler`);
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:${LOCAL_ACCOUNT_ID}:function:${functionName}`,
    memoryLimitInMB: String(opts.memoryLimitInMB ?? 256),
    awsRequestId: opts.requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `${day}/[$LATEST]${randomBytes(16).toString('hex')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported('done'),
    fail: unsupported('fail'),
    succeed: unsupported('succeed'),
  };
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
  /** The Lambda timeout: the context's deadline, and when the local API gives up with 502. Default 10 s. */
  timeoutMs?: number;
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

/** One answered request, for an access log: names, numbers and ids only, never a body or a header value. */
export interface AccessEntry {
  requestId: string;
  method: string;
  /** The path without its query string. */
  path: string;
  /** The contract's route key, or null when no route matches. */
  route: string | null;
  status: number;
  latencyMs: number;
  /** `success`, or the slug of the problem answered (from its `type`), or `http-<status>`. */
  outcome: string;
  /** The verified caller's ARN, else its access key id; null when no caller was verified. */
  caller: string | null;
  /** The pool environment that served it (`x-local-environment-id`), if any. */
  environmentId: string | null;
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

/** The outcome of each answer sent, for the access log: set where the answer is written. */
const answeredOutcomes = new WeakMap<ServerResponse, string>();

/** `success` for a non-error status; else the problem slug of the body's `type`, or `http-<status>`. */
export function outcomeOf(status: number, body: string | null | undefined): string {
  if (status < 400) return 'success';
  try {
    const type = (JSON.parse(body ?? '') as { type?: unknown }).type;
    if (typeof type === 'string' && type.startsWith(PROBLEM_TYPE_PREFIX)) {
      return type.slice(PROBLEM_TYPE_PREFIX.length);
    }
  } catch {
    // Not a problem document: fall through to the status.
  }
  return `http-${status}`;
}

/** The status of a DEFAULT_* answer, whose contract entry has none. */
const DEFAULT_STATUS: Partial<Record<GatewayResponseType, number>> = { DEFAULT_4XX: 400, DEFAULT_5XX: 500 };

/**
 * A Lambda function error behind a proxy integration (the function threw, crashed, timed out before
 * the integration timeout, or returned a malformed result): API Gateway answers 502, under its default
 * 5XX Gateway Response. Only the 29 s integration timeout is `INTEGRATION_TIMEOUT` (504).
 */
function sendFunctionError(res: ServerResponse, requestId: string): void {
  sendGatewayProblem(res, 'DEFAULT_5XX', requestId, {}, 502);
}

/** API Gateway's own answer: the contract's problem document, as the deployed Gateway Response sends it. */
function sendGatewayProblem(
  res: ServerResponse,
  responseType: GatewayResponseType,
  requestId: string,
  extra: Record<string, string> = {},
  /** For a DEFAULT_* type: the status API Gateway answers with (its entry has none). */
  status?: number,
): void {
  if (res.headersSent || res.destroyed) return;
  const problem = gatewayProblem(responseType);
  answeredOutcomes.set(res, problem.slug);
  const payload = Buffer.from(JSON.stringify(gatewayProblemDocument(problem, requestId)), 'utf8');
  res.writeHead(problem.status ?? status ?? DEFAULT_STATUS[responseType] ?? 500, {
    'content-type': 'application/problem+json',
    'content-length': String(payload.length),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'x-amzn-requestid': requestId,
    ...extra,
  });
  res.end(payload);
}

type Admission =
  | { ok: true; identity: LocalIdentity | null }
  | { ok: false; responseType: GatewayResponseType };

/**
 * API Gateway's checks before the integration, in its order: the route must exist (an unknown route
 * or method is `MISSING_AUTHENTICATION_TOKEN`, signed or not), the signature must verify, and the
 * signer's group must be allowed the route (the stack's resource policy, from the same contract).
 */
async function admit(
  req: IncomingMessage,
  body: Buffer,
  signers: readonly LocalSigner[],
  now: number,
  refused: (responseType: GatewayResponseType, reason: string) => void,
): Promise<Admission> {
  const method = req.method ?? 'GET';
  const target = req.url ?? '/';
  const route = findRoute(method, resourceOf(new URL(target, 'http://localhost').pathname));
  if (route === undefined) {
    refused('MISSING_AUTHENTICATION_TOKEN', `no route ${method} ${target.split('?')[0]}`);
    return { ok: false, responseType: 'MISSING_AUTHENTICATION_TOKEN' };
  }
  const verified = await verifySigV4({ method, target, rawHeaders: req.rawHeaders, body }, { signers, now });
  if (!verified.ok) {
    refused(verified.responseType, verified.reason);
    return { ok: false, responseType: verified.responseType };
  }
  if (!groupMayCall(verified.signer.group, routeKeyOf(route))) {
    refused(
      'ACCESS_DENIED',
      `${verified.signer.accessKeyId} (${verified.signer.group}) may not call ${routeKeyOf(route)}`,
    );
    return { ok: false, responseType: 'ACCESS_DENIED' };
  }
  return { ok: true, identity: verified.signer.identity };
}

function isProxyResult(value: unknown): value is APIGatewayProxyResult {
  if (typeof value !== 'object' || value === null) return false;
  const result = value as Record<string, unknown>;
  return (
    Number.isInteger(result.statusCode) &&
    (result.statusCode as number) >= 100 &&
    (result.statusCode as number) <= 599 &&
    (result.body === undefined || result.body === null || typeof result.body === 'string')
  );
}

/** Writes the proxy result like API Gateway: merges `headers` into `multiValueHeaders`, decodes base64 bodies. */
function writeProxyResult(res: ServerResponse, result: APIGatewayProxyResult, requestId: string): void {
  const merged = new Map<string, { name: string; values: string[] }>();
  const add = (name: string, value: boolean | number | string): void => {
    const key = name.toLowerCase();
    const entry = merged.get(key);
    if (!entry) merged.set(key, { name, values: [String(value)] });
    else if (!entry.values.includes(String(value))) entry.values.push(String(value));
  };
  for (const [name, values] of Object.entries(result.multiValueHeaders ?? {})) {
    for (const value of values) add(name, value);
  }
  for (const [name, value] of Object.entries(result.headers ?? {})) add(name, value);

  const raw = result.body ?? '';
  const payload = result.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');

  // Validate every header before sending anything, so a bad one still yields a clean 502.
  const headers: [string, string | string[]][] = [];
  for (const { name, values } of merged.values()) {
    const lower = name.toLowerCase();
    if (lower === 'content-length' || lower === 'transfer-encoding' || lower === 'connection') continue;
    headers.push([name, values.length === 1 ? (values[0] as string) : values]);
  }
  if (!merged.has('content-type')) headers.push(['content-type', 'application/json']);
  headers.push(['content-length', String(payload.length)]);
  headers.push(['x-amzn-requestid', requestId]);
  for (const [name, value] of headers) res.setHeader(name, value);
  answeredOutcomes.set(res, outcomeOf(result.statusCode, result.isBase64Encoded ? null : result.body));
  res.statusCode = result.statusCode;
  res.end(payload);
}

/** Starts the local API on 127.0.0.1 (port 0 = ephemeral). */
export async function startLocalApi(options: LocalApiOptions): Promise<LocalApi> {
  const signers = options.signers ?? LOCAL_SIGNERS;
  const now = options.now ?? Date.now;
  const timeoutMs = options.timeoutMs ?? 10_000;
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
  const lifecycle = new ServerLifecycle();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const requestId = randomUUID();
    const startedAt = performance.now();
    let caller: string | null = null;
    if (options.onAccess !== undefined) {
      const onAccess = options.onAccess;
      res.once('finish', () => {
        const method = req.method ?? 'GET';
        const path = new URL(req.url ?? '/', 'http://localhost').pathname;
        const route = findRoute(method, resourceOf(path));
        const environmentId = res.getHeader(ENVIRONMENT_ID_HEADER);
        onAccess({
          requestId,
          method,
          path,
          route: route === undefined ? null : routeKeyOf(route),
          status: res.statusCode,
          latencyMs: performance.now() - startedAt,
          outcome: answeredOutcomes.get(res) ?? `http-${res.statusCode}`,
          caller,
          environmentId: typeof environmentId === 'string' ? environmentId : null,
        });
      });
    }
    const read = await readCapped(req, maxBodyBytes);
    if (!read.ok) {
      sendGatewayProblem(res, 'REQUEST_TOO_LARGE', requestId, { connection: 'close' });
      return;
    }
    let identity: LocalIdentity | null;
    if (options.testOnlyIdentity !== undefined) {
      identity = options.testOnlyIdentity;
    } else {
      const admission = await admit(req, read.body, signers, now(), (type, reason) =>
        onRefused(type, reason, requestId),
      );
      if (!admission.ok) {
        sendGatewayProblem(res, admission.responseType, requestId);
        return;
      }
      identity = admission.identity;
    }
    caller = identity?.userArn ?? identity?.accessKey ?? null;
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

    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = lifecycle.setTimer(() => resolve('timeout'), timeoutMs);
    });
    let outcome: APIGatewayProxyResult | 'timeout';
    try {
      outcome = await Promise.race([Promise.resolve().then(() => options.handler(event, context)), timedOut]);
    } catch (error) {
      onError('handler threw', error, requestId);
      sendFunctionError(res, requestId);
      return;
    } finally {
      lifecycle.clearTimer(timer);
    }
    if (outcome === 'timeout') {
      onError(`Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`, undefined, requestId);
      if (timeoutMs >= API_GATEWAY_INTEGRATION_TIMEOUT_MS)
        sendGatewayProblem(res, 'INTEGRATION_TIMEOUT', requestId);
      else sendFunctionError(res, requestId);
      return;
    }
    if (!isProxyResult(outcome)) {
      onError('Malformed Lambda proxy response', JSON.stringify(outcome)?.slice(0, 200), requestId);
      sendFunctionError(res, requestId);
      return;
    }
    if (res.destroyed) return;
    try {
      writeProxyResult(res, outcome, requestId);
    } catch (error) {
      onError('Malformed Lambda proxy response', error, requestId);
      for (const name of res.getHeaderNames()) res.removeHeader(name);
      sendFunctionError(res, requestId);
    }
  };

  const server = createServer((req, res) => {
    res.on('error', () => {});
    handle(req, res).catch((error: unknown) => {
      onError('local API failure', error, 'n/a');
      if (!res.headersSent && !res.destroyed) sendGatewayProblem(res, 'DEFAULT_5XX', randomUUID());
      else res.destroy();
    });
  });
  const { url, port } = await lifecycle.listen(server, options.port);

  return {
    url,
    port,
    close: () => lifecycle.close(server),
  };
}

export interface LocalHandlerEnvOptions {
  affixBaseUrl: string;
  ssmUrl: string;
  /** The local DynamoDB engine (see `local/dynamodb.ts`) and its state table. */
  dynamodbUrl: string;
  stateTableName: string;
  clientIdParameter?: string;
  clientSecretParameter?: string;
  etagKeyParameter?: string;
}

/** The environment the handler expects, wired to local stand-ins (fake AWS credentials, local SSM and DynamoDB). */
export function localHandlerEnv(opts: LocalHandlerEnvOptions): Record<string, string> {
  return {
    AFFIX_BASE_URL: opts.affixBaseUrl,
    AFFIX_CLIENT_ID_PARAMETER: opts.clientIdParameter ?? DEFAULT_CLIENT_ID_PARAMETER,
    AFFIX_CLIENT_SECRET_PARAMETER: opts.clientSecretParameter ?? DEFAULT_CLIENT_SECRET_PARAMETER,
    ETAG_KEY_PARAMETER: opts.etagKeyParameter ?? DEFAULT_ETAG_KEY_PARAMETER,
    AWS_ENDPOINT_URL_SSM: opts.ssmUrl,
    AWS_ENDPOINT_URL_DYNAMODB: opts.dynamodbUrl,
    STATE_TABLE_NAME: opts.stateTableName,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    // As Lambda sets it for on-demand environments; without it Powertools reports cold_start false always.
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
    POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
    STAGE: 'local',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}
