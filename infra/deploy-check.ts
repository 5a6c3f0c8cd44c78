/**
 * The pre-traffic hook of a traffic-shifting deploy (`functions/deploy-check/`): CodeDeploy runs it
 * before any traffic moves; it invokes the version this deploy publishes with a synthetic
 * `GET /client` and fails the deployment unless it answers 200.
 *
 * Its role may invoke exactly that version (and CodeDeploy's grant lets it report the hook's
 * status); the function's resource policy makes the one exception for this role
 * (`function-policy.ts`). The version's ARN is written into the hook's environment by the same
 * stack update that hands the version to CodeDeploy.
 *
 * @example
 * const check = new DeployCheck(this, 'DeployCheck', { stage, version, logRetention });
 * deploymentGroup.addPreHook(check.fn.function);
 */
import { fileURLToPath } from 'node:url';
import { Duration } from 'aws-cdk-lib';
import { Effect, Policy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IVersion } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { routeKeyOfOperation } from '../functions/contract/routes.ts';
import { API_GATEWAY_INTEGRATION_LIMIT, CLIENT_CONFIG_TIMEOUT } from './service.ts';
import { ServiceFunction } from './service-function.ts';
import type { Stage } from './stages.ts';

export const DEPLOY_CHECK_ENTRY = fileURLToPath(
  new URL('../functions/deploy-check/handler.ts', import.meta.url),
);

export interface DeployCheckProps {
  readonly stage: Stage;
  /** The version CodeDeploy shifts traffic to. */
  readonly version: IVersion;
  readonly logRetention: RetentionDays;
}

export class DeployCheck extends Construct {
  readonly fn: ServiceFunction;

  constructor(scope: Construct, id: string, props: DeployCheckProps) {
    super(scope, id);
    this.fn = new ServiceFunction(this, 'Function', {
      entry: DEPLOY_CHECK_ENTRY,
      description: `Pre-traffic check of a deploy: ${routeKeyOfOperation('getClient')} on the new version (${props.stage})`,
      environment: { STAGE: props.stage, TARGET_VERSION_ARN: props.version.functionArn },
      logRetention: props.logRetention,
      // One invoke of the client-config function, which stops at its own timeout.
      timeout: API_GATEWAY_INTEGRATION_LIMIT,
      upstreamDeadline: CLIENT_CONFIG_TIMEOUT.plus(Duration.seconds(1)),
      memorySize: 256,
    });
    this.fn.function.addEnvironment('CALLER_ARN', this.fn.role.roleArn);
    this.fn.role.attachInlinePolicy(
      new Policy(this, 'InvokeNewVersion', {
        statements: [
          new PolicyStatement({
            sid: 'InvokeTheVersionBeingDeployed',
            effect: Effect.ALLOW,
            actions: ['lambda:InvokeFunction'],
            resources: [props.version.functionArn],
          }),
        ],
      }),
    );
  }
}
