/**
 * What one Affix attempt came to, read from what the sender saw: a response (status, headers, the
 * body text or the fact that it was over the cap) or a transport failure. Pure: no fetch, no timers,
 * so every row of the status table is tested alone (`test/unit/functions/core/adapters/affix-response.test.ts`).
 *
 * @example
 * interpretResponse({ status: 200, headers: new Headers(), body: { kind: 'text', text } }, judging);
 * // { kind: 'ok', client } or an AttemptOutcome for upstream-outcome.ts
 */
import * as v from 'valibot';
import { parseRetryAfter } from '../../contract/retry-after.ts';
import {
  type AffixClient,
  AffixMessageSchema,
  parseAffixClient,
  parseJsonKeepingNumbers,
} from '../domain/schemas.ts';
import { cappedRetryAfter } from '../domain/state-item.ts';
import type { AttemptOutcome } from '../domain/upstream-outcome.ts';
import { judgeUpstreamText, type UpstreamMessage } from '../domain/upstream-text.ts';

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
    // Numbers keep their text: unmodelled fields go back to Affix as they came.
    json = parseJsonKeepingNumbers(body.text);
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
