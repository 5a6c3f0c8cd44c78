/**
 * Safe deploys: every deploy publishes a new version of the function behind the alias `live`, the
 * alias API Gateway invokes. With `deployment.strategy: canary` (prod) CodeDeploy shifts
 * `percentage` of the traffic to the new version, waits `intervalMinutes`, then shifts the rest,
 * and rolls back by itself when one of the given alarms fires meanwhile (or the deployment fails).
 * With `all-at-once` (dev) CloudFormation moves the alias at once.
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
} from 'aws-cdk-lib/aws-codedeploy';
import { Alias, type IFunction, type Version } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import type { DeploymentStrategy } from './stages.ts';

export const LIVE_ALIAS_NAME = 'live';

export class LiveAlias extends Construct {
  readonly alias: Alias;
  readonly deploymentGroup: LambdaDeploymentGroup | undefined;

  constructor(
    scope: Construct,
    id: string,
    props: { fn: IFunction & { currentVersion: Version }; deployment: DeploymentStrategy },
  ) {
    super(scope, id);
    this.alias = new Alias(this, 'Alias', {
      aliasName: LIVE_ALIAS_NAME,
      // currentVersion hashes the code and configuration: a new version exactly when either changes.
      version: props.fn.currentVersion,
      description: 'The version API Gateway invokes',
    });
    if (props.deployment.strategy === 'canary') {
      const { percentage, intervalMinutes } = props.deployment;
      const deploymentConfig = new LambdaDeploymentConfig(this, 'Canary', {
        trafficRouting: new TimeBasedCanaryTrafficRouting({
          percentage,
          interval: Duration.minutes(intervalMinutes),
        }),
      });
      this.deploymentGroup = new LambdaDeploymentGroup(this, 'DeploymentGroup', {
        application: new LambdaApplication(this, 'Application'),
        alias: this.alias,
        deploymentConfig,
        autoRollback: { failedDeployment: true, deploymentInAlarm: true, stoppedDeployment: true },
      });
      Validations.of(this.deploymentGroup.role).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSCodeDeployRoleForLambdaLimited]',
        reason:
          "CodeDeploy's own minimal role for Lambda deployments: it may move aliases, read alarms and invoke only CodeDeployHook_* functions; AWS keeps it in step with the service.",
      });
    }
  }

  /** Alarms that stop a canary and roll it back (no effect with all-at-once). */
  rollBackOn(alarms: readonly IAlarm[]): void {
    for (const alarm of alarms) this.deploymentGroup?.addAlarm(alarm);
  }
}
