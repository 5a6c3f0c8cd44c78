/**
 * The one builder of the API Gateway REST (v1) Lambda proxy event, as API Gateway sends it: used by
 * the local API (from an HTTP request), the tests (from a few options) and the bench. Pure: no I/O.
 * Query and header maps have no prototype, so a key such as `constructor` or `__proto__` is data like
 * any other, and no request target makes it throw.
 *
 * @example
 * ```ts
 * const event = toApiGatewayEvent({ method: 'PATCH', url: '/client', body: '{"name":"x"}',
 *   headers: { 'content-type': 'application/json' }, identity: LOCAL_IDENTITIES.writers.identity,
 *   requestId: 'req-1' });
 * ```
 */
import { isUtf8 } from 'node:buffer';
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { APIGatewayEventIdentity, APIGatewayProxyEvent } from 'aws-lambda';
import { RESOURCE_PATHS } from '../functions/contract/routes.ts';
import { LOCAL_ACCOUNT_ID, type LocalIdentity } from './identities.ts';

const KNOWN_RESOURCES: ReadonlySet<string> = new Set(RESOURCE_PATHS);
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export interface ApiGatewayEventInput {
  method: string;
  /** Request target as received, e.g. `/client?x=1`. */
  url: string;
  /**
   * Header values; a repeated header as an array (as `IncomingMessage.headers` gives `set-cookie`),
   * its values in order.
   */
  headers: IncomingHttpHeaders | Readonly<Record<string, string | readonly string[]>>;
  /**
   * Optional `IncomingMessage.rawHeaders`: when given, header names keep the caller's casing (as API
   * Gateway does) and repeated headers keep every value in `multiValueHeaders` (`headers` keeps the last).
   */
  rawHeaders?: readonly string[];
  /**
   * Bytes as received (UTF-8 becomes text, anything else base64; none: a null body, as API Gateway
   * sends), or the event's `body` string as is (then `isBase64Encoded` says what it is).
   */
  body: Buffer | string | null;
  /** For a string body only: whether it is base64. Default false. */
  isBase64Encoded?: boolean;
  /** The verified IAM caller, or null for a request without one. */
  identity: LocalIdentity | null;
  requestId: string;
  /** Default `local`. */
  stage?: string;
  /** Default {@link LOCAL_ACCOUNT_ID}: the API's account. */
  accountId?: string;
  /** Default `local`. */
  apiId?: string;
  /** Default `127.0.0.1`. */
  sourceIp?: string;
  /** Defaults to now. */
  requestTimeEpoch?: number;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** API Gateway's `requestTime` format, e.g. `09/Apr/2015:12:34:56 +0000`. */
function formatRequestTime(epochMs: number): string {
  const d = new Date(epochMs);
  return `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(
    d.getUTCMinutes(),
  )}:${pad(d.getUTCSeconds())} +0000`;
}

/** REST API v1: `headers` keeps only the last value of a repeated header; all are in `multiValueHeaders`. */
export function eventHeaders(
  headers: ApiGatewayEventInput['headers'],
  rawHeaders?: readonly string[],
): { single: Record<string, string>; multi: Record<string, string[]> } {
  const grouped = new Map<string, { name: string; values: string[] }>();
  const add = (name: string, values: readonly string[]): void => {
    const key = name.toLowerCase();
    const entry = grouped.get(key);
    if (entry) entry.values.push(...values);
    else grouped.set(key, { name, values: [...values] });
  };
  if (rawHeaders) {
    for (let i = 0; i + 1 < rawHeaders.length; i += 2)
      add(rawHeaders[i] as string, [rawHeaders[i + 1] as string]);
  } else {
    for (const [name, value] of Object.entries(headers)) {
      if (value === undefined) continue;
      add(name, typeof value === 'string' ? [value] : value);
    }
  }
  const single: Record<string, string> = Object.create(null);
  const multi: Record<string, string[]> = Object.create(null);
  for (const { name, values } of grouped.values()) {
    if (values.length === 0) continue;
    single[name] = values.at(-1) as string;
    multi[name] = values;
  }
  return { single, multi };
}

/** The fields of `requestContext.identity` an IAM-authorized request carries; Cognito's are null. */
export function apiGatewayIdentity(fields: {
  userArn: string | null;
  caller: string | null;
  accountId: string | null;
  sourceIp: string;
  userAgent: string | null;
  accessKey?: string | null;
  user?: string | null;
}): APIGatewayEventIdentity {
  return {
    accessKey: fields.accessKey ?? null,
    accountId: fields.accountId,
    apiKey: null,
    apiKeyId: null,
    caller: fields.caller,
    clientCert: null,
    cognitoAuthenticationProvider: null,
    cognitoAuthenticationType: null,
    cognitoIdentityId: null,
    cognitoIdentityPoolId: null,
    principalOrgId: null,
    sourceIp: fields.sourceIp,
    user: fields.user ?? null,
    userAgent: fields.userAgent,
    userArn: fields.userArn,
  };
}

/**
 * The path and query of a request target (origin form `/a?b`, or absolute form), as API Gateway reads
 * them. Never throws: a target no URL parser accepts keeps its path as is, with no query.
 */
export function splitTarget(target: string): { path: string; query: URLSearchParams } {
  try {
    // Origin form is parsed against a fixed origin, so `//x` stays a path, not an authority.
    const url = target.startsWith('/')
      ? new URL(`http://localhost${target}`)
      : new URL(target, 'http://localhost');
    return { path: url.pathname, query: url.searchParams };
  } catch {
    const at = target.indexOf('?');
    return { path: at === -1 ? target : target.slice(0, at), query: new URLSearchParams() };
  }
}

/** The API Gateway resource a request path maps to: `/client/` is `/client`; unknown paths stay as they are. */
export function resourceOf(path: string): string {
  const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  return KNOWN_RESOURCES.has(trimmed) ? trimmed : path;
}

function eventBody(input: ApiGatewayEventInput): { body: string | null; isBase64Encoded: boolean } {
  const raw = input.body;
  if (typeof raw === 'string') return { body: raw, isBase64Encoded: input.isBase64Encoded ?? false };
  if (raw === null || raw.length === 0) return { body: null, isBase64Encoded: false };
  // API Gateway passes text as is and binary media base64-encoded.
  return isUtf8(raw)
    ? { body: raw.toString('utf8'), isBase64Encoded: false }
    : { body: raw.toString('base64'), isBase64Encoded: true };
}

/** Builds the REST API (v1) Lambda proxy event API Gateway would send for this request. */
export function toApiGatewayEvent(input: ApiGatewayEventInput): APIGatewayProxyEvent {
  const stage = input.stage ?? 'local';
  const { path, query: search } = splitTarget(input.url);
  const resource = resourceOf(path);
  const method = input.method.toUpperCase();
  const requestTimeEpoch = input.requestTimeEpoch ?? Date.now();

  const grouped = new Map<string, string[]>();
  for (const [key, value] of search) {
    const values = grouped.get(key);
    if (values) values.push(value);
    else grouped.set(key, [value]);
  }
  const query: Record<string, string> = Object.create(null);
  const multiQuery: Record<string, string[]> = Object.create(null);
  for (const [key, values] of grouped) {
    query[key] = values.at(-1) as string; // the last value wins, as in API Gateway
    multiQuery[key] = values;
  }
  const hasQuery = grouped.size > 0;

  const { single, multi } = eventHeaders(input.headers, input.rawHeaders);
  const header = (name: string): string | undefined =>
    Object.entries(single).find(([key]) => key.toLowerCase() === name)?.[1];
  const host = header('host') ?? 'localhost';
  const identity = input.identity;
  const hasCaller = identity !== null && identity.userArn !== null;

  return {
    resource,
    path,
    httpMethod: method,
    headers: single,
    multiValueHeaders: multi,
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? multiQuery : null,
    pathParameters: null,
    stageVariables: null,
    ...eventBody(input),
    requestContext: {
      accountId: input.accountId ?? LOCAL_ACCOUNT_ID,
      apiId: input.apiId ?? 'local',
      authorizer: undefined,
      domainName: host,
      domainPrefix: host.split('.')[0],
      extendedRequestId: randomBytes(8).toString('base64url'),
      httpMethod: method,
      identity: apiGatewayIdentity({
        accessKey: hasCaller ? (identity.accessKey ?? 'ASIALOCALACCESSKEY001') : null,
        accountId: identity?.accountId ?? null,
        caller: identity?.caller ?? null,
        sourceIp: input.sourceIp ?? '127.0.0.1',
        user: identity?.user ?? identity?.caller ?? null,
        userAgent: header('user-agent') ?? null,
        userArn: identity?.userArn ?? null,
      }),
      path: `/${stage}${path}`,
      protocol: 'HTTP/1.1',
      requestId: input.requestId,
      requestTime: formatRequestTime(requestTimeEpoch),
      requestTimeEpoch,
      resourceId: createHash('sha256').update(resource).digest('hex').slice(0, 6),
      resourcePath: resource,
      stage,
    },
  };
}
