/**
 * The function's resource policy: only API Gateway, invoking for one of this API's methods, may
 * invoke the function.
 *
 * Without it any principal of the account allowed `lambda:InvokeFunction` by its own IAM policy
 * (admin and CI roles usually are) could invoke the function directly with a forged event: no
 * resource policy, no SigV4 check, no throttle, no access log, and a caller ARN of its choosing in
 * the audit line. The Deny names every principal (`*`) unless `aws:SourceArn` is one of the API's
 * method ARNs. A direct caller has no `aws:SourceArn` at all, and a negated operator (`ArnNotLike`)
 * on an absent key is true, so the deny applies to it; only a service invoking on behalf of one of
 * our methods carries a matching source ARN, and only API Gateway is allowed.
 *
 * `AWS::Lambda::ResourcePolicy` replaces the function's whole policy (PutResourcePolicy overwrites
 * what AddPermission added), so the Allow for API Gateway lives in the same document and the stack
 * creates no `AWS::Lambda::Permission`. A caller that goes through API Gateway (the synthetic
 * caller) needs nothing here. The one direct caller is the pre-traffic hook of a deploy, which
 * invokes the new version before it takes traffic: its role is named in `directInvokerRoleArns`
 * of that version's policy only, and the Deny spares exactly those roles (`aws:PrincipalArn`, which
 * is the role ARN for any session of the role); their own IAM policy is what allows the invoke.
 *
 * `lambda:InvokeFunctionUrl` is denied too: the function has no URL, and if one were added it
 * must not become a way around API Gateway.
 *
 * @example
 * const doc = functionInvokePolicy({ functionArn: fn.functionArn, sourceArns });
 */
import { AnyPrincipal, Effect, PolicyDocument, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';

export const API_GATEWAY_SERVICE_PRINCIPAL = 'apigateway.amazonaws.com';

/** The invoke actions that could reach the function's code. */
export const INVOKE_ACTIONS = ['lambda:InvokeFunction', 'lambda:InvokeFunctionUrl'] as const;

export interface FunctionInvokePolicyProps {
  /** The unqualified function ARN. */
  readonly functionArn: string;
  /** `arn:<partition>:execute-api:<region>:<account>:<api-id>/<stage>/<METHOD>/<path>` per method. */
  readonly sourceArns: readonly string[];
  /** Roles of this stack that may invoke directly (the pre-traffic hook); none by default. */
  readonly directInvokerRoleArns?: readonly string[];
}

export function functionInvokePolicy(props: FunctionInvokePolicyProps): PolicyDocument {
  const sourceArns = [...props.sourceArns];
  const directInvokers = [...(props.directInvokerRoleArns ?? [])];
  return new PolicyDocument({
    statements: [
      new PolicyStatement({
        sid: 'AllowApiGatewayForTheApiMethods',
        effect: Effect.ALLOW,
        principals: [new ServicePrincipal(API_GATEWAY_SERVICE_PRINCIPAL)],
        actions: ['lambda:InvokeFunction'],
        resources: [props.functionArn],
        // The method ARNs name the API's account: `aws:SourceAccount` beside them would add nothing.
        conditions: { ArnLike: { 'aws:SourceArn': sourceArns } },
      }),
      new PolicyStatement({
        sid: 'DenyInvokeExceptThroughTheApi',
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: [...INVOKE_ACTIONS],
        resources: [props.functionArn],
        // Both must hold for the Deny: not for one of our methods, and not one of the direct invokers.
        conditions: {
          ArnNotLike: {
            'aws:SourceArn': sourceArns,
            ...(directInvokers.length > 0 ? { 'aws:PrincipalArn': directInvokers } : {}),
          },
        },
      }),
    ],
  });
}
