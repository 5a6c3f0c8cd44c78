/**
 * In-memory stand-in for the Affix management API (`GET`/`POST /2023-03-01/management/client`),
 * following the Affix OpenAPI spec: `basic` security (any current client secret authenticates),
 * `ClientRequest` validation, whole-object replace on POST. It also injects faults for tests, and
 * delivers signed webhooks to a loopback `webhook_uri` on `POST /_sandbox/webhooks` (see
 * `webhook-delivery.ts`).
 *
 * Fields the proxy does not model: the spec's `ClientResponse` allows more than the five fields we
 * know, so the sandbox can be seeded with `extraFields` (e.g. `{ logo_uri: ... }`). They are part of
 * the sandbox's schema from then on: GET returns them, and because POST replaces the whole client, a
 * POST that sends them back keeps them (whatever value it sends), and a POST that leaves one out
 * erases it, as a replace-everything server does. Keys outside the schema are ignored (dropped).
 *
 * @example
 * ```ts
 * const sandbox = await startAffixSandbox({ port: 0 });
 * sandbox.injectFault({ kind: 'status', status: 503 }, { method: 'POST' });
 * // ... point the proxy at sandbox.url ...
 * await sandbox.close();
 * ```
 */

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { sendJson } from './json-reply.ts';
import { ServerLifecycle } from './loopback-server.ts';
import { deliverWebhook, MAX_DELIVERY_BYTES, WEBHOOK_DELIVERY_PATH } from './webhook-delivery.ts';

export const CLIENT_PATH = '/2023-03-01/management/client';
export { WEBHOOK_DELIVERY_PATH };

/** The client as Affix stores it (`ClientResponse`). `webhook_uri` may be absent or null per the spec. */
export interface AffixClientState {
  client_id: string;
  client_secret: string[];
  name: string;
  redirect_uris: string[];
  webhook_uri?: string | null;
}

export const SANDBOX_DEFAULTS = {
  clientId: 'sandbox-client-0001',
  clientSecret: ['sandbox-secret-aaaaaaaaaaaaaaaa'],
  name: 'Sandbox App',
  redirectUris: ['https://app.example.com/callback'],
  webhookUri: 'https://hooks.example.com/affix',
} as const;

export type SandboxFault =
  | { kind: 'status'; status: number; body?: unknown; headers?: Record<string, string> }
  | { kind: 'hang-before-headers' }
  | { kind: 'hang-mid-body' }
  | { kind: 'reset' }
  | { kind: 'non-json' }
  | { kind: 'wrong-shape' }
  | { kind: 'huge-body'; bytes: number; contentLength?: boolean }
  | { kind: 'delay'; ms: number };

export interface SandboxRequest {
  method: string;
  path: string;
  /** Whether the Authorization header matched the client's id and one of its current secrets. */
  authorized: boolean;
  /** The parsed JSON request body (POST only, when it parsed). */
  body?: unknown;
  at: number;
}

export interface InjectFaultOptions {
  /** How many matching requests get this fault (default 1). */
  times?: number;
  /** Only requests with this method match (default: both). */
  method?: 'GET' | 'POST';
}

export interface AffixSandboxOptions {
  port?: number;
  client?: AffixClientState;
  /**
   * Delay added before every answer, so concurrent writes race as they do against the real API
   * (default 0; ~50 ms is a realistic Affix round trip). `npm start` reads `AFFIX_SANDBOX_LATENCY_MS`.
   */
  latencyMs?: number;
  /** Fields of the client the proxy does not model (see the module comment). JSON values only. */
  extraFields?: Record<string, unknown>;
}

/** The largest `AFFIX_SANDBOX_LATENCY_MS` accepted (API Gateway gives up after 29 s anyway). */
export const MAX_SANDBOX_LATENCY_MS = 10_000;

/** Parses `AFFIX_SANDBOX_LATENCY_MS`: an integer number of milliseconds, default 0. */
export function parseSandboxLatency(raw: string | undefined, name = 'AFFIX_SANDBOX_LATENCY_MS'): number {
  if (raw === undefined || raw === '') return 0;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value > MAX_SANDBOX_LATENCY_MS) {
    throw new Error(
      `${name} must be an integer between 0 and ${MAX_SANDBOX_LATENCY_MS}, got ${JSON.stringify(raw)}`,
    );
  }
  return value;
}

export interface AffixSandbox {
  /** e.g. `http://127.0.0.1:54321` (no trailing slash). */
  readonly url: string;
  readonly port: number;
  /** A deep copy of the current client. */
  readonly client: AffixClientState;
  setClient(state: AffixClientState): void;
  /** A deep copy of the unmodelled fields the client has now (see `extraFields`). */
  readonly extraFields: Record<string, unknown>;
  /** Replaces the unmodelled fields; their names join the sandbox's schema for good. */
  setExtraFields(fields: Record<string, unknown>): void;
  /** Log of requests to the client path, oldest first. Never holds the Authorization value. */
  readonly requests: readonly SandboxRequest[];
  resetRequests(): void;
  injectFault(fault: SandboxFault, opts?: InjectFaultOptions): void;
  clearFaults(): void;
  /** Stops listening and destroys every open socket (also hanging ones). */
  close(): Promise<void>;
}

export function defaultSandboxClient(): AffixClientState {
  return {
    client_id: SANDBOX_DEFAULTS.clientId,
    client_secret: [...SANDBOX_DEFAULTS.clientSecret],
    name: SANDBOX_DEFAULTS.name,
    redirect_uris: [...SANDBOX_DEFAULTS.redirectUris],
    webhook_uri: SANDBOX_DEFAULTS.webhookUri,
  };
}

/** `Basic base64(client_id:secret)`, the value Affix's `basic` scheme expects in `Authorization`. */
export function basicAuthHeader(clientId: string, secret: string): string {
  return `Basic ${Buffer.from(`${clientId}:${secret}`, 'utf8').toString('base64')}`;
}

const MAX_REQUEST_BYTES = 1024 * 1024;
const HUGE_BODY_CHUNK = 64 * 1024;

interface QueuedFault {
  fault: SandboxFault;
  remaining: number;
  method: 'GET' | 'POST' | undefined;
}

function copyClient(state: AffixClientState): AffixClientState {
  const copy: AffixClientState = {
    client_id: state.client_id,
    client_secret: [...state.client_secret],
    name: state.name,
    redirect_uris: [...state.redirect_uris],
  };
  if (state.webhook_uri !== undefined) copy.webhook_uri = state.webhook_uri;
  return copy;
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

type ValidationResult =
  | { ok: true; value: Omit<AffixClientState, 'client_id'> }
  | { ok: false; error: string };

/**
 * `ClientRequest` per the spec: no formats or lengths; extra keys are allowed (the caller keeps only
 * those in its schema, see {@link pickExtraFields}).
 */
export function validateClientRequest(body: unknown): ValidationResult {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, error: 'request body must be a JSON object' };
  }
  const record = body as Record<string, unknown>;
  if (!isStringArray(record.client_secret)) {
    return { ok: false, error: 'client_secret is required and must be an array of strings' };
  }
  if (!isStringArray(record.redirect_uris)) {
    return { ok: false, error: 'redirect_uris is required and must be an array of strings' };
  }
  if (typeof record.name !== 'string') {
    return { ok: false, error: 'name is required and must be a string' };
  }
  const webhook = record.webhook_uri;
  if (webhook !== undefined && webhook !== null && typeof webhook !== 'string') {
    return { ok: false, error: 'webhook_uri must be a string or null' };
  }
  return {
    ok: true,
    value: {
      client_secret: [...record.client_secret],
      redirect_uris: [...record.redirect_uris],
      name: record.name,
      // Replace semantics: leaving webhook_uri out clears it.
      webhook_uri: webhook ?? null,
    },
  };
}

const MODELLED_FIELDS: ReadonlySet<string> = new Set([
  'client_id',
  'client_secret',
  'name',
  'redirect_uris',
  'webhook_uri',
]);

function checkExtraFields(fields: Record<string, unknown>): Record<string, unknown> {
  for (const name of Object.keys(fields)) {
    if (MODELLED_FIELDS.has(name)) throw new RangeError(`${name} is a modelled field, not an extra one`);
  }
  return structuredClone(fields);
}

/** What a whole-object POST leaves of the schema's extra fields: those it sent, as it sent them. */
export function pickExtraFields(
  body: Record<string, unknown>,
  schema: ReadonlySet<string>,
): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const name of schema) if (Object.hasOwn(body, name)) kept[name] = structuredClone(body[name]);
  return kept;
}

function isAuthorized(header: string | undefined, client: AffixClientState): boolean {
  if (header === undefined) return false;
  const match = /^basic\s+(\S+)\s*$/i.exec(header);
  if (!match?.[1]) return false;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return false;
  const id = decoded.slice(0, colon);
  const secret = decoded.slice(colon + 1);
  return id === client.client_id && secret.length > 0 && client.client_secret.includes(secret);
}

function defaultStatusBody(status: number): unknown {
  switch (status) {
    case 400:
      return { message: 'Bad Request', validation_error: 'injected fault' };
    case 401:
      return {
        error: 'authentication_error',
        message: 'Your password is incorrect',
        code: 'incorrect_username_or_password',
      };
    case 409:
      return { error: 'conflict' };
    case 429:
      return { message: 'Too many requests' };
    case 503:
      return { message: 'Service unavailable' };
    default:
      return { message: status >= 500 ? 'Internal server error' : `Injected status ${status}` };
  }
}

function readBody(req: IncomingMessage, limit: number): Promise<{ body: Buffer; tooLarge: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve({ body: Buffer.concat(chunks), tooLarge }));
    req.on('error', reject);
  });
}

export async function startAffixSandbox(options: AffixSandboxOptions = {}): Promise<AffixSandbox> {
  let client = copyClient(options.client ?? defaultSandboxClient());
  let extras = checkExtraFields(options.extraFields ?? {});
  const extraSchema = new Set(Object.keys(extras));
  const view = (): Record<string, unknown> => ({ ...copyClient(client), ...structuredClone(extras) });
  const latencyMs = options.latencyMs ?? 0;
  let requests: SandboxRequest[] = [];
  let faults: QueuedFault[] = [];
  const lifecycle = new ServerLifecycle();
  const sleep = (ms: number): Promise<void> => lifecycle.sleep(ms);

  const takeFault = (method: string): SandboxFault | undefined => {
    const index = faults.findIndex((entry) => entry.method === undefined || entry.method === method);
    const entry = faults[index];
    if (!entry) return undefined;
    entry.remaining -= 1;
    if (entry.remaining <= 0) faults.splice(index, 1);
    return entry.fault;
  };

  const respondNormally = (req: IncomingMessage, res: ServerResponse, parsed: ParsedRequest): void => {
    if (!parsed.authorized) {
      const message =
        req.headers.authorization === undefined
          ? 'Missing Authorization header'
          : 'Your password is incorrect';
      sendJson(res, 401, { error: 'authentication_error', message, code: 'incorrect_username_or_password' });
      return;
    }
    if (req.method === 'GET') {
      sendJson(res, 200, view());
      return;
    }
    if (parsed.tooLarge) {
      sendJson(res, 413, { message: 'Request body too large' });
      return;
    }
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (contentType !== 'application/json') {
      sendJson(res, 400, {
        message: 'Bad Request',
        validation_error: 'content-type must be application/json',
      });
      return;
    }
    if (parsed.jsonError !== undefined) {
      sendJson(res, 400, { message: 'Bad Request', validation_error: parsed.jsonError });
      return;
    }
    const result = validateClientRequest(parsed.json);
    if (!result.ok) {
      sendJson(res, 400, { message: 'Bad Request', validation_error: result.error });
      return;
    }
    client = { client_id: client.client_id, ...result.value };
    extras = pickExtraFields(parsed.json as Record<string, unknown>, extraSchema);
    sendJson(res, 200, view());
  };

  const applyFault = async (
    fault: SandboxFault,
    req: IncomingMessage,
    res: ServerResponse,
    parsed: ParsedRequest,
  ): Promise<void> => {
    switch (fault.kind) {
      case 'status': {
        const headers =
          fault.headers ?? (fault.status === 429 || fault.status === 503 ? { 'retry-after': '1' } : {});
        if (typeof fault.body === 'string') {
          if (res.destroyed) return;
          res.writeHead(fault.status, { 'content-type': 'application/json', ...headers });
          res.end(fault.body);
        } else {
          sendJson(res, fault.status, fault.body ?? defaultStatusBody(fault.status), headers);
        }
        return;
      }
      case 'hang-before-headers':
        // Never answer; close() destroys the socket.
        return;
      case 'hang-mid-body': {
        const payload = Buffer.from(JSON.stringify(view()), 'utf8');
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(payload.length) });
        res.write(payload.subarray(0, Math.floor(payload.length / 2)));
        return;
      }
      case 'reset':
        req.socket.destroy();
        return;
      case 'non-json': {
        const html =
          '<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>';
        res.writeHead(200, {
          'content-type': 'text/html',
          'content-length': String(Buffer.byteLength(html)),
        });
        res.end(html);
        return;
      }
      case 'wrong-shape':
        sendJson(res, 200, { id: client.client_id, status: 'ok', client: { name: client.name } });
        return;
      case 'huge-body':
        await streamHugeBody(res, fault.bytes, fault.contentLength === true);
        return;
      case 'delay':
        await sleep(fault.ms);
        respondNormally(req, res, parsed);
        return;
      default: {
        const exhaustive: never = fault;
        throw new Error(`unknown fault ${JSON.stringify(exhaustive)}`);
      }
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const requestUrl = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = requestUrl.pathname;
    if (path === WEBHOOK_DELIVERY_PATH) {
      const delivery = await readBody(req, MAX_DELIVERY_BYTES);
      if (req.method !== 'POST') {
        sendJson(res, 405, { message: 'Method Not Allowed' }, { allow: 'POST' });
        return;
      }
      if (delivery.tooLarge) {
        sendJson(res, 413, { message: 'Delivery too large' });
        return;
      }
      const answer = await deliverWebhook({
        body: delivery.body,
        secretIndex: requestUrl.searchParams.get('secret'),
        webhookUri: client.webhook_uri ?? null,
        secrets: client.client_secret,
      });
      if (res.destroyed) return;
      res.writeHead(answer.status, { ...answer.headers, 'content-length': String(answer.body.length) });
      res.end(answer.body);
      return;
    }
    const { body, tooLarge } = await readBody(req, MAX_REQUEST_BYTES);
    if (path !== CLIENT_PATH) {
      await sleep(latencyMs);
      sendJson(res, 404, { message: 'Not Found' });
      return;
    }
    if (req.method !== 'GET' && req.method !== 'POST') {
      await sleep(latencyMs);
      sendJson(res, 405, { message: 'Method Not Allowed' }, { allow: 'GET, POST' });
      return;
    }

    const parsed: ParsedRequest = { authorized: isAuthorized(req.headers.authorization, client), tooLarge };
    const entry: SandboxRequest = { method: req.method, path, authorized: parsed.authorized, at: Date.now() };
    if (req.method === 'POST' && body.length > 0 && !tooLarge) {
      try {
        parsed.json = JSON.parse(body.toString('utf8'));
        entry.body = parsed.json;
      } catch (error) {
        parsed.jsonError = `malformed JSON: ${(error as Error).message}`;
      }
    } else if (req.method === 'POST' && !tooLarge) {
      parsed.jsonError = 'request body is required';
    }
    requests.push(entry);

    const fault = takeFault(req.method);
    await sleep(latencyMs);
    if (fault) await applyFault(fault, req, res, parsed);
    else respondNormally(req, res, parsed);
  };

  const server = createServer({ keepAlive: true }, (req, res) => {
    // An aborted client must not turn into an unhandled 'error' event.
    res.on('error', () => {});
    handle(req, res).catch(() => {
      if (!res.headersSent && !res.destroyed) sendJson(res, 500, { message: 'sandbox error' });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 30_000;
  const { url, port } = await lifecycle.listen(server, options.port);

  return {
    url,
    port,
    get client() {
      return copyClient(client);
    },
    setClient(state) {
      client = copyClient(state);
    },
    get extraFields() {
      return structuredClone(extras);
    },
    setExtraFields(fields) {
      extras = checkExtraFields(fields);
      for (const name of Object.keys(extras)) extraSchema.add(name);
    },
    get requests() {
      return requests;
    },
    resetRequests() {
      requests = [];
    },
    injectFault(fault, opts = {}) {
      const times = opts.times ?? 1;
      if (!Number.isInteger(times) || times < 1) throw new RangeError('times must be a positive integer');
      faults.push({ fault, remaining: times, method: opts.method });
    },
    clearFaults() {
      faults = [];
    },
    close: () => lifecycle.close(server),
  };
}

interface ParsedRequest {
  authorized: boolean;
  tooLarge: boolean;
  json?: unknown;
  jsonError?: string;
}

/** Streams `bytes` of a (valid, if read to the end) JSON document in chunks, honouring backpressure. */
async function streamHugeBody(res: ServerResponse, bytes: number, withContentLength: boolean): Promise<void> {
  const prefix = Buffer.from('{"client_id":"sandbox-client-0001","padding":"', 'utf8');
  const suffix = Buffer.from('"}', 'utf8');
  const paddingBytes = Math.max(0, bytes - prefix.length - suffix.length);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (withContentLength) headers['content-length'] = String(prefix.length + paddingBytes + suffix.length);
  res.writeHead(200, headers);

  const chunk = Buffer.alloc(HUGE_BODY_CHUNK, 'a');
  const writable = (): boolean => !res.destroyed && !res.writableEnded;
  const write = async (data: Buffer): Promise<boolean> => {
    if (!writable()) return false;
    if (res.write(data)) return true;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        res.off('drain', done);
        res.off('close', done);
        resolve();
      };
      res.on('drain', done);
      res.on('close', done);
    });
    return writable();
  };

  if (!(await write(prefix))) return;
  let left = paddingBytes;
  while (left > 0) {
    const size = Math.min(left, chunk.length);
    if (!(await write(size === chunk.length ? chunk : chunk.subarray(0, size)))) return;
    left -= size;
  }
  if (!(await write(suffix))) return;
  res.end();
}
