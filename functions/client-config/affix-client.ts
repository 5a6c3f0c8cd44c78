/**
 * Secondary adapter: Affix's management client API over HTTP.
 *
 * Node's `fetch` (keep-alive by default), a per-attempt timeout inside the request's overall deadline,
 * up to `maxAttempts` attempts on 429/5xx/network errors with jittered exponential backoff (the
 * full-object POST is idempotent), one credential refresh on 401, bodies capped at `maxBodyBytes` and
 * validated with valibot. Every failure leaves as a `ProblemError`.
 */
import * as v from 'valibot';
import type { BudgetNotes } from './budget-notes.ts';
import { affixRequestBody } from './client-state.ts';
import { type AffixCredentials, basicAuthorization, type CredentialsProvider } from './credentials.ts';
import type { Deadline } from './deadline.ts';
import { parseJsonKeepingNumbers } from './exact-json.ts';
import { type AffixClient, type AffixClientUpdate, AffixMessageSchema, parseAffixClient } from './schemas.ts';
import {
  type AttemptOutcome,
  backoffDelayMs,
  isRetryable,
  outcomeToProblem,
  parseRetryAfter,
} from './upstream-outcome.ts';
import { judgeUpstreamText, type UpstreamMessage } from './upstream-text.ts';

export const CLIENT_PATH = '/2023-03-01/management/client';
export const MAX_UPSTREAM_BODY_BYTES = 1024 * 1024;

/** One HTTP exchange with Affix, reported for audit logs and metrics. */
export interface UpstreamExchange {
  method: 'GET' | 'POST';
  /** The HTTP status, or the kind of failure when there was none. */
  status: number | 'network-error' | 'timeout';
  latencyMs: number;
}

export interface CallContext {
  deadline: Deadline;
  /** Filled with every exchange made for this call. */
  exchanges?: UpstreamExchange[];
  /** The Lambda invocation's remaining time, when known: a write lease must outlive the invocation. */
  invocationRemainingMs?: () => number;
  /** Told how long a write waited for its lease (ms), for the audit line and the metric. */
  onLockWait?: (waitMs: number) => void;
  /** Filled by the read cache and the shared back-off: where the answer came from. */
  budget?: BudgetNotes;
}

/** The port the use cases depend on. */
export interface AffixPort {
  getClient(context: CallContext): Promise<AffixClient>;
  updateClient(update: AffixClientUpdate, context: CallContext): Promise<AffixClient>;
}

export interface AffixHttpClientOptions {
  baseUrl: string;
  credentials: CredentialsProvider;
  attemptTimeoutMs: number;
  maxAttempts: number;
  maxBodyBytes?: number;
  fetch?: typeof fetch;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

class BodyTooLargeError extends Error {
  override readonly name = 'BodyTooLargeError';
}

/** Reads at most `maxBytes` of a body, so a huge answer is refused without being buffered whole. */
async function readBodyLimited(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw new BodyTooLargeError(`declared ${declared} bytes`);
  }
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new BodyTooLargeError(`more than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function networkCode(error: unknown): string {
  const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  if (cause !== undefined && typeof cause.code === 'string') return cause.code;
  return error instanceof Error ? error.name : 'UnknownError';
}

/** The string fields of an Affix 400 body; anything else about it is ignored. */
function extractMessage(text: string): UpstreamMessage {
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

export function createAffixHttpClient(options: AffixHttpClientOptions): AffixPort {
  const url = `${options.baseUrl}${CLIENT_PATH}`;
  const doFetch = options.fetch ?? fetch;
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? defaultSleep;
  const maxBodyBytes = options.maxBodyBytes ?? MAX_UPSTREAM_BODY_BYTES;
  // Secrets of the clients read, kept only to recognise them in a later Affix 400 message: a PUT that
  // removes a secret may see it repeated back. Per call (the read before a write), and the last read of
  // this container (a GET knows no other).
  const secretsReadIn = new WeakMap<CallContext, Set<string>>();
  let lastReadSecrets: readonly string[] = [];

  type Result = { kind: 'ok'; client: AffixClient } | AttemptOutcome;

  async function attempt(
    method: 'GET' | 'POST',
    payload: string | undefined,
    credentials: AffixCredentials,
    knownSecrets: readonly string[],
    context: CallContext,
  ): Promise<Result> {
    const remaining = context.deadline.remainingMs();
    if (remaining <= 0) return { kind: 'deadline' };
    const budget = Math.min(options.attemptTimeoutMs, remaining);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), budget);
    const started = performance.now();
    const record = (status: UpstreamExchange['status']) =>
      context.exchanges?.push({
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
      const response = await doFetch(url, { method, headers, body: payload, signal: controller.signal });
      if (response.status < 200 || response.status >= 300) {
        // Read the (small) error body so the connection goes back to the keep-alive pool.
        const text = await readBodyLimited(response, 64 * 1024).catch(() => '');
        record(response.status);
        return {
          kind: 'status',
          status: response.status,
          retryAfterSeconds: parseRetryAfter(response.headers.get('retry-after')),
          // Affix's words only where no run of them matches any encoding of a secret we know.
          upstreamText:
            response.status === 400
              ? judgeUpstreamText(extractMessage(text), {
                  secrets: knownSecrets,
                  clientId: credentials.clientId,
                })
              : undefined,
        };
      }
      let text: string;
      try {
        text = await readBodyLimited(response, maxBodyBytes);
      } catch (error) {
        if (error instanceof BodyTooLargeError) {
          record(response.status);
          return { kind: 'bad-body', reason: 'too-large' };
        }
        throw error;
      }
      record(response.status);
      let json: unknown;
      try {
        // Numbers keep their text: unmodelled fields go back to Affix as they came.
        json = parseJsonKeepingNumbers(text);
      } catch {
        return { kind: 'bad-body', reason: 'not-json' };
      }
      const client = parseAffixClient(json);
      if (client === undefined) return { kind: 'bad-body', reason: 'schema' };
      return { kind: 'ok', client };
    } catch (error) {
      if (controller.signal.aborted) {
        record('timeout');
        return context.deadline.remainingMs() <= 0 ? { kind: 'deadline' } : { kind: 'attempt-timeout' };
      }
      record('network-error');
      return { kind: 'network', code: networkCode(error) };
    } finally {
      clearTimeout(timer);
    }
  }

  async function call(
    method: 'GET' | 'POST',
    update: AffixClientUpdate | undefined,
    context: CallContext,
  ): Promise<AffixClient> {
    const payload = update === undefined ? undefined : affixRequestBody(update);
    let credentials = await options.credentials.get();
    let refreshed = false;
    let attemptNumber = 0;
    for (;;) {
      attemptNumber += 1;
      // Secrets that might be echoed back in an error message: ours, the ones being sent, and those of
      // the clients read before (with our client id, their Basic credentials too).
      const knownSecrets = [
        credentials.clientSecret,
        ...(update?.client_secret ?? []),
        ...(secretsReadIn.get(context) ?? []),
        ...lastReadSecrets,
      ];
      const result = await attempt(method, payload, credentials, knownSecrets, context);
      if (result.kind === 'ok') {
        const read = result.client.client_secret;
        secretsReadIn.set(context, new Set([...(secretsReadIn.get(context) ?? []), ...read]));
        lastReadSecrets = [...read];
        return result.client;
      }
      if (result.kind === 'status' && result.status === 401 && !refreshed) {
        // The secret may have been rotated in SSM: reload once, and this retry is not counted.
        refreshed = true;
        attemptNumber -= 1;
        credentials = await options.credentials.refresh();
        continue;
      }
      if (!isRetryable(result) || attemptNumber >= options.maxAttempts) throw outcomeToProblem(result);
      const remaining = context.deadline.remainingMs();
      const retryAfterMs =
        result.kind === 'status' && result.retryAfterSeconds !== undefined
          ? result.retryAfterSeconds * 1_000
          : 0;
      const delay = Math.max(retryAfterMs, backoffDelayMs(attemptNumber, random));
      // A wait (such as a Retry-After) longer than our remaining time is not waited for: answer at once.
      if (delay >= remaining) throw outcomeToProblem(result);
      await sleep(delay);
    }
  }

  return {
    getClient: (context) => call('GET', undefined, context),
    updateClient: (update, context) => call('POST', update, context),
  };
}
