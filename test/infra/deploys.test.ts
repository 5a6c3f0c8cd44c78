/**
 * Deploys that protect: on a traffic-shifting stage every rollback alarm can fire within half the
 * shift interval and some watch the new version's own invocations and 5xx answers; a pre-traffic hook invokes the
 * new version first; a deploy can ship a fix past an unrelated firing alarm; published versions stay
 * for a rollback; scheduled functions run once per event; the API's logging role outlives the stack.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { IGNORE_ROLLBACK_ALARMS_CONTEXT, ignoresRollbackAlarms } from '../../infra/deployment.ts';
import { RELEASE_ALARM_PERIOD, releaseEvaluation } from '../../infra/release-alarms.ts';
import { EXECUTED_VERSION_DIMENSION, METRIC, REPO_ROOT } from '../../infra/service.ts';
import type { StageConfig } from '../../infra/stages.ts';
import type { WebhookConfigStack } from '../../infra/webhook-config-stack.ts';
import { BASIC, buildStack, fixtureStage } from './fixtures.ts';

interface Resource {
  Type: string;
  Properties: Record<string, unknown>;
  DependsOn?: string[];
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
  UpdatePolicy?: Record<string, Record<string, unknown>>;
}
const resources = (template: Template, type: string) =>
  Object.entries(template.findResources(type) as Record<string, Resource>);
const logicalId = (stack: WebhookConfigStack, construct: IConstruct) =>
  stack.resolve((construct.node.defaultChild as IConstruct & { logicalId: string }).logicalId) as string;

const canary = buildStack({ stage: 'canary' });
const linearConfig: StageConfig = {
  ...fixtureStage('canary'),
  deployment: { strategy: 'linear', percentage: 20, intervalMinutes: 3 },
};
const linear = buildStack({ stage: 'canary', config: linearConfig });
const ignoring = buildStack({ stage: 'canary', ignoreRollbackAlarms: true });

/** The deployment group's rollback alarms, as CloudFormation alarm resources. */
function rollbackAlarms({ template }: { template: Template }): Array<Record<string, unknown>> {
  const [[, group]] = resources(template, 'AWS::CodeDeploy::DeploymentGroup') as [[string, Resource]];
  const names = (
    group.Properties.AlarmConfiguration as { Alarms: Array<{ Name: { Ref: string } }> }
  ).Alarms.map((alarm) => alarm.Name.Ref);
  const all = template.toJSON().Resources as Record<string, Resource>;
  expect(names.length).toBeGreaterThan(0);
  return names.map((id) => ({ ...(all[id] as Resource).Properties, logicalId: id }));
}

describe.each([
  ['canary 10% for 15 minutes', canary, 15],
  ['linear 20% every 3 minutes', linear, 3],
])('rollback alarms of a %s stage', (_name, built, intervalMinutes) => {
  const alarms = rollbackAlarms(built);
  const fnRef = built.stack.resolve(built.stack.clientConfig.function.functionName);
  const versionNumber = built.stack.resolve(built.stack.live.alias.version.version);

  it.each(alarms.map((alarm) => [alarm.AlarmName as string, alarm]))(
    '%s looks at 1-minute periods and can fire within half the interval',
    (_alarmName, alarm) => {
      expect(alarm.Period).toBe(60);
      expect((alarm.EvaluationPeriods as number) * (alarm.Period as number)).toBeLessThanOrEqual(
        (intervalMinutes * 60) / 2,
      );
      expect(alarm.DatapointsToAlarm as number).toBeLessThanOrEqual(alarm.EvaluationPeriods as number);
      // A version that takes no traffic yet is not failing.
      expect(alarm.TreatMissingData).toBe('notBreaching');
    },
  );

  it("watches the new version's own invocations: errors and p99 duration by ExecutedVersion", () => {
    const byVersion = alarms.filter(
      (alarm) =>
        alarm.Namespace === 'AWS/Lambda' && JSON.stringify(alarm.Dimensions).includes('"ExecutedVersion"'),
    );
    expect(
      byVersion.map((alarm) => [alarm.MetricName, alarm.Statistic ?? alarm.ExtendedStatistic]).sort(),
    ).toEqual([
      ['Duration', 'p99'],
      ['Errors', 'Sum'],
    ]);
    for (const alarm of byVersion) {
      expect(alarm.Dimensions).toEqual([
        { Name: 'ExecutedVersion', Value: versionNumber },
        { Name: 'FunctionName', Value: fnRef },
        { Name: 'Resource', Value: { 'Fn::Join': ['', [fnRef, ':live']] } },
      ]);
    }
  });

  it("watches the new version's own 5xx answers: ServerErrorAnswers as the function emits it", () => {
    const { evaluationPeriods, datapointsToAlarm } = releaseEvaluation(intervalMinutes);
    const answers = alarms.filter((alarm) => alarm.MetricName === METRIC.serverErrorAnswers);
    expect(answers).toHaveLength(1);
    const [alarm] = answers as [Record<string, unknown>];
    expect(alarm).toMatchObject({
      AlarmName: 'affix-webhook-config-canary-release-5xx-answers',
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Period: 60,
      EvaluationPeriods: evaluationPeriods,
      DatapointsToAlarm: datapointsToAlarm,
      TreatMissingData: 'notBreaching',
    });
    // The namespace and the default dimensions the deployed handler's Powertools uses, read from the
    // function's environment, plus the version number as a literal of this deploy's version.
    const fn = (built.template.toJSON().Resources as Record<string, Resource>)[
      logicalId(built.stack, built.stack.clientConfig.function)
    ] as Resource;
    const env = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(alarm.Namespace).toBe(env.POWERTOOLS_METRICS_NAMESPACE);
    const dimensions = [...(alarm.Dimensions as Array<{ Name: string; Value: unknown }>)].sort((a, b) =>
      a.Name.localeCompare(b.Name),
    );
    expect(dimensions).toEqual([
      { Name: EXECUTED_VERSION_DIMENSION, Value: versionNumber },
      { Name: 'service', Value: env.POWERTOOLS_SERVICE_NAME },
      { Name: 'stage', Value: env.STAGE },
    ]);
  });

  it('names the API by literal name and stage: nothing that depends on the alias', () => {
    const api = alarms.find((alarm) => alarm.Namespace === 'AWS/ApiGateway');
    expect(api?.Dimensions).toEqual([
      { Name: 'ApiName', Value: 'affix-webhook-config-canary' },
      { Name: 'Stage', Value: 'canary' },
    ]);
  });
});

describe('releaseEvaluation', () => {
  it.each([2, 3, 4, 5, 6, 10, 15, 60, 2880])('fits within half of a %i-minute interval', (interval) => {
    const { evaluationPeriods, datapointsToAlarm } = releaseEvaluation(interval);
    expect(evaluationPeriods * RELEASE_ALARM_PERIOD.toMinutes()).toBeLessThanOrEqual(interval / 2);
    expect(datapointsToAlarm).toBeGreaterThanOrEqual(1);
    expect(datapointsToAlarm).toBeLessThanOrEqual(evaluationPeriods);
  });
});

describe('the pre-traffic hook', () => {
  const { stack, template } = canary;
  const hook = stack.deployCheck;
  const all = template.toJSON().Resources as Record<string, Resource>;

  it('exists only with a traffic shift', () => {
    expect(hook).toBeDefined();
    expect(buildStack({ stage: 'basic' }).stack.deployCheck).toBeUndefined();
  });

  it("is the alias update's BeforeAllowTraffic hook", () => {
    const alias = all[logicalId(stack, stack.live.alias)] as Resource;
    expect(alias.UpdatePolicy?.CodeDeployLambdaAliasUpdate?.BeforeAllowTrafficHook).toEqual({
      Ref: logicalId(stack, hook?.fn.function as IConstruct),
    });
  });

  it('targets the version this deploy publishes, as its own role', () => {
    const fn = all[logicalId(stack, hook?.fn.function as IConstruct)] as Resource;
    const variables = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(variables.TARGET_VERSION_ARN).toEqual(stack.resolve(stack.live.alias.version.functionArn));
    expect(variables.CALLER_ARN).toEqual({
      'Fn::GetAtt': [logicalId(stack, hook?.fn.role as IConstruct), 'Arn'],
    });
    expect(variables.STAGE).toBe('canary');
  });

  it('may invoke exactly that version and report its verdict to this deployment group only', () => {
    const roleRef = { Ref: logicalId(stack, hook?.fn.role as IConstruct) };
    const statements = resources(template, 'AWS::IAM::Policy')
      .filter(([, policy]) => JSON.stringify(policy.Properties.Roles) === JSON.stringify([roleRef]))
      .flatMap(
        ([, policy]) =>
          (policy.Properties.PolicyDocument as { Statement: Array<Record<string, unknown>> }).Statement,
      )
      .filter((statement) => !JSON.stringify(statement.Action).includes('logs:'));
    expect(statements.map((statement) => [statement.Action, statement.Resource])).toEqual(
      expect.arrayContaining([
        ['lambda:InvokeFunction', stack.resolve(stack.live.alias.version.functionArn)],
        ['codedeploy:PutLifecycleEventHookExecutionStatus', expect.any(Object)],
      ]),
    );
    expect(statements).toHaveLength(2);
  });

  it("lets the alias move only after the new version's resource policy exists", () => {
    const alias = all[logicalId(stack, stack.live.alias)] as Resource;
    expect(alias.DependsOn).toContain('ClientConfigVersionInvokePolicy');
  });
});

describe('shipping a fix while an unrelated alarm fires (-c ignoreRollbackAlarms=true)', () => {
  const groupOf = (template: Template) =>
    (resources(template, 'AWS::CodeDeploy::DeploymentGroup')[0] as [string, Resource])[1].Properties;

  it('deploys with the alarm check off, the alarms still attached, no rollback on alarm', () => {
    const normal = groupOf(canary.template);
    const fix = groupOf(ignoring.template);
    expect((normal.AlarmConfiguration as { Enabled: boolean }).Enabled).toBe(true);
    expect((fix.AlarmConfiguration as { Enabled: boolean; IgnorePollAlarmFailure: boolean }).Enabled).toBe(
      false,
    );
    expect((fix.AlarmConfiguration as { Alarms: unknown[] }).Alarms).toEqual(
      (normal.AlarmConfiguration as { Alarms: unknown[] }).Alarms,
    );
    expect(fix.AutoRollbackConfiguration).toEqual({
      Enabled: true,
      Events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_REQUEST'],
    });
  });

  it('keeps the pre-traffic check', () => {
    expect(ignoring.stack.deployCheck).toBeDefined();
  });

  it('is the command infra/README.md documents, with the context key the app reads (stages.test.ts runs it)', () => {
    const readme = readFileSync(join(REPO_ROOT, 'infra', 'README.md'), 'utf8');
    expect(readme).toContain(`npx cdk deploy -c stage=prod -c ${IGNORE_ROLLBACK_ALARMS_CONTEXT}=true`);
  });

  it.each([
    [true, true],
    ['true', true],
    [undefined, false],
    ['false', false],
    ['yes', false],
    [1, false],
  ])('reads the context value %j as %j', (value, expected) => {
    expect(ignoresRollbackAlarms(value)).toBe(expected);
  });
});

describe('rollback targets and scheduled runs', () => {
  it('retains every published version (a rollback points the alias back at one)', () => {
    for (const [, version] of resources(canary.template, 'AWS::Lambda::Version')) {
      expect(version.DeletionPolicy).toBe('Retain');
      expect(version.UpdateReplacePolicy).toBe('Retain');
    }
  });

  it('runs the synthetic caller once per schedule: no Lambda async retries, stale after one interval', () => {
    const { stack, template } = canary;
    const fnRef = stack.resolve(stack.syntheticCaller?.fn.function.functionName);
    const configs = resources(template, 'AWS::Lambda::EventInvokeConfig')
      .map(([, config]) => config.Properties)
      .filter((properties) => JSON.stringify(properties.FunctionName) === JSON.stringify(fnRef));
    expect(configs).toEqual([
      { FunctionName: fnRef, Qualifier: '$LATEST', MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 600 },
    ]);
  });

  it("keeps API Gateway's account-wide logging role when the stack goes", () => {
    const { template } = buildStack({ stage: 'basic', config: { ...BASIC, apiGatewayCloudWatchRole: true } });
    for (const type of ['AWS::IAM::Role', 'AWS::ApiGateway::Account']) {
      const found = resources(template, type).filter(
        ([id]) => id.startsWith('ApiCloudWatchRole') || id.startsWith('ApiAccount'),
      );
      expect(found.length, type).toBe(1);
      expect(found[0]?.[1].DeletionPolicy, type).toBe('Retain');
    }
  });
});
