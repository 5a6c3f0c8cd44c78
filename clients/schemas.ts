/**
 * valibot schemas for what our API answers, and the types of what a caller sends. The typed client
 * validates every answer with them and the OpenAPI generator converts them, so both describe the same
 * shapes. The request rules themselves are the handler's (`functions/core/domain/schemas.ts`, not part
 * of this package); `test/unit/clients/schemas.test.ts` proves that the types here equal the handler's
 * `PublicClient`, `ProblemDocument` and request types.
 *
 * @example
 * const result = v.safeParse(PublicClientSchema, await response.json());
 */
import * as v from 'valibot';

export const MASKED_SECRET_DESCRIPTION =
  'Masked: `****` followed by the last four characters (only `****` for secrets shorter than 12 characters).';

/** `GET /client` and the 200 answer of both writes: the client with every secret masked. */
export const PublicClientSchema = v.pipe(
  v.object({
    client_id: v.string(),
    name: v.string(),
    redirect_uris: v.array(v.string()),
    webhook_uri: v.pipe(v.nullable(v.string()), v.description('`null` when webhooks are off.')),
    client_secret: v.pipe(
      v.array(v.pipe(v.string(), v.description(MASKED_SECRET_DESCRIPTION))),
      v.description('The client secrets Affix accepts, each masked.'),
    ),
  }),
  v.description('The Affix API client as this API shows it: every secret masked.'),
);

export type PublicClient = v.InferOutput<typeof PublicClientSchema>;

/** Body of `PATCH /client` (JSON merge patch): at least one field; `webhook_uri: null` turns webhooks off. */
export interface PatchClientRequest {
  name?: string;
  webhook_uri?: string | null;
  redirect_uris?: string[];
  /** Never here: secrets change only through `PUT /client/secrets` (`replaceSecrets`). */
  client_secret?: never;
}

/** Body of `PUT /client/secrets`. */
export interface ReplaceSecretsRequest {
  client_secret: string[];
}

/** `POST /webhooks/verify`'s 200 answer: a mismatch is a problem, so `valid` is always `true`. */
export const WebhookVerificationSchema = v.pipe(
  v.strictObject({
    valid: v.literal(true),
    secret: v.pipe(
      v.string(),
      v.description(`The secret that signed the delivery. ${MASKED_SECRET_DESCRIPTION}`),
    ),
  }),
  v.description('The delivery was signed with one of the client secrets Affix currently lists.'),
);

export const FieldErrorSchema = v.pipe(
  v.object({
    pointer: v.pipe(
      v.string(),
      v.description(
        'JSON Pointer (RFC 6901) into the request body (the empty string is the body itself), or `/<name>` for a query parameter.',
      ),
    ),
    detail: v.string(),
  }),
  v.description('One invalid field of a request body, or one invalid query parameter.'),
);

/** RFC 9457 problem details, as the handler writes them (`problemDocument` in problems.ts). */
export const ProblemDocumentSchema = v.pipe(
  v.object({
    type: v.string(),
    title: v.string(),
    status: v.pipe(v.number(), v.integer()),
    detail: v.string(),
    instance: v.pipe(
      v.string(),
      v.description('The API Gateway request id; the same value is `correlation_id` in our logs.'),
    ),
    errors: v.optional(
      v.pipe(
        v.array(FieldErrorSchema),
        v.description(
          'Only for `validation-failed`: the first 20 invalid fields (`detail` gives the total).',
        ),
      ),
    ),
  }),
  v.description('An RFC 9457 problem details document (`application/problem+json`).'),
);

/**
 * API Gateway's own error answers (`application/json`), which never reach our function: a missing or bad
 * signature, an IAM or resource-policy denial, throttling, a crashed or timed-out integration.
 * An explicit IAM deny spells the key `Message`.
 */
export const GatewayMessageSchema = v.pipe(
  v.union([v.object({ message: v.string() }), v.object({ Message: v.string() })]),
  v.description(
    "API Gateway's own answer (the request did not reach the function, or the function failed): `message`, or `Message` for an explicit IAM deny.",
  ),
);

const MaskedSecretsSchema = v.array(v.pipe(v.string(), v.description(MASKED_SECRET_DESCRIPTION)));

/** One field's change in a journal entry; values as `GET /client` shows them (secrets masked). */
export const FieldChangeSchema = v.pipe(
  v.variant('field', [
    v.object({ field: v.literal('name'), before: v.string(), after: v.string() }),
    v.object({
      field: v.literal('webhook_uri'),
      before: v.nullable(v.string()),
      after: v.nullable(v.string()),
    }),
    v.object({
      field: v.literal('redirect_uris'),
      before: v.array(v.string()),
      after: v.array(v.string()),
    }),
    v.object({ field: v.literal('client_secret'), before: MaskedSecretsSchema, after: MaskedSecretsSchema }),
  ]),
  v.description('One field of the client that changed, with its value before and after.'),
);

/** One entry of `GET /client/changes`: one accepted change of the client. */
export const ChangeEntrySchema = v.pipe(
  v.object({
    at: v.pipe(
      v.string(),
      v.description('When the change was accepted (an outside change: when it was first seen), ISO 8601.'),
    ),
    actor: v.pipe(
      v.string(),
      v.description(
        'Who made it: the caller’s IAM ARN, `rotation` (the scheduled rotation job) or `outside` (a change made at Affix, not through this API).',
      ),
    ),
    request_id: v.pipe(
      v.string(),
      v.description('The request (or rotation run) that made or saw the change.'),
    ),
    fields: v.array(FieldChangeSchema),
    etag_before: v.pipe(
      v.nullable(v.string()),
      v.description('The ETag before the change (`null` when none was known).'),
    ),
    etag_after: v.pipe(v.string(), v.description('The ETag after the change.')),
  }),
  v.description('One accepted change of the Affix client.'),
);

export type ChangeEntry = v.InferOutput<typeof ChangeEntrySchema>;

/** `GET /client/changes`'s 200 answer: one page of the change journal, newest first. */
export const ChangePageSchema = v.pipe(
  v.object({
    changes: v.pipe(v.array(ChangeEntrySchema), v.description('Newest first.')),
    next_cursor: v.optional(
      v.pipe(
        v.string(),
        v.description(
          'Pass as `cursor` to read the next (older) page; absent on the last page. Opaque: do not build or change one.',
        ),
      ),
    ),
  }),
  v.description('One page of the change journal, newest first.'),
);

export type ChangePage = v.InferOutput<typeof ChangePageSchema>;
