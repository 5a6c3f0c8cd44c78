/**
 * The typed client of our API, for other Lambdas and services.
 *
 * Every request is signed with SigV4 for `execute-api` (aws4fetch's `AwsV4Signer`; its `AwsClient` is
 * not used because it retries up to 10 times by default). Credentials come from the default AWS chain
 * (`defaultProvider()` of `@aws-sdk/credential-provider-node`: in a Lambda, its environment), resolved on
 * the first call and cached and refreshed by that provider. Exactly one HTTP request per call: no
 * retries. Each call has a timeout (`timeoutMs`, default 30 s) and takes an `AbortSignal`. Every
 * failure is a {@link ClientConfigError}.
 *
 * @example
 * const api = createClientConfigClient({ baseUrl: process.env.CLIENT_CONFIG_URL, region: 'eu-west-1' });
 * const { client, etag } = await api.getClient();
 * await api.updateClient({ webhook_uri: 'https://hooks.example.com/v2' }, { ifMatch: etag });
 */
import { isUtf8 } from 'node:buffer';
import { gzipSync } from 'node:zlib';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { AwsV4Signer } from 'aws4fetch';
import * as v from 'valibot';
import { SIGNATURE_HEADER as WEBHOOK_SIGNATURE_HEADER } from '../functions/contract/headers.ts';
import { type HttpMethod, type OperationId, routeOf } from '../functions/contract/routes.ts';
import { checkUrl, URL_RULE_MESSAGES } from '../functions/contract/urls.ts';
import { ClientConfigError, clientError, errorFromResponse } from './errors.ts';
import {
  type ChangePage,
  ChangePageSchema,
  type PatchClientRequest,
  type PublicClient,
  PublicClientSchema,
  type ReplaceSecretsRequest,
  WebhookVerificationSchema,
} from './schemas.ts';

/** AWS credentials as the SDK's providers return them (`AwsCredentialIdentity`). */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string | undefined;
  readonly expiration?: Date | undefined;
}

/** Any SDK credential provider (`fromTemporaryCredentials()`, `defaultProvider()`, ...) fits. */
export type AwsCredentialsProvider = () => Promise<AwsCredentials>;

export interface ClientConfigClientOptions {
  /** The stage URL, e.g. `https://abc123defg.execute-api.eu-west-1.amazonaws.com/prod`. */
  baseUrl: string;
  /** The API's region, part of the signature's scope. */
  region: string;
  /** Static credentials or a provider. Default: the default AWS credential chain. */
  credentials?: AwsCredentials | AwsCredentialsProvider;
  /** Default timeout of each call, from the first byte of work to the last byte of the answer. */
  timeoutMs?: number;
  /** The signing clock. Only tests need another one. */
  now?: () => Date;
}

export interface CallOptions {
  /** Aborts the call; a `TimeoutError` reason (`AbortSignal.timeout()`) counts as a timeout. */
  signal?: AbortSignal;
  /** This call's timeout instead of the client's. */
  timeoutMs?: number;
}

export interface WriteOptions extends CallOptions {
  /** An `ETag` from an earlier answer (or `*`): the write is refused (412) if the client changed since. */
  ifMatch?: string;
}

export interface ClientConfigResult {
  /** The client with every secret masked. */
  client: PublicClient;
  /** Its entity tag, for `ifMatch` of the next write. */
  etag: string;
}

export interface ClientConfigClient {
  /** `GET /client`. */
  getClient(options?: CallOptions): Promise<ClientConfigResult>;
  /** `PATCH /client` (JSON merge patch): only the fields given change; `webhook_uri: null` turns webhooks off. */
  updateClient(patch: PatchClientRequest, options?: WriteOptions): Promise<ClientConfigResult>;
  /** `PUT /client/secrets`: the new list must contain the secret the proxy authenticates with. */
  replaceSecrets(
    secrets: ReplaceSecretsRequest['client_secret'],
    options?: WriteOptions,
  ): Promise<ClientConfigResult>;
  /**
   * `POST /webhooks/verify` (the `verifiers` group): whether an Affix delivery's `x-affix-api-signature`
   * matches one of the client's current secrets. Pass the body exactly as received (bytes, or the
   * string it decoded to). A mismatch throws `ClientConfigError` with slug `signature-mismatch`.
   */
  verifyWebhook(
    body: Uint8Array | string,
    signature: string,
    options?: CallOptions,
  ): Promise<WebhookVerified>;
  /**
   * `GET /client/changes`: one page of the change journal, newest first (`limit` 1-100, default 20).
   * Pass the answer's `next_cursor` as `cursor` for the next, older page; a cursor this API did not
   * issue throws `ClientConfigError` with slug `invalid-cursor`.
   */
  listChanges(query?: ChangesQuery, options?: CallOptions): Promise<ChangePage>;
}

/** The query of {@link ClientConfigClient.listChanges}. */
export interface ChangesQuery {
  /** Entries per page, an integer from 1 to 100 (default 20). */
  limit?: number;
  /** `next_cursor` of the previous page. */
  cursor?: string;
}

export type WebhookVerified = v.InferOutput<typeof WebhookVerificationSchema>;

export const DEFAULT_TIMEOUT_MS = 30_000;
/** Our answers are a few KiB; anything far larger is not from our API. */
const MAX_RESPONSE_BYTES = 1024 * 1024;
const ACCEPT = 'application/json, application/problem+json';

function validTimeout(name: string, value: number | undefined): number | undefined {
  if (value !== undefined && !(Number.isFinite(value) && value > 0)) {
    throw new TypeError(`${name} must be a positive number of milliseconds`);
  }
  return value;
}

/**
 * The stage URL without a trailing slash, under the contract's URL rule (the one the function and the
 * stage files use): https://, or http:// only on the literal loopback hosts (npm start); no
 * credentials, query or fragment; written the way URL parsers read it.
 */
function parseBaseUrl(baseUrl: string | undefined): string {
  const example =
    'the API stage URL, e.g. https://abc123.execute-api.eu-west-1.amazonaws.com/prod (npm start: http://127.0.0.1:3000)';
  if (baseUrl === undefined || (baseUrl as unknown) === null)
    throw new TypeError(`baseUrl is missing: pass ${example}`);
  if (typeof baseUrl !== 'string') throw new TypeError(`baseUrl must be a string: ${example}`);
  if (baseUrl.trim() === '') {
    throw new TypeError(`baseUrl is empty (an unset environment variable?): pass ${example}`);
  }
  const result = checkUrl(baseUrl, { allowLoopbackHttp: true });
  if (!result.ok) throw new TypeError(`baseUrl ${URL_RULE_MESSAGES[result.reason]}`);
  return result.url.replace(/\/+$/, '');
}

/**
 * Text up to 1 MiB goes as text: API Gateway passes it to the function unchanged. Bytes that are not
 * UTF-8, and anything larger (gzip-compressed), go as `application/octet-stream`, which the stage
 * lists as a binary media type (base64 in the event, so exact bytes arrive).
 */
function deliveryRequest(body: Uint8Array | string): {
  payload: string | Uint8Array;
  contentType: string;
  headers: Record<string, string>;
} {
  const size = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
  if (size > GZIP_DELIVERIES_ABOVE_BYTES) {
    // Large deliveries go compressed: as text they would outgrow Lambda's 6 MB event once escaped.
    return {
      payload: gzipSync(body),
      contentType: 'application/octet-stream',
      headers: { 'content-encoding': 'gzip' },
    };
  }
  const text = typeof body === 'string' || isUtf8(body);
  return {
    payload: body,
    contentType: text ? 'text/plain; charset=utf-8' : 'application/octet-stream',
    headers: {},
  };
}

/** Deliveries larger than this are sent with `Content-Encoding: gzip`. */
export const GZIP_DELIVERIES_ABOVE_BYTES = 1024 * 1024;

/** SigV4's `x-amz-date` form: `20250102T030405Z`. */
function amzDate(date: Date): string {
  return date.toISOString().replace(/[:-]|\.\d{3}/g, '');
}

/** Rejects with the signal's reason when it aborts first. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

class ResponseTooLargeError extends Error {
  override readonly name = 'ResponseTooLargeError';
}

/** The body as text, refusing (without buffering) anything over the limit. */
async function readText(response: Response): Promise<string> {
  if (Number(response.headers.get('content-length') ?? 0) > MAX_RESPONSE_BYTES) {
    await response.body?.cancel();
    throw new ResponseTooLargeError(`more than ${MAX_RESPONSE_BYTES} bytes`);
  }
  if (response.body === null) return '';
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of response.body) {
    total += chunk.byteLength;
    if (total > MAX_RESPONSE_BYTES) throw new ResponseTooLargeError(`more than ${MAX_RESPONSE_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseJsonAnswer(status: number, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw clientError('invalid-response', 'The answer is not JSON.', { status });
  }
}

function verificationResult(status: number, _headers: Headers, text: string): WebhookVerified {
  const parsed = v.safeParse(WebhookVerificationSchema, parseJsonAnswer(status, text));
  if (!parsed.success) {
    throw clientError('invalid-response', `The answer is not a verification: ${v.summarize(parsed.issues)}`, {
      status,
    });
  }
  return parsed.output;
}

function changePageResult(status: number, _headers: Headers, text: string): ChangePage {
  const parsed = v.safeParse(ChangePageSchema, parseJsonAnswer(status, text));
  if (!parsed.success) {
    throw clientError(
      'invalid-response',
      `The answer is not a page of changes: ${v.summarize(parsed.issues)}`,
      {
        status,
      },
    );
  }
  return parsed.output;
}

/** `?limit=..&cursor=..` of the given members, or nothing. */
function queryString(query: ChangesQuery): string {
  const params = new URLSearchParams();
  if (query.limit !== undefined) params.set('limit', String(query.limit));
  if (query.cursor !== undefined) params.set('cursor', query.cursor);
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

function successResult(status: number, headers: Headers, text: string): ClientConfigResult {
  const etag = headers.get('etag');
  const json = parseJsonAnswer(status, text);
  const parsed = v.safeParse(PublicClientSchema, json);
  if (!parsed.success) {
    throw clientError('invalid-response', `The answer is not a client: ${v.summarize(parsed.issues)}`, {
      status,
    });
  }
  if (etag === null || etag === '') {
    throw clientError('invalid-response', 'The answer carries no ETag header.', { status });
  }
  return { client: parsed.output, etag };
}

/** What a thrown value becomes; `ClientConfigError`s pass through unchanged. */
function toClientConfigError(error: unknown, signal: AbortSignal, timeout: AbortSignal, timeoutMs: number) {
  if (error instanceof ClientConfigError) return error;
  if (signal.aborted) {
    const reason: unknown = signal.reason;
    const timedOut = timeout.aborted || (reason instanceof DOMException && reason.name === 'TimeoutError');
    if (!timedOut) return clientError('aborted', 'The request was aborted by its signal.', { cause: reason });
    const detail = timeout.aborted ? `No answer within ${timeoutMs} ms.` : 'The signal timed out.';
    return clientError('timeout', detail, { cause: reason });
  }
  const code = error instanceof Error ? (error.cause as { code?: unknown } | undefined)?.code : undefined;
  return clientError(
    'network-error',
    `The API could not be reached${typeof code === 'string' ? ` (${code})` : ''}.`,
    { cause: error },
  );
}

/** Where credentials come from, for the error that says none were found (names only, never a value). */
const CREDENTIALS_HELP =
  'in a Lambda its role provides them; elsewhere set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or AWS_PROFILE, ' +
  "or pass `credentials`; against npm start e.g. { accessKeyId: 'local-reader', secretAccessKey: 'local-reader-secret' }";

/** Creates the client. Throws a `TypeError` at once for a bad `baseUrl`, `region` or `timeoutMs`. */
export function createClientConfigClient(options: ClientConfigClientOptions): ClientConfigClient {
  const baseUrl = parseBaseUrl(options.baseUrl);
  const region = options.region?.trim();
  if (!region) throw new TypeError('region is required, e.g. eu-west-1');
  const defaultTimeoutMs = validTimeout('timeoutMs', options.timeoutMs) ?? DEFAULT_TIMEOUT_MS;
  const now = options.now ?? (() => new Date());
  const { credentials } = options;
  // defaultProvider() does nothing until called; it then caches and refreshes what it found.
  const provider: AwsCredentialsProvider =
    credentials === undefined
      ? defaultProvider()
      : typeof credentials === 'function'
        ? credentials
        : () => Promise.resolve(credentials);

  async function resolveCredentials(signal: AbortSignal): Promise<AwsCredentials> {
    let resolved: AwsCredentials;
    try {
      resolved = await abortable(provider(), signal);
    } catch (error) {
      if (signal.aborted) throw error;
      throw clientError(
        'aws-credentials-unavailable',
        credentials === undefined
          ? `No AWS credentials found by the default chain (${CREDENTIALS_HELP}).`
          : 'The credentials provider passed as `credentials` failed (its error is the cause).',
        { cause: error },
      );
    }
    const missing = [
      ...(resolved?.accessKeyId ? [] : ['accessKeyId']),
      ...(resolved?.secretAccessKey ? [] : ['secretAccessKey']),
    ];
    if (missing.length > 0) {
      throw clientError(
        'aws-credentials-unavailable',
        `The AWS credentials have no ${missing.join(' and no ')} (${CREDENTIALS_HELP}).`,
      );
    }
    return resolved;
  }

  type RequestBody = { payload: string | Uint8Array; contentType: string };
  const jsonBody = (json: unknown, contentType: string): RequestBody => ({
    payload: JSON.stringify(json),
    contentType,
  });

  async function call<T>(
    { method, path }: { method: HttpMethod; path: string },
    body: RequestBody | undefined,
    callOptions: WriteOptions & { headers?: Record<string, string> },
    parse: (status: number, headers: Headers, text: string) => T,
  ): Promise<T> {
    const timeoutMs = validTimeout('timeoutMs', callOptions.timeoutMs) ?? defaultTimeoutMs;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = callOptions.signal ? AbortSignal.any([callOptions.signal, timeout]) : timeout;
    try {
      const aws = await resolveCredentials(signal);
      const payload = body?.payload;
      const headers: Record<string, string> = { accept: ACCEPT, ...callOptions.headers };
      if (body !== undefined) headers['content-type'] = body.contentType;
      if (callOptions.ifMatch !== undefined) headers['if-match'] = callOptions.ifMatch;
      const signed = await new AwsV4Signer({
        method,
        url: `${baseUrl}${path}`,
        headers,
        body: payload,
        accessKeyId: aws.accessKeyId,
        secretAccessKey: aws.secretAccessKey,
        sessionToken: aws.sessionToken,
        service: 'execute-api',
        region,
        datetime: amzDate(now()),
      }).sign();
      // A redirect would carry the signed request elsewhere: it is answered as an error instead.
      const response = await fetch(signed.url, {
        method,
        headers: signed.headers,
        body: payload,
        signal,
        redirect: 'manual',
      });
      const text = await readText(response).catch((error: unknown) => {
        if (!(error instanceof ResponseTooLargeError)) throw error;
        throw clientError('invalid-response', `The answer is too large (${error.message}).`, {
          status: response.status,
          cause: error,
        });
      });
      if (response.status < 200 || response.status >= 300) {
        throw errorFromResponse(response.status, response.headers, text);
      }
      return parse(response.status, response.headers, text);
    } catch (error) {
      throw toClientConfigError(error, signal, timeout, timeoutMs);
    }
  }

  // Method and path of each call from the contract's route table, by operation id.
  const route = (operationId: OperationId) => {
    const { method, path } = routeOf(operationId);
    return { method, path };
  };

  return {
    getClient: (callOptions = {}) => call(route('getClient'), undefined, callOptions, successResult),
    updateClient: (patch, callOptions = {}) =>
      call(
        route('updateClient'),
        jsonBody(patch, 'application/merge-patch+json'),
        callOptions,
        successResult,
      ),
    replaceSecrets: (secrets, callOptions = {}) =>
      call(
        route('replaceSecrets'),
        jsonBody({ client_secret: secrets }, 'application/json'),
        callOptions,
        successResult,
      ),
    verifyWebhook: (body, signature, callOptions = {}) => {
      const { headers, ...request } = deliveryRequest(body);
      return call(
        route('verifyWebhook'),
        request,
        { ...callOptions, headers: { ...headers, [WEBHOOK_SIGNATURE_HEADER]: signature } },
        verificationResult,
      );
    },
    listChanges: (query = {}, callOptions = {}) => {
      const { method, path } = route('listChanges');
      return call({ method, path: `${path}${queryString(query)}` }, undefined, callOptions, changePageResult);
    },
  };
}
