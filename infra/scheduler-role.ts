/**
 * The role EventBridge Scheduler assumes to run one of our functions: trusted by the scheduler of
 * this account only (`aws:SourceAccount`, against the confused deputy), allowed to invoke that one
 * function and nothing else. The secret rotation job and the synthetic caller both use it.
 *
 * @example
 * const role = schedulerInvokeRole(this, { fn: this.fn.function, job: 'the synthetic caller of dev',
 *   policyId: 'InvokeSyntheticCaller', sid: 'InvokeTheSyntheticCaller' });
 */
import { Stack } from 'aws-cdk-lib';
import { Effect, Policy, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';

export interface SchedulerInvokeRoleProps {
  readonly fn: IFunction;
  /** What the schedule runs, for the role's description: `the secret rotation of dev`. */
  readonly job: string;
  /** The inline policy's construct id (kept per caller: it names the CloudFormation resource). */
  readonly policyId: string;
  readonly sid: string;
}

/** Creates `SchedulerRole` (and its inline policy) under `scope`. */
export function schedulerInvokeRole(scope: Construct, props: SchedulerInvokeRoleProps): Role {
  const role = new Role(scope, 'SchedulerRole', {
    assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
      conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(scope).account } },
    }),
    description: `Lets EventBridge Scheduler run ${props.job}`,
  });
  role.attachInlinePolicy(
    new Policy(scope, props.policyId, {
      statements: [
        new PolicyStatement({
          sid: props.sid,
          effect: Effect.ALLOW,
          actions: ['lambda:InvokeFunction'],
          resources: [props.fn.functionArn],
        }),
      ],
    }),
  );
  return role;
}
