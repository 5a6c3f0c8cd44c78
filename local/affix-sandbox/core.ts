/**
 * The sandbox's request -> answer core, and the in-process `fetch` over it. The same core serves
 * HTTP (`listen`), so an in-process answer and an HTTP answer for the same state are the same bytes.
 * Routes: the management client path (Affix's GET and POST, after the rate limiter and any queued
 * fault), `GET /_sandbox/stats`, `POST /_sandbox/faults`, and webhook delivery (`/_sandbox/webhooks`).
 */
import * as v from 'valibot';
import { jsonResponse, jsonTextResponse } from '../json-reply.ts';
import { deliverWebhook, MAX_DELIVERY_BYTES, WEBHOOK_DELIVERY_PATH } from '../webhook-delivery.ts';
import { answerFault, type SandboxFault, SandboxNetworkError } from './faults.ts';
import { type ListeningSandbox, type SandboxIncoming, serveSandbox } from './http.ts';
import { createRateLimiter, type RateLimitsConfig } from './rate-limiter.ts';
import {
  type AffixClientState,
  CLIENT_PATH,
  checkExtraFields,
  clientText,
  copyClient,
  defaultSandboxClient,
  extraFieldTexts,
  isAuthorized,
  parseBasicAuth,
  pickExtraFields,
  validateClientRequest,
} from './state.ts';

export const STATS_PATH = '/_sandbox/stats';
export const FAULTS_PATH = '/_sandbox/faults';

export interface SandboxRequest {
  method: string;
  path: string;
  /** Whether the Authorization header matched the client's id and one of its current secrets. */
  authorized: boolean;
  /** The parsed JSON request body (POST only, when it parsed). */
  body?: unknown;
  /** The request body's text as sent (POST only, when it parsed). */
  bodyText?: string;
  at: number;
}

export interface SandboxStats {
  /** Requests that reached the client path, by method (429s of the limiter and of faults included). */
  requests: { GET: number; POST: number };
  /** Requests the rate limiter refused. */
  rateLimited: number;
}

/** A request the sandbox's rate limiter refused with 429. */
export interface SandboxRateLimited {
  method: string;
  path: string;
  /** Which limit: per IP address or per `client_id`. */
  limit: 'ip' | 'client_id';
  retryAfterSeconds: number;
}

export interface InjectFaultOptions {
  /** How many matching requests get this fault (default 1). */
  times?: number;
  /** Only requests with this method match (default: both). */
  method?: 'GET' | 'POST';
}

export interface AffixSandboxOptions {
  client?: AffixClientState;
  /**
   * Delay added before every answer, so concurrent writes race as they do against the real API
   * (default 0; ~50 ms is a realistic Affix round trip). `npm start` reads `AFFIX_SANDBOX_LATENCY_MS`.
   */
  latencyMs?: number;
  /** Fields of the client the proxy does not model (see `state.ts`). JSON values only. */
  extraFields?: Record<string, unknown>;
  /**
   * The whole client as JSON text, instead of `client` and `extraFields`: its unmodelled members keep
   * their text byte for byte (big or precise numbers, `-0`, escapes), as every answer shows them.
   */
  clientText?: string;
  /** Affix's rate limits (`rate-limiter.ts`): off by default; `{}` for the documented numbers. */
  rateLimits?: false | Partial<RateLimitsConfig>;
  /**
   * Each request the rate limiter refuses (`npm start` prints a line naming `AFFIX_SANDBOX_RATE_LIMITS`,
   * since a newcomer's 429 is most often the sandbox's limit, not the proxy).
   */
  onRateLimited?: (refusal: SandboxRateLimited) => void;
  /** The clock of the limiter and the request log (default `Date.now`). */
  clock?: () => number;
  /** The caller's IP as the in-process `fetch` reports it to the limiter (default 127.0.0.1). */
  remoteAddress?: string;
}

/** The sandbox, in-process; `listen` serves the same core over HTTP. */
export interface InProcessAffixSandbox {
  /** Answers like Affix, without a socket; any origin works (only path and query are looked at). */
  readonly fetch: typeof fetch;
  /** A deep copy of the current client. */
  readonly client: AffixClientState;
  setClient(state: AffixClientState): void;
  /** A deep copy of the unmodelled fields the client has now (see `extraFields`). */
  readonly extraFields: Record<string, unknown>;
  /** Replaces the unmodelled fields; their names join the sandbox's schema for good. */
  setExtraFields(fields: Record<string, unknown>): void;
  /** The client as a GET answers it now: JSON text, unmodelled members as they were sent. */
  readonly clientText: string;
  /** Replaces the client with this JSON text (see the `clientText` option). */
  setClientText(text: string): void;
  /** Log of requests to the client path, oldest first. Never holds the Authorization value. */
  readonly requests: readonly SandboxRequest[];
  resetRequests(): void;
  injectFault(fault: SandboxFault, opts?: InjectFaultOptions): void;
  clearFaults(): void;
  /** A copy of the counters `GET /_sandbox/stats` answers. */
  readonly stats: SandboxStats;
  resetStats(): void;
  /** Serves this sandbox on 127.0.0.1 (`port` 0 or none: any free port). */
  listen(port?: number): Promise<ListeningSandbox>;
  /** Ends every hang and stops every listener. */
  close(): Promise<void>;
}

const MAX_REQUEST_BYTES = 1024 * 1024;

/** `POST /_sandbox/faults`: the next `count` client requests get `status` (and `Retry-After`). */
const FaultRequestSchema = v.strictObject({
  status: v.pipe(v.number(), v.integer(), v.minValue(400), v.maxValue(599)),
  retryAfter: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(86_400))),
  count: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(10_000)), 1),
  method: v.optional(v.picklist(['GET', 'POST'])),
});

interface QueuedFault {
  fault: SandboxFault;
  remaining: number;
  method: 'GET' | 'POST' | undefined;
}

export function createAffixSandbox(options: AffixSandboxOptions = {}): InProcessAffixSandbox {
  let client = copyClient(options.client ?? defaultSandboxClient());
  let extras = checkExtraFields(options.extraFields ?? {});
  const extraSchema = new Set(extras.keys());
  const loadText = (text: string): void => {
    const parsed = JSON.parse(text) as Record<string, unknown>;
    const result = validateClientRequest(parsed);
    if (!result.ok || typeof parsed.client_id !== 'string') {
      throw new RangeError(`not an Affix client: ${result.ok ? 'client_id must be a string' : result.error}`);
    }
    client = { client_id: parsed.client_id, ...result.value };
    if (!Object.hasOwn(parsed, 'webhook_uri')) delete client.webhook_uri;
    extras = extraFieldTexts(text);
    for (const name of extras.keys()) extraSchema.add(name);
  };
  if (options.clientText !== undefined) loadText(options.clientText);
  const viewText = (override: Partial<AffixClientState> = {}): string =>
    clientText({ ...client, ...override }, extras);
  const latencyMs = options.latencyMs ?? 0;
  const clock = options.clock ?? Date.now;
  const limiter =
    options.rateLimits === undefined || options.rateLimits === false
      ? undefined
      : createRateLimiter(options.rateLimits, clock);
  let requests: SandboxRequest[] = [];
  let faults: QueuedFault[] = [];
  const stats: SandboxStats = { requests: { GET: 0, POST: 0 }, rateLimited: 0 };
  const closing = new AbortController();
  const listeners: ListeningSandbox[] = [];

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      if (ms <= 0 || closing.signal.aborted) return resolve();
      const done = (): void => {
        clearTimeout(timer);
        closing.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      closing.signal.addEventListener('abort', done, { once: true });
    });

  const takeFault = (method: string): SandboxFault | undefined => {
    const index = faults.findIndex((entry) => entry.method === undefined || entry.method === method);
    const entry = faults[index];
    if (!entry) return undefined;
    entry.remaining -= 1;
    if (entry.remaining <= 0) faults.splice(index, 1);
    return entry.fault;
  };

  const injectFault = (fault: SandboxFault, opts: InjectFaultOptions = {}): void => {
    const times = opts.times ?? 1;
    if (!Number.isInteger(times) || times < 1) throw new RangeError('times must be a positive integer');
    faults.push({ fault, remaining: times, method: opts.method });
  };

  const answerClient = (
    incoming: SandboxIncoming,
    parsed: { authorized: boolean; json?: unknown; jsonError?: string },
  ): Response => {
    if (!parsed.authorized) {
      const message =
        incoming.headers.get('authorization') === null
          ? 'Missing Authorization header'
          : 'Your password is incorrect';
      return jsonResponse(401, {
        error: 'authentication_error',
        message,
        code: 'incorrect_username_or_password',
      });
    }
    if (incoming.method === 'GET') return jsonTextResponse(200, viewText());
    if (incoming.bodyBytes > MAX_REQUEST_BYTES)
      return jsonResponse(413, { message: 'Request body too large' });
    const contentType = (incoming.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase();
    if (contentType !== 'application/json') {
      return jsonResponse(400, {
        message: 'Bad Request',
        validation_error: 'content-type must be application/json',
      });
    }
    if (parsed.jsonError !== undefined) {
      return jsonResponse(400, { message: 'Bad Request', validation_error: parsed.jsonError });
    }
    const result = validateClientRequest(parsed.json);
    if (!result.ok) return jsonResponse(400, { message: 'Bad Request', validation_error: result.error });
    client = { client_id: client.client_id, ...result.value };
    extras = pickExtraFields(incoming.body.toString('utf8'), extraSchema);
    return jsonTextResponse(200, viewText());
  };

  const clientPath = async (incoming: SandboxIncoming, path: string): Promise<Response> => {
    const method = incoming.method;
    if (method !== 'GET' && method !== 'POST') {
      await sleep(latencyMs);
      return jsonResponse(405, { message: 'Method Not Allowed' }, { allow: 'GET, POST' });
    }
    stats.requests[method] += 1;
    const authorization = incoming.headers.get('authorization');
    const parsed: { authorized: boolean; json?: unknown; jsonError?: string } = {
      authorized: isAuthorized(authorization, client),
    };
    const entry: SandboxRequest = { method, path, authorized: parsed.authorized, at: clock() };
    const tooLarge = incoming.bodyBytes > MAX_REQUEST_BYTES;
    const bodyText = tooLarge ? '' : incoming.body.toString('utf8');
    if (method === 'POST' && bodyText.length > 0) {
      try {
        parsed.json = JSON.parse(bodyText);
        entry.body = parsed.json;
        entry.bodyText = bodyText;
      } catch (error) {
        parsed.jsonError = `malformed JSON: ${(error as Error).message}`;
      }
    } else if (method === 'POST' && !tooLarge) {
      parsed.jsonError = 'request body is required';
    }
    requests.push(entry);

    const decision = limiter?.check({
      method,
      path,
      ip: incoming.remoteAddress,
      clientId: parseBasicAuth(authorization)?.id,
    });
    if (decision !== undefined && !decision.admitted) {
      stats.rateLimited += 1;
      options.onRateLimited?.({
        method,
        path,
        limit: decision.limit,
        retryAfterSeconds: decision.retryAfterSeconds,
      });
      await sleep(latencyMs);
      return jsonResponse(
        429,
        {
          message:
            decision.limit === 'ip'
              ? 'Too many requests from this IP address, try again later'
              : 'Too many requests for this client_id, try again later',
        },
        { 'retry-after': String(decision.retryAfterSeconds) },
      );
    }

    const fault = takeFault(method);
    await sleep(latencyMs);
    if (fault === undefined) return answerClient(incoming, parsed);
    return answerFault(fault, {
      client: copyClient(client),
      viewText,
      authorization,
      bodyText,
      signal: AbortSignal.any([incoming.signal, closing.signal]),
      sleep,
      answerNormally: () => answerClient(incoming, parsed),
    });
  };

  const faultsPath = (incoming: SandboxIncoming): Response => {
    if (incoming.method !== 'POST') {
      return jsonResponse(405, { message: 'Method Not Allowed' }, { allow: 'POST' });
    }
    let body: unknown;
    try {
      body = JSON.parse(incoming.body.toString('utf8'));
    } catch {
      return jsonResponse(400, { message: 'Bad Request', validation_error: 'body must be JSON' });
    }
    const result = v.safeParse(FaultRequestSchema, body);
    if (!result.success) {
      return jsonResponse(400, { message: 'Bad Request', validation_error: v.summarize(result.issues) });
    }
    const { status, retryAfter, count, method } = result.output;
    injectFault(
      { kind: 'status', status, ...(retryAfter === undefined ? {} : { retryAfter: String(retryAfter) }) },
      { times: count, ...(method === undefined ? {} : { method }) },
    );
    return jsonResponse(200, { queued: result.output });
  };

  const answer = async (incoming: SandboxIncoming): Promise<Response> => {
    const url = new URL(incoming.target, 'http://sandbox.invalid');
    const path = url.pathname;
    if (path === WEBHOOK_DELIVERY_PATH) {
      if (incoming.method !== 'POST') {
        return jsonResponse(405, { message: 'Method Not Allowed' }, { allow: 'POST' });
      }
      if (incoming.bodyBytes > MAX_DELIVERY_BYTES)
        return jsonResponse(413, { message: 'Delivery too large' });
      const delivered = await deliverWebhook({
        body: incoming.body,
        secretIndex: url.searchParams.get('secret'),
        webhookUri: client.webhook_uri ?? null,
        secrets: client.client_secret,
      });
      return new Response(new Uint8Array(delivered.body), {
        status: delivered.status,
        headers: { ...delivered.headers, 'content-length': String(delivered.body.length) },
      });
    }
    if (path === STATS_PATH) {
      if (incoming.method !== 'GET') {
        return jsonResponse(405, { message: 'Method Not Allowed' }, { allow: 'GET' });
      }
      return jsonResponse(200, structuredClone(stats));
    }
    if (path === FAULTS_PATH) return faultsPath(incoming);
    if (path === CLIENT_PATH) return clientPath(incoming, path);
    await sleep(latencyMs);
    return jsonResponse(404, { message: 'Not Found' });
  };

  const inProcessFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    // The caller's own signal: a Request's signal follows it only through a weak reference, so once
    // the Request is collected (a hang keeps only the signal) it might never abort.
    const signal = init?.signal ?? request.signal;
    // Like fetch: a request aborted before it got an answer fails with the abort reason.
    if (signal.aborted) throw signal.reason;
    const body = Buffer.from(await request.arrayBuffer());
    if (signal.aborted) throw signal.reason;
    const url = new URL(request.url);
    try {
      return await answer({
        method: request.method,
        target: `${url.pathname}${url.search}`,
        headers: request.headers,
        body,
        bodyBytes: body.length,
        remoteAddress: options.remoteAddress ?? '127.0.0.1',
        signal,
      });
    } catch (error) {
      if (error instanceof SandboxNetworkError) {
        throw new TypeError('fetch failed', { cause: error });
      }
      throw error;
    }
  };

  return {
    fetch: inProcessFetch as typeof fetch,
    get client() {
      return copyClient(client);
    },
    setClient(state) {
      client = copyClient(state);
    },
    get extraFields() {
      const fields: Record<string, unknown> = {};
      for (const [name, text] of extras) {
        Object.defineProperty(fields, name, { value: JSON.parse(text), enumerable: true, writable: true });
      }
      return fields;
    },
    setExtraFields(fields) {
      extras = checkExtraFields(fields);
      for (const name of extras.keys()) extraSchema.add(name);
    },
    get clientText() {
      return viewText();
    },
    setClientText(text) {
      loadText(text);
    },
    get requests() {
      return requests;
    },
    resetRequests() {
      requests = [];
    },
    injectFault,
    clearFaults() {
      faults = [];
    },
    get stats() {
      return structuredClone(stats);
    },
    resetStats() {
      stats.requests = { GET: 0, POST: 0 };
      stats.rateLimited = 0;
      limiter?.reset();
    },
    async listen(port) {
      const listening = await serveSandbox(answer, port, MAX_DELIVERY_BYTES + 1);
      listeners.push(listening);
      return listening;
    },
    async close() {
      // Sockets first, so an HTTP hang ends as a closed connection, not as an answer.
      await Promise.all(listeners.splice(0).map((listening) => listening.close()));
      if (!closing.signal.aborted) closing.abort(new Error('sandbox closed'));
    },
  };
}
