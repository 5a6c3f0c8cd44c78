/**
 * Request bodies before and after JSON parsing: the nesting limit (checked on the raw text, without
 * recursion) and valibot issues turned into the bounded per-field `errors` list of `validation-failed`.
 */
import * as v from 'valibot';
import { MAX_ERROR_TEXT_LENGTH, MAX_FIELD_ERRORS, MAX_JSON_DEPTH } from '../../contract/limits.ts';
import { decodeUtf8Strictly, hasLoneSurrogate, printableKey, scanJson } from '../../contract/strict-json.ts';
import { type FieldError, ProblemError } from './problems.ts';

// The limits are part of the contract (the problem texts quote them); kept importable from here.
export { MAX_ERROR_TEXT_LENGTH, MAX_FIELD_ERRORS, MAX_JSON_DEPTH };

/**
 * Whether JSON text nests arrays and objects deeper than `maxDepth`. One pass over the characters,
 * skipping strings; it does not validate the JSON (the parser does that afterwards).
 */
export function exceedsJsonDepth(text: string, maxDepth: number = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let index = 0; index < text.length; index += 1) {
    const char = text.charCodeAt(index);
    if (inString) {
      if (char === 0x5c)
        index += 1; // a backslash: the next character is escaped
      else if (char === 0x22) inString = false;
    } else if (char === 0x22) {
      inString = true;
    } else if (char === 0x5b || char === 0x7b) {
      depth += 1;
      if (depth > maxDepth) return true;
    } else if (char === 0x5d || char === 0x7d) {
      depth -= 1;
    }
  }
  return false;
}

/** Refuses a body nested deeper than {@link MAX_JSON_DEPTH} with `json-too-deep`. */
export function checkJsonDepth(text: string): void {
  if (exceedsJsonDepth(text)) {
    throw new ProblemError(
      'json-too-deep',
      `The request body nests arrays or objects deeper than ${MAX_JSON_DEPTH} levels.`,
    );
  }
}

/**
 * The body as text, refused with `malformed-json` unless it is UTF-8 exactly: a base64 body (API Gateway
 * sends bytes that are not UTF-8 that way) is decoded without substituting U+FFFD, and a text body with
 * an unpaired surrogate cannot have come from UTF-8 either.
 */
/** A request body as API Gateway's proxy event carries it (the domain knows no Lambda types). */
export interface RequestBody {
  readonly body: string | null;
  readonly isBase64Encoded: boolean;
}

export function strictBodyText(event: RequestBody): string {
  const body = event.body ?? '';
  const text = event.isBase64Encoded ? decodeUtf8Strictly(Buffer.from(body, 'base64')) : body;
  if (text === undefined || hasLoneSurrogate(text)) {
    throw new ProblemError(
      'malformed-json',
      'The request body is not valid UTF-8; JSON must be UTF-8 exactly.',
    );
  }
  return text;
}

/**
 * Refuses a body that repeats a key within one object (at any depth) with `malformed-json` naming the
 * key and where: JSON.parse would keep the last value, and what validated one copy must be what is used.
 * A body that is not JSON at all is left to the parser.
 */
export function checkNoRepeatedKeys(text: string): void {
  const scan = scanJson(text);
  if (scan.ok || scan.reason !== 'duplicate-key') return;
  throw new ProblemError(
    'malformed-json',
    bounded(
      `The request body repeats the key ${printableKey(scan.key)} (at ${printableKey(scan.pointer)}); each key may appear once in an object.`,
    ),
  );
}

function bounded(text: string): string {
  const codePoints = [...text];
  return codePoints.length > MAX_ERROR_TEXT_LENGTH
    ? `${codePoints.slice(0, MAX_ERROR_TEXT_LENGTH).join('')}…`
    : text;
}

/** RFC 6901: `~` and `/` inside a key are escaped. */
function toJsonPointer(path: v.IssuePathItem[] | undefined): string {
  if (path === undefined) return '';
  return path.map((item) => `/${String(item.key).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}

export function fieldErrors(issues: readonly v.BaseIssue<unknown>[]): FieldError[] {
  return issues.map((issue) => ({
    pointer: bounded(toJsonPointer(issue.path)),
    detail: bounded(issue.message),
  }));
}

/** Parses a request body or throws a `validation-failed` problem listing the first bad fields. */
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
  const total = result.issues.length;
  const errors = fieldErrors(result.issues.slice(0, MAX_FIELD_ERRORS));
  const detail =
    total > MAX_FIELD_ERRORS
      ? `The request body has ${total} invalid field(s); the first ${MAX_FIELD_ERRORS} are listed.`
      : `The request body has ${total} invalid field(s).`;
  throw new ProblemError('validation-failed', detail, { errors });
}
