/**
 * The answers API Gateway gives itself, before or instead of the function (signature, IAM, throttling,
 * integration failures), written as RFC 9457 problems like the function's own. The CDK stack turns each
 * entry into a Gateway Response; the local API answers with the same documents.
 *
 * Pure data: no AWS imports.
 */

/** Shared by the function's problems and API Gateway's: `type` = prefix + slug. */
export const PROBLEM_TYPE_PREFIX = 'urn:affix-webhook-config:problem:';

/** API Gateway's response types (AWS::ApiGateway::GatewayResponse `ResponseType`) that we override. */
export type GatewayResponseType =
  | 'MISSING_AUTHENTICATION_TOKEN'
  | 'INVALID_SIGNATURE'
  | 'EXPIRED_TOKEN'
  | 'ACCESS_DENIED'
  | 'UNAUTHORIZED'
  | 'RESOURCE_NOT_FOUND'
  | 'THROTTLED'
  | 'QUOTA_EXCEEDED'
  | 'REQUEST_TOO_LARGE'
  | 'BAD_REQUEST_BODY'
  | 'BAD_REQUEST_PARAMETERS'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'INTEGRATION_FAILURE'
  | 'INTEGRATION_TIMEOUT'
  | 'API_CONFIGURATION_ERROR'
  | 'WAF_FILTERED'
  | 'DEFAULT_4XX'
  | 'DEFAULT_5XX';

export interface GatewayProblem {
  readonly responseType: GatewayResponseType;
  readonly slug: string;
  /** API Gateway's own status for this type; absent for the DEFAULT_* types, whose status varies. */
  readonly status?: number;
  readonly title: string;
  /** The `detail` of the document: fixed text (API Gateway's templates cannot compute ours). */
  readonly detail: string;
  /** When it happens, for the README's status table and the OpenAPI document. */
  readonly when: string;
  /** Trying again later, with backoff, can succeed (the typed client's `retryable`). */
  readonly retryable?: boolean;
}

const GATEWAY_PROBLEM_ENTRIES = [
  {
    responseType: 'MISSING_AUTHENTICATION_TOKEN',
    slug: 'missing-signature',
    status: 403,
    title: 'Request not signed, or no such route',
    detail:
      'Sign the request with AWS Signature Version 4 (service execute-api). An unknown route or method also answers this.',
    when: 'no SigV4 `Authorization` header, or a route or method the API does not have',
  },
  {
    responseType: 'INVALID_SIGNATURE',
    slug: 'invalid-signature',
    status: 403,
    title: 'Request signature does not match',
    detail:
      'The SigV4 signature does not match the request: check the secret key, region, service and signed headers.',
    when: 'the SigV4 signature is wrong (bad secret key, region, service, or a header changed after signing)',
  },
  {
    responseType: 'EXPIRED_TOKEN',
    slug: 'expired-credentials',
    status: 403,
    title: 'Request credentials have expired',
    detail: 'The credentials or the signature have expired: refresh the credentials and sign again.',
    when: 'expired temporary credentials, or a signature older than 5 minutes',
  },
  {
    responseType: 'ACCESS_DENIED',
    slug: 'access-denied',
    status: 403,
    title: 'Caller may not call this route',
    detail: "The caller's group may not call this route (see the API's resource policy).",
    when: 'a valid signature from a principal the resource policy or its own IAM policy does not allow on this route',
  },
  {
    responseType: 'UNAUTHORIZED',
    slug: 'unauthorized',
    status: 401,
    title: 'Caller could not be authorized',
    detail: 'The caller could not be authorized.',
    when: 'API Gateway could not authorize the caller',
  },
  {
    responseType: 'RESOURCE_NOT_FOUND',
    slug: 'route-not-found',
    status: 404,
    title: 'No such route',
    detail: 'There is no such route.',
    when: 'API Gateway found no resource for the path',
  },
  {
    responseType: 'THROTTLED',
    slug: 'throttled',
    status: 429,
    title: 'Too many requests',
    detail: 'The stage or method throttle refused the request: retry with backoff.',
    when: 'the stage or method throttle (rate or burst) refused the request',
    retryable: true,
  },
  {
    responseType: 'QUOTA_EXCEEDED',
    slug: 'quota-exceeded',
    status: 429,
    title: 'Quota exceeded',
    detail: 'A usage plan quota was exceeded.',
    when: 'a usage plan quota was exceeded',
  },
  {
    responseType: 'REQUEST_TOO_LARGE',
    slug: 'request-too-large',
    status: 413,
    title: 'Request too large for API Gateway',
    detail: "The request is larger than API Gateway's 10 MB limit.",
    when: "the request is over API Gateway's 10 MB limit",
  },
  {
    responseType: 'BAD_REQUEST_BODY',
    slug: 'bad-request-body',
    status: 400,
    title: 'Request body rejected by API Gateway',
    detail: 'API Gateway rejected the request body.',
    when: "API Gateway's request validation rejected the body",
  },
  {
    responseType: 'BAD_REQUEST_PARAMETERS',
    slug: 'bad-request-parameters',
    status: 400,
    title: 'Request parameters rejected by API Gateway',
    detail: 'API Gateway rejected the request parameters.',
    when: "API Gateway's request validation rejected a parameter",
  },
  {
    responseType: 'UNSUPPORTED_MEDIA_TYPE',
    slug: 'gateway-unsupported-media-type',
    status: 415,
    title: 'Unsupported media type',
    detail: 'API Gateway does not accept this content type.',
    when: 'API Gateway refused the content type',
  },
  {
    responseType: 'INTEGRATION_FAILURE',
    slug: 'integration-failure',
    status: 504,
    title: 'The function failed',
    detail:
      'The function could not answer; nothing is known about whether a write reached Affix. GET the client before retrying a write.',
    when: 'API Gateway could not invoke the function',
  },
  {
    responseType: 'INTEGRATION_TIMEOUT',
    slug: 'integration-timeout',
    status: 504,
    title: 'The function did not answer in time',
    detail:
      'The function did not answer within the integration timeout. GET the client before retrying a write.',
    when: "no answer from the function within API Gateway's integration timeout",
  },
  {
    responseType: 'API_CONFIGURATION_ERROR',
    slug: 'api-configuration-error',
    status: 500,
    title: 'API configuration error',
    detail: 'The API is misconfigured.',
    when: 'the API is misconfigured (for example the function may not be invoked)',
  },
  {
    responseType: 'WAF_FILTERED',
    slug: 'waf-filtered',
    status: 403,
    title: 'Blocked by the web application firewall',
    detail: 'A web application firewall rule blocked the request.',
    when: 'a WAF rule blocked the request',
  },
  {
    responseType: 'DEFAULT_4XX',
    slug: 'gateway-client-error',
    title: 'Request refused by API Gateway',
    detail: 'API Gateway refused the request.',
    when: 'any other 4XX answer of API Gateway',
  },
  {
    responseType: 'DEFAULT_5XX',
    slug: 'gateway-error',
    title: 'API Gateway failed',
    detail: 'API Gateway could not handle the request.',
    when: 'any other 5XX answer of API Gateway, e.g. 502 when the function failed',
  },
] as const satisfies readonly GatewayProblem[];

/** The slugs of API Gateway's answers, as a type (e.g. for the typed client's errors). */
export type GatewayProblemSlug = (typeof GATEWAY_PROBLEM_ENTRIES)[number]['slug'];

export const GATEWAY_PROBLEMS: readonly GatewayProblem[] = GATEWAY_PROBLEM_ENTRIES;

export function gatewayProblem(responseType: GatewayResponseType): GatewayProblem {
  const found = GATEWAY_PROBLEMS.find((problem) => problem.responseType === responseType);
  if (found === undefined) throw new Error(`no gateway problem for ${responseType}`);
  return found;
}

/**
 * The problem document for a gateway answer; `instance` is the request id (API Gateway fills it from
 * `$context.requestId`). `status` is included when the type has a fixed one.
 */
export function gatewayProblemDocument(
  problem: GatewayProblem,
  instance: string,
): { type: string; title: string; status?: number; detail: string; instance: string } {
  return {
    type: `${PROBLEM_TYPE_PREFIX}${problem.slug}`,
    title: problem.title,
    ...(problem.status === undefined ? {} : { status: problem.status }),
    detail: problem.detail,
    instance,
  };
}
