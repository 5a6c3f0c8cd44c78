/** Turns valibot issues into the per-field `errors` list of a `validation-failed` problem. */
import * as v from 'valibot';
import { type FieldError, ProblemError } from './problems.ts';

/** RFC 6901: `~` and `/` inside a key are escaped. */
function toJsonPointer(path: v.IssuePathItem[] | undefined): string {
  if (path === undefined) return '';
  return path.map((item) => `/${String(item.key).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}

export function fieldErrors(issues: readonly v.BaseIssue<unknown>[]): FieldError[] {
  return issues.map((issue) => ({ pointer: toJsonPointer(issue.path), detail: issue.message }));
}

/** Parses a request body or throws a `validation-failed` problem listing every bad field. */
export function parseRequestBody<TSchema extends v.GenericSchema>(
  schema: TSchema,
  body: unknown,
): v.InferOutput<TSchema> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new ProblemError('validation-failed', 'The request body must be a JSON object.', {
      errors: [{ pointer: '', detail: 'the body must be a JSON object' }],
    });
  }
  const result = v.safeParse(schema, body);
  if (result.success) return result.output;
  const errors = fieldErrors(result.issues);
  throw new ProblemError('validation-failed', `The request body has ${errors.length} invalid field(s).`, {
    errors,
  });
}
