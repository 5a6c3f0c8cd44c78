/**
 * The error that carries one of the API's RFC 9457 problems, and the document it is answered with.
 *
 * The catalogue (status, title, when) is the contract's (`functions/contract/problems.ts`); the
 * README's status table and the OpenAPI document are generated from it and checked by tests.
 *
 * @example
 * throw new ProblemError('precondition-failed', 'If-Match does not match the current client');
 */

import { PROBLEM_TYPE_PREFIX } from '../../contract/gateway-responses.ts';
import { type FieldError, PROBLEMS, type ProblemSlug } from '../../contract/problems.ts';

export { type FieldError, PROBLEMS, type ProblemSlug } from '../../contract/problems.ts';
export { PROBLEM_TYPE_PREFIX };

export interface ProblemOptions {
  errors?: FieldError[];
  /** Seconds, passed on as `Retry-After`. */
  retryAfterSeconds?: number;
  /** Extra response headers, such as `Allow` on a 405. */
  headers?: Record<string, string>;
  /** Where the problem came from, for logs only: never serialized into a response. */
  cause?: unknown;
}

/** An error that knows its answer. Anything else that escapes is an `internal` problem. */
export class ProblemError extends Error {
  override readonly name = 'ProblemError';
  readonly slug: ProblemSlug;
  readonly status: number;
  readonly errors: FieldError[] | undefined;
  readonly retryAfterSeconds: number | undefined;
  readonly headers: Record<string, string>;

  constructor(slug: ProblemSlug, detail: string, options: ProblemOptions = {}) {
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    this.slug = slug;
    this.status = PROBLEMS[slug].status;
    this.errors = options.errors;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.headers = options.headers ?? {};
  }
}

export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  errors?: FieldError[];
}

export function problemDocument(problem: ProblemError, instance: string): ProblemDocument {
  const document: ProblemDocument = {
    type: `${PROBLEM_TYPE_PREFIX}${problem.slug}`,
    title: PROBLEMS[problem.slug].title,
    status: problem.status,
    detail: problem.message,
    instance,
  };
  if (problem.errors !== undefined) document.errors = problem.errors;
  return document;
}
