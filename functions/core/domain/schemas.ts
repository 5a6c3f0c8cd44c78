/**
 * valibot schemas for our API's request bodies and for what Affix answers.
 *
 * Our requests use `strictObject`: an unknown key is an error, so a typo never silently does nothing.
 * Affix's client: the fields we know are validated, every other field is kept as it came (in
 * `extra`), so the full-object POST sends it back instead of erasing it at Affix.
 *
 * @example
 * const result = v.safeParse(PatchClientRequestSchema, { webhook_uri: null });
 */
import * as v from 'valibot';
import { nameCharacterProblem } from '../../contract/display-name.ts';
import { routeKeyOfOperation } from '../../contract/routes.ts';
import { canonicalUrl, checkUrl, URL_RULE_MESSAGES, type UrlRuleOptions } from '../../contract/urls.ts';

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
