/**
 * `npm run openapi`: writes `openapi.json` (OpenAPI 3.1) for our routes.
 *
 * Bodies come from the handler's valibot schemas (`@valibot/to-json-schema`, JSON Schema 2020-12),
 * responses from the client's (`clients/schemas.ts`), problem responses from `PROBLEMS`, so the
 * document, the handler and the client cannot drift apart; `test/clients/openapi.test.ts` fails when
 * the committed file differs from what this script builds.
 *
 * valibot actions that JSON Schema cannot express (`trim`, `check`) are converted with
 * {@link ACTION_SUPPLEMENTS}: hand-written keywords for exactly those action objects. Any other
 * unconvertible action makes the conversion throw, so a new rule in schemas.ts is never silently
 * left out of the document.
 *
 * @example
 * const document = buildOpenApiDocument();
 * document.paths['/client'].get.responses['200'];
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ConversionConfig, type JsonSchema, toJsonSchemaDefs } from '@valibot/to-json-schema';
import {
  FieldErrorSchema,
  ProblemDocumentSchema,
  PublicClientSchema,
  WebhookVerificationSchema,
} from '../clients/schemas.ts';
import { PROBLEM_TYPE_PREFIX, PROBLEMS, type ProblemSlug } from '../functions/client-config/problems.ts';
import {
  ACCEPTED_MEDIA_TYPES,
  MAX_REQUEST_BODY_BYTES,
  type RouteKey,
} from '../functions/client-config/request-rules.ts';
import {
  ClientNameSchema,
  LIMITS,
  PatchClientRequestSchema,
  RedirectUriSchema,
  RedirectUrisSchema,
  ReplaceSecretsRequestSchema,
  SECRETS_ROUTE_HINT,
  SecretListSchema,
  WebhookUriSchema,
} from '../functions/client-config/schemas.ts';
import { LOOPBACK_HOSTS } from '../functions/client-config/urls.ts';
import { MAX_FIELD_ERRORS, MAX_JSON_DEPTH } from '../functions/client-config/validation.ts';
import { GATEWAY_PROBLEMS, type GatewayProblem } from '../functions/contract/gateway-responses.ts';
import { SIGNATURE_HEADER } from '../functions/contract/headers.ts';
import { WEBHOOK_MAX_BODY_BYTES } from '../functions/contract/routes.ts';

export const OPENAPI_PATH = fileURLToPath(new URL('../openapi.json', import.meta.url));

type Json = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------------
// Which problems each route can answer with, read from the handler's code paths.
// ---------------------------------------------------------------------------------------------------

/**
 * Every route: the guard's missing-caller 403, the catch-all 500, and every outcome of the Affix and
 * SSM calls that every route makes (each write reads the client first). `statusToProblem` maps Affix
 * statuses the same way for reads and writes, so a read answered 400 or 409 by Affix also becomes a
 * 422 or 409 (Affix does not document those for reads).
 */
const EVERY_ROUTE: readonly ProblemSlug[] = [
  'forbidden',
  'internal',
  'upstream-rejected',
  'upstream-conflict',
  'upstream-rate-limited',
  'upstream-auth-failed',
  'upstream-error',
  'upstream-bad-response',
  'upstream-unreachable',
  'credentials-unavailable',
  'upstream-timeout',
];

/** Routes with a body: the guard's size and media-type checks, JSON parsing, validation, If-Match. */
const WRITE_ROUTES: readonly ProblemSlug[] = [
  'validation-failed',
  'malformed-json',
  'json-too-deep',
  'payload-too-large',
  'unsupported-media-type',
  'precondition-failed',
];

/** Writes take the cross-container write lease before reading Affix; reads never do. */
const LEASED_ROUTES: readonly ProblemSlug[] = ['write-contention', 'write-lock-unavailable'];

export const ROUTE_PROBLEMS: Readonly<Record<RouteKey, readonly ProblemSlug[]>> = {
  'GET /client': EVERY_ROUTE,
  'PATCH /client': [...EVERY_ROUTE, ...WRITE_ROUTES, ...LEASED_ROUTES],
  'PUT /client/secrets': [...EVERY_ROUTE, ...WRITE_ROUTES, ...LEASED_ROUTES, 'would-lock-out'],
  // Any bytes, never parsed: only the size limit applies; it reads Affix's list of secrets (a GET).
  'POST /webhooks/verify': [
    ...EVERY_ROUTE,
    'payload-too-large',
    'signature-mismatch',
    // Content-Encoding other than gzip, or a gzip body that does not decompress.
    'unsupported-media-type',
    'validation-failed',
  ],
};

/**
 * Answered by the function only for a route or method it does not serve. API Gateway forwards only
 * the three documented operations (answering anything else with its own 403 `Missing Authentication
 * Token`), so these appear in the catalogue but under no operation.
 */
export const UNROUTED_PROBLEMS: readonly ProblemSlug[] = ['not-found', 'method-not-allowed'];

/** When each problem happens: the README's status table, for the document. */
const CONDITIONS: Readonly<Record<ProblemSlug, string>> = {
  'validation-failed': `The body fails the schema; \`errors\` lists the first ${MAX_FIELD_ERRORS} invalid fields as JSON Pointers (\`detail\` gives the total). For \`POST /webhooks/verify\`: a \`Content-Encoding: gzip\` body that does not decompress.`,
  'malformed-json': 'The body is not JSON, or is empty.',
  'json-too-deep': `The body nests arrays or objects deeper than ${MAX_JSON_DEPTH} levels (checked before parsing).`,
  forbidden:
    "The request context carries no IAM caller (API Gateway misconfigured); signature and IAM failures are API Gateway's own 403.",
  'not-found':
    "Unknown route. Through API Gateway an unknown route is API Gateway's own 403 `Missing Authentication Token` instead.",
  'method-not-allowed':
    "Wrong method for a route, with an `Allow` header. Through API Gateway this is API Gateway's own 403 instead.",
  'would-lock-out':
    'The new secret list lacks the secret the proxy authenticates with (checked again against SSM before refusing).',
  'upstream-conflict': 'Affix answered 409.',
  'precondition-failed': "`If-Match` does not match the current client's ETag; nothing was sent to Affix.",
  'payload-too-large': `The body is over the operation's limit: ${MAX_REQUEST_BODY_BYTES} bytes, ${WEBHOOK_MAX_BODY_BYTES} bytes (5 MiB, decoded and decompressed) for \`POST /webhooks/verify\`.`,
  'unsupported-media-type':
    'The `Content-Type` is not one the operation accepts; for `POST /webhooks/verify`, a `Content-Encoding` other than `gzip`.',
  'upstream-rejected':
    'Affix answered 400. `detail` carries its message only when no run of 6 characters in it matches any encoding of a secret the proxy knows; otherwise only the names of our fields it mentioned.',
  'signature-mismatch': `\`${SIGNATURE_HEADER}\` is missing, empty, not 64 hex digits, or is not the HMAC-SHA256 of the body with any of the client's current secrets (checked against a list cached up to 60 s, read again from Affix once before refusing). 422, not 401: the caller is authenticated; the delivery it forwarded is what fails.`,
  'upstream-rate-limited':
    'Affix answered 429 after retries, or with a `Retry-After` longer than the deadline; `Retry-After` is passed on.',
  internal: 'Anything unexpected; details only in the logs.',
  'upstream-auth-failed': 'Affix answered 401, also after one fresh read of the credentials from SSM.',
  'upstream-error': 'Affix answered 5xx or an unexpected status, after retries.',
  'upstream-bad-response':
    'Affix answered 2xx with a body that is not JSON, fails the schema, or exceeds 1 MiB.',
  'upstream-unreachable': 'Connection refused or reset, DNS or TLS failure, after retries.',
  'credentials-unavailable': 'SSM failed, or an Affix credentials parameter is missing.',
  'write-contention':
    "Another write held the write lease for longer than this request could wait (half its deadline); nothing was sent to Affix. `Retry-After` is the holder's remaining lease (at least 1 s).",
  'write-lock-unavailable':
    'The write lock store (DynamoDB) failed or did not answer in time; nothing was sent to Affix. `Retry-After: 1`.',
  'upstream-timeout':
    "The request's deadline passed before Affix answered. On a write the change may or may not have been applied (GET to see); no request to Affix is started after the deadline, so none after this answer.",
};

/**
 * API Gateway's own answers (its Gateway Responses, `application/problem+json` like the function's),
 * from the contract: every entry with a fixed status that a request to one of our operations can get.
 * Entries without a fixed status (DEFAULT_4XX/5XX) are listed in the info table only.
 */
export const GATEWAY_ANSWERS: readonly (GatewayProblem & { status: number })[] = GATEWAY_PROBLEMS.filter(
  (problem): problem is GatewayProblem & { status: number } => problem.status !== undefined,
);

/** The gateway answers per status, for every operation (API Gateway checks them before any route logic). */
export const GATEWAY_STATUSES: readonly number[] = [...new Set(GATEWAY_ANSWERS.map((p) => p.status))].sort(
  (a, b) => a - b,
);

/** The media types each write route accepts: the handler's own list. */
export const REQUEST_MEDIA_TYPES = {
  'PATCH /client': ACCEPTED_MEDIA_TYPES['PATCH /client'] ?? [],
  'PUT /client/secrets': ACCEPTED_MEDIA_TYPES['PUT /client/secrets'] ?? [],
} as const;

export const problemType = (slug: ProblemSlug) => `${PROBLEM_TYPE_PREFIX}${slug}`;

// ---------------------------------------------------------------------------------------------------
// valibot -> JSON Schema, with hand-written keywords for the actions JSON Schema cannot express.
// ---------------------------------------------------------------------------------------------------

interface PipeItem {
  readonly kind: string;
  readonly type: string;
}

/** The (only) action of this type in a schema's pipe; throws if schemas.ts no longer has it. */
function actionOf(schema: { readonly pipe: readonly PipeItem[] }, type: string): PipeItem {
  const found = schema.pipe.filter((item) => item.kind !== 'schema' && item.type === type);
  if (found.length !== 1 || found[0] === undefined) {
    throw new Error(`expected exactly one "${type}" action in a request schema: update scripts/openapi.ts`);
  }
  return found[0];
}

/** Path and query of a canonical URL: printable ASCII without `#` or `\`. */
const PATH_AND_QUERY = String.raw`/[!-"$-\[\]-~]*`;
/** The canonical form (urls.ts) of an accepted https:// URL: lower-case host, no `user@`, no fragment. */
const HTTPS_URL = String.raw`https://(?:[a-z0-9\-._~!$&'()*+,;=]+|\[[0-9a-f:.]+\])(?::\d{1,5})?${PATH_AND_QUERY}`;
/** The same for http:// on the literal loopback hosts (urls.ts `LOOPBACK_HOSTS`). */
const LOOPBACK_HTTP_URL = `http://(?:${LOOPBACK_HOSTS.map((host) => host.replace(/[.[\]]/g, '\\$&')).join('|')})(?::\\d{1,5})?${PATH_AND_QUERY}`;

/**
 * The JSON Schema keywords that stand in for the `trim`, `check` and `raw_check` actions of the request
 * schemas, keyed by the very action objects (so nothing else is matched):
 * - name: `trim` means "not blank": `pattern: \S` (ECMAScript `\s` is exactly the set
 *   `String.prototype.trim` removes); its `raw_check` (code points, visible characters) becomes
 *   `maxLength`, which JSON Schema counts in code points too (on the untrimmed value).
 * - webhook_uri, redirect URIs: the URL rule (urls.ts) becomes `format: uri` plus a pattern of the
 *   canonical form, which is what the server stores (it also accepts e.g. `HTTPS://` and `:443`).
 * - redirect_uris, client_secret: "no duplicates" is `uniqueItems`.
 * - the patch's "at least one field" is `minProperties: 1` (exact: unknown keys and `client_secret`
 *   are refused anyway).
 */
const ACTION_SUPPLEMENTS = new Map<PipeItem, Json>([
  [actionOf(ClientNameSchema, 'trim'), { pattern: String.raw`\S` }],
  [actionOf(ClientNameSchema, 'raw_check'), { maxLength: LIMITS.nameMaxLength }],
  [actionOf(WebhookUriSchema.wrapped, 'raw_check'), { format: 'uri', pattern: `^${HTTPS_URL}$` }],
  [
    actionOf(RedirectUriSchema, 'raw_check'),
    { format: 'uri', pattern: `^(?:${HTTPS_URL}|${LOOPBACK_HTTP_URL})$` },
  ],
  [actionOf(RedirectUrisSchema, 'check'), { uniqueItems: true }],
  [actionOf(SecretListSchema, 'check'), { uniqueItems: true }],
  [actionOf(PatchClientRequestSchema, 'check'), { minProperties: 1 }],
]);

const CONVERSION: ConversionConfig = {
  target: 'draft-2020-12',
  typeMode: 'input',
  errorMode: 'throw',
  overrideAction: ({ valibotAction, jsonSchema }) => {
    const supplement = ACTION_SUPPLEMENTS.get(valibotAction);
    return supplement === undefined ? undefined : ({ ...jsonSchema, ...supplement } as JsonSchema);
  },
  overrideRef: ({ referenceId }) => `#/components/schemas/${referenceId}`,
};

/** `properties.<name>` of a converted object schema, to annotate it. */
function property(schema: Json, name: string): Json {
  const value = (schema.properties as Record<string, Json> | undefined)?.[name];
  if (value === undefined) throw new Error(`no property ${name} in the converted schema`);
  return value;
}

function componentSchemas(): Record<string, Json> {
  const schemas = toJsonSchemaDefs(
    {
      PublicClient: PublicClientSchema,
      PatchClientRequest: PatchClientRequestSchema,
      ReplaceSecretsRequest: ReplaceSecretsRequestSchema,
      WebhookVerification: WebhookVerificationSchema,
      Problem: ProblemDocumentSchema,
      FieldError: FieldErrorSchema,
    },
    CONVERSION,
  ) as unknown as Record<string, Json>;

  const patch = schemas.PatchClientRequest as Json;
  patch.description =
    'A JSON merge patch (RFC 7396) of the public fields: only the fields present change. At least one field; unknown fields are errors.';
  property(patch, 'name').description =
    `Trimmed; 1-${LIMITS.nameMaxLength} characters (Unicode code points) after trimming, with at least one visible character (not only white space, zero-width or other format characters, or combining marks); no control characters.`;
  property(patch, 'webhook_uri').description =
    `An absolute https:// URL of at most ${LIMITS.urlMaxLength} characters, or \`null\` to turn webhooks off. Printable ASCII only (no spaces, control characters or backslashes), no \`user:password@\`, no \`#fragment\`, and written as a WHATWG URL parser reads it: the only differences allowed are an upper-case scheme or host, a default port and a missing \`/\` for an empty path (octal, hex or short IPv4 hosts, dot segments and characters a parser re-encodes are refused). The canonical form, which the pattern describes, is what is stored and sent to Affix.`;
  property(patch, 'redirect_uris').description =
    `1-${LIMITS.redirectUrisMax} absolute URLs of at most ${LIMITS.urlMaxLength} characters, distinct in canonical form, each under the rule of \`webhook_uri\`, except that http:// is accepted for exactly the hosts ${LOOPBACK_HOSTS.join(', ')}.`;
  property(patch, 'client_secret').description = `${SECRETS_ROUTE_HINT}.`;

  const secrets = schemas.ReplaceSecretsRequest as Json;
  secrets.description = 'The complete new list of client secrets.';
  property(secrets, 'client_secret').description =
    `1-${LIMITS.secretsMax} distinct secrets of ${LIMITS.secretMinLength}-${LIMITS.secretMaxLength} visible ASCII characters (no spaces). It must contain the secret the proxy authenticates with (409 \`would-lock-out\` otherwise): add the new secret first, update SSM, then remove the old one.`;

  const problem = schemas.Problem as Json;
  (problem.properties as Json).type = { $ref: '#/components/schemas/ProblemType' };
  property(problem, 'title').description = 'The title of the problem type (constant per type).';
  property(problem, 'status').description = 'The HTTP status, repeated.';

  schemas.ProblemType = {
    description: `The problem types: \`${PROBLEM_TYPE_PREFIX}<slug>\`. Each operation lists, per status, the types it can answer with.`,
    type: 'string',
    oneOf: [
      ...(Object.keys(PROBLEMS) as ProblemSlug[]).map((slug) => ({
        const: problemType(slug),
        title: PROBLEMS[slug].title,
        description: `${PROBLEMS[slug].status}: ${CONDITIONS[slug]}`,
      })),
      ...GATEWAY_PROBLEMS.map((problem) => ({
        const: `${PROBLEM_TYPE_PREFIX}${problem.slug}`,
        title: problem.title,
        description: `${problem.status ?? 'API Gateway’s status'}, answered by API Gateway: ${problem.when}.`,
      })),
    ],
  };
  return schemas;
}

// ---------------------------------------------------------------------------------------------------
// Operations and responses.
// ---------------------------------------------------------------------------------------------------

/** Problems answered with a `Retry-After` header. */
const RETRY_AFTER_SLUGS: readonly ProblemSlug[] = [
  'upstream-rate-limited',
  'write-contention',
  'write-lock-unavailable',
];

const ref = (kind: string, name: string) => ({ $ref: `#/components/${kind}/${name}` });

function errorResponses(route: RouteKey): Record<string, Json> {
  const byStatus = new Map<number, ProblemSlug[]>();
  for (const slug of ROUTE_PROBLEMS[route]) {
    const { status } = PROBLEMS[slug];
    byStatus.set(status, [...(byStatus.get(status) ?? []), slug]);
  }
  for (const status of GATEWAY_STATUSES) if (!byStatus.has(status)) byStatus.set(status, []);

  const responses: Record<string, Json> = {};
  for (const status of [...byStatus.keys()].sort((a, b) => a - b)) {
    const slugs = (Object.keys(PROBLEMS) as ProblemSlug[]).filter((slug) =>
      byStatus.get(status)?.includes(slug),
    );
    const gateway = GATEWAY_ANSWERS.filter((problem) => problem.status === status);
    const lines = slugs.map((slug) => `- \`${slug}\` (${PROBLEMS[slug].title}): ${CONDITIONS[slug]}`);
    for (const problem of gateway) {
      lines.push(`- \`${problem.slug}\` (${problem.title}), answered by API Gateway: ${problem.when}.`);
    }
    const types = [
      ...slugs.map(problemType),
      ...gateway.map((problem) => `${PROBLEM_TYPE_PREFIX}${problem.slug}`),
    ];
    const content: Json = {
      'application/problem+json': {
        schema: {
          allOf: [
            ref('schemas', 'Problem'),
            { type: 'object', properties: { type: { enum: types }, status: { const: status } } },
          ],
        },
      },
    };
    const headers: Json = { 'Cache-Control': ref('headers', 'Cache-Control') };
    if (
      slugs.some((slug) => RETRY_AFTER_SLUGS.includes(slug)) ||
      gateway.some((problem) => problem.status === 429)
    ) {
      headers['Retry-After'] = ref('headers', 'Retry-After');
    }
    if (route === 'PATCH /client' && slugs.includes('unsupported-media-type')) {
      headers['Accept-Patch'] = ref('headers', 'Accept-Patch');
    }
    responses[String(status)] = { description: lines.join('\n'), headers, content };
  }
  return responses;
}

const CLIENT_ANSWER: Json = {
  description: 'The client (secrets masked) and its ETag.',
  headers: { ETag: ref('headers', 'ETag'), 'Cache-Control': ref('headers', 'Cache-Control') },
  content: { 'application/json': { schema: ref('schemas', 'PublicClient') } },
};

/** `GET /client`: answered from the shared read cache while it is fresh (README, "Read cache"). */
const GET_CLIENT_ANSWER: Json = {
  ...CLIENT_ANSWER,
  headers: {
    ETag: ref('headers', 'ETag'),
    'Cache-Control': ref('headers', 'Client-Cache-Control'),
    Age: ref('headers', 'Age'),
  },
};

function operation(route: RouteKey, details: Json, success: Json = CLIENT_ANSWER): Json {
  return {
    ...details,
    security: [{ sigv4: [] }],
    responses: { '200': success, ...errorResponses(route) },
  };
}

function requestBody(media: readonly string[], schema: string, examples: Record<string, Json>): Json {
  return {
    required: true,
    content: Object.fromEntries(media.map((type) => [type, { schema: ref('schemas', schema), examples }])),
  };
}

function problemTable(): string {
  const rows = (Object.keys(PROBLEMS) as ProblemSlug[]).map(
    (slug) => `| ${PROBLEMS[slug].status} | \`${slug}\` | ${CONDITIONS[slug]} |`,
  );
  const gatewayRows = GATEWAY_PROBLEMS.map(
    (problem) => `| ${problem.status ?? 'its own'} | \`${problem.slug}\` | API Gateway: ${problem.when}. |`,
  );
  return ['| status | type slug | when |', '| --- | --- | --- |', ...rows, ...gatewayRows].join('\n');
}

/**
 * The README status table's API Gateway rows, generated from the contract (a test compares them with
 * README.md, so the table cannot drift from the Gateway Responses).
 */
export function gatewayStatusRows(): string[] {
  return GATEWAY_PROBLEMS.map(
    (problem) =>
      `| ${problem.when} (answered by API Gateway) | ${problem.status ?? 'its own'} | \`${problem.slug}\` |`,
  );
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** The OpenAPI 3.1 document of the API, built from the handler's schemas and problem catalogue. */
export function buildOpenApiDocument(): Json {
  const writeNote =
    'Reads the client from Affix, checks `If-Match`, and sends the full object (Affix replaces everything); a change that changes nothing sends no update.';
  return {
    openapi: '3.1.0',
    info: {
      title: 'affix-webhook-config',
      version: packageVersion(),
      summary: 'Read and change our Affix API client without holding the Affix credentials.',
      description: [
        'Every operation requires AWS SigV4 (IAM) signing for the service `execute-api`. Success bodies are JSON with every secret masked.',
        '',
        `Every error of the function is \`application/problem+json\` (RFC 9457) with \`type\` = \`${PROBLEM_TYPE_PREFIX}<slug>\`, \`title\`, \`status\`, \`detail\` and \`instance\` (the API Gateway request id); \`validation-failed\` adds \`errors\`. API Gateway's own answers (signature, IAM, unknown routes, throttling, size, integration failures) are problem documents of the same form from its Gateway Responses, listed below as answered by API Gateway.`,
        '',
        problemTable(),
      ].join('\n'),
    },
    servers: [
      {
        url: 'https://{apiId}.execute-api.{region}.amazonaws.com/{stage}',
        description: 'A deployed stage (the stack output `ApiUrl`).',
        variables: {
          apiId: { default: 'abcdef0123', description: 'The REST API id.' },
          region: { default: 'eu-west-1' },
          // No enum: adding an environment is adding a stage file, and must not make this document stale.
          stage: { default: 'dev', description: 'The stage: the name of a file in `infra/stages/`.' },
        },
      },
      {
        url: 'http://127.0.0.1:3000',
        description:
          '`npm start`: the local stack; SigV4 (us-east-1, execute-api) checked as API Gateway does, with the local identities `local-reader`, `local-writer`, `local-rotator`, `local-verifier` (secret: `<id>-secret`).',
      },
    ],
    security: [{ sigv4: [] }],
    paths: {
      '/client': {
        get: operation(
          'GET /client',
          {
            operationId: 'getClient',
            summary: 'Read the client',
            description:
              'The current client, every secret masked, with its ETag. Answered from the shared read cache while it is younger than `CLIENT_CACHE_MAX_AGE_SECONDS` (`Cache-Control: private, max-age=<window>` and `Age`); `Cache-Control: no-cache` reads Affix.',
            parameters: [
              {
                name: 'Cache-Control',
                in: 'header',
                required: false,
                description: '`no-cache` (or `max-age=0`): read Affix now, and refresh the shared cache.',
                schema: { type: 'string' },
                example: 'no-cache',
              },
            ],
          },
          GET_CLIENT_ANSWER,
        ),
        patch: operation('PATCH /client', {
          operationId: 'updateClient',
          summary: 'Change name, webhook_uri or redirect_uris',
          description: `${writeNote} Secrets are changed with \`PUT /client/secrets\`.`,
          parameters: [ref('parameters', 'If-Match')],
          requestBody: requestBody(REQUEST_MEDIA_TYPES['PATCH /client'], 'PatchClientRequest', {
            changeWebhook: { value: { webhook_uri: 'https://hooks.example.com/affix-v2' } },
            turnWebhooksOff: { value: { webhook_uri: null } },
            rename: { value: { name: 'Payroll sync', redirect_uris: ['https://app.example.com/callback'] } },
          }),
        }),
      },
      '/webhooks/verify': {
        post: operation(
          'POST /webhooks/verify',
          {
            operationId: 'verifyWebhook',
            summary: 'Verify an Affix webhook signature',
            description: `For receivers of Affix webhooks (the \`verifiers\` group): forward the delivery's exact body bytes (any content type, up to ${WEBHOOK_MAX_BODY_BYTES} bytes) and its \`${SIGNATURE_HEADER}\` header. The proxy computes the HMAC-SHA256 of the body with every secret Affix currently lists and compares in constant time, so a receiver holds no secret and keeps working across rotations. Takes no write lock. Send text up to 1 MiB as text; larger bodies with \`Content-Encoding: gzip\` as \`application/octet-stream\` (Lambda's 6 MB event limit would stop a large text body; the signature is over the decompressed bytes).`,
            parameters: [ref('parameters', 'X-Affix-Api-Signature')],
            requestBody: {
              required: false,
              description: 'The delivery body, byte for byte, with its own Content-Type (or none).',
              content: {
                '*/*': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } },
              },
            },
          },
          {
            description: "The signature matches a current secret; only that secret's masked tail is named.",
            headers: { 'Cache-Control': ref('headers', 'Cache-Control') },
            content: { 'application/json': { schema: ref('schemas', 'WebhookVerification') } },
          },
        ),
      },
      '/client/secrets': {
        put: operation('PUT /client/secrets', {
          operationId: 'replaceSecrets',
          summary: 'Replace the client secrets (rotation)',
          description: `${writeNote} A separate route so IAM can grant rotation to fewer callers. Rotate in three steps: add the new secret, update the SSM parameter, remove the old secret.`,
          parameters: [ref('parameters', 'If-Match')],
          requestBody: requestBody(REQUEST_MEDIA_TYPES['PUT /client/secrets'], 'ReplaceSecretsRequest', {
            addNewSecret: {
              value: { client_secret: ['current-secret-0000000000', 'new-secret-1111111111111'] },
            },
          }),
        }),
      },
    },
    components: {
      securitySchemes: {
        sigv4: {
          type: 'apiKey',
          name: 'Authorization',
          in: 'header',
          description:
            'AWS Signature Version 4 for the service `execute-api` (API Gateway `AWS_IAM` authorization). The caller needs `execute-api:Invoke` on the operation.',
          'x-amazon-apigateway-authtype': 'awsSigv4',
        },
      },
      parameters: {
        'If-Match': {
          name: 'If-Match',
          in: 'header',
          required: false,
          description:
            'One or more entity tags (from an earlier `ETag`) or `*`. When none matches the current client, the answer is 412 `precondition-failed` and nothing is sent to Affix.',
          schema: { type: 'string' },
          example: '"9gd6VQ-DXTMw57ehjTuhj3"',
        },
        'X-Affix-Api-Signature': {
          name: SIGNATURE_HEADER,
          in: 'header',
          required: false,
          description:
            "The delivery's signature header as Affix sent it: the hex HMAC-SHA256 of the body. Missing, empty or not 64 hex digits: 422 `signature-mismatch`.",
          schema: { type: 'string' },
          example: '3f0a9c1d2e4b5a6978877665544332211f0e0d0c0b0a09080706050403020100',
        },
      },
      headers: {
        ETag: {
          description:
            'A strong entity tag over the full client (secrets and fields the proxy does not model included), keyed with a secret of the proxy so it reveals nothing about them; send it back as `If-Match`.',
          required: true,
          schema: { type: 'string', pattern: '^"[^"]*"$' },
        },
        'Retry-After': {
          description:
            'Seconds to wait: passed on from Affix when it sent one (429), or the write lease holder’s remaining lease (503 `write-contention`), or 1 (503 `write-lock-unavailable`).',
          schema: { type: 'integer', minimum: 0 },
        },
        'Accept-Patch': {
          description: 'The media types `PATCH /client` accepts.',
          schema: { type: 'string', const: REQUEST_MEDIA_TYPES['PATCH /client'].join(', ') },
        },
        'Cache-Control': {
          description: 'Answers of the function are never cached.',
          schema: { type: 'string', const: 'no-store' },
        },
        'Client-Cache-Control': {
          description:
            '`private, max-age=<CLIENT_CACHE_MAX_AGE_SECONDS>` while the shared read cache is on (no shared cache may keep it; the view is fresh for `max-age - Age` more seconds); `no-store` when it is off.',
          schema: { type: 'string', pattern: '^(no-store|private, max-age=\\d+)$' },
        },
        Age: {
          description:
            'Seconds since Affix was read for this view (0 when read now); absent when the cache is off.',
          schema: { type: 'integer', minimum: 0 },
        },
      },
      schemas: componentSchemas(),
    },
  };
}

/** The file's content: stable key order and formatting, so a stale file is a plain text difference. */
export function renderOpenApiJson(): string {
  return `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`;
}

const invokedDirectly =
  process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  writeFileSync(OPENAPI_PATH, renderOpenApiJson());
  process.stdout.write(`wrote ${OPENAPI_PATH}\n`);
}
