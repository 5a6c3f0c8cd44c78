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
 * creates no `AWS::Lambda::Permission`. A later caller that goes through API Gateway (a synthetic
 * check, the rotation job) needs nothing here; one that invoked directly would need its own
 * exception in the Deny.
 *
 * `lambda:InvokeFunctionUrl` is denied too: the function has no URL, and if one were added it
 * must not become a way around API Gateway.
 *
 * @example
 * const doc = functionInvokePolicy({ functionArn: fn.functionArn, sourceArns, sourceAccount: stack.account });
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
  /** The API's account, for `aws:SourceAccount` (guards against a confused deputy). */
  readonly sourceAccount: string;
}

export function functionInvokePolicy(props: FunctionInvokePolicyProps): PolicyDocument {
  const sourceArns = [...props.sourceArns];
  return new PolicyDocument({
    statements: [
      new PolicyStatement({
        sid: 'AllowApiGatewayForTheApiMethods',
        effect: Effect.ALLOW,
        principals: [new ServicePrincipal(API_GATEWAY_SERVICE_PRINCIPAL)],
        actions: ['lambda:InvokeFunction'],
        resources: [props.functionArn],
        conditions: {
          ArnLike: { 'aws:SourceArn': sourceArns },
          StringEquals: { 'aws:SourceAccount': props.sourceAccount },
        },
      }),
      new PolicyStatement({
        sid: 'DenyInvokeExceptThroughTheApi',
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: [...INVOKE_ACTIONS],
        resources: [props.functionArn],
        conditions: { ArnNotLike: { 'aws:SourceArn': sourceArns } },
      }),
    ],
  });
}
