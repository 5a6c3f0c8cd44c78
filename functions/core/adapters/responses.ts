/** Builds the API Gateway proxy results: JSON for success, RFC 9457 problem+json for errors. */
import type { APIGatewayProxyResult } from 'aws-lambda';
import { type ProblemError, problemDocument } from '../domain/problems.ts';

/** Nothing we answer may be cached by an intermediary: it describes live, sensitive state. */
const COMMON_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
} as const;

export function jsonResponse(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { ...COMMON_HEADERS, 'content-type': 'application/json; charset=utf-8', ...headers },
    body: JSON.stringify(body),
  };
}

export function problemResponse(problem: ProblemError, instance: string): APIGatewayProxyResult {
  const headers: Record<string, string> = {
    ...COMMON_HEADERS,
    ...problem.headers,
    'content-type': 'application/problem+json',
  };
  if (problem.retryAfterSeconds !== undefined) headers['retry-after'] = String(problem.retryAfterSeconds);
  return { statusCode: problem.status, headers, body: JSON.stringify(problemDocument(problem, instance)) };
}
