/**
 * The destination policy as configuration: the valibot schema a stage file's `destinations` and the
 * function's `DESTINATION_POLICY` (JSON) go through, read once at cold start, and the check every
 * write applies to the destinations it sets before any Affix request (`destination-not-allowed`).
 * The rules themselves are the contract's (`functions/contract/destination-policy.ts`).
 *
 * @example
 * const destinations = loadDestinationPolicy(process.env); // throws DestinationPolicyError when unset
 * checkDestinations({ webhook_uri: 'https://10.0.0.7/h' }, destinations); // throws destination-not-allowed
 */
import * as v from 'valibot';
import {
  type DestinationPolicy,
  type DestinationRefusal,
  destinationRefusal,
  hostPatternProblem,
} from '../../contract/destination-policy.ts';
import { MAX_FIELD_ERRORS } from '../../contract/limits.ts';
import { type FieldError, ProblemError } from './problems.ts';

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
