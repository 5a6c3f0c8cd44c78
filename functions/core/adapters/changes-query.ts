/**
 * The query of `GET /client/changes`: `limit` (an integer from 1 to 100, default 20) and `cursor` (a
 * `next_cursor` of an earlier page, at most 512 characters; decoded by the journal adapter). A value
 * that breaks these rules, or a parameter sent twice, is `validation-failed` with a JSON Pointer per
 * parameter (`/limit`); other parameters are ignored, as on every route.
 *
 * @example
 * parseChangesQuery({ queryStringParameters: { limit: '5' }, multiValueQueryStringParameters: { limit: ['5'] } });
 * // { limit: 5 }
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import * as v from 'valibot';
import { MAX_CURSOR_LENGTH } from '../domain/journal-cursor.ts';
import { ProblemError } from '../domain/problems.ts';
import { fieldErrors } from '../domain/schemas.ts';

export const DEFAULT_CHANGES_LIMIT = 20;
export const MAX_CHANGES_LIMIT = 100;

const LIMIT_RULE = `must be an integer from 1 to ${MAX_CHANGES_LIMIT}`;

const ChangesQuerySchema = v.object({
  limit: v.optional(
    v.pipe(
      v.string(),
      // Digits only: no sign, exponent, fraction or white space that Number() would accept.
      v.regex(/^[0-9]{1,3}$/, LIMIT_RULE),
      v.transform(Number),
      v.minValue(1, LIMIT_RULE),
      v.maxValue(MAX_CHANGES_LIMIT, LIMIT_RULE),
    ),
  ),
  cursor: v.optional(
    v.pipe(
      v.string(),
      v.minLength(1, 'must not be empty'),
      v.maxLength(MAX_CURSOR_LENGTH, `must be at most ${MAX_CURSOR_LENGTH} characters`),
    ),
  ),
});

export interface ChangesQuery {
  limit: number;
  cursor?: string | undefined;
}

const PARAMETERS = ['limit', 'cursor'] as const;

/** The validated query; throws `validation-failed` naming each bad parameter. */
export function parseChangesQuery(
  event: Pick<APIGatewayProxyEvent, 'queryStringParameters' | 'multiValueQueryStringParameters'>,
): ChangesQuery {
  const single = event.queryStringParameters ?? {};
  const multi = event.multiValueQueryStringParameters ?? {};
  const query: Record<string, string> = {};
  const repeated: string[] = [];
  for (const name of PARAMETERS) {
    // `queryStringParameters` keeps only the last of several: every value counts.
    const values = Object.hasOwn(multi, name) ? (multi[name] ?? []) : [];
    const value = Object.hasOwn(single, name) ? single[name] : undefined;
    if (values.length > 1) repeated.push(name);
    else if (value !== undefined) query[name] = value;
  }
  const errors = repeated.map((name) => ({ pointer: `/${name}`, detail: 'must be given at most once' }));
  const parsed = v.safeParse(ChangesQuerySchema, query);
  if (!parsed.success) errors.push(...fieldErrors(parsed.issues));
  if (errors.length > 0) {
    const names = errors.map((error) => error.pointer.slice(1)).join(', ');
    throw new ProblemError('validation-failed', `Invalid query parameter(s): ${names}.`, { errors });
  }
  const output = parsed.success ? parsed.output : {};
  return { limit: output.limit ?? DEFAULT_CHANGES_LIMIT, cursor: output.cursor };
}
