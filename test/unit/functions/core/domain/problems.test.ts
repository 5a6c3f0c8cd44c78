/** The error that carries one of the API's problems, and the RFC 9457 document it is answered with. */
import { describe, expect, it } from 'vitest';
import {
  PROBLEM_TYPE_PREFIX,
  PROBLEMS,
  ProblemError,
  problemDocument,
} from '../../../../../functions/core/domain/problems.ts';

describe('ProblemError', () => {
  it('takes its status from the catalogue and keeps what it was given', () => {
    const problem = new ProblemError('write-contention', 'busy', {
      retryAfterSeconds: 3,
      headers: { allow: 'GET' },
      errors: [{ pointer: '/name', detail: 'too long' }],
    });
    expect(problem).toBeInstanceOf(Error);
    expect(problem.name).toBe('ProblemError');
    expect(problem.status).toBe(PROBLEMS['write-contention'].status);
    expect(problem.message).toBe('busy');
    expect(problem.retryAfterSeconds).toBe(3);
    expect(problem.headers).toEqual({ allow: 'GET' });
    expect(problem.errors).toEqual([{ pointer: '/name', detail: 'too long' }]);
  });

  it('has no cause, no headers and no field errors unless given', () => {
    const problem = new ProblemError('not-found', 'nothing here');
    expect('cause' in problem).toBe(false);
    expect(problem.headers).toEqual({});
    expect(problem.errors).toBeUndefined();
    expect(problem.retryAfterSeconds).toBeUndefined();
    expect(new ProblemError('internal', 'x', { cause: { status: 500 } }).cause).toEqual({ status: 500 });
  });

  it('answers every slug of the catalogue with its status', () => {
    for (const [slug, definition] of Object.entries(PROBLEMS)) {
      expect(new ProblemError(slug as keyof typeof PROBLEMS, 'd').status).toBe(definition.status);
    }
  });
});

describe('problemDocument', () => {
  it('is type, title, status, detail and instance, with the field errors only when there are some', () => {
    const plain = problemDocument(new ProblemError('precondition-failed', 'changed'), 'req-1');
    expect(plain).toEqual({
      type: `${PROBLEM_TYPE_PREFIX}precondition-failed`,
      title: PROBLEMS['precondition-failed'].title,
      status: PROBLEMS['precondition-failed'].status,
      detail: 'changed',
      instance: 'req-1',
    });
    const errors = [{ pointer: '/webhook_uri', detail: 'must be https' }];
    expect(problemDocument(new ProblemError('validation-failed', 'bad', { errors }), 'req-2').errors).toEqual(
      errors,
    );
  });

  it('never carries the cause, the headers or the Retry-After (they are for logs and headers)', () => {
    const problem = new ProblemError('upstream-error', 'Affix failed', {
      cause: { reason: 'secret-AAAA' },
      headers: { allow: 'GET' },
      retryAfterSeconds: 9,
    });
    const text = JSON.stringify(problemDocument(problem, 'req-3'));
    expect(text).not.toContain('secret-AAAA');
    expect(Object.keys(JSON.parse(text))).toEqual(['type', 'title', 'status', 'detail', 'instance']);
  });
});
