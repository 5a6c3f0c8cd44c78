/**
 * The pure interpretation of one Affix attempt, one row per status (and per transport failure): what
 * the attempt came to, whether the sender tries again, and which problem it finally becomes.
 */
import { describe, expect, it } from 'vitest';
import { MAX_UPSTREAM_BODY_BYTES } from '../../../../../functions/contract/limits.ts';
import {
  type AffixResponse,
  extractMessage,
  interpretFailure,
  interpretResponse,
  type MessageJudging,
  networkCode,
} from '../../../../../functions/core/adapters/affix-http.ts';
import { isRetryable, outcomeToProblem } from '../../../../../functions/core/domain/upstream-outcome.ts';

const SECRET = 'secret-ZZZZ-zzzz-9999-known';
const CLIENT_ID = 'client-0000-row';
const judging: MessageJudging = { knownSecrets: [SECRET], clientId: CLIENT_ID, nowMs: Date.UTC(2026, 0, 1) };

const CLIENT_JSON = {
  client_id: CLIENT_ID,
  client_secret: [SECRET],
  name: 'Row App',
  redirect_uris: ['https://app.example.com/callback'],
  webhook_uri: 'https://hooks.example.com/affix',
};

function answer(status: number, text: string, headers: Record<string, string> = {}): AffixResponse {
  return { status, headers: new Headers(headers), body: { kind: 'text', text } };
}

/** The outcome, whether it is tried again, and the problem it becomes when it is final. */
function row(response: AffixResponse) {
  const result = interpretResponse(response, judging);
  if (result.kind === 'ok') return { result, retryable: false, problem: undefined };
  const problem = outcomeToProblem(result);
  return {
    result,
    retryable: isRetryable(result),
    problem: problem.slug,
    retryAfter: problem.retryAfterSeconds,
  };
}

describe('interpretResponse, per status row', () => {
  it('200 with a client: ok, the client parsed (unmodelled fields kept)', () => {
    const { result } = row(answer(200, JSON.stringify({ ...CLIENT_JSON, logo: 'x' })));
    expect(result.kind).toBe('ok');
    if (result.kind !== 'ok') return;
    expect(result.client.client_id).toBe(CLIENT_ID);
    expect(result.client.name).toBe('Row App');
    expect(Object.keys(result.client.extra)).toEqual(['logo']);
  });

  it('200 with an unmodelled array of 250,000 empty arrays then a number, within the body cap: ok, the number kept', () => {
    // A long array is searched for numbers element by element: spread into one call, it overflows the stack.
    const items = `${'[],'.repeat(250_000)}1.50`;
    const text = `${JSON.stringify(CLIENT_JSON).slice(0, -1)},"items":[${items}]}`;
    expect(text.length).toBeLessThan(MAX_UPSTREAM_BODY_BYTES);
    const { result } = row(answer(200, text));
    expect(result.kind).toBe('ok');
    if (result.kind !== 'ok') return;
    expect(JSON.stringify(result.client.extra).endsWith('[],1.50]}')).toBe(true);
  });

  it('200 with unmodelled numbers: each keeps its text, however deep, so it goes back to Affix as it came', () => {
    const fields = '"limits":{"rate":1.50,"ids":[12345678901234567890]},"version":3,"huge":1e400';
    const text = `${JSON.stringify(CLIENT_JSON).slice(0, -1)},${fields}}`;
    const { result } = row(answer(200, text));
    expect(result.kind).toBe('ok');
    if (result.kind !== 'ok') return;
    expect(JSON.stringify(result.client.extra)).toBe(`{${fields}}`);
  });

  it('200 without numbers: the same client as the number-keeping parse gives', () => {
    const text = JSON.stringify({ ...CLIENT_JSON, logo: 'x', tags: [['a'], { b: null, c: true }] });
    const { result } = row(answer(200, text));
    expect(result.kind).toBe('ok');
    if (result.kind !== 'ok') return;
    expect(result.client.extra).toEqual({ logo: 'x', tags: [['a'], { b: null, c: true }] });
  });

  it('200 not JSON: bad-body not-json, upstream-bad-response, not retried', () => {
    expect(row(answer(200, '<html>ok</html>'))).toMatchObject({
      result: { kind: 'bad-body', reason: 'not-json' },
      retryable: false,
      problem: 'upstream-bad-response',
    });
  });

  it('200 of the wrong shape: bad-body schema', () => {
    expect(row(answer(200, JSON.stringify({ client_id: 7 })))).toMatchObject({
      result: { kind: 'bad-body', reason: 'schema' },
      retryable: false,
      problem: 'upstream-bad-response',
    });
  });

  it('200 over the body cap: bad-body too-large', () => {
    const response: AffixResponse = { status: 200, headers: new Headers(), body: { kind: 'too-large' } };
    expect(row(response)).toMatchObject({
      result: { kind: 'bad-body', reason: 'too-large' },
      retryable: false,
      problem: 'upstream-bad-response',
    });
  });

  it('400 with a safe message: upstream-rejected carrying Affix words', () => {
    const { result, retryable, problem } = row(
      answer(
        400,
        JSON.stringify({ message: 'Invalid request', validation_error: 'webhook_uri must be https' }),
      ),
    );
    expect(result).toMatchObject({ kind: 'status', status: 400, upstreamText: { kind: 'words' } });
    expect(retryable).toBe(false);
    expect(problem).toBe('upstream-rejected');
    if (result.kind !== 'status' || result.upstreamText?.kind !== 'words') throw new Error('no words');
    expect(result.upstreamText.text).toContain('webhook_uri must be https');
    expect(outcomeToProblem(result).message).toContain('webhook_uri must be https');
  });

  it('400 whose message repeats a known secret: withheld, the secret in no part of the problem', () => {
    const { result, problem } = row(
      answer(400, JSON.stringify({ message: `client_secret ${SECRET} is not allowed` })),
    );
    expect(result).toMatchObject({ kind: 'status', status: 400, upstreamText: { kind: 'withheld' } });
    expect(problem).toBe('upstream-rejected');
    if (result.kind !== 'status') throw new Error('not a status');
    const error = outcomeToProblem(result);
    expect(JSON.stringify({ cause: error.cause, message: error.message })).not.toContain(SECRET);
  });

  it('400 with no usable body: upstream-rejected without Affix words', () => {
    const { result } = row(answer(400, 'not json'));
    expect(result).toMatchObject({ kind: 'status', status: 400, upstreamText: { kind: 'none' } });
  });

  it('401: a status the sender answers with one refresh; final, upstream-auth-failed', () => {
    expect(row(answer(401, '{}'))).toMatchObject({
      result: { kind: 'status', status: 401, upstreamText: undefined },
      retryable: false,
      problem: 'upstream-auth-failed',
    });
  });

  it('404: upstream-error, not retried', () => {
    expect(row(answer(404, ''))).toMatchObject({
      result: { kind: 'status', status: 404 },
      retryable: false,
      problem: 'upstream-error',
    });
  });

  it('409: upstream-conflict, not retried', () => {
    expect(row(answer(409, '{"message":"conflict"}'))).toMatchObject({
      result: { kind: 'status', status: 409, upstreamText: undefined },
      retryable: false,
      problem: 'upstream-conflict',
    });
  });

  it('429 with Retry-After (seconds or an HTTP date): retried, and the wait passed on', () => {
    expect(row(answer(429, '', { 'retry-after': '12' }))).toMatchObject({
      result: { kind: 'status', status: 429, retryAfterSeconds: 12 },
      retryable: true,
      problem: 'upstream-rate-limited',
      retryAfter: 12,
    });
    const date = new Date(Date.UTC(2026, 0, 1, 0, 0, 30)).toUTCString();
    expect(row(answer(429, '', { 'retry-after': date }))).toMatchObject({
      result: { retryAfterSeconds: 30 },
      retryAfter: 30,
    });
  });

  it('429 without (or with an unusable) Retry-After: retried, no wait given', () => {
    for (const headers of [{}, { 'retry-after': '-3' }] as Record<string, string>[]) {
      const { result, retryable, problem, retryAfter } = row(answer(429, '', headers));
      expect(result).toMatchObject({ kind: 'status', status: 429, retryAfterSeconds: undefined });
      expect([retryable, problem, retryAfter]).toEqual([true, 'upstream-rate-limited', undefined]);
    }
  });

  it('500 and 503: retried, upstream-error', () => {
    for (const status of [500, 503]) {
      expect(row(answer(status, 'oops'))).toMatchObject({
        result: { kind: 'status', status },
        retryable: true,
        problem: 'upstream-error',
      });
    }
  });

  it('other statuses (3xx, 403, 418, 422, 599): a status outcome named by its number', () => {
    for (const [status, retryable] of [
      [302, false],
      [403, false],
      [418, false],
      [422, false],
      [599, true],
    ] as const) {
      const { result, problem } = row(answer(status, ''));
      expect(result).toMatchObject({ kind: 'status', status });
      expect(row(answer(status, '')).retryable).toBe(retryable);
      expect(problem).toBe('upstream-error');
      if (result.kind === 'status') expect(outcomeToProblem(result).message).toContain(String(status));
    }
  });
});

describe('interpretFailure, per transport failure', () => {
  it('network error: its code, never its message; retried; upstream-unreachable', () => {
    const error = new TypeError('fetch failed to https://affix.test?secret=x', {
      cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
    });
    const outcome = interpretFailure({ kind: 'network', error });
    expect(outcome).toEqual({ kind: 'network', code: 'ECONNREFUSED' });
    expect(isRetryable(outcome)).toBe(true);
    expect(outcomeToProblem(outcome).slug).toBe('upstream-unreachable');
    expect(networkCode(new RangeError('x'))).toBe('RangeError');
    expect(networkCode('not an error')).toBe('UnknownError');
  });

  it('timeout with time left: attempt-timeout, retried; with none left: deadline, final', () => {
    const attempt = interpretFailure({ kind: 'timed-out', deadlineLeftMs: 500 });
    expect(attempt).toEqual({ kind: 'attempt-timeout' });
    expect(isRetryable(attempt)).toBe(true);
    const deadline = interpretFailure({ kind: 'timed-out', deadlineLeftMs: 0 });
    expect(deadline).toEqual({ kind: 'deadline' });
    expect(isRetryable(deadline)).toBe(false);
    expect(outcomeToProblem(deadline).slug).toBe('upstream-timeout');
  });

  it('aborted (the invocation was given up): final, like a passed deadline', () => {
    const outcome = interpretFailure({ kind: 'aborted' });
    expect(outcome).toEqual({ kind: 'deadline' });
    expect(isRetryable(outcome)).toBe(false);
  });
});

describe('extractMessage', () => {
  it('keeps only string message fields', () => {
    expect(extractMessage('{"message":"m","validation_error":"v"}')).toEqual({
      message: 'm',
      validationError: 'v',
    });
    expect(extractMessage('{"message":5,"validation_error":["v"]}')).toEqual({
      message: undefined,
      validationError: undefined,
    });
    expect(extractMessage('[1]')).toEqual({});
    expect(extractMessage('nope')).toEqual({});
  });
});
