/**
 * Validation of what comes in and what Affix answers: our request bodies (the raw text's UTF-8,
 * nesting and repeated keys, then the valibot schemas and the bounded per-field `errors` list of
 * `validation-failed`), Affix's client and messages, and JSON that keeps what we do not model exactly.
 *
 * Our requests use `strictObject`: an unknown key is an error, so a typo never silently does nothing.
 * Affix's client: the fields we know are validated, every other field is kept as it came (in
 * `extra`), so the full-object POST sends it back instead of erasing it at Affix.
 *
 * @example
 * const patch = parseRequestBody(PatchClientRequestSchema, { webhook_uri: null });
 * const value = parseJsonKeepingNumbers('{"id":12345678901234567890}');
 * JSON.stringify(value); // '{"id":12345678901234567890}'
 */
import * as v from 'valibot';
import { nameCharacterProblem } from '../../contract/display-name.ts';
import { MAX_ERROR_TEXT_LENGTH, MAX_FIELD_ERRORS, MAX_JSON_DEPTH } from '../../contract/limits.ts';
import { routeKeyOfOperation } from '../../contract/routes.ts';
import { decodeUtf8Strictly, hasLoneSurrogate, printableKey, scanJson } from '../../contract/strict-json.ts';
import { canonicalUrl, checkUrl, URL_RULE_MESSAGES, type UrlRuleOptions } from '../../contract/urls.ts';
import { type FieldError, ProblemError } from './problems.ts';

export const LIMITS = {
  nameMaxLength: 200,
  urlMaxLength: 2048,
  redirectUrisMax: 20,
  secretsMax: 5,
  secretMinLength: 16,
  secretMaxLength: 256,
} as const;

/** Visible ASCII (0x21-0x7E): no spaces or control characters that would be mangled in a Basic header. */
const PRINTABLE_SECRET = /^[\x21-\x7E]+$/;

const hasNoDuplicates = (values: string[]) => new Set(values).size === values.length;

/** Control characters and lone surrogates: never part of a name. */
const NAME_FORBIDDEN = /[\p{Cc}\p{Cs}]/u;
/** What cannot be seen: white space, format (zero-width, bidi) and other invisible characters, marks alone. */
const INVISIBLE = /[\p{White_Space}\p{C}\p{M}\p{Default_Ignorable_Code_Point}\u2800]/gu;

/** Lengths in Unicode code points (as JSON Schema counts), not UTF-16 units: an emoji is one, not two. */
export const codePointLength = (value: string): number => {
  let count = 0;
  for (const _ of value) count += 1;
  return count;
};

export const ClientNameSchema = v.pipe(
  v.string('name must be a string'),
  v.trim(),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const name = dataset.value;
    const characterProblem = nameCharacterProblem(name);
    if (name === '') addIssue({ message: 'name must not be empty' });
    else if (NAME_FORBIDDEN.test(name)) {
      addIssue({ message: 'name must not contain control characters or unpaired surrogates' });
    } else if (characterProblem !== undefined) {
      addIssue({ message: characterProblem });
    } else if (name.replace(INVISIBLE, '') === '') {
      addIssue({ message: 'name must contain a visible character' });
    } else if (codePointLength(name) > LIMITS.nameMaxLength) {
      addIssue({ message: `name must be at most ${LIMITS.nameMaxLength} characters (Unicode code points)` });
    }
  }),
);

/**
 * A URL field: the URL rule of urls.ts, and the canonical form is what we keep (and send to Affix), so
 * what was checked is what is stored. `label` starts the messages.
 */
const urlField = (label: string, typeMessage: string, rule: UrlRuleOptions) =>
  v.pipe(
    v.string(typeMessage),
    v.maxLength(LIMITS.urlMaxLength, `${label} must be at most ${LIMITS.urlMaxLength} characters`),
    v.rawCheck(({ dataset, addIssue }) => {
      if (!dataset.typed) return;
      const result = checkUrl(dataset.value, rule);
      if (!result.ok) addIssue({ message: `${label} ${URL_RULE_MESSAGES[result.reason]}` });
    }),
    v.transform((value) => canonicalUrl(value, rule) ?? value),
  );

/** https:// only: Affix delivers webhooks from the internet, never to a developer's machine. */
export const WebhookUriSchema = v.nullable(
  urlField('webhook_uri', 'webhook_uri must be a string or null', { allowQuery: true }),
);

export const RedirectUriSchema = urlField('each redirect URI', 'each redirect URI must be a string', {
  allowQuery: true,
  allowLoopbackHttp: true,
});

export const RedirectUrisSchema = v.pipe(
  v.array(RedirectUriSchema, 'redirect_uris must be an array of URLs'),
  v.minLength(1, 'redirect_uris must hold at least one URL'),
  v.maxLength(LIMITS.redirectUrisMax, `redirect_uris must hold at most ${LIMITS.redirectUrisMax} URLs`),
  // The items are canonical by now: `HTTPS://App.example.com` repeats `https://app.example.com/`.
  v.check(hasNoDuplicates, 'redirect_uris must not repeat a URL (compared in canonical form)'),
);

export const SecretSchema = v.pipe(
  v.string('each secret must be a string'),
  v.minLength(LIMITS.secretMinLength, `each secret must be at least ${LIMITS.secretMinLength} characters`),
  v.maxLength(LIMITS.secretMaxLength, `each secret must be at most ${LIMITS.secretMaxLength} characters`),
  v.regex(PRINTABLE_SECRET, 'each secret must consist of visible ASCII characters (no spaces)'),
);

export const SecretListSchema = v.pipe(
  v.array(SecretSchema, 'client_secret must be an array of strings'),
  v.minLength(1, 'client_secret must hold at least one secret'),
  v.maxLength(LIMITS.secretsMax, `client_secret must hold at most ${LIMITS.secretsMax} secrets`),
  v.check(hasNoDuplicates, 'client_secret must not repeat a secret'),
);

export const SECRETS_ROUTE_HINT = `client_secret cannot be changed here: use ${routeKeyOfOperation('replaceSecrets')}`;

/** Body of `PATCH /client` (JSON merge patch semantics for the three public fields). */
export const PatchClientRequestSchema = v.pipe(
  v.strictObject(
    {
      name: v.optional(ClientNameSchema),
      webhook_uri: v.optional(WebhookUriSchema),
      redirect_uris: v.optional(RedirectUrisSchema),
      // Declared only to answer with a pointer to the right route instead of a generic "unknown key".
      client_secret: v.optional(v.never(SECRETS_ROUTE_HINT)),
    },
    (issue) =>
      issue.expected === 'never' ? `unknown field ${issue.received}` : 'the body must be a JSON object',
  ),
  v.check(
    (patch) =>
      patch.name !== undefined || patch.webhook_uri !== undefined || patch.redirect_uris !== undefined,
    'the patch must change at least one of name, webhook_uri, redirect_uris',
  ),
);

/** Body of `PUT /client/secrets`. */
export const ReplaceSecretsRequestSchema = v.strictObject({ client_secret: SecretListSchema }, (issue) =>
  issue.expected === 'never' ? `unknown field ${issue.received}` : 'the body must be a JSON object',
);

/** The fields of Affix's `ClientResponse` (GET and POST 200) we model, and validate. */
const AffixClientFieldsSchema = v.object({
  client_id: v.string(),
  client_secret: v.array(v.string()),
  name: v.string(),
  redirect_uris: v.array(v.string()),
  webhook_uri: v.optional(v.nullable(v.string()), null),
});
const MODELLED_FIELDS: ReadonlySet<string> = new Set(Object.keys(AffixClientFieldsSchema.entries));

/** Fields of Affix's client we do not model: kept exactly as parsed, sent back, never shown. */
export type AffixExtraFields = Readonly<Record<string, unknown>>;

/** Affix's client as it travels over the wire (what a fake Affix stores). */
export type AffixClientJson = v.InferInput<typeof AffixClientFieldsSchema> & Record<string, unknown>;
/** Affix's client as we hold it: the modelled fields, and every other field in `extra`. */
export type AffixClient = v.InferOutput<typeof AffixClientFieldsSchema> & {
  readonly extra: AffixExtraFields;
};

/**
 * Parses Affix's client: the modelled fields validated, every other own key kept in `extra` as it
 * came. (Not valibot's `looseObject`: it drops keys such as `constructor` and `__proto__`, and Affix's
 * spec allows any key.) `undefined` when the modelled fields do not validate.
 */
export function parseAffixClient(json: unknown): AffixClient | undefined {
  const parsed = v.safeParse(AffixClientFieldsSchema, json);
  if (!parsed.success) return undefined;
  // Object.fromEntries defines own data properties: a key named `__proto__` stays a field.
  const extra: AffixExtraFields = Object.freeze(
    Object.fromEntries(Object.entries(json as object).filter(([key]) => !MODELLED_FIELDS.has(key))),
  );
  return { ...parsed.output, extra };
}

/** The body of Affix 400 (`inline_response_400`) and of 429/500 (`MessageResponse`): all optional here. */
export const AffixMessageSchema = v.object({
  message: v.optional(v.unknown()),
  validation_error: v.optional(v.unknown()),
});

export type PatchClientRequest = v.InferOutput<typeof PatchClientRequestSchema>;
export type ReplaceSecretsRequest = v.InferOutput<typeof ReplaceSecretsRequestSchema>;
/** The Affix `ClientRequest`: what we POST, always the full object (see `affixRequestBody`). */
export type AffixClientUpdate = Omit<AffixClient, 'client_id'>;

/** What our API returns for the client: secrets masked. */
export interface PublicClient {
  client_id: string;
  name: string;
  redirect_uris: string[];
  webhook_uri: string | null;
  client_secret: string[];
}

// ---------------------------------------------------------------------------------------------------
// JSON that keeps what we do not model exactly: a parse that keeps the source text of every number a
// JS number cannot hold (big integers, `1.50`, `1e400`), and a canonical serialization (sorted keys)
// for hashing. Node 22's `JSON.parse` gives a reviver the source text of each primitive, and
// `JSON.stringify` writes a `JSON.rawJSON` value verbatim, so such numbers survive both unchanged.
// ---------------------------------------------------------------------------------------------------

/** A value `JSON.stringify` writes as its `rawJSON` text (ES2025; TypeScript 5.9 has no typing yet). */
interface RawJson {
  readonly rawJSON: string;
}

interface JsonWithSource {
  parse(
    text: string,
    reviver: (this: unknown, key: string, value: unknown, context: { source?: string }) => unknown,
  ): unknown;
  rawJSON(text: string): RawJson;
  isRawJSON(value: unknown): value is RawJson;
}

const json = JSON as unknown as JsonWithSource;

/** `JSON.parse`, except that a number whose text a JS number would change keeps its text. */
export function parseJsonKeepingNumbers(text: string): unknown {
  return json.parse(text, (_key, value, context) =>
    typeof value === 'number' && context.source !== undefined && JSON.stringify(value) !== context.source
      ? json.rawJSON(context.source)
      : value,
  );
}

/**
 * One serialization per JSON value: object keys sorted (by UTF-16 code units), no whitespace, kept
 * numbers as their source text. Two parses of the same JSON, whatever their key order, give the same
 * string. Only takes what {@link parseJsonKeepingNumbers} returns; anything else is a bug.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('canonicalJson: not a JSON number');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (json.isRawJSON(value)) return value.rawJSON;
  if (typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  throw new TypeError(`canonicalJson: not a JSON value (${typeof value})`);
}

// ---------------------------------------------------------------------------------------------------
// Request bodies before and after JSON parsing: the nesting limit (checked on the raw text, without
// recursion) and valibot issues turned into the bounded per-field `errors` list of `validation-failed`.
// ---------------------------------------------------------------------------------------------------

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

/** A request body as API Gateway's proxy event carries it (the domain knows no Lambda types). */
export interface RequestBody {
  readonly body: string | null;
  readonly isBase64Encoded: boolean;
}

/**
 * The body as text, refused with `malformed-json` unless it is UTF-8 exactly: a base64 body (API Gateway
 * sends bytes that are not UTF-8 that way) is decoded without substituting U+FFFD, and a text body with
 * an unpaired surrogate cannot have come from UTF-8 either.
 */

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
