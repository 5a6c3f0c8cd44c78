/**
 * What every answer of the proxy must look like: a 200 with the masked client and an ETag, or an
 * RFC 9457 problem+json document whose type, title and status are one row of the status table
 * (`PROBLEMS`). Used by the property suite (on handler results) and the fault suite (over HTTP).
 *
 * @example
 * const problem = documentedAnswer(toAnswer(result)); // throws when the answer is not documented
 */
import type { APIGatewayProxyResult } from 'aws-lambda';
import { GATEWAY_PROBLEMS, type GatewayProblemSlug } from '../../functions/contract/gateway-responses.ts';
import { PROBLEM_TYPE_PREFIX, PROBLEMS, type ProblemSlug } from '../../functions/core/domain/problems.ts';

export interface Answer {
  status: number;
  /** Header names lower-cased. */
  headers: Record<string, string>;
  body: string;
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  errors?: { pointer: string; detail: string }[];
}

export type DocumentedAnswer =
  | { kind: 'success'; client: Record<string, unknown>; etag: string }
  | { kind: 'verified'; secret: string }
  | { kind: 'problem'; slug: ProblemSlug; problem: ProblemBody }
  /** API Gateway's own answer (only over HTTP through the API, never from the handler). */
  | { kind: 'gateway'; slug: GatewayProblemSlug; problem: ProblemBody };

export class UndocumentedAnswerError extends Error {
  override readonly name = 'UndocumentedAnswerError';
}

export function toAnswer(result: APIGatewayProxyResult): Answer {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(result.headers ?? {}))
    headers[name.toLowerCase()] = String(value);
  return { status: result.statusCode, headers, body: result.body };
}

export async function answerOf(response: Response): Promise<Answer> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name.toLowerCase()] = value;
  });
  return { status: response.status, headers, body: await response.text() };
}

const PROBLEM_KEYS = new Set(['type', 'title', 'status', 'detail', 'instance', 'errors']);
const MASKED_SECRET = /^\*{4}([!-~]{4})?$/;
const STACK_FRAME = /\bat .+\.(ts|js|mjs):\d+/;

function fail(message: string, answer: Answer): never {
  throw new UndocumentedAnswerError(`${message}: ${answer.status} ${answer.body.slice(0, 300)}`);
}

function parseObject(answer: Answer): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(answer.body);
  } catch {
    return fail('the body is not JSON', answer);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return fail('the body is not a JSON object', answer);
  }
  return parsed as Record<string, unknown>;
}

/** The `type` of a problem document, or undefined for any other body. */
function typeOf(answer: Answer): unknown {
  try {
    return (JSON.parse(answer.body) as { type?: unknown } | null)?.type;
  } catch {
    return undefined;
  }
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

/**
 * An answer over HTTP through the API: API Gateway's own documented answers (a Gateway Response, such
 * as 502 `gateway-error` for a function that failed or was killed) besides the function's.
 */
export function documentedApiAnswer(answer: Answer): DocumentedAnswer {
  const type = typeOf(answer);
  const gateway = GATEWAY_PROBLEMS.find((entry) => `${PROBLEM_TYPE_PREFIX}${entry.slug}` === type);
  if (gateway === undefined) return documentedAnswer(answer);
  if (answer.headers['content-type'] !== 'application/problem+json') fail('not problem+json', answer);
  const body = parseObject(answer) as unknown as ProblemBody;
  const statusMatches =
    gateway.status === undefined
      ? Math.floor(answer.status / 100) === (gateway.responseType === 'DEFAULT_4XX' ? 4 : 5)
      : answer.status === gateway.status;
  if (!statusMatches)
    fail(`status ${answer.status} does not match the gateway answer ${gateway.slug}`, answer);
  if (body.title !== gateway.title) fail('the title is not the gateway answer title', answer);
  return { kind: 'gateway', slug: gateway.slug as GatewayProblemSlug, problem: body };
}

/**
 * Throws {@link UndocumentedAnswerError} unless the answer is a 200 client, a 200 webhook verification,
 * or a row of the table.
 */
export function documentedAnswer(answer: Answer): DocumentedAnswer {
  // Only a 200 client may be cacheable (GET /client with the shared read cache on): private, with Age.
  const cacheControl = answer.headers['cache-control'];
  const cacheableClient =
    answer.status === 200 &&
    /^private, max-age=\d+$/.test(cacheControl ?? '') &&
    /^\d+$/.test(answer.headers.age ?? '');
  if (cacheControl !== 'no-store' && !cacheableClient) fail('cache-control is not no-store', answer);
  if (STACK_FRAME.test(answer.body)) fail('the body carries a stack frame', answer);
  const body = parseObject(answer);
  if (answer.status === 200) {
    if (answer.headers['content-type'] !== 'application/json; charset=utf-8') {
      fail('a 200 must be application/json', answer);
    }
    if (body.valid !== undefined) {
      // POST /webhooks/verify: exactly { valid: true, secret: <masked> }, no ETag.
      if (body.valid !== true || typeof body.secret !== 'string' || !MASKED_SECRET.test(body.secret)) {
        fail('a verification must be valid with a masked secret', answer);
      }
      if (Object.keys(body).sort().join() !== 'secret,valid') fail('extra members in a verification', answer);
      return { kind: 'verified', secret: body.secret };
    }
    const etag = answer.headers.etag;
    if (etag === undefined || !/^"[A-Za-z0-9_-]{22}"$/.test(etag)) fail('a 200 needs a strong ETag', answer);
    if (typeof body.client_id !== 'string' || typeof body.name !== 'string') fail('not a client', answer);
    if (!isStringArray(body.redirect_uris)) fail('redirect_uris is not a list of strings', answer);
    if (body.webhook_uri !== null && typeof body.webhook_uri !== 'string') fail('bad webhook_uri', answer);
    if (!isStringArray(body.client_secret) || !body.client_secret.every((s) => MASKED_SECRET.test(s))) {
      fail('a secret is not masked', answer);
    }
    return { kind: 'success', client: body, etag };
  }
  if (answer.headers['content-type'] !== 'application/problem+json') fail('not problem+json', answer);
  const type = body.type;
  if (typeof type !== 'string' || !type.startsWith(PROBLEM_TYPE_PREFIX)) fail('unknown problem type', answer);
  const slug = type.slice(PROBLEM_TYPE_PREFIX.length);
  if (!Object.hasOwn(PROBLEMS, slug)) fail(`problem type ${slug} is not in the status table`, answer);
  const row = PROBLEMS[slug as ProblemSlug];
  if (row.status !== answer.status || body.status !== answer.status) {
    fail(`status ${answer.status} does not match the table row ${slug} (${row.status})`, answer);
  }
  if (body.title !== row.title) fail('the title is not the table title', answer);
  if (typeof body.detail !== 'string' || body.detail === '') fail('no detail', answer);
  if (typeof body.instance !== 'string' || body.instance === '') fail('no instance', answer);
  for (const key of Object.keys(body)) if (!PROBLEM_KEYS.has(key)) fail(`extra member ${key}`, answer);
  if (body.errors !== undefined) {
    const errors = body.errors;
    if (
      !Array.isArray(errors) ||
      !errors.every(
        (error: unknown) =>
          typeof error === 'object' &&
          error !== null &&
          typeof (error as { pointer?: unknown }).pointer === 'string' &&
          typeof (error as { detail?: unknown }).detail === 'string',
      )
    ) {
      fail('errors is not a list of { pointer, detail }', answer);
    }
  }
  if (answer.status === 405 && !answer.headers.allow) fail('a 405 needs a non-empty Allow header', answer);
  const retryAfter = answer.headers['retry-after'];
  if (retryAfter !== undefined && !/^\d+$/.test(retryAfter)) fail('Retry-After is not delta-seconds', answer);
  return { kind: 'problem', slug: slug as ProblemSlug, problem: body as unknown as ProblemBody };
}
