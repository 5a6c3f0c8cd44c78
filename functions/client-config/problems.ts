/**
 * The catalogue of RFC 9457 problem types this API answers with, and the error that carries one.
 *
 * Every non-2xx answer is built from this table, so the README's status table, the OpenAPI document
 * and the handler cannot disagree.
 *
 * @example
 * throw new ProblemError('precondition-failed', 'If-Match does not match the current client');
 */

import { PROBLEM_TYPE_PREFIX } from '../contract/gateway-responses.ts';

export { PROBLEM_TYPE_PREFIX };

export const PROBLEMS = {
  'validation-failed': { status: 400, title: 'Request body failed validation' },
  'malformed-json': { status: 400, title: 'Request body is not valid JSON' },
  'json-too-deep': { status: 400, title: 'Request body nests too deeply' },
  forbidden: { status: 403, title: 'No IAM caller identity' },
  'not-found': { status: 404, title: 'No such route' },
  'method-not-allowed': { status: 405, title: 'Method not allowed on this route' },
  'would-lock-out': { status: 409, title: 'New secret list would lock the proxy out' },
  'upstream-conflict': { status: 409, title: 'Affix reported a conflict' },
  'precondition-failed': { status: 412, title: 'If-Match does not match the current client' },
  'payload-too-large': { status: 413, title: 'Request body too large' },
  'unsupported-media-type': { status: 415, title: 'Unsupported content type' },
  'upstream-rejected': { status: 422, title: 'Affix rejected the change' },
  'signature-mismatch': { status: 422, title: 'Webhook signature does not match' },
  'upstream-rate-limited': { status: 429, title: 'Affix is rate limiting us' },
  internal: { status: 500, title: 'Internal error' },
  'upstream-auth-failed': { status: 502, title: 'Affix rejected our credentials' },
  'upstream-error': { status: 502, title: 'Affix failed' },
  'upstream-bad-response': { status: 502, title: 'Affix sent an invalid response' },
  'upstream-unreachable': { status: 502, title: 'Affix could not be reached' },
  'credentials-unavailable': { status: 503, title: 'Affix credentials are unavailable' },
  'write-contention': { status: 503, title: 'Another write is in progress' },
  'write-lock-unavailable': { status: 503, title: 'The write lock is unavailable' },
  'upstream-timeout': { status: 504, title: 'Affix did not answer in time' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemSlug = keyof typeof PROBLEMS;

/** One entry of the `errors` extension member of a validation problem. */
export interface FieldError {
  /** JSON Pointer (RFC 6901) into the request body; `''` is the body itself. */
  pointer: string;
  detail: string;
}

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
