/**
 * CDK assertion tests of one stage's stack, without asset bundling (fast).
 */
import type { CfnElement } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { ServiceFunctionError } from '../../infra/service-function.ts';
import { STAGES, type StageConfig, StageConfigError, stages } from '../../infra/stages.ts';
import { ACCOUNT, buildStack, FULL_CONFIG, PARTITION, REGION } from './fixtures.ts';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;
type Statement = {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Principal?: unknown;
  Condition?: unknown;
};

const resourcesOf = (template: Template, type: string): Resources =>
  template.findResources(type) as Resources;

function only(template: Template, type: string): { id: string; properties: Record<string, unknown> } {
  const found = Object.entries(resourcesOf(template, type));
  expect(found, type).toHaveLength(1);
  const [id, resource] = found[0] as [string, Resources[string]];
  return { id, properties: resource.Properties };
}

function apiPolicyStatements(template: Template): Statement[] {
  const api = only(template, 'AWS::ApiGateway::RestApi').properties;
  return (api.Policy as { Statement: Statement[] }).Statement;
}

function rolePolicyStatements(template: Template): Statement[] {
  return Object.values(resourcesOf(template, 'AWS::IAM::Policy'))
    .filter((policy) => JSON.stringify(policy.Properties.Roles).includes('ClientConfigRole'))
    .flatMap((policy) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}

/** The ARN CDK writes for an environment-agnostic stack. */
const agnosticParameterArn = (name: string) => ({
  'Fn::Join': ['', ['arn:', PARTITION, ':ssm:', REGION, ':', ACCOUNT, `:parameter${name}`]],
});

/** `{ Ref: <logical ID> }` of a construct's CloudFormation resource. */
function refOf(construct: IConstruct): { Ref: string } {
  const resource = construct.node.defaultChild as CfnElement;
  return { Ref: resource.stack.getLogicalId(resource) };
}

const ROUTES = [
  ['GET', '/client'],
  ['PATCH', '/client'],
  ['PUT', '/client/secrets'],
];

describe.each(STAGES)('the %s stack', (stage) => {
  const { stack, template } = buildStack({ stage });
  const config = stages[stage];

  it('requires AWS_IAM on every method, and has exactly GET /client, PATCH /client, PUT /client/secrets', () => {
    const methods = Object.values(resourcesOf(template, 'AWS::ApiGateway::Method'));
    expect(methods).toHaveLength(ROUTES.length);
    for (const method of methods) {
      expect(method.Properties.AuthorizationType).toBe('AWS_IAM');
    }
    const routes = Object.values(stack.api.methods).map((method) => [
      method.httpMethod,
      method.resource.path,
    ]);
    expect(routes.sort()).toEqual([...ROUTES].sort());
  });

  it('denies every caller while no principal is configured', () => {
    expect(config.allowedPrincipals).toEqual({ accountIds: [], roleArns: [] });
    expect(apiPolicyStatements(template)).toEqual([
      {
        Sid: 'DenyEveryoneNoPrincipalsConfigured',
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 'execute-api:Invoke',
        Resource: 'execute-api:/*',
      },
    ]);
  });

  it('is a REGIONAL API when no VPC endpoint is configured', () => {
    expect(only(template, 'AWS::ApiGateway::RestApi').properties.EndpointConfiguration).toEqual({
      Types: ['REGIONAL'],
    });
  });

  it('runs the handler on Node.js 22, arm64, with a 15 s timeout and active tracing', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Timeout: 15,
      MemorySize: 512,
      TracingConfig: { Mode: 'Active' },
    });
    expect(Object.keys(resourcesOf(template, 'AWS::Lambda::Function'))).toHaveLength(1);
  });

  it('passes the stage configuration to the handler', () => {
    const fn = only(template, 'AWS::Lambda::Function').properties;
    expect((fn.Environment as { Variables: unknown }).Variables).toEqual({
      AFFIX_BASE_URL: config.affixBaseUrl,
      AFFIX_CLIENT_ID_PARAMETER: `/affix/${stage}/client-id`,
      AFFIX_CLIENT_SECRET_PARAMETER: `/affix/${stage}/client-secret`,
      CREDENTIALS_MAX_AGE_SECONDS: '300',
      UPSTREAM_ATTEMPT_TIMEOUT_MS: '5000',
      UPSTREAM_DEADLINE_MS: '10000',
      STAGE: stage,
      POWERTOOLS_SERVICE_NAME: 'affix-webhook-config',
      POWERTOOLS_METRICS_NAMESPACE: 'AffixWebhookConfig',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      NODE_OPTIONS: '--enable-source-maps',
    });
  });

  it('logs the function to its own log group with the stage retention', () => {
    const fn = only(template, 'AWS::Lambda::Function').properties;
    const logGroupId = (fn.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
    const logGroup = resourcesOf(template, 'AWS::Logs::LogGroup')[logGroupId];
    expect(logGroup?.Properties.RetentionInDays).toBe(config.logRetention);
  });

  it('keeps every log group of the stack for the stage retention', () => {
    const logGroups = Object.values(resourcesOf(template, 'AWS::Logs::LogGroup'));
    // Function, API access logs, API execution logs.
    expect(logGroups).toHaveLength(3);
    for (const logGroup of logGroups) {
      expect(logGroup.Properties.RetentionInDays).toBe(config.logRetention);
    }
    expect(config.logRetention).toBe(stage === 'prod' ? RetentionDays.ONE_YEAR : RetentionDays.TWO_WEEKS);
  });

  it('reads exactly the two credential parameters, by ARN, and nothing else beyond logs and traces', () => {
    const statements = rolePolicyStatements(template);
    const fnLogGroupId = (
      only(template, 'AWS::Lambda::Function').properties.LoggingConfig as { LogGroup: { Ref: string } }
    ).LogGroup.Ref;
    expect(statements).toEqual(
      expect.arrayContaining([
        {
          Sid: 'ReadAffixCredentialParameters',
          Effect: 'Allow',
          Action: ['ssm:GetParameter', 'ssm:GetParameters'],
          Resource: [
            agnosticParameterArn(`/affix/${stage}/client-id`),
            agnosticParameterArn(`/affix/${stage}/client-secret`),
          ],
        },
        {
          Effect: 'Allow',
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: { 'Fn::GetAtt': [fnLogGroupId, 'Arn'] },
        },
        {
          Effect: 'Allow',
          Action: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'],
          Resource: '*',
        },
      ]),
    );
    expect(statements).toHaveLength(3);
    const role = resourcesOf(template, 'AWS::IAM::Role')[refOf(stack.clientConfig.role).Ref]?.Properties;
    expect(JSON.stringify(role?.AssumeRolePolicyDocument)).toContain('lambda.amazonaws.com');
    expect(role?.ManagedPolicyArns).toBeUndefined();
  });

  it('grants no KMS permission when the parameters use the AWS managed key', () => {
    expect(config.parameterKmsKeyArn).toBeUndefined();
    expect(JSON.stringify(rolePolicyStatements(template))).not.toContain('kms:');
  });

  it('never creates the secret values', () => {
    for (const type of ['AWS::SSM::Parameter', 'AWS::SecretsManager::Secret', 'AWS::KMS::Key']) {
      expect(resourcesOf(template, type), type).toEqual({});
    }
  });

  it('throttles, traces and access-logs the API stage as JSON, with metrics and error-only execution logs', () => {
    const apiStage = only(template, 'AWS::ApiGateway::Stage').properties;
    expect(apiStage.StageName).toBe(stage);
    expect(apiStage.TracingEnabled).toBe(true);
    expect(apiStage.MethodSettings).toEqual([
      {
        HttpMethod: '*',
        ResourcePath: '/*',
        ThrottlingRateLimit: config.throttling.rateLimit,
        ThrottlingBurstLimit: config.throttling.burstLimit,
        MetricsEnabled: true,
        LoggingLevel: 'ERROR',
        DataTraceEnabled: false,
      },
    ]);
    const accessLog = apiStage.AccessLogSetting as { Format: string; DestinationArn: unknown };
    const format = JSON.parse(accessLog.Format) as Record<string, string>;
    expect(format).toMatchObject({
      requestId: '$context.requestId',
      status: '$context.status',
      userArn: '$context.identity.userArn',
      responseLatency: '$context.responseLatency',
    });
    expect(JSON.stringify(accessLog.DestinationArn)).toContain('ApiAccessLogs');
  });

  it('creates the execution log group before API Gateway does', () => {
    const stageId = refOf(stack.api.deploymentStage).Ref;
    const stageResource = template.toJSON().Resources[stageId] as { DependsOn?: string[] };
    const [executionLogsId, executionLogs] = Object.entries(
      resourcesOf(template, 'AWS::Logs::LogGroup'),
    ).find(([id]) => id.startsWith('ApiExecutionLogs')) as [string, Resources[string]];
    expect(stageResource.DependsOn).toContain(executionLogsId);
    expect(executionLogs.Properties.LogGroupName).toEqual({
      'Fn::Join': ['', ['API-Gateway-Execution-Logs_', refOf(stack.api), `/${stage}`]],
    });
  });

  it('lets API Gateway invoke the function for the three methods only (no test-invoke)', () => {
    const permissions = Object.values(resourcesOf(template, 'AWS::Lambda::Permission'));
    const apiStage = refOf(stack.api.deploymentStage);
    const methods = permissions.map((permission) => {
      expect(permission.Properties.Principal).toBe('apigateway.amazonaws.com');
      const parts = (permission.Properties.SourceArn as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
      expect(parts.at(-2)).toEqual(apiStage);
      return parts.at(-1);
    });
    expect(methods.sort()).toEqual(['/GET/client', '/PATCH/client', '/PUT/client/secrets']);
  });

  it('alarms on function errors, throttles, API 5XX rate, p99 latency and upstream auth failures', () => {
    const alarms = Object.values(resourcesOf(template, 'AWS::CloudWatch::Alarm')).map(
      (alarm) => alarm.Properties,
    );
    const byName = Object.fromEntries(alarms.map((alarm) => [alarm.AlarmName as string, alarm]));
    const name = (suffix: string) => `affix-webhook-config-${stage}-${suffix}`;
    expect(Object.keys(byName).sort()).toEqual(
      ['function-errors', 'function-throttles', 'api-5xx-rate', 'api-latency-p99', 'upstream-auth-failed']
        .map(name)
        .sort(),
    );
    const fnRef = { Ref: Match.stringLikeRegexp('^ClientConfigFunction') };
    const apiDimensions = [
      { Name: 'ApiName', Value: `affix-webhook-config-${stage}` },
      { Name: 'Stage', Value: { Ref: Match.stringLikeRegexp('^ApiDeploymentStage') } },
    ];
    const expected: Record<string, Record<string, unknown>> = {
      'function-errors': {
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: [{ Name: 'FunctionName', Value: fnRef }],
        Statistic: 'Sum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      },
      'function-throttles': {
        Namespace: 'AWS/Lambda',
        MetricName: 'Throttles',
        Dimensions: [{ Name: 'FunctionName', Value: fnRef }],
        Statistic: 'Sum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      },
      'api-5xx-rate': {
        Namespace: 'AWS/ApiGateway',
        MetricName: '5XXError',
        Dimensions: apiDimensions,
        Statistic: 'Average',
        Threshold: config.alarms.apiServerErrorRate,
        ComparisonOperator: 'GreaterThanThreshold',
        EvaluationPeriods: 3,
        DatapointsToAlarm: 2,
      },
      'api-latency-p99': {
        Namespace: 'AWS/ApiGateway',
        MetricName: 'Latency',
        Dimensions: apiDimensions,
        ExtendedStatistic: 'p99',
        Threshold: config.alarms.apiLatencyP99Ms,
        ComparisonOperator: 'GreaterThanThreshold',
      },
      'upstream-auth-failed': {
        Namespace: 'AffixWebhookConfig',
        MetricName: 'RequestOutcome',
        Dimensions: [
          { Name: 'outcome', Value: 'upstream-auth-failed' },
          { Name: 'service', Value: 'affix-webhook-config' },
          { Name: 'stage', Value: stage },
        ],
        Statistic: 'Sum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        EvaluationPeriods: 1,
        DatapointsToAlarm: 1,
      },
    };
    const topic = { Ref: Match.stringLikeRegexp('^AlarmTopic') };
    for (const [suffix, properties] of Object.entries(expected)) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: name(suffix),
        Period: 300,
        TreatMissingData: 'notBreaching',
        AlarmActions: [topic],
        OKActions: [topic],
        ...properties,
      });
    }
  });

  it('lets CloudWatch alarms of this account publish to the TLS-only alarm topic', () => {
    const statements = (
      only(template, 'AWS::SNS::TopicPolicy').properties.PolicyDocument as { Statement: Statement[] }
    ).Statement;
    expect(statements).toEqual([
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: 'sns:Publish',
        Condition: {
          StringEquals: { 'aws:SourceAccount': ACCOUNT },
          ArnLike: {
            'aws:SourceArn': {
              'Fn::Join': ['', ['arn:', PARTITION, ':cloudwatch:', REGION, ':', ACCOUNT, ':alarm:*']],
            },
          },
        },
      }),
    ]);
  });

  it('subscribes no e-mail address while none is configured', () => {
    expect(config.alarmEmail).toBeUndefined();
    expect(resourcesOf(template, 'AWS::SNS::Subscription')).toEqual({});
  });

  it('outputs the API URL, the function name and the alarm topic ARN, and nothing else', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(Object.keys(outputs).sort()).toEqual(['AlarmTopicArn', 'ApiUrl', 'FunctionName']);
    expect(outputs.FunctionName?.Value).toEqual(refOf(stack.clientConfig.function));
    expect(outputs.AlarmTopicArn?.Value).toEqual(refOf(stack.alarmTopic));
    expect(outputs.ApiUrl?.Value).toEqual({
      'Fn::Join': [
        '',
        [
          'https://',
          refOf(stack.api),
          '.execute-api.',
          REGION,
          '.',
          { Ref: 'AWS::URLSuffix' },
          '/',
          refOf(stack.api.deploymentStage),
          '/',
        ],
      ],
    });
  });

  it(`is ${stage === 'prod' ? '' : 'not '}protected from deletion and environment-agnostic`, () => {
    expect(stack.terminationProtection).toBe(stage === 'prod');
    expect(stack.environment).toBe('aws://unknown-account/unknown-region');
  });
});

describe('a stack with every option configured', () => {
  const { stack, template } = buildStack({ config: FULL_CONFIG });

  it('allows exactly the configured accounts and roles, and the organization', () => {
    const statements = apiPolicyStatements(template);
    const methods = [
      'execute-api:/*/GET/client',
      'execute-api:/*/PATCH/client',
      'execute-api:/*/PUT/client/secrets',
    ];
    expect(statements.filter((statement) => statement.Effect === 'Allow')).toEqual([
      {
        Sid: 'AllowConfiguredPrincipals',
        Effect: 'Allow',
        Principal: {
          AWS: [
            'arn:aws:iam::111111111111:root',
            'arn:aws:iam::222222222222:root',
            'arn:aws:iam::333333333333:role/ops/webhook-config-admin',
          ],
        },
        Action: 'execute-api:Invoke',
        Resource: methods,
      },
      {
        Sid: 'AllowOrganization',
        Effect: 'Allow',
        Principal: { AWS: '*' },
        Action: 'execute-api:Invoke',
        Resource: methods,
        Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' } },
      },
    ]);
  });

  it('explicitly denies every caller that matches none of them, and any request outside the VPC endpoints', () => {
    const denies = apiPolicyStatements(template).filter((statement) => statement.Effect === 'Deny');
    expect(denies).toEqual([
      {
        Sid: 'DenyEveryoneElse',
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 'execute-api:Invoke',
        Resource: 'execute-api:/*',
        Condition: {
          StringNotEquals: {
            'aws:PrincipalAccount': ['111111111111', '222222222222'],
            'aws:PrincipalOrgID': 'o-a1b2c3d4e5',
          },
          ArnNotLike: { 'aws:PrincipalArn': ['arn:aws:iam::333333333333:role/ops/webhook-config-admin'] },
        },
      },
      {
        Sid: 'DenyOutsideVpcEndpoints',
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 'execute-api:Invoke',
        Resource: 'execute-api:/*',
        Condition: {
          StringNotEquals: { 'aws:SourceVpce': ['vpce-0123456789abcdef0', 'vpce-0fedcba9876543210'] },
        },
      },
    ]);
  });

  it('is a PRIVATE API behind the configured VPC endpoints', () => {
    expect(only(template, 'AWS::ApiGateway::RestApi').properties.EndpointConfiguration).toEqual({
      Types: ['PRIVATE'],
      VpcEndpointIds: ['vpce-0123456789abcdef0', 'vpce-0fedcba9876543210'],
    });
  });

  it('names the exact parameter ARNs and may decrypt with the configured key only through SSM', () => {
    expect(stack.environment).toBe('aws://123456789012/eu-west-1');
    const statements = rolePolicyStatements(template);
    expect(statements.filter((statement) => statement.Sid !== undefined)).toEqual([
      {
        Sid: 'ReadAffixCredentialParameters',
        Effect: 'Allow',
        Action: ['ssm:GetParameter', 'ssm:GetParameters'],
        Resource: [
          'arn:aws:ssm:eu-west-1:123456789012:parameter/affix/dev/client-id',
          'arn:aws:ssm:eu-west-1:123456789012:parameter/affix/dev/client-secret',
        ],
      },
      {
        Sid: 'DecryptAffixCredentialParametersViaSsm',
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
        Condition: { StringEquals: { 'kms:ViaService': 'ssm.eu-west-1.amazonaws.com' } },
      },
    ]);
    // No wildcard except X-Ray's, which has no resource-level permissions.
    const wildcards = statements.filter((statement) => JSON.stringify(statement.Resource).includes('*'));
    expect(wildcards.map((statement) => statement.Action)).toEqual([
      ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'],
    ]);
  });

  it('subscribes the configured e-mail address to the alarm topic', () => {
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'alerts@example.com',
      TopicArn: { Ref: Match.stringLikeRegexp('^AlarmTopic') },
    });
  });

  it('uses custom parameter names verbatim in the ARNs', () => {
    const config: StageConfig = {
      ...FULL_CONFIG,
      parameters: { clientId: '/team/affix/id', clientSecret: '/team/affix/secret' },
    };
    const statements = rolePolicyStatements(buildStack({ config }).template);
    expect(
      statements.find((statement) => statement.Sid === 'ReadAffixCredentialParameters')?.Resource,
    ).toEqual([
      'arn:aws:ssm:eu-west-1:123456789012:parameter/team/affix/id',
      'arn:aws:ssm:eu-west-1:123456789012:parameter/team/affix/secret',
    ]);
  });
});

describe('API deployments', () => {
  const deploymentId = (config: StageConfig) =>
    Object.keys(resourcesOf(buildStack({ config }).template, 'AWS::ApiGateway::Deployment'));

  it('redeploy when the resource policy changes (a new policy takes effect only with a deployment)', () => {
    const before = deploymentId(stages.dev);
    const after = deploymentId({
      ...stages.dev,
      allowedPrincipals: { accountIds: ['111111111111'], roleArns: [] },
    });
    expect(before).toHaveLength(1);
    expect(after).toHaveLength(1);
    expect(after).not.toEqual(before);
    expect(deploymentId(stages.dev)).toEqual(before);
  });
});

describe('the API Gateway logging role', () => {
  it('is created when the stage asks for it', () => {
    const { template } = buildStack({ config: stages.dev });
    template.resourceCountIs('AWS::ApiGateway::Account', 1);
  });

  it('is left alone when the account already has one', () => {
    const { template } = buildStack({ config: { ...stages.dev, apiGatewayCloudWatchRole: false } });
    template.resourceCountIs('AWS::ApiGateway::Account', 0);
  });
});

describe('configuration errors', () => {
  it('refuse an invalid stage entry before building anything', () => {
    expect(() => buildStack({ config: { ...stages.dev, affixBaseUrl: 'http://example.com' } })).toThrow(
      StageConfigError,
    );
  });

  it('refuse an upstream deadline the Lambda timeout cannot cover', () => {
    const config = { ...stages.dev, upstream: { attemptTimeoutMs: 5_000, deadlineMs: 14_000 } };
    expect(() => buildStack({ config })).toThrow(ServiceFunctionError);
    expect(() => buildStack({ config })).toThrow(
      'timeout 15000 ms must exceed the upstream deadline 14000 ms by at least 2000 ms',
    );
  });
});
