/**
 * `npm run openapi`: writes `openapi.json` (OpenAPI 3.1) for our routes, and the status tables of
 * docs/api.md and README.md (`scripts/status-table.ts`).
 *
 * Everything comes from somewhere else: operations (method, path, operationId, media types) from the
 * contract's route table, problem responses and their "when" texts from the contract's catalogue
 * (`functions/contract/problems.ts`, also which routes answer which problem), API Gateway's answers
 * from `gateway-responses.ts`, bodies from the handler's valibot schemas (`@valibot/to-json-schema`,
 * JSON Schema 2020-12), responses from the client's (`clients/schemas.ts`). Only prose and examples
 * are written here (keyed by operationId). `test/clients/openapi.test.ts` fails when the committed
 * file differs from what this script builds, `test/contract/readme-status-table.test.ts` when a
 * status table does.
 *
 * valibot actions that JSON Schema cannot express (`trim`, `check`) are converted with
 * {@link ACTION_SUPPLEMENTS}: hand-written keywords for exactly those action objects. Any other
 * unconvertible action makes the conversion throw, so a new rule in schemas.ts is never silently
 * left out of the document.
 *
 * @example
 * const document = buildOpenApiDocument();
 * document.paths[routeOf('getClient').path].get.responses['200'];
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ConversionConfig, type JsonSchema, toJsonSchemaDefs } from '@valibot/to-json-schema';
import {
  ChangeEntrySchema,
  ChangePageSchema,
  FieldChangeSchema,
  FieldErrorSchema,
  ProblemDocumentSchema,
  PublicClientSchema,
  WebhookVerificationSchema,
} from '../clients/schemas.ts';
import {
  GATEWAY_PROBLEMS,
  type GatewayProblem,
  PROBLEM_TYPE_PREFIX,
} from '../functions/contract/gateway-responses.ts';
import { SIGNATURE_HEADER } from '../functions/contract/headers.ts';
import { WEBHOOK_MAX_BODY_BYTES } from '../functions/contract/limits.ts';
import {
  PROBLEM_SLUGS,
  PROBLEMS,
  type ProblemSlug,
  RETRY_AFTER_PROBLEMS,
  ROUTE_PROBLEMS,
  UNROUTED_PROBLEMS,
} from '../functions/contract/problems.ts';
import {
  type OperationId,
  ROUTES,
  type RouteDefinition,
  type RouteKey,
  routeDefinition,
  routeKeyOf,
  routeKeyOfOperation,
  routeOf,
} from '../functions/contract/routes.ts';
import { LOOPBACK_HOSTS } from '../functions/contract/urls.ts';
import { DEFAULT_CHANGES_LIMIT, MAX_CHANGES_LIMIT } from '../functions/core/adapters/changes-query.ts';
import { MAX_CURSOR_LENGTH } from '../functions/core/domain/journal-cursor.ts';
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
} from '../functions/core/domain/schemas.ts';
import { README_PATH, STATUS_TABLE_PATH, writeStatusTables } from './status-table.ts';

export const OPENAPI_PATH = fileURLToPath(new URL('../openapi.json', import.meta.url));

type Json = Record<string, unknown>;

// Which problems each route can answer with, and when: the contract's catalogue
// (functions/contract/problems.ts), re-exported for the tests.
export { ROUTE_PROBLEMS, UNROUTED_PROBLEMS };

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

/** The media types a route's body may have (the contract's list); none for a route without a body. */
export const mediaTypesOf = (operationId: OperationId): readonly string[] =>
  routeOf(operationId).mediaTypes ?? [];

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
      ChangePage: ChangePageSchema,
      ChangeEntry: ChangeEntrySchema,
      FieldChange: FieldChangeSchema,
      Problem: ProblemDocumentSchema,
      FieldError: FieldErrorSchema,
    },
    CONVERSION,
  ) as unknown as Record<string, Json>;

  const patch = schemas.PatchClientRequest as Json;
  patch.description =
    'A JSON merge patch (RFC 7396) of the public fields: only the fields present change. At least one field; unknown fields are errors.';
  property(patch, 'name').description =
    `Trimmed; 1-${LIMITS.nameMaxLength} characters (Unicode code points) after trimming, with at least one visible character (not only white space, zero-width or other format characters, or combining marks); no control characters, bidirectional controls, line or paragraph separators, tag characters or noncharacters.`;
  property(patch, 'webhook_uri').description =
    `An absolute https:// URL of at most ${LIMITS.urlMaxLength} characters, or \`null\` to turn webhooks off. Printable ASCII only (no spaces, control characters or backslashes), no \`user:password@\`, no \`#fragment\`, and written as a WHATWG URL parser reads it: the only differences allowed are an upper-case scheme or host, a default port and a missing \`/\` for an empty path (octal, hex or short IPv4 hosts, dot segments and characters a parser re-encodes are refused). The canonical form, which the pattern describes, is what is stored and sent to Affix. Its host must also be allowed by the stage's destination policy (no IP literal or \`localhost\` on any stage): 422 \`destination-not-allowed\` otherwise.`;
  property(patch, 'redirect_uris').description =
    `1-${LIMITS.redirectUrisMax} absolute URLs of at most ${LIMITS.urlMaxLength} characters, distinct in canonical form, each under the rule of \`webhook_uri\`, except that http:// is accepted for exactly the hosts ${LOOPBACK_HOSTS.join(', ')} (where the stage's destination policy allows loopback: only the local stack's does). Each host must be allowed by the stage's destination policy: 422 \`destination-not-allowed\` otherwise.`;
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
      ...PROBLEM_SLUGS.map((slug) => ({
        const: problemType(slug),
        title: PROBLEMS[slug].title,
        description: `${PROBLEMS[slug].status}: ${PROBLEMS[slug].when}`,
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
    const slugs = PROBLEM_SLUGS.filter((slug) => byStatus.get(status)?.includes(slug));
    const gateway = GATEWAY_ANSWERS.filter((problem) => problem.status === status);
    const lines = slugs.map((slug) => `- \`${slug}\` (${PROBLEMS[slug].title}): ${PROBLEMS[slug].when}`);
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
      slugs.some((slug) => RETRY_AFTER_PROBLEMS.includes(slug)) ||
      gateway.some((problem) => problem.status === 429)
    ) {
      headers['Retry-After'] = ref('headers', 'Retry-After');
    }
    // Accept-Patch (RFC 5789) names a PATCH route's media types on its 415.
    if (routeDefinition(route).method === 'PATCH' && slugs.includes('unsupported-media-type')) {
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

/** `GET /client` may answer from the shared cache: its answer says how old the view is. */
const CACHED_CLIENT_ANSWER: Json = {
  description:
    'The client (secrets masked) and its ETag, from Affix or from the cache shared by all containers (at most `CLIENT_CACHE_MAX_AGE_SECONDS` old; `Age` says how old).',
  headers: {
    ETag: ref('headers', 'ETag'),
    'Cache-Control': ref('headers', 'Client-View-Cache-Control'),
    Age: ref('headers', 'Age'),
  },
  content: { 'application/json': { schema: ref('schemas', 'PublicClient') } },
};

function operation(route: RouteDefinition, details: Json, success: Json = CLIENT_ANSWER): Json {
  return {
    operationId: route.operationId,
    ...details,
    security: [{ sigv4: [] }],
    responses: { '200': success, ...errorResponses(routeKeyOf(route)) },
  };
}

function requestBody(media: readonly string[], schema: string, examples: Record<string, Json>): Json {
  return {
    required: true,
    content: Object.fromEntries(media.map((type) => [type, { schema: ref('schemas', schema), examples }])),
  };
}

function problemTable(): string {
  const rows = PROBLEM_SLUGS.map(
    (slug) => `| ${PROBLEMS[slug].status} | \`${slug}\` | ${PROBLEMS[slug].when} |`,
  );
  const gatewayRows = GATEWAY_PROBLEMS.map(
    (problem) => `| ${problem.status ?? 'its own'} | \`${problem.slug}\` | API Gateway: ${problem.when}. |`,
  );
  return ['| status | type slug | when |', '| --- | --- | --- |', ...rows, ...gatewayRows].join('\n');
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** The OpenAPI 3.1 document of the API, built from the handler's schemas and problem catalogue. */
const WRITE_NOTE =
  'Reads the client from Affix, checks `If-Match`, and sends the full object (Affix replaces everything); a change that changes nothing sends no update.';

/** What the route table cannot say about each operation: its prose, parameters, body and answer. */
const OPERATION_DETAILS: Readonly<Record<OperationId, { details: Json; success?: Json }>> = {
  getClient: {
    details: {
      summary: 'Read the client',
      description:
        'The current client, every secret masked, with its ETag. Answered from a cache shared by all containers while it is younger than `CLIENT_CACHE_MAX_AGE_SECONDS` (a stage setting, default 30; 0 turns it off), else read from Affix; send `Cache-Control: no-cache` to read Affix (which refreshes the cache). Writes always read Affix and refresh the cache with what they wrote.',
      parameters: [ref('parameters', 'Cache-Control')],
    },
    success: CACHED_CLIENT_ANSWER,
  },
  updateClient: {
    details: {
      summary: 'Change name, webhook_uri or redirect_uris',
      description: `${WRITE_NOTE} Secrets are changed with \`${routeKeyOfOperation('replaceSecrets')}\`.`,
      parameters: [ref('parameters', 'If-Match')],
      requestBody: requestBody(mediaTypesOf('updateClient'), 'PatchClientRequest', {
        changeWebhook: { value: { webhook_uri: 'https://hooks.example.com/affix-v2' } },
        turnWebhooksOff: { value: { webhook_uri: null } },
        rename: { value: { name: 'Payroll sync', redirect_uris: ['https://app.example.com/callback'] } },
      }),
    },
  },
  replaceSecrets: {
    details: {
      summary: 'Replace the client secrets (rotation)',
      description: `${WRITE_NOTE} A separate route so IAM can grant rotation to fewer callers. Rotate in three steps: add the new secret, update the SSM parameter, remove the old secret.`,
      parameters: [ref('parameters', 'If-Match')],
      requestBody: requestBody(mediaTypesOf('replaceSecrets'), 'ReplaceSecretsRequest', {
        addNewSecret: {
          value: { client_secret: ['current-secret-0000000000', 'new-secret-1111111111111'] },
        },
      }),
    },
  },
  verifyWebhook: {
    details: {
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
    success: {
      description: "The signature matches a current secret; only that secret's masked tail is named.",
      headers: { 'Cache-Control': ref('headers', 'Cache-Control') },
      content: { 'application/json': { schema: ref('schemas', 'WebhookVerification') } },
    },
  },
  listChanges: {
    details: {
      summary: 'List the changes of the client',
      description:
        'The change journal, newest first: every accepted change of the client, by a caller of this API (its IAM ARN), the rotation job (`rotation`) or someone at Affix (`outside`, when the proxy first saw it), with each changed field before and after as `GET /client` shows it (secrets only as masked tails). One DynamoDB query, no Affix request. Page with `limit` and the answer’s `next_cursor`; entries expire after the stage’s journal retention. Unknown query parameters are ignored.',
      parameters: [ref('parameters', 'limit'), ref('parameters', 'cursor')],
    },
    success: {
      description: 'One page of changes, newest first; `next_cursor` when older ones follow.',
      headers: { 'Cache-Control': ref('headers', 'Cache-Control') },
      content: { 'application/json': { schema: ref('schemas', 'ChangePage') } },
    },
  },
};

/** The document's `paths`: every route of the route table, under its path and lower-case method. */
function paths(): Record<string, Record<string, Json>> {
  const byPath: Record<string, Record<string, Json>> = {};
  for (const route of ROUTES) {
    const { details, success } = OPERATION_DETAILS[route.operationId];
    byPath[route.path] = {
      ...byPath[route.path],
      [route.method.toLowerCase()]: operation(route, details, success),
    };
  }
  return byPath;
}

export function buildOpenApiDocument(): Json {
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
    paths: paths(),
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
            '`*` or a comma-separated list of quoted entity tags (from an earlier `ETag`, quotes included), in one header (RFC 9110 section 13.1.1). When none matches the current client by strong comparison (a weak `W/` tag never does), the answer is 412 `precondition-failed`; anything else, or several `If-Match` headers, is 400 `invalid-if-match`. Nothing is sent to Affix either way.',
          schema: { type: 'string' },
          example: '"9gd6VQ-DXTMw57ehjTuhj3"',
        },
        'Cache-Control': {
          name: 'Cache-Control',
          in: 'header',
          required: false,
          description:
            '`no-cache` (or `max-age=0`): read the client from Affix, not from the shared cache (and refresh the cache). Costs one Affix request of its rate budget; other directives are ignored.',
          schema: { type: 'string' },
          example: 'no-cache',
        },
        limit: {
          name: 'limit',
          in: 'query',
          required: false,
          description: `Entries per page (default ${DEFAULT_CHANGES_LIMIT}). Anything but an integer from 1 to ${MAX_CHANGES_LIMIT} written in digits, or the parameter given twice, is 400 \`validation-failed\` (pointer \`/limit\`).`,
          schema: { type: 'integer', minimum: 1, maximum: MAX_CHANGES_LIMIT, default: DEFAULT_CHANGES_LIMIT },
          example: 50,
        },
        cursor: {
          name: 'cursor',
          in: 'query',
          required: false,
          description: `The \`next_cursor\` of the previous page, as it came (at most ${MAX_CURSOR_LENGTH} characters: 400 \`validation-failed\` otherwise). One this API did not issue is 400 \`invalid-cursor\`.`,
          schema: { type: 'string', minLength: 1, maxLength: MAX_CURSOR_LENGTH, pattern: '^[A-Za-z0-9_-]+$' },
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
          description: `The media types \`${routeKeyOfOperation('updateClient')}\` accepts.`,
          schema: { type: 'string', const: mediaTypesOf('updateClient').join(', ') },
        },
        'Cache-Control': {
          description: `This answer may not be cached (only \`${routeKeyOfOperation('getClient')}\` may answer from the shared cache).`,
          schema: { type: 'string', const: 'no-store' },
        },
        'Client-View-Cache-Control': {
          description:
            'While the shared cache is on: `private, max-age=<CLIENT_CACHE_MAX_AGE_SECONDS>` (RFC 9111: with `Age`, the view stays fresh for `max-age - Age` more seconds; `private`: for the authorized caller only, no shared intermediary may keep it). `no-store` when the cache is off (`CLIENT_CACHE_MAX_AGE_SECONDS=0`).',
          required: true,
          schema: { type: 'string' },
          example: 'private, max-age=30',
        },
        Age: {
          description:
            'While the shared cache is on: seconds since the view was read from Affix (0 for a fresh read, at most `max-age`).',
          required: false,
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
  writeStatusTables();
  process.stdout.write(`wrote the status tables in ${STATUS_TABLE_PATH} and ${README_PATH}\n`);
}
