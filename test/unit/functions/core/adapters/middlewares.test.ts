/**
 * Our middy middlewares one by one, each given a request object as middy would: the guard (route,
 * caller, body checks before parsing), the JSON-routes-only parser wrapper and the problem responder.
 * Real Powertools Logger, its output captured. The whole chain is tested through `app.ts`
 * (app.*.test.ts); the per-request telemetry in telemetry.request.test.ts.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH } from '../../../../../functions/contract/limits.ts';
import { SERVICE_NAME } from '../../../../../functions/contract/telemetry.ts';
import {
  jsonRoutesOnly,
  type ProxyRequest,
  problemResponder,
  requestGuard,
  stateOf,
  toProblem,
} from '../../../../../functions/core/adapters/middlewares.ts';
import { ProblemError } from '../../../../../functions/core/domain/problems.ts';
import { captureOutput } from '../../../../support/capture.ts';
import { CALLER_ARN, proxyRequest } from '../../../../support/events.ts';

const output = captureOutput();

/** Runs the guard; the problem it throws, or undefined when it let the request through. */
async function guard(req: ProxyRequest): Promise<ProblemError | undefined> {
  try {
    await requestGuard().before?.(req);
    return undefined;
  } catch (error) {
    return error as ProblemError;
  }
}

const json = { 'content-type': 'application/json' };

describe('requestGuard', () => {
  it('sets the request’s state: id, route, method, resource and caller', async () => {
    const req = proxyRequest({
      method: 'PATCH',
      path: '/client',
      rawBody: '{"name":"x"}',
      headers: json,
      requestId: 'r-1',
    });
    expect(await guard(req)).toBeUndefined();
    expect(stateOf(req.context)).toMatchObject({
      requestId: 'r-1',
      route: 'PATCH /client',
      method: 'PATCH',
      resource: '/client',
      caller: CALLER_ARN,
      exchanges: [],
      budget: {},
    });
  });

  it('drops the body of a route that takes none', async () => {
    const req = proxyRequest({ method: 'GET', path: '/client', rawBody: 'ignored' });
    expect(await guard(req)).toBeUndefined();
    expect(req.event.body).toBeNull();
  });

  it('refuses a caller without identity before telling anything about routes', async () => {
    const req = proxyRequest({ method: 'GET', path: '/no-such-route', identity: null });
    expect((await guard(req))?.slug).toBe('forbidden');
    // A write refused with 403 still knows its route: it is audited.
    const write = proxyRequest({ method: 'PATCH', path: '/client', identity: null });
    expect((await guard(write))?.slug).toBe('forbidden');
    expect(stateOf(write.context).route).toBe('PATCH /client');
  });

  it('answers not-found and method-not-allowed with the caller known', async () => {
    const unknown = proxyRequest({ method: 'GET', path: '/nope' });
    expect((await guard(unknown))?.slug).toBe('not-found');
    expect(stateOf(unknown.context).caller).toBe(CALLER_ARN);
    expect(stateOf(unknown.context).resource).toBeUndefined();
    const wrong = proxyRequest({ method: 'DELETE', path: '/client' });
    expect((await guard(wrong))?.slug).toBe('method-not-allowed');
    expect(stateOf(wrong.context).resource).toBe('/client');
  });

  it('names a method that is not HTTP’s as OTHER (no caller-chosen text in the audit line)', async () => {
    const req = proxyRequest({ method: 'BREW', path: '/client' });
    await guard(req);
    expect(stateOf(req.context).method).toBe('OTHER');
  });

  it.each([
    ['no content type', { rawBody: '{}' }, 'unsupported-media-type'],
    ['an empty body', { rawBody: '  ', headers: json }, 'malformed-json'],
    ['a body nested too deep', { rawBody: '['.repeat(MAX_JSON_DEPTH + 1), headers: json }, 'json-too-deep'],
    ['a repeated key', { rawBody: '{"name":"a","name":"b"}', headers: json }, 'malformed-json'],
    ['a malformed If-Match', { rawBody: '{}', headers: { ...json, 'if-match': 'abc' } }, 'invalid-if-match'],
    [
      'a body over the limit',
      { rawBody: `{"name":"${'a'.repeat(20_000)}"}`, headers: json },
      'payload-too-large',
    ],
  ])('refuses a JSON write with %s before any parser sees it', async (_, options, slug) => {
    expect((await guard(proxyRequest({ method: 'PATCH', path: '/client', ...options })))?.slug).toBe(slug);
  });

  it('lets a webhook delivery through as the bytes it came as: any type, not JSON, even empty', async () => {
    for (const rawBody of ['not json {{', '', null]) {
      const req = proxyRequest({
        method: 'POST',
        path: '/webhooks/verify',
        rawBody,
        headers: { 'content-type': 'text/plain' },
      });
      expect(await guard(req)).toBeUndefined();
      expect(req.event.body).toBe(rawBody);
    }
  });
});

describe('jsonRoutesOnly', () => {
  it('runs the parser for JSON routes only, never for the webhook delivery', async () => {
    const parsed: string[] = [];
    const wrapped = jsonRoutesOnly({ before: (req) => void parsed.push(req.event.path) });
    for (const [method, path] of [
      ['PATCH', '/client'],
      ['POST', '/webhooks/verify'],
    ] as const) {
      const req = proxyRequest({ method, path, rawBody: '{}', headers: json });
      await requestGuard().before?.(req);
      await wrapped.before?.(req);
    }
    expect(parsed).toEqual(['/client']);
  });
});

describe('toProblem', () => {
  it('passes our problems on as they are', () => {
    const problem = new ProblemError('not-found', 'x');
    expect(toProblem(problem)).toBe(problem);
  });

  it('maps the JSON parser’s errors onto our table', () => {
    const middy = (statusCode: number, message: string) => Object.assign(new Error(message), { statusCode });
    expect(toProblem(middy(415, 'x')).slug).toBe('unsupported-media-type');
    expect(toProblem(middy(422, 'Forbidden key in JSON body')).slug).toBe('validation-failed');
    expect(toProblem(middy(422, 'Content type defined as JSON but an invalid JSON was provided')).slug).toBe(
      'malformed-json',
    );
  });

  it('makes anything else internal, keeping the error only as the cause', () => {
    const error = new Error('secret-AAAA leaked in a message');
    const problem = toProblem(error);
    expect(problem.slug).toBe('internal');
    expect(problem.cause).toBe(error);
    expect(problem.message).not.toContain('secret-AAAA');
    expect(toProblem(Object.assign(new Error('teapot'), { statusCode: 418 })).slug).toBe('internal');
  });
});

describe('problemResponder', () => {
  const logger = new Logger({ serviceName: SERVICE_NAME });

  async function respond(
    error: unknown,
    req = proxyRequest({ method: 'GET', path: '/client', requestId: 'r-9' }),
  ) {
    await requestGuard().before?.(req);
    req.error = error as Error;
    const from = output.lines.length;
    await problemResponder({ logger }).onError?.(req);
    return {
      response: req.response as APIGatewayProxyResult,
      logs: output.json(from),
      state: stateOf(req.context),
    };
  }

  it('answers our problem as problem+json with the request id as instance, and records the outcome', async () => {
    const { response, state } = await respond(new ProblemError('precondition-failed', 'changed'));
    expect(response.statusCode).toBe(412);
    expect(response.headers?.['content-type']).toBe('application/problem+json');
    expect(JSON.parse(response.body)).toMatchObject({ detail: 'changed', instance: 'r-9' });
    expect(state.outcome).toBe('precondition-failed');
  });

  it('answers an unexpected error as internal, and logs its name and frames, never its message', async () => {
    const { response, logs } = await respond(new TypeError('secret-AAAA in the message'));
    expect(response.statusCode).toBe(500);
    expect(response.body).not.toContain('secret-AAAA');
    const line = logs.find((entry) => entry.message === 'unexpected error') as { error: { name: string } };
    expect(line.error.name).toBe('TypeError');
    expect(JSON.stringify(logs)).not.toContain('secret-AAAA');
  });

  it('warns about a 5xx problem with its cause, and logs nothing for a 4xx', async () => {
    const upstream = await respond(
      new ProblemError('upstream-error', 'Affix 502', { cause: { status: 502 } }),
    );
    expect(upstream.logs.find((entry) => entry.message === 'request failed')).toMatchObject({
      problem: 'upstream-error',
      cause: { status: 502 },
    });
    expect((await respond(new ProblemError('not-found', 'x'))).logs).toEqual([]);
  });
});
