/**
 * The client as we hold, show and change it: the entity tag and `If-Match`, how a change merges into
 * the full object that Affix's replace-everything POST needs, what callers may see of it (secrets
 * masked), and which destinations a write may set (the destination policy, read at cold start).
 *
 * @example
 * const next = mergePatch(current, { webhook_uri: null });
 * changedFields(current, next); // ['webhook_uri']
 * affixRequestBody(next); // the POST body: our four fields and every unmodelled field, as they came
 * maskSecret('sandbox-secret-aaaaaaaaaaaaaaaa'); // '****aaaa'
 * checkDestinations({ webhook_uri: 'https://10.0.0.7/h' }, destinations); // throws destination-not-allowed
 */
import { createHmac } from 'node:crypto';
import * as v from 'valibot';
import {
  type DestinationPolicy,
  type DestinationRefusal,
  destinationRefusal,
  hostPatternProblem,
} from '../../contract/destination-policy.ts';
import { ifMatchAllows, parseIfMatch } from '../../contract/if-match.ts';
import { MAX_FIELD_ERRORS } from '../../contract/limits.ts';
import type { EtagKey } from './etag-key.ts';
import { type FieldError, ProblemError } from './problems.ts';
import {
  type AffixClient,
  type AffixClientUpdate,
  canonicalJson,
  type PatchClientRequest,
  type PublicClient,
} from './schemas.ts';

/** The fields we model and change; unmodelled fields (`extra`) are carried, never changed. */
export type ClientField = Exclude<keyof AffixClientUpdate, 'extra'>;

const FIELDS: readonly ClientField[] = ['name', 'webhook_uri', 'redirect_uris', 'client_secret'];

/** Names the construction, so a future change of the canonical form cannot collide with this one. */
const ETAG_CONTEXT = 'affix-webhook-config etag v1';

/**
 * A strong validator over the full client (secrets and unmodelled fields included, so a rotation or
 * a change made elsewhere changes it too), keyed: an HMAC-SHA256 with a key only the proxy holds, so
 * a reader who sees every other field cannot test guesses of the secrets against it. The canonical
 * form sorts keys, so the same client (and key) gives the same tag in every container.
 */
export function computeEtag(client: AffixClient, key: EtagKey): string {
  const canonical = canonicalJson([
    ETAG_CONTEXT,
    client.client_id,
    client.name,
    client.webhook_uri ?? null,
    client.redirect_uris,
    client.client_secret,
    client.extra,
  ]);
  // 128 bits of the MAC (RFC 2104 allows truncation to half): as long as the unkeyed tag was.
  return `"${createHmac('sha256', key).update(canonical).digest('base64url').slice(0, 22)}"`;
}

/**
 * RFC 9110 §13.1.1 (`if-match.ts`): `*` matches any current representation; otherwise one of the
 * listed entity tags must match by strong comparison, so weak tags (`W/"..."`) never match. A value
 * that is not If-Match at all (the request guard answers `invalid-if-match` first) never matches.
 */
export function ifMatchSatisfied(ifMatch: string | undefined, currentEtag: string): boolean {
  const parsed = parseIfMatch(ifMatch === undefined ? undefined : [ifMatch]);
  return parsed.ok && ifMatchAllows(parsed.value, currentEtag);
}

/** What Affix needs for the POST: the full object without the read-only `client_id`. */
export function toUpdate(client: AffixClient): AffixClientUpdate {
  return {
    name: client.name,
    webhook_uri: client.webhook_uri ?? null,
    redirect_uris: [...client.redirect_uris],
    client_secret: [...client.client_secret],
    extra: client.extra,
  };
}

/**
 * The JSON body of Affix's POST: every unmodelled field exactly as Affix sent it (`client_id` is
 * read-only and never among them), then our four fields.
 */
export function affixRequestBody(update: AffixClientUpdate): string {
  const { extra, ...fields } = update;
  return JSON.stringify({ ...extra, ...fields });
}

/** Applies a patch (JSON merge patch semantics: `webhook_uri: null` turns webhooks off). */
export function mergePatch(current: AffixClient, patch: PatchClientRequest): AffixClientUpdate {
  const next = toUpdate(current);
  if (patch.name !== undefined) next.name = patch.name;
  if (patch.webhook_uri !== undefined) next.webhook_uri = patch.webhook_uri;
  if (patch.redirect_uris !== undefined) next.redirect_uris = [...patch.redirect_uris];
  return next;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, index) => value === b[index]);
}

/** The names of our fields whose values differ; order of list items counts. */
export function changedFields(current: AffixClient, next: AffixClientUpdate): ClientField[] {
  const before = toUpdate(current);
  return FIELDS.filter((field) => {
    const a = before[field];
    const b = next[field];
    return Array.isArray(a) && Array.isArray(b) ? !sameList(a, b) : a !== b;
  });
}

// ---------------------------------------------------------------------------------------------------
// What callers may see of a secret. (Text from Affix, which may repeat secrets, is judged whole in
// `upstream-text.ts`: nothing is scrubbed out of it.)
// ---------------------------------------------------------------------------------------------------

export const MASK = '****';
/** Below this length the last four characters would reveal too much of the secret. */
const MIN_LENGTH_TO_SHOW_TAIL = 12;

export function maskSecret(secret: string): string {
  return secret.length >= MIN_LENGTH_TO_SHOW_TAIL ? `${MASK}${secret.slice(-4)}` : MASK;
}

/**
 * The client as our API shows it: every secret masked, `webhook_uri` always present. Unmodelled
 * fields are never shown (they might hold anything), so the view does not take them.
 */
export function toPublicClient(client: Omit<AffixClient, 'extra'>): PublicClient {
  return {
    client_id: client.client_id,
    name: client.name,
    redirect_uris: [...client.redirect_uris],
    webhook_uri: client.webhook_uri ?? null,
    client_secret: client.client_secret.map(maskSecret),
  };
}

// ---------------------------------------------------------------------------------------------------
// The destination policy as configuration: the valibot schema a stage file's `destinations` and the
// function's `DESTINATION_POLICY` (JSON) go through, read once at cold start, and the check every
// write applies to the destinations it sets before any Affix request (`destination-not-allowed`).
// The rules themselves are the contract's (`functions/contract/destination-policy.ts`).
// ---------------------------------------------------------------------------------------------------

/** The environment variable the function reads its policy from (JSON). */
export const DESTINATION_POLICY_ENV = 'DESTINATION_POLICY';

const hasNoDuplicates = <T>(values: T[]) => new Set(values).size === values.length;

const PortSchema = v.pipe(
  v.number('must be a port number'),
  v.integer('must be a whole number'),
  // Port 0 means "any free port" to a socket API: never a place to send data to.
  v.minValue(1, 'must be 1-65535 (port 0 is never a destination)'),
  v.maxValue(65_535, 'must be 1-65535'),
);
const PortsSchema = v.pipe(v.array(PortSchema), v.check(hasNoDuplicates, 'must not repeat a port'));

const HostPatternSchema = v.pipe(
  v.string('must be a host such as hooks.example.com or a wildcard such as *.example.com'),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const problem = hostPatternProblem(dataset.value);
    if (problem !== undefined) addIssue({ message: problem });
  }),
);

const FieldDestinationsSchema = v.strictObject({
  hosts: v.pipe(v.array(HostPatternSchema), v.check(hasNoDuplicates, 'must not repeat a host')),
  ports: v.optional(PortsSchema),
});

const POLICY_SHAPE =
  'must be { "webhookUri": { "hosts": [...] }, "redirectUris": { "hosts": [...] } } or { "anyHost": true }';

const policyEntries = {
  anyHost: v.optional(v.literal(true, 'must be true (leave it out to list hosts)')),
  ports: v.optional(PortsSchema),
  webhookUri: v.optional(FieldDestinationsSchema),
  redirectUris: v.optional(FieldDestinationsSchema),
};

/** Either `anyHost` alone (with ports), or both fields' lists: never a field left to a default. */
const isOneShape = <T extends DestinationPolicy>(policy: T) =>
  policy.anyHost === true
    ? policy.webhookUri === undefined && policy.redirectUris === undefined
    : policy.webhookUri !== undefined && policy.redirectUris !== undefined && policy.ports === undefined;

/** A stage file's `destinations`: no `allowLoopback` (a deployed stage never sends to loopback). */
export const StageDestinationsSchema = v.pipe(
  v.strictObject(policyEntries, POLICY_SHAPE),
  v.check(isOneShape, POLICY_SHAPE),
);

/** The function's `DESTINATION_POLICY`: a stage's policy, plus `allowLoopback` for the local stack. */
export const DestinationPolicySchema = v.pipe(
  v.strictObject({ ...policyEntries, allowLoopback: v.optional(v.boolean()) }, POLICY_SHAPE),
  v.check(isOneShape, POLICY_SHAPE),
);

export class DestinationPolicyError extends Error {
  override readonly name = 'DestinationPolicyError';
}

/** Validates a policy value; throws {@link DestinationPolicyError} naming the first bad member. */
export function parseDestinationPolicy(value: unknown, source = DESTINATION_POLICY_ENV): DestinationPolicy {
  const result = v.safeParse(DestinationPolicySchema, value, { abortPipeEarly: true });
  if (result.success) return result.output;
  const issue = result.issues[0];
  const path = v.getDotPath(issue);
  throw new DestinationPolicyError(
    `Invalid configuration: ${source}${path === null ? '' : `.${path}`} ${issue.message}`,
  );
}

/**
 * The function's policy from its environment, read once at cold start: required, so a function
 * deployed without one fails to start instead of sending data anywhere.
 */
export function loadDestinationPolicy(env: Readonly<Record<string, string | undefined>>): DestinationPolicy {
  const text = env[DESTINATION_POLICY_ENV];
  if (text === undefined || text.trim() === '') {
    throw new DestinationPolicyError(`Invalid configuration: ${DESTINATION_POLICY_ENV} is required`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new DestinationPolicyError(`Invalid configuration: ${DESTINATION_POLICY_ENV} is not JSON`);
  }
  return parseDestinationPolicy(json);
}

/** The destination fields of a write's (validated) body. */
export interface DestinationFields {
  readonly webhook_uri?: string | null | undefined;
  readonly redirect_uris?: readonly string[] | undefined;
}

/**
 * Refuses a write whose `webhook_uri` or any of whose `redirect_uris` the policy does not allow, with
 * `destination-not-allowed` listing each refused value by JSON Pointer and the rule it failed. Only
 * the fields the request sets are checked (`null` turns webhooks off and is always allowed).
 */
export function checkDestinations(fields: DestinationFields, policy: DestinationPolicy): void {
  const refusals: { pointer: string; refusal: DestinationRefusal }[] = [];
  const uri = fields.webhook_uri;
  if (typeof uri === 'string') {
    const refusal = destinationRefusal('webhook_uri', uri, policy);
    if (refusal !== undefined) refusals.push({ pointer: '/webhook_uri', refusal });
  }
  for (const [index, redirect] of (fields.redirect_uris ?? []).entries()) {
    const pointer = `/redirect_uris/${index}`;
    const refusal = destinationRefusal('redirect_uris', redirect, policy, `redirect_uris[${index}]`);
    if (refusal !== undefined) refusals.push({ pointer, refusal });
  }
  const [first] = refusals;
  if (first === undefined) return;
  const errors: FieldError[] = refusals
    .slice(0, MAX_FIELD_ERRORS)
    .map(({ pointer, refusal }) => ({ pointer, detail: `${refusal.rule}: ${refusal.message}` }));
  const more = refusals.length > 1 ? ` (${refusals.length} destinations refused; \`errors\` lists them)` : '';
  throw new ProblemError(
    'destination-not-allowed',
    `${first.refusal.message}; rule ${first.refusal.rule}${more}. Nothing was sent to Affix.`,
    { errors },
  );
}
