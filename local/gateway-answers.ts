/**
 * What API Gateway writes back to the caller: the function's proxy result (merged headers, decoded
 * base64 bodies), or API Gateway's own answer (the contract's problem document, as the deployed
 * Gateway Responses send it). Each writer returns the answer's outcome for the access log.
 *
 * @example
 * ```ts
 * const outcome = isProxyResult(result) ? writeProxyResult(res, result, requestId) : sendFunctionError(res, requestId);
 * ```
 */
import type { ServerResponse } from 'node:http';
import type { APIGatewayProxyResult } from 'aws-lambda';
import {
  type GatewayResponseType,
  gatewayProblem,
  gatewayProblemDocument,
  PROBLEM_TYPE_PREFIX,
} from '../functions/contract/gateway-responses.ts';

/** `success` for a non-error status; else the problem slug of the body's `type`, or `http-<status>`. */
export function outcomeOf(status: number, body: string | null | undefined): string {
  if (status < 400) return 'success';
  try {
    const type = (JSON.parse(body ?? '') as { type?: unknown }).type;
    if (typeof type === 'string' && type.startsWith(PROBLEM_TYPE_PREFIX)) {
      return type.slice(PROBLEM_TYPE_PREFIX.length);
    }
  } catch {
    // Not a problem document: fall through to the status.
  }
  return `http-${status}`;
}

/** The status of a DEFAULT_* answer, whose contract entry has none. */
const DEFAULT_STATUS: Partial<Record<GatewayResponseType, number>> = { DEFAULT_4XX: 400, DEFAULT_5XX: 500 };

/**
 * API Gateway's own answer: the contract's problem document, as the deployed Gateway Response sends
 * it. Returns its slug, or undefined when nothing could be written any more.
 */
export function sendGatewayProblem(
  res: ServerResponse,
  responseType: GatewayResponseType,
  requestId: string,
  extra: Record<string, string> = {},
  /** For a DEFAULT_* type: the status API Gateway answers with (its entry has none). */
  status?: number,
): string | undefined {
  if (res.headersSent || res.destroyed) return undefined;
  const problem = gatewayProblem(responseType);
  const payload = Buffer.from(JSON.stringify(gatewayProblemDocument(problem, requestId)), 'utf8');
  res.writeHead(problem.status ?? status ?? DEFAULT_STATUS[responseType] ?? 500, {
    'content-type': 'application/problem+json',
    'content-length': String(payload.length),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'x-amzn-requestid': requestId,
    ...extra,
  });
  res.end(payload);
  return problem.slug;
}

/**
 * A Lambda function error behind a proxy integration (the function threw, crashed, timed out before
 * the integration timeout, or returned a malformed result): API Gateway answers 502, under its default
 * 5XX Gateway Response. Only the 29 s integration timeout is `INTEGRATION_TIMEOUT` (504).
 */
export function sendFunctionError(res: ServerResponse, requestId: string): string | undefined {
  return sendGatewayProblem(res, 'DEFAULT_5XX', requestId, {}, 502);
}

export function isProxyResult(value: unknown): value is APIGatewayProxyResult {
  if (typeof value !== 'object' || value === null) return false;
  const result = value as Record<string, unknown>;
  return (
    Number.isInteger(result.statusCode) &&
    (result.statusCode as number) >= 100 &&
    (result.statusCode as number) <= 599 &&
    (result.body === undefined || result.body === null || typeof result.body === 'string')
  );
}

/**
 * Writes the proxy result like API Gateway: merges `headers` into `multiValueHeaders`, decodes base64
 * bodies. Throws, having sent nothing, when a header is invalid (the caller answers 502 instead).
 */
export function writeProxyResult(
  res: ServerResponse,
  result: APIGatewayProxyResult,
  requestId: string,
): string {
  const merged = new Map<string, { name: string; values: string[] }>();
  const add = (name: string, value: boolean | number | string): void => {
    const key = name.toLowerCase();
    const entry = merged.get(key);
    if (!entry) merged.set(key, { name, values: [String(value)] });
    else if (!entry.values.includes(String(value))) entry.values.push(String(value));
  };
  for (const [name, values] of Object.entries(result.multiValueHeaders ?? {})) {
    for (const value of values) add(name, value);
  }
  for (const [name, value] of Object.entries(result.headers ?? {})) add(name, value);

  const raw = result.body ?? '';
  const payload = result.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');

  // Validate every header before sending anything, so a bad one still yields a clean 502.
  const headers: [string, string | string[]][] = [];
  for (const { name, values } of merged.values()) {
    const lower = name.toLowerCase();
    if (lower === 'content-length' || lower === 'transfer-encoding' || lower === 'connection') continue;
    headers.push([name, values.length === 1 ? (values[0] as string) : values]);
  }
  if (!merged.has('content-type')) headers.push(['content-type', 'application/json']);
  headers.push(['content-length', String(payload.length)]);
  headers.push(['x-amzn-requestid', requestId]);
  for (const [name, value] of headers) res.setHeader(name, value);
  res.statusCode = result.statusCode;
  res.end(payload);
  return outcomeOf(result.statusCode, result.isBase64Encoded ? null : result.body);
}
