/**
 * The misbehaviours the sandbox can be told to show, and the answer each one becomes. An answer is a
 * Fetch `Response` (the in-process `fetch` returns it, the HTTP server writes it), or a thrown
 * {@link SandboxNetworkError} (in-process: a rejected fetch; over HTTP: a reset socket). Hangs wait for
 * the request's signal, as a server that never answers leaves the caller to give up.
 */
import { jsonResponse, jsonTextResponse } from '../json-reply.ts';
import { type AffixClientState, defaultStatusBody, isAuthorized } from './state.ts';

/** What an `echo-400` repeats of the request: Affix's 400 messages quote what they got. */
export type EchoPart = 'authorization' | 'credentials' | 'secret' | 'secret-base64' | 'body' | 'text';

export type SandboxFault =
  /**
   * A status with Affix's body for it (or `body`: JSON, or a string sent as is). `retryAfter` sets
   * `Retry-After` verbatim; 429 and 503 get `Retry-After: 1` unless `retryAfter` or `headers` is given.
   */
  | { kind: 'status'; status: number; body?: unknown; retryAfter?: string; headers?: Record<string, string> }
  /** A 400 whose message repeats what we sent: our Authorization value, credentials, secret, body. */
  | { kind: 'echo-400'; parts: readonly EchoPart[]; validationError: string }
  /** The connection fails with this code (`ECONNRESET`, `ECONNREFUSED`, ...). */
  | { kind: 'network'; code: string }
  /** Shorthand for `{ kind: 'network', code: 'ECONNRESET' }`. */
  | { kind: 'reset' }
  | { kind: 'hang-before-headers' }
  /** Headers and half the client, then nothing until the request is aborted. */
  | { kind: 'hang-mid-body' }
  /** Headers and the start of a body, then the body stream fails. */
  | { kind: 'body-error' }
  | { kind: 'non-json'; text?: string }
  | { kind: 'wrong-shape'; value?: unknown }
  /** A 200 JSON body of `bytes` bytes, streamed; `contentLength` declares its length up front. */
  | { kind: 'huge-body'; bytes: number; contentLength?: boolean }
  /** A 200 with the client as someone else changed it (state unchanged), if the credentials are good. */
  | { kind: 'other-client'; name?: string; extraSecret?: string }
  /**
   * The normal answer, `ms` late; with `until` (in-process injection only), once `until` settles
   * instead, so a test holds a request exactly as long as it needs.
   */
  | { kind: 'delay'; ms: number; until?: Promise<unknown> };

/** A connection-level failure; `code` as Node's errors carry it. */
export class SandboxNetworkError extends Error {
  readonly code: string;
  constructor(code: string) {
    super(`sandbox network fault ${code}`);
    this.name = 'SandboxNetworkError';
    this.code = code;
  }
}

export interface FaultContext {
  client: AffixClientState;
  /** The client's JSON text as a GET shows it now (with `override` applied). */
  viewText(override?: Partial<AffixClientState>): string;
  authorization: string | null;
  bodyText: string;
  /** Aborts when the caller gives up or the sandbox closes. */
  signal: AbortSignal;
  sleep(ms: number): Promise<void>;
  answerNormally(): Response;
}

const HUGE_BODY_CHUNK = 64 * 1024;
const encoder = new TextEncoder();

/** Runs `then` once the signal aborts, or at once when it already has. */
function onAbort(signal: AbortSignal, then: () => void): void {
  if (signal.aborted) then();
  else signal.addEventListener('abort', then, { once: true });
}

export async function answerFault(fault: SandboxFault, ctx: FaultContext): Promise<Response> {
  switch (fault.kind) {
    case 'status': {
      const headers =
        fault.headers ??
        (fault.retryAfter !== undefined
          ? { 'retry-after': fault.retryAfter }
          : fault.status === 429 || fault.status === 503
            ? { 'retry-after': '1' }
            : {});
      if (typeof fault.body === 'string') {
        return new Response(fault.body, {
          status: fault.status,
          headers: { 'content-type': 'application/json', ...headers },
        });
      }
      return jsonResponse(fault.status, fault.body ?? defaultStatusBody(fault.status), headers);
    }
    case 'echo-400': {
      const authorization = ctx.authorization ?? '';
      const credentials = Buffer.from(authorization.replace(/^Basic /, ''), 'base64').toString('utf8');
      const secret = credentials.slice(credentials.indexOf(':') + 1);
      const pieces: Record<EchoPart, string> = {
        authorization,
        credentials,
        secret,
        'secret-base64': Buffer.from(secret).toString('base64'),
        body: ctx.bodyText,
        text: 'invalid value',
      };
      const message = fault.parts.map((part) => pieces[part]).join(' ');
      return jsonResponse(400, { message, validation_error: fault.validationError });
    }
    case 'network':
      throw new SandboxNetworkError(fault.code);
    case 'reset':
      throw new SandboxNetworkError('ECONNRESET');
    case 'hang-before-headers':
      return new Promise<Response>((_, reject) => onAbort(ctx.signal, () => reject(ctx.signal.reason)));
    case 'hang-mid-body': {
      const payload = encoder.encode(ctx.viewText());
      const signal = ctx.signal;
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(payload.subarray(0, Math.floor(payload.length / 2)));
          onAbort(signal, () => controller.error(signal.reason));
        },
      });
      return new Response(body, {
        status: 200,
        headers: { 'content-type': 'application/json', 'content-length': String(payload.length) },
      });
    }
    case 'body-error': {
      // The start of a client on the first pull, the failure on the next: erroring in `start()` would
      // discard the chunk queued before it, and a reader would get nothing at all.
      let started = false;
      return new Response(
        new ReadableStream<Uint8Array>({
          pull(controller) {
            if (started) {
              controller.error(new TypeError('terminated'));
              return;
            }
            started = true;
            controller.enqueue(encoder.encode('{"client_id":'));
          },
        }),
        { status: 200, headers: { 'content-type': 'application/json' } },
      );
    }
    case 'non-json': {
      const html =
        fault.text ??
        '<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>';
      return new Response(html, {
        status: 200,
        headers: { 'content-type': 'text/html', 'content-length': String(Buffer.byteLength(html)) },
      });
    }
    case 'wrong-shape':
      return jsonResponse(
        200,
        'value' in fault
          ? fault.value
          : { id: ctx.client.client_id, status: 'ok', client: { name: ctx.client.name } },
      );
    case 'huge-body':
      return hugeBody(fault.bytes, fault.contentLength === true, ctx.client.client_id, ctx.signal);
    case 'other-client': {
      // Someone else's change, but Affix still checks our credentials.
      if (!isAuthorized(ctx.authorization, ctx.client)) return ctx.answerNormally();
      return jsonTextResponse(
        200,
        ctx.viewText({
          name: fault.name ?? `${ctx.client.name} (changed elsewhere)`,
          client_secret: [...ctx.client.client_secret, ...(fault.extraSecret ? [fault.extraSecret] : [])],
        }),
      );
    }
    case 'delay':
      if (fault.until === undefined) await ctx.sleep(fault.ms);
      else await fault.until.catch(() => undefined);
      return ctx.answerNormally();
    default: {
      const exhaustive: never = fault;
      throw new Error(`unknown fault ${JSON.stringify(exhaustive)}`);
    }
  }
}

/** `bytes` of a (valid, if read to the end) JSON document, produced as the reader pulls. */
function hugeBody(
  bytes: number,
  withContentLength: boolean,
  clientId: string,
  signal: AbortSignal,
): Response {
  const prefix = encoder.encode(`{"client_id":${JSON.stringify(clientId)},"padding":"`);
  const suffix = encoder.encode('"}');
  const paddingBytes = Math.max(0, bytes - prefix.length - suffix.length);
  const chunk = new Uint8Array(HUGE_BODY_CHUNK).fill(0x61);
  let left = paddingBytes;
  let sentPrefix = false;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (signal.aborted) {
        controller.error(signal.reason);
        return;
      }
      if (!sentPrefix) {
        sentPrefix = true;
        controller.enqueue(prefix);
      } else if (left > 0) {
        const size = Math.min(left, chunk.length);
        controller.enqueue(size === chunk.length ? chunk : chunk.subarray(0, size));
        left -= size;
      } else {
        controller.enqueue(suffix);
        controller.close();
      }
    },
  });
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (withContentLength) headers['content-length'] = String(prefix.length + paddingBytes + suffix.length);
  return new Response(body, { status: 200, headers });
}
