/**
 * Secondary adapter: Affix's management client API over HTTP, sending a request and judging what came
 * back (one module: the two change together whenever Affix's answers do). The judging half
 * (`interpretResponse`, `interpretFailure`) is pure, so every row of the status table is tested alone;
 * when to try again is `upstream-outcome.ts`'s.
 *
 * Node's `fetch` (keep-alive by default), a per-attempt timeout inside the request's overall deadline,
 * up to `maxAttempts` attempts on 429/5xx/network errors with jittered exponential backoff (the
 * full-object POST is idempotent), one credential refresh on 401 (not counted as an attempt), bodies
 * capped at `maxBodyBytes`. The call's abort signal aborts a running fetch, and after it no attempt or
 * backoff sleep starts. Every failure leaves as a `ProblemError`.
 *
 * @example
 * const affix = createAffixHttpClient({ baseUrl, credentials, attemptTimeoutMs: 3_000, maxAttempts: 3 });
 * const client = await affix.getClient(call);
 */
import * as v from 'valibot';
import { MAX_UPSTREAM_BODY_BYTES } from '../../contract/limits.ts';
import { parseRetryAfter } from '../../contract/retry-after.ts';
import { abortableSleep } from '../app/abortable-sleep.ts';
import { basicAuthorization } from '../app/credentials.ts';
import { timeLimit } from '../app/deadline.ts';
import { affixRequestBody } from '../domain/client-state.ts';
import {
  type AffixClient,
  type AffixClientUpdate,
  AffixMessageSchema,
  parseAffixClient,
  parseJsonKeepingNumbers,
} from '../domain/schemas.ts';
import { cappedRetryAfter } from '../domain/state-item.ts';
import {
  type AttemptOutcome,
  backoffDelayMs,
  isRetryable,
  outcomeToProblem,
} from '../domain/upstream-outcome.ts';
import { judgeUpstreamText, type UpstreamMessage } from '../domain/upstream-text.ts';
import type {
  AffixCredentials,
  AffixPort,
  CallContext,
  CredentialsProvider,
  UpstreamExchange,
} from '../ports.ts';

// What one attempt came to, read from what the sender saw: a response (status, headers, the body text
// or the fact that it was over the cap) or a transport failure.

export type AttemptResult = { kind: 'ok'; client: AffixClient } | AttemptOutcome;

/** The body as the sender read it: its text, or that it was longer than the cap (and not kept). */
export type ReadBody = { kind: 'text'; text: string } | { kind: 'too-large' };

export interface AffixResponse {
  status: number;
  headers: Pick<Headers, 'get'>;
  body: ReadBody;
}

/** What a 400 message is judged against: the secrets it might repeat, and our client id. */
export interface MessageJudging {
  knownSecrets: readonly string[];
  clientId: string;
  /** For an HTTP-date `Retry-After` (default `Date.now()`). */
  nowMs?: number;
}

/** The string fields of an Affix 400 body; anything else about it is ignored. */
export function extractMessage(text: string): UpstreamMessage {
  try {
    const parsed = v.safeParse(AffixMessageSchema, JSON.parse(text));
    if (!parsed.success) return {};
    const { message, validation_error: validationError } = parsed.output;
    return {
      message: typeof message === 'string' ? message : undefined,
      validationError: typeof validationError === 'string' ? validationError : undefined,
    };
  } catch {
    return {};
  }
}

const cappedOrUndefined = (seconds: number | undefined) =>
  seconds === undefined ? undefined : cappedRetryAfter(seconds);

/** Whether a parsed JSON value holds a number anywhere (iteratively: a deep answer cannot overflow the stack). */
function holdsNumber(value: unknown): boolean {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const item = pending.pop();
    if (typeof item === 'number') return true;
    // One push per child: spreading a long array into push's arguments could overflow the stack.
    if (item !== null && typeof item === 'object')
      for (const child of Array.isArray(item) ? item : Object.values(item)) pending.push(child);
  }
  return false;
}

/**
 * A 2xx answer's JSON. Numbers keep their text, so unmodelled fields go back to Affix as they came;
 * keeping it costs a reviver call per value, so it is paid only when the answer holds a number (a
 * client is strings as a rule). Without numbers the plain parse is the same value.
 */
function parseAnswer(text: string): unknown {
  const plain: unknown = JSON.parse(text);
  return holdsNumber(plain) ? parseJsonKeepingNumbers(text) : plain;
}

export function interpretResponse(response: AffixResponse, judging: MessageJudging): AttemptResult {
  const { status, body } = response;
  if (status < 200 || status >= 300) {
    const text = body.kind === 'text' ? body.text : '';
    return {
      kind: 'status',
      status,
      // Never longer than Affix's own window: one absurd value must not block writes for a day.
      retryAfterSeconds: cappedOrUndefined(
        parseRetryAfter(response.headers.get('retry-after'), judging.nowMs),
      ),
      // Affix's words only where no run of them matches any encoding of a secret we know.
      upstreamText:
        status === 400
          ? judgeUpstreamText(extractMessage(text), {
              secrets: judging.knownSecrets,
              clientId: judging.clientId,
            })
          : undefined,
    };
  }
  if (body.kind === 'too-large') return { kind: 'bad-body', reason: 'too-large' };
  let json: unknown;
  try {
    json = parseAnswer(body.text);
  } catch {
    return { kind: 'bad-body', reason: 'not-json' };
  }
  const client = parseAffixClient(json);
  if (client === undefined) return { kind: 'bad-body', reason: 'schema' };
  return { kind: 'ok', client };
}

/** Why no response came: our attempt timer, the request's abort signal, or the network. */
export type TransportFailure =
  | { kind: 'timed-out'; deadlineLeftMs: number }
  | { kind: 'aborted' }
  | { kind: 'network'; error: unknown };

/** The error's code (`ECONNREFUSED`, ...) or name: never its message, which may hold a URL or data. */
export function networkCode(error: unknown): string {
  const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  if (cause !== undefined && typeof cause.code === 'string') return cause.code;
  return error instanceof Error ? error.name : 'UnknownError';
}

export function interpretFailure(failure: TransportFailure): AttemptOutcome {
  switch (failure.kind) {
    case 'timed-out':
      return failure.deadlineLeftMs <= 0 ? { kind: 'deadline' } : { kind: 'attempt-timeout' };
    case 'aborted':
      // The invocation was given up: like a passed deadline, nothing more may be tried.
      return { kind: 'deadline' };
    case 'network':
      return { kind: 'network', code: networkCode(failure.error) };
  }
}

export const CLIENT_PATH = '/2023-03-01/management/client';
/** Error bodies are read (so the connection returns to the keep-alive pool) up to this much. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

export interface AffixHttpClientOptions {
  baseUrl: string;
  credentials: CredentialsProvider;
  attemptTimeoutMs: number;
  maxAttempts: number;
  maxBodyBytes?: number;
  fetch?: typeof fetch;
  random?: () => number;
  /** The backoff pause; given the call's signal, so it may end early when that fires. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** Reads at most `maxBytes` of a body, so a huge answer is refused without being buffered whole. */
async function readBodyLimited(response: Response, maxBytes: number): Promise<ReadBody> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) {
    await response.body?.cancel();
    return { kind: 'too-large' };
  }
  if (response.body === null) return { kind: 'text', text: '' };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      return { kind: 'too-large' };
    }
    chunks.push(value);
  }
  return { kind: 'text', text: Buffer.concat(chunks).toString('utf8') };
}

export function createAffixHttpClient(options: AffixHttpClientOptions): AffixPort {
  const url = `${options.baseUrl}${CLIENT_PATH}`;
  const doFetch = options.fetch ?? fetch;
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? abortableSleep;
  const maxBodyBytes = options.maxBodyBytes ?? MAX_UPSTREAM_BODY_BYTES;
  // Secrets of the clients read, kept only to recognise them in a later Affix 400 message: a POST that
  // removes a secret may see it repeated back. Per call (the read before a write), and the last read of
  // this container (a GET knows no other).
  const secretsReadIn = new WeakMap<CallContext, Set<string>>();
  let lastReadSecrets: readonly string[] = [];

  /** One fetch: sends, reads the body within the cap, and hands what it saw to the interpretation. */
  async function attempt(
    method: 'GET' | 'POST',
    payload: string | undefined,
    credentials: AffixCredentials,
    knownSecrets: readonly string[],
    call: CallContext,
  ): Promise<AttemptResult> {
    const remaining = call.deadline.remainingMs();
    if (remaining <= 0 || call.signal?.aborted) return { kind: 'deadline' };
    const limit = timeLimit(Math.min(options.attemptTimeoutMs, remaining), call.signal);
    const started = performance.now();
    const record = (status: UpstreamExchange['status']) =>
      call.exchanges?.push({
        method,
        status,
        latencyMs: Math.round((performance.now() - started) * 10) / 10,
      });
    try {
      const headers: Record<string, string> = {
        accept: 'application/json',
        authorization: basicAuthorization(credentials),
      };
      if (payload !== undefined) headers['content-type'] = 'application/json';
      const response = await doFetch(url, { method, headers, body: payload, signal: limit.signal });
      const ok = response.status >= 200 && response.status < 300;
      const body = ok
        ? await readBodyLimited(response, maxBodyBytes)
        : await readBodyLimited(response, MAX_ERROR_BODY_BYTES).catch(
            (): ReadBody => ({ kind: 'text', text: '' }),
          );
      record(response.status);
      return interpretResponse(
        { status: response.status, headers: response.headers, body },
        { knownSecrets, clientId: credentials.clientId },
      );
    } catch (error) {
      if (call.signal?.aborted) {
        record('timeout');
        return interpretFailure({ kind: 'aborted' });
      }
      if (limit.signal.aborted) {
        record('timeout');
        return interpretFailure({ kind: 'timed-out', deadlineLeftMs: call.deadline.remainingMs() });
      }
      record('network-error');
      return interpretFailure({ kind: 'network', error });
    } finally {
      limit.clear();
    }
  }

  async function send(
    method: 'GET' | 'POST',
    update: AffixClientUpdate | undefined,
    call: CallContext,
  ): Promise<AffixClient> {
    const payload = update === undefined ? undefined : affixRequestBody(update);
    let credentials = await options.credentials.get();
    let refreshed = false;
    // Attempts counted against maxAttempts: every one but the 401 that led to the one refresh.
    let counted = 0;
    for (;;) {
      // Secrets that might be echoed back in an error message: ours, the ones being sent, and those of
      // the clients read before (with our client id, their Basic credentials too).
      const knownSecrets = [
        credentials.clientSecret,
        ...(update?.client_secret ?? []),
        ...(secretsReadIn.get(call) ?? []),
        ...lastReadSecrets,
      ];
      const result = await attempt(method, payload, credentials, knownSecrets, call);
      if (result.kind === 'ok') {
        const read = result.client.client_secret;
        secretsReadIn.set(call, new Set([...(secretsReadIn.get(call) ?? []), ...read]));
        lastReadSecrets = [...read];
        return result.client;
      }
      if (result.kind === 'status' && result.status === 401 && !refreshed) {
        // The secret may have been rotated in SSM: reload once and try again.
        refreshed = true;
        credentials = await options.credentials.refresh();
        continue;
      }
      counted += 1;
      if (!isRetryable(result) || counted >= options.maxAttempts) throw outcomeToProblem(result);
      const remaining = call.deadline.remainingMs();
      const retryAfterMs =
        result.kind === 'status' && result.retryAfterSeconds !== undefined
          ? result.retryAfterSeconds * 1_000
          : 0;
      const delay = Math.max(retryAfterMs, backoffDelayMs(counted, random));
      // A wait (such as a Retry-After) longer than our remaining time is not waited for: answer at once.
      if (delay >= remaining) throw outcomeToProblem(result);
      await sleep(delay, call.signal);
      // Given up while waiting: the last outcome is the answer, and no attempt follows.
      if (call.signal?.aborted) throw outcomeToProblem(result);
    }
  }

  return {
    getClient: (call) => send('GET', undefined, call),
    replaceClient: (update, call) => send('POST', update, call),
  };
}
