/**
 * The API's resource policy: who may call `execute-api:Invoke`.
 *
 * With AWS_IAM authorization a same-account principal whose own IAM policy allows the call gets in
 * unless the resource policy explicitly denies it, so an allow list alone is not enough. The policy
 * therefore pairs the allow statements with an explicit deny for every principal that matches none
 * of the configured accounts, roles or organization; with nothing configured it denies everybody.
 * A PRIVATE API also denies any request that does not come through one of its VPC endpoints.
 *
 * @example
 * const policy = invokePolicy({ accountIds: ['111111111111'], roleArns: [] }, ['GET/client']);
 */
import {
  AccountPrincipal,
  AnyPrincipal,
  ArnPrincipal,
  Effect,
  OrganizationPrincipal,
  PolicyDocument,
  PolicyStatement,
} from 'aws-cdk-lib/aws-iam';
import type { AllowedPrincipals } from './stages.ts';

/** Every method of every stage of this API. */
export const ANY_METHOD = 'execute-api:/*';

/** `execute-api:/*\/GET/client` for the route `GET /client`. */
export function methodResource(method: string, path: string): string {
  return `execute-api:/*/${method}${path}`;
}

export function hasAllowedPrincipals(principals: AllowedPrincipals): boolean {
  return (
    principals.accountIds.length > 0 ||
    principals.roleArns.length > 0 ||
    principals.organizationId !== undefined
  );
}

/**
 * @param principals who may call
 * @param methodResources `execute-api:/...` ARNs of the methods they may call
 * @param vpcEndpointIds when non-empty, requests must come through one of these endpoints
 */
export function invokePolicy(
  principals: AllowedPrincipals,
  methodResources: readonly string[],
  vpcEndpointIds: readonly string[] = [],
): PolicyDocument {
  const statements: PolicyStatement[] = [];
  const named = [
    ...principals.accountIds.map((id) => new AccountPrincipal(id)),
    ...principals.roleArns.map((arn) => new ArnPrincipal(arn)),
  ];
  if (named.length > 0) {
    statements.push(
      new PolicyStatement({
        sid: 'AllowConfiguredPrincipals',
        effect: Effect.ALLOW,
        principals: named,
        actions: ['execute-api:Invoke'],
        resources: [...methodResources],
      }),
    );
  }
  if (principals.organizationId !== undefined) {
    statements.push(
      new PolicyStatement({
        sid: 'AllowOrganization',
        effect: Effect.ALLOW,
        principals: [new OrganizationPrincipal(principals.organizationId)],
        actions: ['execute-api:Invoke'],
        resources: [...methodResources],
      }),
    );
  }
  statements.push(denyEveryoneElse(principals));
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
  return new PolicyDocument({ statements });
}

/** Denies a caller unless it matches a configured account, role or organization (all, if none). */
function denyEveryoneElse(principals: AllowedPrincipals): PolicyStatement {
  if (!hasAllowedPrincipals(principals)) {
    return new PolicyStatement({
      sid: 'DenyEveryoneNoPrincipalsConfigured',
      effect: Effect.DENY,
      principals: [new AnyPrincipal()],
      actions: ['execute-api:Invoke'],
      resources: [ANY_METHOD],
    });
  }
  // Conditions are ANDed: the deny applies only when the caller matches none of the lists.
  // For a caller outside any organization aws:PrincipalOrgID is absent, and StringNotEquals
  // on an absent key is true, so such a caller is still denied unless an account or role matches.
  const stringNotEquals: Record<string, string | string[]> = {};
  if (principals.accountIds.length > 0) stringNotEquals['aws:PrincipalAccount'] = [...principals.accountIds];
  if (principals.organizationId !== undefined)
    stringNotEquals['aws:PrincipalOrgID'] = principals.organizationId;
  const conditions: Record<string, Record<string, string | string[]>> = {};
  if (Object.keys(stringNotEquals).length > 0) conditions.StringNotEquals = stringNotEquals;
  if (principals.roleArns.length > 0)
    conditions.ArnNotLike = { 'aws:PrincipalArn': [...principals.roleArns] };
  return new PolicyStatement({
    sid: 'DenyEveryoneElse',
    effect: Effect.DENY,
    principals: [new AnyPrincipal()],
    actions: ['execute-api:Invoke'],
    resources: [ANY_METHOD],
    conditions,
  });
}
