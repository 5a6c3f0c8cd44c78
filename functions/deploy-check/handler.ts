/**
 * Lambda entry point of the pre-traffic hook (CodeDeploy `BeforeAllowTraffic`, see `check.ts`).
 *
 * Environment: `TARGET_VERSION_ARN` (the version this deploy publishes: CloudFormation writes it, and
 * the same stack update hands it to CodeDeploy), `CALLER_ARN` (the hook's role), `STAGE`.
 */

import { Logger } from '@aws-lambda-powertools/logger';
import { CodeDeployClient, PutLifecycleEventHookExecutionStatusCommand } from '@aws-sdk/client-codedeploy';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { type DeployCheckSettings, type LifecycleHookEvent, runDeployCheck } from './check.ts';

export class DeployCheckConfigError extends Error {
  override readonly name = 'DeployCheckConfigError';
}

/** The settings from the environment; a missing variable names itself. */
export function settingsFromEnv(env: Record<string, string | undefined>): DeployCheckSettings {
  const required = (name: string): string => {
    const value = env[name]?.trim();
    if (value === undefined || value === '') throw new DeployCheckConfigError(`${name} is required`);
    return value;
  };
  return {
    targetVersionArn: required('TARGET_VERSION_ARN'),
    callerArn: required('CALLER_ARN'),
    stage: required('STAGE'),
  };
}

const settings = settingsFromEnv(process.env);
const logger = new Logger();
const lambda = new LambdaClient({});
const codeDeploy = new CodeDeployClient({});

export const handler = async (event: LifecycleHookEvent): Promise<void> => {
  const verdict = await runDeployCheck(event, settings, {
    invoke: async (functionArn, payload) => {
      const answer = await lambda.send(
        new InvokeCommand({ FunctionName: functionArn, Payload: new TextEncoder().encode(payload) }),
      );
      return {
        ...(answer.FunctionError === undefined ? {} : { functionError: answer.FunctionError }),
        ...(answer.Payload === undefined ? {} : { payload: new TextDecoder().decode(answer.Payload) }),
      };
    },
    report: async (hook, status) => {
      await codeDeploy.send(
        new PutLifecycleEventHookExecutionStatusCommand({
          deploymentId: hook.DeploymentId,
          lifecycleEventHookExecutionId: hook.LifecycleEventHookExecutionId,
          status,
        }),
      );
    },
  });
  logger.info('deploy check', {
    deploymentId: event.DeploymentId,
    version: settings.targetVersionArn,
    status: verdict.status,
    reason: verdict.reason,
  });
};
