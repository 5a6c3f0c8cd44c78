/**
 * Safe deploys: every deploy publishes a new version of the function behind the alias `live`, the
 * alias API Gateway invokes. With `deployment.strategy: canary` (prod) CodeDeploy shifts
 * `percentage` of the traffic to the new version, waits `intervalMinutes`, then shifts the rest;
 * with `linear` it adds `percentage` every `intervalMinutes`. Before any traffic moves, the
 * `BeforeAllowTraffic` hook (`deploy-check.ts`) invokes the new version and fails the deployment
 * unless it answers; while traffic moves, CodeDeploy rolls back by itself when one of the given
 * alarms fires (or the deployment fails). With `all-at-once` (dev) CloudFormation moves the alias
 * at once.
 *
 * @example
 * const live = new LiveAlias(this, 'Live', { fn, deployment: config.deployment });
 * live.rollBackOn([errorsAlarm, api5xxAlarm]);
 */
import { Duration, Validations } from 'aws-cdk-lib';
import type { IAlarm } from 'aws-cdk-lib/aws-cloudwatch';
import {
  LambdaApplication,
  LambdaDeploymentConfig,
  LambdaDeploymentGroup,
  TimeBasedCanaryTrafficRouting,
  TimeBasedLinearTrafficRouting,
  type TrafficRouting,
} from 'aws-cdk-lib/aws-codedeploy';
import { Alias, type IFunction, type Version } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import type { DeploymentStrategy, TrafficShift } from './stages.ts';

export const LIVE_ALIAS_NAME = 'live';

/** The context key of a deploy that ignores the rollback alarms: `-c ignoreRollbackAlarms=true`. */
export const IGNORE_ROLLBACK_ALARMS_CONTEXT = 'ignoreRollbackAlarms';

/** Whether the context value asks to ignore the rollback alarms: `true` only, anything else is no. */
export function ignoresRollbackAlarms(contextValue: unknown): boolean {
  return contextValue === true || contextValue === 'true';
}

/** The CodeDeploy traffic routing of a canary or linear stage. */
export function trafficRoutingFor(shift: TrafficShift): TrafficRouting {
  const props = { percentage: shift.percentage, interval: Duration.minutes(shift.intervalMinutes) };
  return shift.strategy === 'canary'
    ? new TimeBasedCanaryTrafficRouting(props)
    : new TimeBasedLinearTrafficRouting(props);
}

export interface LiveAliasProps {
  readonly fn: IFunction & { currentVersion: Version };
  readonly deployment: DeploymentStrategy;
  /**
   * Deploy without looking at the rollback alarms (they stay attached, and the pre-traffic hook
   * still runs): for shipping a fix while an alarm that has nothing to do with the release fires.
   */
  readonly ignoreRollbackAlarms?: boolean;
}

export class LiveAlias extends Construct {
  readonly alias: Alias;
  readonly deploymentGroup: LambdaDeploymentGroup | undefined;
  /** The traffic shift of a canary or linear stage; undefined with all-at-once. */
  readonly shift: TrafficShift | undefined;

  constructor(scope: Construct, id: string, props: LiveAliasProps) {
    super(scope, id);
    this.alias = new Alias(this, 'Alias', {
      aliasName: LIVE_ALIAS_NAME,
      // currentVersion hashes the code and configuration: a new version exactly when either changes.
      version: props.fn.currentVersion,
      description: 'The version API Gateway invokes',
    });
    if (props.deployment.strategy === 'all-at-once') return;
    this.shift = props.deployment;
    const ignoreAlarms = props.ignoreRollbackAlarms ?? false;
    this.deploymentGroup = new LambdaDeploymentGroup(this, 'DeploymentGroup', {
      application: new LambdaApplication(this, 'Application'),
      alias: this.alias,
      deploymentConfig: new LambdaDeploymentConfig(
        this,
        this.shift.strategy === 'canary' ? 'Canary' : 'Linear',
        {
          trafficRouting: trafficRoutingFor(this.shift),
        },
      ),
      ignoreAlarmConfiguration: ignoreAlarms,
      autoRollback: { failedDeployment: true, deploymentInAlarm: !ignoreAlarms, stoppedDeployment: true },
    });
    Validations.of(this.deploymentGroup.role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSCodeDeployRoleForLambdaLimited]',
      reason:
        "CodeDeploy's own minimal role for Lambda deployments: it may move aliases, read alarms and invoke only CodeDeployHook_* functions; AWS keeps it in step with the service.",
    });
  }

  /** Alarms that stop a traffic shift and roll it back (no effect with all-at-once). */
  rollBackOn(alarms: readonly IAlarm[]): void {
    for (const alarm of alarms) this.deploymentGroup?.addAlarm(alarm);
  }
}
