/**
 * `ClientConfigError`: every way a call of the typed client can fail, as one error class.
 *
 * Problem answers keep their `type` (`urn:affix-webhook-config:problem:<slug>`), `status`, `title`,
 * `detail`, `instance` and `errors`: the function's (`PROBLEMS`) and API Gateway's own Gateway Responses
 * (`GATEWAY_PROBLEMS` of the contract: `missing-signature`, `invalid-signature`, `access-denied`,
 * `throttled`, ...). Everything else gets a client-side type (`urn:affix-webhook-config:client:<slug>`):
 * `{"message": ...}` answers of an API Gateway without our Gateway Responses, unusable 2xx answers,
 * network failures, timeouts, aborts and missing AWS credentials.
 *
 * @example
 * try {
 *   await client.updateClient({ webhook_uri: null }, { ifMatch: etag });
 * } catch (error) {
 *   if (error instanceof ClientConfigError && error.slug === 'precondition-failed') {
 *     // somebody else changed the client: GET it again
 *   }
 * }
 */
import * as v from 'valibot';
import { GATEWAY_PROBLEMS, type GatewayProblemSlug } from '../functions/contract/gateway-responses.ts';
import {
  type FieldError,
  PROBLEM_SLUGS,
  PROBLEM_TYPE_PREFIX,
  PROBLEMS,
  type ProblemSlug,
  problemDefinition,
} from '../functions/contract/problems.ts';
import { parseRetryAfter } from '../functions/contract/retry-after.ts';
import { boundedText } from '../functions/contract/text.ts';
import { GatewayMessageSchema, ProblemDocumentSchema } from './schemas.ts';

export const CLIENT_ERROR_TYPE_PREFIX = 'urn:affix-webhook-config:client:';

/** Failures that are not one of our API's problem documents, with the title the error carries. */
export const CLIENT_ERRORS = {
  'gateway-forbidden': {
    title:
      'API Gateway refused the request: missing or invalid signature, expired credentials, or IAM denied',
  },
  'gateway-throttled': { title: 'API Gateway is throttling requests', retryable: true },
  'gateway-error': { title: 'The API answered with an error but without a problem document' },
  'unknown-problem': { title: 'The API answered with a problem type this client does not know' },
  'invalid-response': { title: 'The API answered with a success this client cannot use' },
  'network-error': { title: 'The API could not be reached' },
  timeout: { title: 'The API did not answer within the timeout' },
  aborted: { title: 'The caller aborted the request' },
  'aws-credentials-unavailable': { title: 'No AWS credentials to sign the request with' },
} as const satisfies Record<string, { title: string; retryable?: boolean }>;

export type ClientErrorSlug = keyof typeof CLIENT_ERRORS;
export type { GatewayProblemSlug };
export type ClientConfigErrorSlug = ProblemSlug | GatewayProblemSlug | ClientErrorSlug;

/**
 * Failures worth trying again later, with backoff (honouring `retryAfterSeconds`), derived from the
 * catalogues: the function's problems answered with `Retry-After` (`functions/contract/problems.ts`:
 * Affix's rate limit, the write lease), API Gateway's marked `retryable` (throttling) and ours marked
 * so. The client itself never retries; authentication and authorization failures
 * (`missing-signature`, `invalid-signature`, `expired-credentials`, `access-denied`) are never
 * retryable: the same request fails the same way.
 */
export const RETRYABLE_SLUGS: ReadonlySet<ClientConfigErrorSlug> = new Set<ClientConfigErrorSlug>([
  ...PROBLEM_SLUGS.filter((slug) => problemDefinition(slug).retryAfter === true),
  // GATEWAY_PROBLEMS is typed with `slug: string`; its slugs are GatewayProblemSlug by construction.
  ...GATEWAY_PROBLEMS.filter((problem) => problem.retryable === true).map(
    (problem) => problem.slug as GatewayProblemSlug,
  ),
  ...(Object.keys(CLIENT_ERRORS) as ClientErrorSlug[]).filter((slug) => 'retryable' in CLIENT_ERRORS[slug]),
]);

export interface ClientConfigErrorInit {
  slug: ClientConfigErrorSlug;
  type: string;
  /** The HTTP status; 0 when no answer arrived. */
  status: number;
  title: string;
  detail: string;
  instance?: string | undefined;
  errors?: FieldError[] | undefined;
  retryAfterSeconds?: number | undefined;
  cause?: unknown;
}

export class ClientConfigError extends Error {
  override readonly name = 'ClientConfigError';
  /** Our problem slug (see `PROBLEMS`), or one of {@link CLIENT_ERRORS}. */
  readonly slug: ClientConfigErrorSlug;
  /** The problem type URI as answered, or `urn:affix-webhook-config:client:<slug>`. */
  readonly type: string;
  /** The HTTP status; 0 when no answer arrived (network error, timeout, abort, no credentials). */
  readonly status: number;
  readonly title: string;
  readonly detail: string;
  /** The API Gateway request id (the problem's `instance`, or the `x-amzn-RequestId` header). */
  readonly instance: string | undefined;
  /** For `validation-failed`: every invalid field, as JSON Pointers into the body you sent. */
  readonly errors: FieldError[] | undefined;
  /** From `Retry-After` (429 answers carry it when Affix sent one). */
  readonly retryAfterSeconds: number | undefined;
  /** Whether trying again later, with backoff, can succeed (see {@link RETRYABLE_SLUGS}). */
  readonly retryable: boolean;

  constructor(init: ClientConfigErrorInit) {
    super(
      `${init.status === 0 ? 'no answer' : init.status} ${init.slug}: ${init.detail}`,
      init.cause === undefined ? undefined : { cause: init.cause },
    );
    this.slug = init.slug;
    this.type = init.type;
    this.status = init.status;
    this.title = init.title;
    this.detail = init.detail;
    this.instance = init.instance;
    this.errors = init.errors;
    this.retryAfterSeconds = init.retryAfterSeconds;
    this.retryable = RETRYABLE_SLUGS.has(init.slug);
  }
}

/** A client-side failure (no problem document), with its catalogue title. */
export function clientError(
  slug: ClientErrorSlug,
  detail: string,
  options: Omit<ClientConfigErrorInit, 'slug' | 'type' | 'title' | 'detail' | 'status'> & {
    status?: number;
  } = {},
): ClientConfigError {
  return new ClientConfigError({
    ...options,
    slug,
    type: `${CLIENT_ERROR_TYPE_PREFIX}${slug}`,
    title: CLIENT_ERRORS[slug].title,
    detail,
    status: options.status ?? 0,
  });
}

const GATEWAY_SLUGS: ReadonlySet<string> = new Set(GATEWAY_PROBLEMS.map((problem) => problem.slug));

/** A slug of ours: the function's problems or API Gateway's Gateway Responses. */
function isKnownSlug(value: string): value is ProblemSlug | GatewayProblemSlug {
  return Object.hasOwn(PROBLEMS, value) || GATEWAY_SLUGS.has(value);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** `application/problem+json`, parameters and case ignored. */
function isProblemJson(contentType: string | null): boolean {
  return contentType?.split(';')[0]?.trim().toLowerCase() === 'application/problem+json';
}

/** The error a non-2xx answer becomes. Only our problem documents keep their slug. */
export function errorFromResponse(status: number, headers: Headers, text: string): ClientConfigError {
  const retryAfterSeconds = parseRetryAfter(headers.get('retry-after'));
  const requestId = headers.get('x-amzn-requestid') ?? undefined;
  const json = parseJson(text);
  if (isProblemJson(headers.get('content-type'))) {
    // API Gateway's DEFAULT_4XX/5XX documents carry no `status` (it varies): the HTTP status is it.
    const withStatus =
      typeof json === 'object' && json !== null && !('status' in json) ? { ...json, status } : json;
    const problem = v.safeParse(ProblemDocumentSchema, withStatus);
    if (problem.success) {
      const { type, title, detail, instance, errors } = problem.output;
      const suffix = type.startsWith(PROBLEM_TYPE_PREFIX) ? type.slice(PROBLEM_TYPE_PREFIX.length) : '';
      return new ClientConfigError({
        slug: isKnownSlug(suffix) ? suffix : 'unknown-problem',
        type,
        status,
        title,
        detail,
        instance,
        errors,
        retryAfterSeconds,
      });
    }
  }
  const gateway = v.safeParse(GatewayMessageSchema, json);
  const message = gateway.success
    ? 'message' in gateway.output
      ? gateway.output.message
      : gateway.output.Message
    : undefined;
  const slug = status === 403 ? 'gateway-forbidden' : status === 429 ? 'gateway-throttled' : 'gateway-error';
  // AWS's own messages hold no secrets; control characters and length are still bounded.
  const detail = message ? boundedText(message) : `HTTP ${status} without a problem document.`;
  return clientError(slug, detail, { status, instance: requestId, retryAfterSeconds });
}
