/** The API Gateway proxy results: JSON for success, problem+json for errors, never cacheable. */
import { describe, expect, it } from 'vitest';
import { jsonResponse, problemResponse } from '../../../../../functions/core/adapters/middlewares.ts';
import { ProblemError, problemDocument } from '../../../../../functions/core/domain/problems.ts';

describe('jsonResponse', () => {
  it('serializes the body as JSON, forbids caching and sniffing, and adds the given headers', () => {
    const response = jsonResponse(200, { a: 1 }, { etag: '"abc"' });
    expect(response).toEqual({
      statusCode: 200,
      headers: {
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
        'content-type': 'application/json; charset=utf-8',
        etag: '"abc"',
      },
      body: '{"a":1}',
    });
  });

  it('lets a route set its own caching (the read cache’s Cache-Control)', () => {
    const response = jsonResponse(200, {}, { 'cache-control': 'private, max-age=30' });
    expect(response.headers?.['cache-control']).toBe('private, max-age=30');
  });
});

describe('problemResponse', () => {
  it('answers the problem’s status with its document as application/problem+json', () => {
    const problem = new ProblemError('not-found', 'There is no such route.');
    const response = problemResponse(problem, 'req-1');
    expect(response.statusCode).toBe(problem.status);
    expect(response.headers).toEqual({
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'content-type': 'application/problem+json',
    });
    expect(JSON.parse(response.body)).toEqual(problemDocument(problem, 'req-1'));
  });

  it('sends Retry-After and the problem’s own headers, but never lets them change the content type', () => {
    const problem = new ProblemError('method-not-allowed', 'no', {
      retryAfterSeconds: 0,
      headers: { allow: 'GET, PATCH', 'content-type': 'text/html' },
    });
    const { headers } = problemResponse(problem, 'req-2');
    expect(headers?.['retry-after']).toBe('0');
    expect(headers?.allow).toBe('GET, PATCH');
    expect(headers?.['content-type']).toBe('application/problem+json');
  });

  it('sends no Retry-After when the problem has none', () => {
    expect(problemResponse(new ProblemError('forbidden', 'no'), 'r').headers).not.toHaveProperty(
      'retry-after',
    );
  });
});
