/** How every failure of the typed client becomes one `ClientConfigError`, and which ones are retryable. */
import { describe, expect, it } from 'vitest';
import {
  CLIENT_ERROR_TYPE_PREFIX,
  CLIENT_ERRORS,
  ClientConfigError,
  clientError,
  errorFromResponse,
  RETRYABLE_SLUGS,
} from '../../../clients/errors.ts';
import { GATEWAY_PROBLEMS, gatewayProblemDocument } from '../../../functions/contract/gateway-responses.ts';
import { PROBLEM_TYPE_PREFIX, PROBLEMS, RETRY_AFTER_PROBLEMS } from '../../../functions/contract/problems.ts';

const PROBLEM_JSON = 'application/problem+json';

function headers(values: Record<string, string>): Headers {
  return new Headers(values);
}

describe('RETRYABLE_SLUGS', () => {
  it('holds the problems answered with Retry-After, throttling, and nothing about identity', () => {
    for (const slug of RETRY_AFTER_PROBLEMS) expect(RETRYABLE_SLUGS.has(slug), slug).toBe(true);
    expect(RETRYABLE_SLUGS.has('gateway-throttled')).toBe(true);
    for (const problem of GATEWAY_PROBLEMS.filter((entry) => entry.retryable === true)) {
      expect(RETRYABLE_SLUGS.has(problem.slug as never), problem.slug).toBe(true);
    }
    for (const slug of ['missing-signature', 'invalid-signature', 'expired-credentials', 'access-denied']) {
      expect(RETRYABLE_SLUGS.has(slug as never), slug).toBe(false);
    }
    expect(RETRYABLE_SLUGS.has('precondition-failed')).toBe(false);
    expect(RETRYABLE_SLUGS.has('validation-failed')).toBe(false);
  });
});

describe('clientError', () => {
  it.each(Object.keys(CLIENT_ERRORS) as (keyof typeof CLIENT_ERRORS)[])(
    '%s: client type, catalogue title, status 0 unless given',
    (slug) => {
      const error = clientError(slug, 'what happened');
      expect(error).toBeInstanceOf(ClientConfigError);
      expect(error).toBeInstanceOf(Error);
      expect(error).toMatchObject({
        name: 'ClientConfigError',
        slug,
        type: `${CLIENT_ERROR_TYPE_PREFIX}${slug}`,
        title: CLIENT_ERRORS[slug].title,
        detail: 'what happened',
        status: 0,
        retryable: 'retryable' in CLIENT_ERRORS[slug],
      });
      expect(error.message).toBe(`no answer ${slug}: what happened`);
    },
  );

  it('keeps the cause it was given', () => {
    const cause = new TypeError('fetch failed');
    expect(clientError('network-error', 'down', { cause }).cause).toBe(cause);
    expect('cause' in clientError('network-error', 'down')).toBe(false);
  });
});

describe('errorFromResponse', () => {
  it('keeps a problem document of ours: slug, type, fields, request id and Retry-After', () => {
    const document = {
      type: `${PROBLEM_TYPE_PREFIX}validation-failed`,
      title: PROBLEMS['validation-failed'].title,
      status: 400,
      detail: '1 invalid field',
      instance: 'req-1',
      errors: [{ pointer: '/webhook_uri', detail: 'must be https' }],
    };
    const error = errorFromResponse(
      400,
      headers({ 'content-type': `${PROBLEM_JSON}; charset=utf-8`, 'retry-after': '3' }),
      JSON.stringify(document),
    );
    expect(error).toMatchObject({
      slug: 'validation-failed',
      type: document.type,
      status: 400,
      title: document.title,
      detail: document.detail,
      instance: 'req-1',
      errors: document.errors,
      retryAfterSeconds: 3,
      retryable: false,
    });
  });

  it("keeps API Gateway's own problem documents, the DEFAULT_* ones without a status too", () => {
    for (const problem of GATEWAY_PROBLEMS) {
      const status = problem.status ?? 502;
      const error = errorFromResponse(
        status,
        headers({ 'content-type': PROBLEM_JSON }),
        JSON.stringify(gatewayProblemDocument(problem, 'gw-1')),
      );
      expect(error.slug, problem.slug).toBe(problem.slug);
      expect(error.status).toBe(status);
      expect(error.instance).toBe('gw-1');
    }
  });

  it('calls a problem type it does not know unknown-problem, keeping the type as answered', () => {
    const type = `${PROBLEM_TYPE_PREFIX}brand-new`;
    const error = errorFromResponse(
      409,
      headers({ 'content-type': PROBLEM_JSON }),
      JSON.stringify({ type, title: 'New', status: 409, detail: 'x', instance: 'req-2' }),
    );
    expect(error).toMatchObject({ slug: 'unknown-problem', type, status: 409 });
    // A slug of ours under another prefix is no problem of ours.
    const foreign = errorFromResponse(
      412,
      headers({ 'content-type': PROBLEM_JSON }),
      JSON.stringify({
        type: 'urn:other:precondition-failed',
        title: 'x',
        status: 412,
        detail: 'x',
        instance: 'req-3',
      }),
    );
    expect(foreign.slug).toBe('unknown-problem');
  });

  it('does not take a prototype key for a slug', () => {
    const error = errorFromResponse(
      400,
      headers({ 'content-type': PROBLEM_JSON }),
      JSON.stringify({
        type: `${PROBLEM_TYPE_PREFIX}constructor`,
        title: 'x',
        status: 400,
        detail: 'x',
        instance: 'req-4',
      }),
    );
    expect(error.slug).toBe('unknown-problem');
  });

  it('turns an API Gateway {message} answer into a gateway failure by status, its text bounded', () => {
    const message = JSON.stringify({ message: 'User is not authorized\u0000 to access this resource' });
    const requestId = { 'x-amzn-requestid': 'gw-2' };
    expect(errorFromResponse(403, headers(requestId), message)).toMatchObject({
      slug: 'gateway-forbidden',
      status: 403,
      detail: 'User is not authorized  to access this resource',
      instance: 'gw-2',
      retryable: false,
    });
    expect(
      errorFromResponse(
        429,
        headers({ 'retry-after': '2' }),
        JSON.stringify({ Message: 'Too Many Requests' }),
      ),
    ).toMatchObject({ slug: 'gateway-throttled', retryAfterSeconds: 2, retryable: true });
    expect(
      errorFromResponse(502, headers({}), JSON.stringify({ message: 'Internal server error' })),
    ).toMatchObject({ slug: 'gateway-error', status: 502, detail: 'Internal server error' });
  });

  it('says what it got when the answer is neither a problem nor a gateway message', () => {
    // A problem document without its instance is not one of ours either.
    const noInstance = JSON.stringify({
      type: `${PROBLEM_TYPE_PREFIX}internal`,
      title: 'x',
      status: 500,
      detail: 'x',
    });
    for (const text of ['', 'not json', '[]', '{"detail":1}', noInstance]) {
      const error = errorFromResponse(500, headers({ 'content-type': PROBLEM_JSON }), text);
      expect(error.slug, text).toBe('gateway-error');
      expect(error.detail).toBe('HTTP 500 without a problem document.');
      expect(error.type).toBe(`${CLIENT_ERROR_TYPE_PREFIX}gateway-error`);
    }
  });

  it('ignores a Retry-After that is no valid value', () => {
    const error = errorFromResponse(429, headers({ 'retry-after': '-3' }), '');
    expect(error.retryAfterSeconds).toBeUndefined();
  });
});
