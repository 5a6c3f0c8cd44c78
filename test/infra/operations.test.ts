/**
 * What it takes to run a stage: safe deploys (alias, CodeDeploy canary and its alarms), alarms that
 * reach someone, the synthetic caller (function, schedule, role that may only GET), the dashboard,
 * and the hardening (KMS encryption context, TLS policy, tags, the API URL parameter). One template
 * per fixture stage, shared by every assertion (synth is the slow part).
 */
import type { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { PROBLEMS } from '../../functions/core/domain/problems.ts';
import { API_ENDPOINT_ACCESS_MODE, API_SECURITY_POLICY } from '../../infra/webhook-config-stack.ts';
import { buildStack, FULL_CONFIG, fixtureStage } from './fixtures.ts';
import {
  API_ACCOUNT,
  apiResourcePolicy,
  evaluate,
  methodArn,
  type PolicyDocumentJson,
  permissive,
  REGION,
  resolveIntrinsics,
  stackRoleArn,
} from './policy-eval.ts';

type Resource = { Type: string; Properties: Record<string, unknown>; DependsOn?: string[] };
const resources = (template: Template, type: string) =>
  Object.entries(template.findResources(type) as Record<string, Resource>);

const basic = buildStack({ stage: 'basic' });
const canary = buildStack({ stage: 'canary' });

const ALARM_IDS = [
  'function-errors',
  'function-throttles',
  'function-duration-p99',
  'api-5xx-rate',
  'api-4xx-rate',
  'api-latency-p99',
  'upstream-auth-failed',
  'upstream-rate-limited',
  'synthetic-caller',
  'rotation-job',
  'affix-budget',
  'outside-change',
  'destination-change-webhook-uri',
  'destination-change-redirect-uris',
];
/** A traffic-shifting stage's rollback alarms (release-alarms.ts), besides the alarms above. */
const RELEASE_ALARM_IDS = [
  'release-errors',
  'release-throttles',
  'release-duration-p99',
  'release-5xx-answers',
  'release-api-5xx-rate',
];
const alarmIdsOf = (name: string) => (name === 'canary' ? [...ALARM_IDS, ...RELEASE_ALARM_IDS] : ALARM_IDS);

describe('safe deploys', () => {
  it.each([
    ['basic', basic],
    ['canary', canary],
  ])('%s: publishes a version per deploy behind the alias live', (_name, { stack, template }) => {
    const [[aliasId, alias]] = resources(template, 'AWS::Lambda::Alias') as [[string, Resource]];
    expect(alias.Properties).toMatchObject({
      Name: 'live',
      FunctionName: { Ref: stack.resolve(stack.clientConfig.function.functionName).Ref },
      FunctionVersion: {
        'Fn::GetAtt': [expect.stringMatching(/^ClientConfigFunctionCurrentVersion/), 'Version'],
      },
    });
    expect(resources(template, 'AWS::Lambda::Version')).toHaveLength(1);
    expect(stack.resolve(stack.live.alias.functionArn)).toEqual({ Ref: aliasId });
  });

  it('basic (all at once): no CodeDeploy at all', () => {
    for (const type of [
      'AWS::CodeDeploy::Application',
      'AWS::CodeDeploy::DeploymentGroup',
      'AWS::CodeDeploy::DeploymentConfig',
    ]) {
      expect(resources(basic.template, type), type).toEqual([]);
    }
    expect(basic.stack.live.deploymentGroup).toBeUndefined();
  });

  it('canary: CodeDeploy shifts 10% for 15 minutes, then the rest, from the stage file', () => {
    const [[configId, config]] = resources(canary.template, 'AWS::CodeDeploy::DeploymentConfig') as [
      [string, Resource],
    ];
    expect(config.Properties).toMatchObject({
      ComputePlatform: 'Lambda',
      TrafficRoutingConfig: {
        Type: 'TimeBasedCanary',
        TimeBasedCanary: { CanaryPercentage: 10, CanaryInterval: 15 },
      },
    });
    const [[, group]] = resources(canary.template, 'AWS::CodeDeploy::DeploymentGroup') as [
      [string, Resource],
    ];
    expect(group.Properties.DeploymentConfigName).toEqual({ Ref: configId });
    expect(group.Properties.DeploymentStyle).toEqual({
      DeploymentOption: 'WITH_TRAFFIC_CONTROL',
      DeploymentType: 'BLUE_GREEN',
    });
    // The alias is updated by CodeDeploy, not CloudFormation.
    const alias = canary.template.toJSON().Resources[
      canary.stack.resolve(canary.stack.live.alias.functionArn).Ref
    ] as { UpdatePolicy?: unknown };
    expect(alias.UpdatePolicy).toMatchObject({ CodeDeployLambdaAliasUpdate: expect.any(Object) });
  });

  it("canary: rolls back by itself on the new version's and the API's per-minute alarms", () => {
    const [[, group]] = resources(canary.template, 'AWS::CodeDeploy::DeploymentGroup') as [
      [string, Resource],
    ];
    expect(group.Properties.AutoRollbackConfiguration).toEqual({
      Enabled: true,
      Events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_REQUEST', 'DEPLOYMENT_STOP_ON_ALARM'],
    });
    const alarms = (
      group.Properties.AlarmConfiguration as { Alarms: Array<{ Name: { Ref: string } }>; Enabled: boolean }
    ).Alarms;
    const byId = canary.stack.alarms;
    const refOf = (id: string) =>
      canary.stack.resolve((byId[id] as NonNullable<(typeof byId)[string]>).alarmName);
    expect(alarms.map((alarm) => alarm.Name)).toEqual(RELEASE_ALARM_IDS.map(refOf));
    // A destination change is no bad release: its alarms page a human and never roll a deploy back.
    for (const id of ['destination-change-webhook-uri', 'destination-change-redirect-uris']) {
      expect(byId[id], id).toBeDefined();
      expect(alarms.map((alarm) => alarm.Name)).not.toContainEqual(refOf(id));
    }
  });
});

describe('alarms that reach someone', () => {
  it.each([
    ['basic', basic, ['oncall@example.com']],
    ['canary', canary, ['oncall@example.com', 'platform@example.com']],
  ])(
    '%s: subscribes the configured e-mail addresses to the stage topic',
    (_name, { stack, template }, emails) => {
      const subscriptions = resources(template, 'AWS::SNS::Subscription').map(([, s]) => s.Properties);
      expect(subscriptions).toEqual(
        emails.map((email) => ({
          Protocol: 'email',
          Endpoint: email,
          TopicArn: stack.resolve(stack.alarmTopic.topicArn),
        })),
      );
    },
  );

  it.each([
    ['basic', basic],
    ['canary', canary],
  ])('%s: creates every alarm, each pointing at its runbook', (name, { stack, template }) => {
    const alarms = resources(template, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    expect(alarms.map((alarm) => alarm.AlarmName).sort()).toEqual(
      alarmIdsOf(name)
        .map((id) => `affix-webhook-config-${name}-${id}`)
        .sort(),
    );
    expect(Object.keys(stack.alarms).sort()).toEqual([...alarmIdsOf(name)].sort());
    for (const alarm of alarms) {
      const id = (alarm.AlarmName as string).replace(`affix-webhook-config-${name}-`, '');
      expect(alarm.AlarmDescription).toMatch(new RegExp(`Runbook: infra/README\\.md#${id}$`));
    }
  });

  it('basic: every alarm notifies the stage topic on ALARM and OK', () => {
    const topic = basic.stack.resolve(basic.stack.alarmTopic.topicArn);
    for (const [, alarm] of resources(basic.template, 'AWS::CloudWatch::Alarm')) {
      expect(alarm.Properties.AlarmActions).toEqual([topic]);
      expect(alarm.Properties.OKActions).toEqual([topic]);
    }
  });

  it("canary: every alarm also notifies the existing topic and the platform's topic, read from SSM", () => {
    const topic = canary.stack.resolve(canary.stack.alarmTopic.topicArn);
    const parameters = canary.template.toJSON().Parameters as Record<
      string,
      { Type: string; Default: string }
    >;
    const [platformParameter] = Object.entries(parameters).find(
      ([, p]) => p.Default === '/platform/alarm-topic-arn',
    ) as [string, unknown];
    expect(parameters[platformParameter]?.Type).toBe('AWS::SSM::Parameter::Value<String>');
    for (const [, alarm] of resources(canary.template, 'AWS::CloudWatch::Alarm')) {
      const destinations = [
        topic,
        'arn:aws:sns:eu-west-1:123456789012:chat-alerts',
        { Ref: platformParameter },
      ];
      expect(alarm.Properties.AlarmActions).toEqual(destinations);
      expect(alarm.Properties.OKActions).toEqual(destinations);
    }
  });

  it('watches the right metric with the right threshold for each alarm', () => {
    const config = fixtureStage('canary');
    const alarm = (id: string) =>
      resources(canary.template, 'AWS::CloudWatch::Alarm').find(
        ([, a]) => a.Properties.AlarmName === `affix-webhook-config-canary-${id}`,
      )?.[1].Properties;
    const fnRef = canary.stack.resolve(canary.stack.clientConfig.function.functionName);
    const apiDimensions = [
      { Name: 'ApiName', Value: 'affix-webhook-config-canary' },
      { Name: 'Stage', Value: canary.stack.resolve(canary.stack.api.deploymentStage.stageName) },
    ];
    const handler = (extra: Array<{ Name: string; Value: string }>) => [
      ...extra,
      { Name: 'service', Value: 'affix-webhook-config' },
      { Name: 'stage', Value: 'canary' },
    ];
    const expected: Record<string, Record<string, unknown>> = {
      'function-errors': { Namespace: 'AWS/Lambda', MetricName: 'Errors', Statistic: 'Sum', Threshold: 1 },
      'function-throttles': {
        Namespace: 'AWS/Lambda',
        MetricName: 'Throttles',
        Statistic: 'Sum',
        Threshold: 1,
      },
      'function-duration-p99': {
        Namespace: 'AWS/Lambda',
        MetricName: 'Duration',
        ExtendedStatistic: 'p99',
        Threshold: 12_000,
        Dimensions: [{ Name: 'FunctionName', Value: fnRef }],
      },
      'api-5xx-rate': {
        Namespace: 'AWS/ApiGateway',
        MetricName: '5XXError',
        Statistic: 'Average',
        Threshold: config.alarms.apiServerErrorRate,
        Dimensions: apiDimensions,
        EvaluationPeriods: 3,
        DatapointsToAlarm: 2,
      },
      'api-4xx-rate': {
        Namespace: 'AWS/ApiGateway',
        MetricName: '4XXError',
        Statistic: 'Average',
        Threshold: 0.2,
        Dimensions: apiDimensions,
      },
      'api-latency-p99': {
        Namespace: 'AWS/ApiGateway',
        MetricName: 'Latency',
        ExtendedStatistic: 'p99',
        Threshold: config.alarms.apiLatencyP99Ms,
      },
      'upstream-auth-failed': {
        Namespace: 'AffixWebhookConfig',
        MetricName: 'RequestOutcome',
        Dimensions: handler([{ Name: 'outcome', Value: 'upstream-auth-failed' }]),
        Statistic: 'Sum',
        Threshold: 1,
      },
      'upstream-rate-limited': {
        Namespace: 'AffixWebhookConfig',
        MetricName: 'RequestOutcome',
        Dimensions: handler([{ Name: 'outcome', Value: 'upstream-rate-limited' }]),
        Statistic: 'Sum',
        Threshold: 3,
      },
      'outside-change': {
        Namespace: 'AffixWebhookConfig',
        MetricName: 'OutsideChange',
        Dimensions: handler([]),
        Statistic: 'Sum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        EvaluationPeriods: 1,
      },
      ...Object.fromEntries(
        (['webhook_uri', 'redirect_uris'] as const).map((field) => [
          `destination-change-${field.replaceAll('_', '-')}`,
          {
            Namespace: 'AffixWebhookConfig',
            MetricName: 'DestinationChange',
            Dimensions: handler([{ Name: 'field', Value: field }]),
            Statistic: 'Sum',
            Threshold: 1,
            ComparisonOperator: 'GreaterThanOrEqualToThreshold',
            EvaluationPeriods: 1,
            DatapointsToAlarm: 1,
          },
        ]),
      ),
      'synthetic-caller': {
        Namespace: 'AffixWebhookConfig',
        MetricName: 'SyntheticCheckSuccess',
        Dimensions: handler([]),
        Statistic: 'Sum',
        Threshold: 1,
        ComparisonOperator: 'LessThanThreshold',
        // Twice the 10-minute schedule of the canary stage. Each run reports 1 or 0; before the first
        // run there is no data, which must not page.
        Period: 1_200,
        TreatMissingData: 'notBreaching',
      },
    };
    for (const [id, properties] of Object.entries(expected)) {
      expect(alarm(id), id).toMatchObject(properties);
    }
    for (const id of ['function-errors', 'function-throttles']) {
      expect(alarm(id)?.Dimensions, id).toEqual([{ Name: 'FunctionName', Value: fnRef }]);
    }
    // Every other alarm treats no traffic as fine.
    for (const id of ALARM_IDS) {
      expect(alarm(id)?.TreatMissingData, id).toBe('notBreaching');
      if (id === 'synthetic-caller') continue;
      // The budget alarm's period is its query's.
      if (id !== 'affix-budget') expect(alarm(id)?.Period, id).toBe(300);
    }
  });

  it.each([
    ['webhook_uri', 'webhook-uri', "employees' data"],
    ['redirect_uris', 'redirect-uris', 'OAuth authorization codes'],
  ])('the %s alarm names the field, what it decides and the runbook', (field, suffix, decides) => {
    const description = resources(basic.template, 'AWS::CloudWatch::Alarm').find(
      ([, a]) => a.Properties.AlarmName === `affix-webhook-config-basic-destination-change-${suffix}`,
    )?.[1].Properties.AlarmDescription as string;
    expect(description.startsWith(`${field} of the Affix client changed`), description).toBe(true);
    expect(description).toContain(decides);
    expect(description).toContain('docs/operations.md "A destination changed"');
    expect(description).toMatch(new RegExp(`Runbook: infra/README\\.md#destination-change-${suffix}$`));
  });

  it.each([
    ['basic', basic],
    ['canary', canary],
  ])(
    '%s: affix-budget sums every AffixRequests series of the stage over 5 minutes, >= 80% of 40',
    (name, { template }) => {
      const budget = resources(template, 'AWS::CloudWatch::Alarm').find(
        ([, a]) => a.Properties.AlarmName === `affix-webhook-config-${name}-affix-budget`,
      )?.[1].Properties;
      expect(budget).toMatchObject({
        Threshold: 32,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        EvaluationPeriods: 1,
        DatapointsToAlarm: 1,
        TreatMissingData: 'notBreaching',
      });
      // One Metrics Insights query, one aggregated series: whatever method and outcome.
      expect(budget?.Metrics).toEqual([
        {
          Id: 'expr_1',
          Label: 'Affix requests',
          Period: 300,
          ReturnData: true,
          Expression: `SELECT SUM(AffixRequests) FROM SCHEMA("AffixWebhookConfig", method, outcome, service, stage) WHERE service = 'affix-webhook-config' AND stage = '${name}'`,
        },
      ]);
      expect(budget?.MetricName).toBeUndefined();
    },
  );

  it('affix-budget follows a stage budget Affix raised', () => {
    const { template } = buildStack({
      config: { ...fixtureStage('basic'), affixBudget: { requests: 400, windowSeconds: 300 } },
    });
    const budget = resources(template, 'AWS::CloudWatch::Alarm').find(
      ([, a]) => a.Properties.AlarmName === 'affix-webhook-config-basic-affix-budget',
    )?.[1].Properties;
    expect(budget?.Threshold).toBe(320);
  });
});

describe('the synthetic caller', () => {
  const { stack, template } = basic;
  const synthetic = stack.syntheticCaller as NonNullable<typeof stack.syntheticCaller>;
  const fnId = stack.resolve(synthetic.fn.function.functionName).Ref as string;
  const roleId = stack.resolve(synthetic.fn.role.roleName).Ref as string;

  it('is a small function of ours that calls the API stage URL', () => {
    const fn = template.toJSON().Resources[fnId] as Resource;
    expect(fn.Properties).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      MemorySize: 256,
      Timeout: 15,
      Role: { 'Fn::GetAtt': [roleId, 'Arn'] },
    });
    const variables = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(variables).toMatchObject({
      STAGE: 'basic',
      SYNTHETIC_TIMEOUT_MS: '10000',
      CLIENT_CONFIG_REGION: { Ref: 'AWS::Region' },
      POWERTOOLS_METRICS_NAMESPACE: 'AffixWebhookConfig',
    });
    expect(variables.CLIENT_CONFIG_URL).toEqual(
      (template.toJSON().Outputs as Record<string, { Value: unknown }>).ApiUrl?.Value,
    );
  });

  it('runs every 5 minutes by EventBridge Scheduler, with a role that may invoke it and nothing else', () => {
    const [[, schedule]] = resources(template, 'AWS::Scheduler::Schedule') as [[string, Resource]];
    expect(schedule.Properties).toMatchObject({
      ScheduleExpression: 'rate(5 minutes)',
      State: 'ENABLED',
      Target: {
        Arn: { 'Fn::GetAtt': [fnId, 'Arn'] },
        RetryPolicy: { MaximumRetryAttempts: 0 },
      },
    });
    const schedulerRoleId = (schedule.Properties.Target as { RoleArn: { 'Fn::GetAtt': [string, string] } })
      .RoleArn['Fn::GetAtt'][0];
    const statements = resources(template, 'AWS::IAM::Policy')
      .filter(([, p]) => JSON.stringify(p.Properties.Roles).includes(schedulerRoleId))
      .flatMap(([, p]) => (p.Properties.PolicyDocument as { Statement: unknown[] }).Statement);
    expect(statements).toEqual([
      {
        Sid: 'InvokeTheSyntheticCaller',
        Effect: 'Allow',
        Action: 'lambda:InvokeFunction',
        Resource: { 'Fn::GetAtt': [fnId, 'Arn'] },
      },
    ]);
  });

  it('has a role whose own policy allows GET /client of this stage only', () => {
    const statements = resources(template, 'AWS::IAM::Policy')
      .filter(([, p]) => JSON.stringify(p.Properties.Roles).includes(roleId))
      .flatMap(
        ([, p]) => (p.Properties.PolicyDocument as { Statement: Array<{ Action: unknown }> }).Statement,
      );
    expect(statements.map((statement) => statement.Action).sort()).toEqual([
      'execute-api:Invoke',
      ['logs:CreateLogStream', 'logs:PutLogEvents'],
    ]);
  });

  // Its role, through the API's resource policy and its own policy, as IAM decides.
  const env = { account: API_ACCOUNT, region: REGION };
  const pinned = buildStack({ stage: 'basic', config: { ...fixtureStage('basic'), env } });
  const policy = apiResourcePolicy(pinned.template, 'basic');
  const pinnedRoleId = pinned.stack.resolve(
    (pinned.stack.syntheticCaller as NonNullable<typeof stack.syntheticCaller>).fn.role.roleName,
  ).Ref as string;
  const identity = resolveIntrinsics(
    resources(pinned.template, 'AWS::IAM::Policy')
      .filter(([, p]) => JSON.stringify(p.Properties.Roles).includes(pinnedRoleId))
      .map(([, p]) => p.Properties.PolicyDocument)
      .find((doc) => JSON.stringify(doc).includes('execute-api')) as never,
    pinned.template,
    'basic',
  ) as unknown as PolicyDocumentJson;
  const caller = {
    principal: `arn:aws:sts::${API_ACCOUNT}:assumed-role/${pinnedRoleId}/synthetic`,
    context: { 'aws:PrincipalArn': stackRoleArn(pinnedRoleId), 'aws:PrincipalAccount': API_ACCOUNT },
  };

  it('is in readers: it may GET /client, with its own policy and with the resource policy alone', async () => {
    for (const identityPolicy of [identity, undefined]) {
      expect(
        await evaluate({
          ...caller,
          action: 'execute-api:Invoke',
          resource: methodArn('basic', 'GET', '/client'),
          ...(identityPolicy ? { identityPolicy } : {}),
          resourcePolicy: policy,
        }),
      ).toBe('Allowed');
    }
  });

  it.each([
    ['PATCH', '/client'],
    ['PUT', '/client/secrets'],
  ])('may not %s %s, even if its own policy allowed every invoke', async (method, path) => {
    expect(
      await evaluate({
        ...caller,
        action: 'execute-api:Invoke',
        resource: methodArn('basic', method, path),
        identityPolicy: permissive('execute-api:Invoke'),
        resourcePolicy: policy,
      }),
    ).toBe('ExplicitlyDenied');
    expect(
      await evaluate({
        ...caller,
        action: 'execute-api:Invoke',
        resource: methodArn('basic', method, path),
        identityPolicy: identity,
        resourcePolicy: policy,
      }),
    ).not.toBe('Allowed');
  });

  it('is not created when the stage turns it off, and then needs no alarm', () => {
    const { template: off, stack: offStack } = buildStack({ config: FULL_CONFIG });
    expect(resources(off, 'AWS::Scheduler::Schedule')).toEqual([]);
    expect(offStack.syntheticCaller).toBeUndefined();
    expect(Object.keys(offStack.alarms)).not.toContain('synthetic-caller');
  });
});

describe('the dashboard', () => {
  const [[, dashboard]] = resources(canary.template, 'AWS::CloudWatch::Dashboard') as [[string, Resource]];
  // The body is a Fn::Join of JSON text and references: put a marker where each reference goes.
  const parts = (dashboard.Properties.DashboardBody as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
  const body = parts.map((part) => (typeof part === 'string' ? part : '<ref>')).join('');
  const widgets = (
    JSON.parse(body) as { widgets: Array<{ type: string; properties: Record<string, unknown> }> }
  ).widgets;

  it('is one per stage, named after it', () => {
    expect(dashboard.Properties.DashboardName).toBe('affix-webhook-config-canary');
  });

  it.each([
    ['requests', '"Count"'],
    ['outcomes by slug', '"RequestOutcome"'],
    ['API latency p50 and p99', 'p50'],
    ['Affix upstream latency', '"UpstreamLatency"'],
    ['write-lock waits', '"WriteLockWait"'],
    ['the synthetic caller', '"SyntheticCheckSuccess"'],
    ['Affix requests by method and outcome', 'SELECT SUM(AffixRequests)'],
    ['shared cache hits', '"ClientCacheHit"'],
    ['answers from the shared back-off', '"RateLimitBackoff"'],
    ['destination changes', '"DestinationChange"'],
    ['outside changes', '"OutsideChange"'],
    ['what is missing, in words', 'Not shown yet'],
  ])('shows %s', (_name, needle) => {
    expect(body).toContain(needle);
  });

  it('graphs every outcome the handler reports: success and each problem slug', () => {
    const outcomes = widgets.find((w) => w.properties.title === 'Outcomes by slug (RequestOutcome)');
    const metrics = outcomes?.properties.metrics as unknown[][];
    expect(metrics.map((metric) => metric[3])).toEqual(['success', ...Object.keys(PROBLEMS)]);
  });

  it('graphs DestinationChange per destination field, beside OutsideChange', () => {
    const changes = widgets.find((w) => String(w.properties.title).startsWith('Client changes'));
    const metrics = changes?.properties.metrics as unknown[][];
    expect(metrics.map((metric) => metric.slice(0, 4))).toEqual([
      ['AffixWebhookConfig', 'DestinationChange', 'field', 'webhook_uri'],
      ['AffixWebhookConfig', 'DestinationChange', 'field', 'redirect_uris'],
      ['AffixWebhookConfig', 'OutsideChange', 'service', 'affix-webhook-config'],
    ]);
  });

  it('shows the state of every alarm of the stack', () => {
    const alarms = widgets.find((w) => w.type === 'alarm')?.properties.alarms as string[];
    expect(alarms).toHaveLength(Object.keys(canary.stack.alarms).length);
  });
});

describe('hardening', () => {
  const full = buildStack({ config: FULL_CONFIG });
  const decrypt = (template: Template) =>
    resources(template, 'AWS::IAM::Policy')
      .flatMap(
        ([, p]) => (p.Properties.PolicyDocument as { Statement: Array<Record<string, unknown>> }).Statement,
      )
      .find((statement) => statement.Sid === 'DecryptAffixCredentialParametersViaSsm');

  it("decrypts with the parameters' key only through SSM and only for the three parameters (encryption context)", () => {
    expect(decrypt(full.template)?.Condition).toEqual({
      StringEquals: {
        'kms:ViaService': 'ssm.eu-west-1.amazonaws.com',
        'kms:EncryptionContext:PARAMETER_ARN': [
          'arn:aws:ssm:eu-west-1:123456789012:parameter/affix/basic/client-id',
          'arn:aws:ssm:eu-west-1:123456789012:parameter/affix/basic/client-secret',
          'arn:aws:ssm:eu-west-1:123456789012:parameter/affix/basic/etag-key',
        ],
      },
    });
  });

  it('takes the key ARN from an SSM parameter by name when the stage file says so', () => {
    const { template } = buildStack({
      stage: 'canary',
      config: { ...fixtureStage('canary'), parameterKmsKey: { ssmParameter: '/platform/kms/ssm-key-arn' } },
    });
    const parameters = template.toJSON().Parameters as Record<string, { Type: string; Default: string }>;
    const [name] = Object.entries(parameters).find(([, p]) => p.Default === '/platform/kms/ssm-key-arn') as [
      string,
      unknown,
    ];
    expect(decrypt(template)).toMatchObject({ Action: 'kms:Decrypt', Resource: { Ref: name } });
    expect(JSON.stringify(decrypt(template)?.Condition)).toContain('kms:EncryptionContext:PARAMETER_ARN');
  });

  it.each([
    ['basic', basic],
    ['canary', canary],
  ])('%s: pins the API to a TLS 1.2+ security policy, strictly', (_name, { template }) => {
    const [[, api]] = resources(template, 'AWS::ApiGateway::RestApi') as [[string, Resource]];
    expect(api.Properties.SecurityPolicy).toBe(API_SECURITY_POLICY);
    expect(API_SECURITY_POLICY).toBe('SecurityPolicy_TLS13_1_2_PQ_2025_09');
    expect(api.Properties.EndpointAccessMode).toBe(API_ENDPOINT_ACCESS_MODE);
    expect(API_ENDPOINT_ACCESS_MODE).toBe('STRICT');
  });

  it.each([
    ['basic', basic],
    ['canary', canary],
  ])('%s: tags every taggable resource with service, stage, owner and repository', (name, { template }) => {
    const tagged = Object.values(template.toJSON().Resources as Record<string, Resource>).filter((r) =>
      Array.isArray(r.Properties?.Tags),
    );
    expect(tagged.length).toBeGreaterThan(10);
    for (const resource of tagged) {
      expect(resource.Properties.Tags, resource.Type).toEqual(
        expect.arrayContaining([
          { Key: 'service', Value: 'affix-webhook-config' },
          { Key: 'stage', Value: name },
          { Key: 'owner', Value: 'fixture-team' },
          { Key: 'repository', Value: 'example/affix-webhook-config' },
        ]),
      );
    }
  });

  it('publishes the API URL to SSM for consumers', () => {
    const [[, parameter]] = resources(canary.template, 'AWS::SSM::Parameter') as [[string, Resource]];
    expect(parameter.Properties.Name).toBe('/affix-webhook-config/canary/api-url');
    expect(parameter.Properties.Type).toBe('String');
  });
});
