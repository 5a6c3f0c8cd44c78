/**
 * The API's resource policy: who may call which route (`execute-api:Invoke`), derived from the
 * contract's route table and the stage's principals per caller group.
 *
 * With AWS_IAM authorization a principal of the API's own account gets in when EITHER the resource
 * policy OR its own IAM policy allows the call. An Allow per group therefore cannot keep a route to
 * its groups: a same-account role whose IAM policy allows `execute-api:Invoke *` would get in
 * anyway. So, besides an Allow for each group on exactly its routes, every route carries an explicit
 * Deny for every principal outside that route's groups (one statement for routes with the same groups); an explicit deny wins over any allow, so the
 * grant holds whatever the caller's own policy says. One more deny covers every account and
 * organization no group names (any method, also one added outside this code), and a PRIVATE API denies any request that
 * does not come through one of its VPC endpoints. With nobody configured the policy denies everybody.
 *
 * API Gateway stores at most 8 KiB of resource policy: {@link assertPolicyFits} refuses, at synth,
 * a stage whose policy could exceed it.
 *
 * @example
 * const policy = invokePolicy({ ...NO_CALLERS, readers: { accountIds: ['111111111111'], roleArns: [] } });
 */
import { Token } from 'aws-cdk-lib';
import {
  AccountPrincipal,
  AnyPrincipal,
  ArnPrincipal,
  Effect,
  type IPrincipal,
  OrganizationPrincipal,
  PolicyDocument,
  PolicyStatement,
} from 'aws-cdk-lib/aws-iam';
import {
  CALLER_GROUPS,
  type CallerGroup,
  ROUTES,
  type RouteDefinition,
  routeDefinition,
  routeKeyOf,
  routesForGroup,
} from '../functions/contract/routes.ts';
import type { AllowedPrincipals, CallerPrincipals } from './stages.ts';

/** Every method of every stage of this API. */
export const ANY_METHOD = 'execute-api:/*';

/** API Gateway's limit on the size of a REST API's resource policy. */
export const API_POLICY_LIMIT_BYTES = 8_192;

/**
 * The longest prefix API Gateway can put in place of `execute-api:/` when it stores the policy
 * (partition, region, account and API id at their longest), for a size estimate on the safe side.
 */
const LONGEST_EXPANDED_PREFIX = 'arn:aws-iso-b:execute-api:ap-southeast-5:123456789012:abcdefghij/';

/** `execute-api:/*\/GET/client` for the route `GET /client`: any stage of this API. */
export function methodResource(route: Pick<RouteDefinition, 'method' | 'path'>): string {
  return `execute-api:/*/${route.method}${route.path}`;
}

export class InvokePolicyError extends Error {
  override readonly name = 'InvokePolicyError';
}

/** The principals of several groups together, each listed once. */
export function unionOf(principals: readonly AllowedPrincipals[]): {
  accountIds: string[];
  roleArns: string[];
  organizationIds: string[];
} {
  const distinct = (values: Iterable<string>) => [...new Set(values)].sort();
  return {
    accountIds: distinct(principals.flatMap((p) => p.accountIds)),
    roleArns: distinct(principals.flatMap((p) => p.roleArns)),
    organizationIds: distinct(principals.flatMap((p) => (p.organizationId ? [p.organizationId] : []))),
  };
}

/**
 * @param callers principals per caller group
 * @param vpcEndpointIds when non-empty, requests must come through one of these endpoints
 */
export function invokePolicy(
  callers: CallerPrincipals,
  vpcEndpointIds: readonly string[] = [],
): PolicyDocument {
  const statements: PolicyStatement[] = [];
  const everybody = unionOf(CALLER_GROUPS.map((group) => callers[group]));
  if (isEmpty(everybody)) {
    statements.push(
      new PolicyStatement({
        sid: 'DenyEveryoneNoPrincipalsConfigured',
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ['execute-api:Invoke'],
        resources: [ANY_METHOD],
      }),
    );
  } else {
    for (const group of CALLER_GROUPS) statements.push(...allowGroup(group, callers[group]));
    // Routes with the same groups share one deny (API Gateway keeps only 8 KiB of policy).
    for (const routes of routesBySameGroups()) {
      const keys = routes.map(routeKeyOf);
      statements.push(
        denyOutside(
          `Deny${keys.map(sidPart).join('')}${keys.length === 1 ? 'OutsideItsGroups' : 'OutsideTheirGroups'}`,
          unionOf((routes[0]?.groups ?? []).map((group) => callers[group])),
          routes.map(methodResource),
        ),
      );
    }
    // Any method, also one added outside this code: nobody from an account (or organization) that no
    // group names gets in. By account, not by role, to stay small (API Gateway keeps 8 KiB of policy):
    // principals of a named role's account who are in no group are denied every contract route by
    // the per-route denies above.
    statements.push(
      denyOutside(
        'DenyAccountsInNoGroup',
        {
          ...everybody,
          accountIds: accountsOf(everybody),
          // A role ARN known only at deploy time (the synthetic caller's) has no account to read.
          roleArns: everybody.roleArns.filter((arn) => Token.isUnresolved(arn)),
        },
        [ANY_METHOD],
      ),
    );
  }
  if (vpcEndpointIds.length > 0) {
    statements.push(
      new PolicyStatement({
        sid: 'DenyOutsideVpcEndpoints',
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ['execute-api:Invoke'],
        resources: [ANY_METHOD],
        conditions: { StringNotEquals: { 'aws:SourceVpce': [...vpcEndpointIds] } },
      }),
    );
  }
  const policy = new PolicyDocument({ statements });
  assertPolicyFits(policy);
  return policy;
}

/** The routes grouped by their caller groups (the same set, in any order), in route table order. */
function routesBySameGroups(): RouteDefinition[][] {
  const byGroups = new Map<string, RouteDefinition[]>();
  for (const route of ROUTES) {
    const key = [...routeDefinition(routeKeyOf(route)).groups].sort().join(',');
    byGroups.set(key, [...(byGroups.get(key) ?? []), route]);
  }
  return [...byGroups.values()];
}

/** The Allow statements of one group: its accounts and roles, and its organization, on its routes. */
function allowGroup(group: CallerGroup, principals: AllowedPrincipals): PolicyStatement[] {
  const resources = routesForGroup(group).map((key) => methodResource(routeDefinition(key)));
  // A group without routes (verifiers, until their routes exist) is allowed nothing.
  if (resources.length === 0) return [];
  const statements: PolicyStatement[] = [];
  const named: IPrincipal[] = [
    ...principals.accountIds.map((id) => new AccountPrincipal(id)),
    ...principals.roleArns.map((arn) => new ArnPrincipal(arn)),
  ];
  const sid = `Allow${sidPart(group)}`;
  if (named.length > 0) {
    statements.push(
      new PolicyStatement({
        sid,
        effect: Effect.ALLOW,
        principals: named,
        actions: ['execute-api:Invoke'],
        resources,
      }),
    );
  }
  if (principals.organizationId !== undefined) {
    statements.push(
      new PolicyStatement({
        sid: `${sid}Organization`,
        effect: Effect.ALLOW,
        principals: [new OrganizationPrincipal(principals.organizationId)],
        actions: ['execute-api:Invoke'],
        resources,
      }),
    );
  }
  return statements;
}

/**
 * Denies `resource` to every caller that matches none of `allowed` (everybody, if it is empty).
 *
 * The conditions are ANDed, so the deny applies only when the caller is in none of the lists. A
 * caller outside any organization has no `aws:PrincipalOrgID`, and a negated operator on an absent
 * key is true, so such a caller is still denied unless its account or role matches.
 */
function denyOutside(
  sid: string,
  allowed: ReturnType<typeof unionOf>,
  resources: readonly string[],
): PolicyStatement {
  const stringNotEquals: Record<string, string[]> = {};
  if (allowed.accountIds.length > 0) stringNotEquals['aws:PrincipalAccount'] = allowed.accountIds;
  if (allowed.organizationIds.length > 0) stringNotEquals['aws:PrincipalOrgID'] = allowed.organizationIds;
  const conditions: Record<string, Record<string, string[]>> = {};
  if (Object.keys(stringNotEquals).length > 0) conditions.StringNotEquals = stringNotEquals;
  if (allowed.roleArns.length > 0) conditions.ArnNotLike = { 'aws:PrincipalArn': allowed.roleArns };
  return new PolicyStatement({
    sid,
    effect: Effect.DENY,
    principals: [new AnyPrincipal()],
    actions: ['execute-api:Invoke'],
    resources: [...resources],
    ...(Object.keys(conditions).length > 0 ? { conditions } : {}),
  });
}

/** The account IDs named, and those of the named roles (`arn:aws:iam::<account>:role/...`). */
function accountsOf(principals: ReturnType<typeof unionOf>): string[] {
  const fromRoles = principals.roleArns
    .filter((arn) => !Token.isUnresolved(arn))
    .map((arn) => arn.split(':')[4] ?? '')
    .filter((id) => id !== '');
  return [...new Set([...principals.accountIds, ...fromRoles])].sort();
}

function isEmpty(principals: ReturnType<typeof unionOf>): boolean {
  return (
    principals.accountIds.length === 0 &&
    principals.roleArns.length === 0 &&
    principals.organizationIds.length === 0
  );
}

/** `GET /client/secrets` -> `GetClientSecrets`: Sids allow only letters and digits. */
function sidPart(text: string): string {
  return text
    .split(/[^A-Za-z0-9]+/)
    .filter((word) => word.length > 0)
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1).toLowerCase())
    .join('');
}

/**
 * A size estimate on the safe side: the JSON with every `execute-api:/` expanded to the longest
 * ARN prefix and every unresolved token (the partition of an account principal) at its encoded,
 * longer-than-real length.
 */
export function estimatedPolicyBytes(policy: PolicyDocument): number {
  const json = JSON.stringify(policy.toJSON()).replaceAll('execute-api:/', LONGEST_EXPANDED_PREFIX);
  return Buffer.byteLength(json, 'utf8');
}

/** @throws InvokePolicyError when the policy could exceed {@link API_POLICY_LIMIT_BYTES}. */
export function assertPolicyFits(policy: PolicyDocument): void {
  const bytes = estimatedPolicyBytes(policy);
  if (bytes > API_POLICY_LIMIT_BYTES) {
    throw new InvokePolicyError(
      `The API resource policy would be about ${bytes} bytes, over API Gateway's ${API_POLICY_LIMIT_BYTES}: name fewer roles (grant an account or the organization instead), or fewer groups per principal`,
    );
  }
}
