/**
 * The catalogue of RFC 9457 problem types the function answers with (slug, status, title): shared by
 * the function (`problems.ts` builds every non-2xx answer from it) and the caller client (which maps
 * each answer back to its slug). Pure data: no AWS or Node imports.
 *
 * @example
 * PROBLEMS['precondition-failed'].status; // 412
 */

export { PROBLEM_TYPE_PREFIX } from './gateway-responses.ts';

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
