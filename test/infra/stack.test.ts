/**
 * CDK assertion tests of one stage's stack, without asset bundling (fast).
 */
import type { CfnElement } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { GATEWAY_PROBLEMS } from '../../functions/contract/gateway-responses.ts';
import { type OperationId, routeOf } from '../../functions/contract/routes.ts';
import { estimatedPolicyBytes, InvokePolicyError, invokePolicy } from '../../infra/invoke-policy.ts';
import { ServiceFunctionError } from '../../infra/service-function.ts';
import { loadStage, NO_CALLERS, type StageConfig, StageConfigError } from '../../infra/stages.ts';
import { worstCaseAffixRequests } from '../../infra/throttles.ts';
import { throttlesFor, type WebhookConfigStack } from '../../infra/webhook-config-stack.ts';
import {
  ACCOUNT,
  BASIC,
  buildStack,
  FIXTURE_STAGES,
  FULL_CONFIG,
  fixtureStage,
  PARTITION,
  REGION,
} from './fixtures.ts';

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

/** The client-config function's properties (the stack has the synthetic caller's function too). */
function clientConfigFunction(template: Template, stack: WebhookConfigStack): Record<string, unknown> {
  const fn = resourcesOf(template, 'AWS::Lambda::Function')[refOf(stack.clientConfig.function).Ref];
  expect(fn).toBeDefined();
  return (fn as Resources[string]).Properties;
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
  ['GET', '/client/changes'],
  ['PATCH', '/client'],
  ['POST', '/webhooks/verify'],
  ['PUT', '/client/secrets'],
];

describe.each(FIXTURE_STAGES)('the %s stack', (stage) => {
  const { stack, template } = buildStack({ stage });
  const config = fixtureStage(stage);
  const prod = stage === 'canary';

  it('requires AWS_IAM on every method, and has exactly GET /client, PATCH /client, PUT /client/secrets, POST /webhooks/verify, GET /client/changes', () => {
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

  it('admits only its synthetic caller, as a reader, while no principal is configured', () => {
    expect(config.callers).toEqual(NO_CALLERS);
    const synthetic = { 'Fn::GetAtt': [refOf(stack.syntheticCaller?.fn.role as IConstruct).Ref, 'Arn'] };
    const statements = apiPolicyStatements(template);
    expect(statements.filter((statement) => statement.Effect === 'Allow')).toEqual([
      {
        Sid: 'AllowReaders',
        Effect: 'Allow',
        Principal: { AWS: synthetic },
        Action: 'execute-api:Invoke',
        Resource: ['execute-api:/*/GET/client', 'execute-api:/*/GET/client/changes'],
      },
    ]);
    expect(statements.find((statement) => statement.Sid === 'DenyAccountsInNoGroup')).toEqual({
      Sid: 'DenyAccountsInNoGroup',
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 'execute-api:Invoke',
      Resource: 'execute-api:/*',
      // The synthetic caller's role ARN is known at deploy time only: it stays a role condition.
      Condition: { ArnNotLike: { 'aws:PrincipalArn': [synthetic] } },
    });
  });

  it('passes application/octet-stream bodies (forwarded webhook deliveries) to the function as exact bytes', () => {
    expect(only(template, 'AWS::ApiGateway::RestApi').properties.BinaryMediaTypes).toEqual([
      'application/octet-stream',
    ]);
  });

  it('is a REGIONAL API when no VPC endpoint is configured', () => {
    expect(only(template, 'AWS::ApiGateway::RestApi').properties.EndpointConfiguration).toEqual({
      Types: ['REGIONAL'],
    });
  });

  it('runs the handler on Node.js 22, arm64, with a 15 s timeout and no X-Ray tracing', () => {
    expect(clientConfigFunction(template, stack)).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Timeout: 15,
      MemorySize: 512,
    });
    for (const fn of Object.values(resourcesOf(template, 'AWS::Lambda::Function'))) {
      expect(fn.Properties.TracingConfig).toBeUndefined();
    }
    // The client-config function, the synthetic caller, the secret rotation, and with a canary the
    // pre-traffic hook.
    expect(Object.keys(resourcesOf(template, 'AWS::Lambda::Function'))).toHaveLength(prod ? 4 : 3);
  });

  it('passes the stage configuration to the handler', () => {
    const fn = clientConfigFunction(template, stack);
    expect((fn.Environment as { Variables: unknown }).Variables).toEqual({
      AFFIX_BASE_URL: config.affixBaseUrl,
      AFFIX_CLIENT_ID_PARAMETER: `/affix/${stage}/client-id`,
      AFFIX_CLIENT_SECRET_PARAMETER: `/affix/${stage}/client-secret`,
      ETAG_KEY_PARAMETER: `/affix/${stage}/etag-key`,
      STATE_TABLE_NAME: refOf(stack.stateTable),
      CREDENTIALS_MAX_AGE_SECONDS: '300',
      // The fixture canary sets 60; basic leaves it to the default.
      CLIENT_CACHE_MAX_AGE_SECONDS: prod ? '60' : '30',
      // Neither fixture sets journalRetentionDays: the default (journal-retention.test.ts sets one).
      JOURNAL_RETENTION_DAYS: '400',
      UPSTREAM_ATTEMPT_TIMEOUT_MS: '5000',
      UPSTREAM_DEADLINE_MS: '10000',
      STAGE: stage,
      POWERTOOLS_SERVICE_NAME: 'affix-webhook-config',
      POWERTOOLS_METRICS_NAMESPACE: 'AffixWebhookConfig',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      DESTINATION_POLICY: JSON.stringify(config.destinations),
      NODE_OPTIONS: '--enable-source-maps',
    });
  });

  it('logs the function to its own log group with the stage retention', () => {
    const fn = clientConfigFunction(template, stack);
    const logGroupId = (fn.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
    const logGroup = resourcesOf(template, 'AWS::Logs::LogGroup')[logGroupId];
    expect(logGroup?.Properties.RetentionInDays).toBe(config.logRetention);
  });

  it('keeps every log group of the stack for the stage retention', () => {
    const logGroups = Object.values(resourcesOf(template, 'AWS::Logs::LogGroup'));
    // Function, synthetic caller, secret rotation, API access logs, API execution logs; the hook's.
    expect(logGroups).toHaveLength(prod ? 6 : 5);
    for (const logGroup of logGroups) {
      expect(logGroup.Properties.RetentionInDays).toBe(config.logRetention);
    }
    expect(config.logRetention).toBe(prod ? RetentionDays.ONE_YEAR : RetentionDays.TWO_WEEKS);
  });

  it('reads exactly the three parameters, uses exactly four item actions and Query on the state table, on its one partition key, and nothing else beyond its logs', () => {
    const statements = rolePolicyStatements(template);
    const fnLogGroupId = (
      clientConfigFunction(template, stack).LoggingConfig as { LogGroup: { Ref: string } }
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
            agnosticParameterArn(`/affix/${stage}/etag-key`),
          ],
        },
        {
          Sid: 'UseStateTableItems',
          Effect: 'Allow',
          Action: [
            'dynamodb:DeleteItem',
            'dynamodb:GetItem',
            'dynamodb:PutItem',
            'dynamodb:Query',
            'dynamodb:UpdateItem',
          ],
          Resource: { 'Fn::GetAtt': [refOf(stack.stateTable).Ref, 'Arn'] },
          // Only the items of the one partition key (lease, read cache, back-off, last seen, journal):
          // a Query is held to it too.
          Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['affix-client'] } },
        },
        {
          Effect: 'Allow',
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: { 'Fn::GetAtt': [fnLogGroupId, 'Arn'] },
        },
      ]),
    );
    expect(statements).toHaveLength(3);
    // No index, no other table, no scan or batch action (Query only as above, on the one partition).
    expect(JSON.stringify(statements)).not.toMatch(/index|dynamodb:\*|Scan|Batch/);
    const role = resourcesOf(template, 'AWS::IAM::Role')[refOf(stack.clientConfig.role).Ref]?.Properties;
    expect(JSON.stringify(role?.AssumeRolePolicyDocument)).toContain('lambda.amazonaws.com');
    expect(role?.ManagedPolicyArns).toBeUndefined();
  });

  it('grants no KMS permission when the parameters use the AWS managed key', () => {
    expect(config.parameterKmsKey).toBeUndefined();
    expect(JSON.stringify(rolePolicyStatements(template))).not.toContain('kms:');
  });

  it('never creates the secret values; its one SSM parameter publishes the API URL', () => {
    for (const type of ['AWS::SecretsManager::Secret', 'AWS::KMS::Key']) {
      expect(resourcesOf(template, type), type).toEqual({});
    }
    expect(only(template, 'AWS::SSM::Parameter').properties).toEqual({
      Name: `/affix-webhook-config/${stage}/api-url`,
      Type: 'String',
      Description: `Base URL of the affix-webhook-config ${stage} API stage, for consumers`,
      Value: (template.toJSON().Outputs as Record<string, { Value: unknown }>).ApiUrl?.Value,
      Tags: expect.any(Object),
    });
  });

  it('throttles and access-logs the API stage as JSON, with metrics and error-only execution logs, untraced', () => {
    const apiStage = only(template, 'AWS::ApiGateway::Stage').properties;
    expect(apiStage.StageName).toBe(stage);
    expect(apiStage.TracingEnabled).toBe(false);
    const logging = { MetricsEnabled: true, LoggingLevel: 'ERROR', DataTraceEnabled: false };
    const setting = (HttpMethod: string, ResourcePath: string, rate: number, burst: number) => ({
      HttpMethod,
      ResourcePath,
      ThrottlingRateLimit: rate,
      ThrottlingBurstLimit: burst,
      ...logging,
    });
    const { rateLimit, burstLimit } = config.throttling;
    // The writes' numbers by hand from infra/README.md "Throttles from Affix's budget": basic (30 s
    // cache, no rotation) leaves 5 PATCHes per 5 minutes, canary (60 s cache, rotation) 6.
    const patch = prod ? setting('PATCH', '/~1client', 0.0133, 2) : setting('PATCH', '/~1client', 0.0133, 1);
    expect(apiStage.MethodSettings).toEqual([
      setting('*', '/*', rateLimit, burstLimit),
      setting('GET', '/~1client', rateLimit, burstLimit),
      patch,
      setting('PUT', '/~1client~1secrets', 0.0033, 1),
      setting('POST', '/~1webhooks~1verify', rateLimit, burstLimit),
      // One DynamoDB query, no Affix request: the stage's throttle.
      setting('GET', '/~1client~1changes', rateLimit, burstLimit),
    ]);
    expect([rateLimit, burstLimit]).toEqual(prod ? [20, 40] : [5, 10]);
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

  it.each([
    ['the unqualified function', 'ClientConfigInvokePolicy'],
    ['the alias live', 'ClientConfigLiveInvokePolicy'],
    ['the published version', 'ClientConfigVersionInvokePolicy'],
  ])(
    'gives %s one resource policy: API Gateway for the methods of this stage only, everyone else denied',
    (_name, id) => {
      // AWS::Lambda::ResourcePolicy replaces the whole policy of its qualifier: an
      // AWS::Lambda::Permission beside it would be overwritten (or overwrite it), so there must be none.
      expect(resourcesOf(template, 'AWS::Lambda::Permission')).toEqual({});
      expect(Object.keys(resourcesOf(template, 'AWS::Lambda::ResourcePolicy')).sort()).toEqual([
        'ClientConfigInvokePolicy',
        'ClientConfigLiveInvokePolicy',
        'ClientConfigVersionInvokePolicy',
      ]);
      const policy = resourcesOf(template, 'AWS::Lambda::ResourcePolicy')[id]?.Properties as Record<
        string,
        unknown
      >;
      const fnArn = {
        ClientConfigInvokePolicy: { 'Fn::GetAtt': [refOf(stack.clientConfig.function).Ref, 'Arn'] },
        ClientConfigLiveInvokePolicy: refOf(stack.live.alias),
        ClientConfigVersionInvokePolicy: stack.resolve(stack.live.alias.version.functionArn),
      }[id];
      expect(policy.ResourceArn).toEqual(fnArn);
      // Each deploy replaces the version's policy resource; the old one stays on the old version.
      const kept = template.toJSON().Resources[id] as {
        DeletionPolicy?: string;
        UpdateReplacePolicy?: string;
      };
      const keep = id === 'ClientConfigVersionInvokePolicy' ? 'Retain' : undefined;
      expect(kept.DeletionPolicy).toBe(keep);
      expect(kept.UpdateReplacePolicy).toBe(keep);
      const sourceArn = (method: string) => ({
        'Fn::Join': [
          '',
          [
            'arn:',
            PARTITION,
            ':execute-api:',
            REGION,
            ':',
            ACCOUNT,
            ':',
            refOf(stack.api),
            `/${stage}/${method}`,
          ],
        ],
      });
      const methods = [
        'GET/client',
        'PATCH/client',
        'PUT/client/secrets',
        'POST/webhooks/verify',
        'GET/client/changes',
      ].map(sourceArn);
      expect((policy.PolicyDocument as { Statement: Statement[] }).Statement).toEqual([
        {
          Sid: 'AllowApiGatewayForTheApiMethods',
          Effect: 'Allow',
          Principal: { Service: 'apigateway.amazonaws.com' },
          Action: 'lambda:InvokeFunction',
          Resource: fnArn,
          // The method ARNs name the account: no aws:SourceAccount beside them.
          Condition: { ArnLike: { 'aws:SourceArn': methods } },
        },
        {
          Sid: 'DenyInvokeExceptThroughTheApi',
          Effect: 'Deny',
          Principal: { AWS: '*' },
          Action: ['lambda:InvokeFunction', 'lambda:InvokeFunctionUrl'],
          Resource: fnArn,
          // The published version of a canary stage spares the pre-traffic hook's role, and only it.
          Condition: {
            ArnNotLike:
              prod && id === 'ClientConfigVersionInvokePolicy'
                ? {
                    'aws:SourceArn': methods,
                    'aws:PrincipalArn': [
                      { 'Fn::GetAtt': [refOf(stack.deployCheck?.fn.role as IConstruct).Ref, 'Arn'] },
                    ],
                  }
                : { 'aws:SourceArn': methods },
          },
        },
      ]);
    },
  );

  it('integrates every method with the alias live as a Lambda proxy', () => {
    for (const method of Object.values(resourcesOf(template, 'AWS::ApiGateway::Method'))) {
      expect(method.Properties.Integration).toEqual({
        Type: 'AWS_PROXY',
        IntegrationHttpMethod: 'POST',
        Uri: {
          'Fn::Join': [
            '',
            [
              'arn:',
              PARTITION,
              ':apigateway:',
              REGION,
              ':lambda:path/2015-03-31/functions/',
              refOf(stack.live.alias),
              '/invocations',
            ],
          ],
        },
      });
    }
  });

  it(`keeps one state table: pk/sk strings, TTL on ttl, on demand, AWS owned key, PITR ${stage === 'canary' ? 'on' : 'off'}, ${stage === 'canary' ? 'protected and retained' : 'deleted with the stack'}`, () => {
    const table = only(template, 'AWS::DynamoDB::Table');
    expect(table.properties).toEqual({
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: prod },
      DeletionProtectionEnabled: prod,
      // SSEEnabled false is DynamoDB's AWS owned key (encrypted at rest, no KMS key to manage).
      SSESpecification: { SSEEnabled: false },
      Tags: [
        { Key: 'owner', Value: 'fixture-team' },
        { Key: 'repository', Value: 'example/affix-webhook-config' },
        { Key: 'service', Value: 'affix-webhook-config' },
        { Key: 'stage', Value: stage },
      ],
    });
    const resource = template.toJSON().Resources[table.id] as {
      DeletionPolicy: string;
      UpdateReplacePolicy: string;
    };
    expect(resource.DeletionPolicy).toBe(prod ? 'Retain' : 'Delete');
    expect(resource.UpdateReplacePolicy).toBe(prod ? 'Retain' : 'Delete');
    expect(config.stateTable).toEqual({ pointInTimeRecovery: prod, deletionProtection: prod });
  });

  it('answers every API Gateway error as an RFC 9457 problem of the contract', () => {
    const responses = Object.values(resourcesOf(template, 'AWS::ApiGateway::GatewayResponse')).map(
      (response) => response.Properties,
    );
    expect(responses.map((response) => response.ResponseType).sort()).toEqual(
      GATEWAY_PROBLEMS.map((problem) => problem.responseType).sort(),
    );
    for (const problem of GATEWAY_PROBLEMS) {
      const response = responses.find((candidate) => candidate.ResponseType === problem.responseType);
      expect(response?.RestApiId, problem.responseType).toEqual(refOf(stack.api));
      // A fixed status is pinned, so the document's status is the HTTP status; DEFAULT_* keep API Gateway's.
      expect(response?.StatusCode, problem.responseType).toBe(
        problem.status === undefined ? undefined : String(problem.status),
      );
      expect(response?.ResponseParameters, problem.responseType).toEqual({
        'gatewayresponse.header.Content-Type': "'application/problem+json'",
        'gatewayresponse.header.Cache-Control': "'no-store'",
        'gatewayresponse.header.X-Content-Type-Options': "'nosniff'",
      });
      const templates = response?.ResponseTemplates as Record<string, string>;
      expect(Object.keys(templates).sort(), problem.responseType).toEqual([
        'application/json',
        'application/problem+json',
      ]);
      for (const body of Object.values(templates)) {
        // What API Gateway sends: the template with $context.requestId substituted.
        const document = JSON.parse(
          body.replaceAll('$context.requestId', 'c0ffee00-1234-4abc-8def-0123456789ab'),
        );
        expect(document, problem.responseType).toEqual({
          type: `urn:affix-webhook-config:problem:${problem.slug}`,
          title: problem.title,
          ...(problem.status === undefined ? {} : { status: problem.status }),
          detail: problem.detail,
          instance: 'c0ffee00-1234-4abc-8def-0123456789ab',
        });
      }
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

  it(`is ${stage === 'canary' ? '' : 'not '}protected from deletion and environment-agnostic`, () => {
    expect(stack.terminationProtection).toBe(prod);
    expect(stack.environment).toBe('aws://unknown-account/unknown-region');
  });
});

describe('a stack with every option configured', () => {
  const { stack, template } = buildStack({ config: FULL_CONFIG });

  it('allows each group exactly its routes: readers both GETs, writers the GETs and PATCH, rotators the GETs, PATCH, PUT, verifiers POST /webhooks/verify', () => {
    const statements = apiPolicyStatements(template);
    const [get, patch, put, verify, changes] = [
      'execute-api:/*/GET/client',
      'execute-api:/*/PATCH/client',
      'execute-api:/*/PUT/client/secrets',
      'execute-api:/*/POST/webhooks/verify',
      'execute-api:/*/GET/client/changes',
    ];
    expect(statements.filter((statement) => statement.Effect === 'Allow')).toEqual([
      {
        Sid: 'AllowReaders',
        Effect: 'Allow',
        Principal: { AWS: 'arn:aws:iam::111111111111:root' },
        Action: 'execute-api:Invoke',
        Resource: [get, changes],
      },
      {
        Sid: 'AllowReadersOrganization',
        Effect: 'Allow',
        Principal: { AWS: '*' },
        Action: 'execute-api:Invoke',
        Resource: [get, changes],
        Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' } },
      },
      {
        Sid: 'AllowWriters',
        Effect: 'Allow',
        Principal: {
          AWS: ['arn:aws:iam::123456789012:role/webhook-config-admin', 'arn:aws:iam::222222222222:root'],
        },
        Action: 'execute-api:Invoke',
        Resource: [get, changes, patch],
      },
      {
        Sid: 'AllowRotators',
        Effect: 'Allow',
        Principal: { AWS: 'arn:aws:iam::333333333333:role/ops/secret-rotation' },
        Action: 'execute-api:Invoke',
        Resource: [get, changes, patch, put],
      },
      {
        Sid: 'AllowVerifiers',
        Effect: 'Allow',
        Principal: { AWS: 'arn:aws:iam::444444444444:role/webhook-verifier' },
        Action: 'execute-api:Invoke',
        Resource: verify,
      },
    ]);
  });

  it('denies each route explicitly to everyone outside its groups, every account in no group everything, and any request outside the VPC endpoints', () => {
    const denies = apiPolicyStatements(template).filter((statement) => statement.Effect === 'Deny');
    const deny = (Sid: string, Resource: string | string[], Condition: unknown) => ({
      Sid,
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 'execute-api:Invoke',
      Resource,
      Condition,
    });
    const admin = 'arn:aws:iam::123456789012:role/webhook-config-admin';
    const rotation = 'arn:aws:iam::333333333333:role/ops/secret-rotation';
    expect(denies).toEqual([
      // The two GETs have the same groups: one statement, to stay within API Gateway's 8 KiB.
      deny(
        'DenyGetClientGetClientChangesOutsideTheirGroups',
        ['execute-api:/*/GET/client', 'execute-api:/*/GET/client/changes'],
        {
          StringNotEquals: {
            'aws:PrincipalAccount': ['111111111111', '222222222222'],
            'aws:PrincipalOrgID': ['o-a1b2c3d4e5'],
          },
          ArnNotLike: { 'aws:PrincipalArn': [admin, rotation] },
        },
      ),
      deny('DenyPatchClientOutsideItsGroups', 'execute-api:/*/PATCH/client', {
        StringNotEquals: { 'aws:PrincipalAccount': ['222222222222'] },
        ArnNotLike: { 'aws:PrincipalArn': [admin, rotation] },
      }),
      deny('DenyPutClientSecretsOutsideItsGroups', 'execute-api:/*/PUT/client/secrets', {
        ArnNotLike: { 'aws:PrincipalArn': [rotation] },
      }),
      deny('DenyPostWebhooksVerifyOutsideItsGroups', 'execute-api:/*/POST/webhooks/verify', {
        ArnNotLike: { 'aws:PrincipalArn': ['arn:aws:iam::444444444444:role/webhook-verifier'] },
      }),
      deny('DenyAccountsInNoGroup', 'execute-api:/*', {
        StringNotEquals: {
          'aws:PrincipalAccount': [
            '111111111111',
            '123456789012',
            '222222222222',
            '333333333333',
            '444444444444',
          ],
          'aws:PrincipalOrgID': ['o-a1b2c3d4e5'],
        },
      }),
      deny('DenyOutsideVpcEndpoints', 'execute-api:/*', {
        StringNotEquals: { 'aws:SourceVpce': ['vpce-0123456789abcdef0', 'vpce-0fedcba9876543210'] },
      }),
    ]);
  });

  it('denies a route to everybody when none of its groups has anyone', () => {
    const config: StageConfig = {
      ...FULL_CONFIG,
      callers: { ...FULL_CONFIG.callers, rotators: NO_CALLERS.rotators },
    };
    const put = apiPolicyStatements(buildStack({ config }).template).find(
      (statement) => statement.Sid === 'DenyPutClientSecretsOutsideItsGroups',
    );
    expect(put).toEqual({
      Sid: 'DenyPutClientSecretsOutsideItsGroups',
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 'execute-api:Invoke',
      Resource: 'execute-api:/*/PUT/client/secrets',
    });
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
          'arn:aws:ssm:eu-west-1:123456789012:parameter/affix/basic/client-id',
          'arn:aws:ssm:eu-west-1:123456789012:parameter/affix/basic/client-secret',
          'arn:aws:ssm:eu-west-1:123456789012:parameter/affix/basic/etag-key',
        ],
      },
      {
        Sid: 'DecryptAffixCredentialParametersViaSsm',
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
        Condition: {
          StringEquals: {
            'kms:ViaService': 'ssm.eu-west-1.amazonaws.com',
            'kms:EncryptionContext:PARAMETER_ARN': [
              'arn:aws:ssm:eu-west-1:123456789012:parameter/affix/basic/client-id',
              'arn:aws:ssm:eu-west-1:123456789012:parameter/affix/basic/client-secret',
              'arn:aws:ssm:eu-west-1:123456789012:parameter/affix/basic/etag-key',
            ],
          },
        },
      },
      {
        Sid: 'UseStateTableItems',
        Effect: 'Allow',
        Action: [
          'dynamodb:DeleteItem',
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:Query',
          'dynamodb:UpdateItem',
        ],
        Resource: { 'Fn::GetAtt': [refOf(stack.stateTable).Ref, 'Arn'] },
        Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['affix-client'] } },
      },
    ]);
    // No wildcard at all.
    expect(statements.filter((statement) => JSON.stringify(statement.Resource).includes('*'))).toEqual([]);
  });

  it('subscribes the configured e-mail address to the alarm topic', () => {
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'alerts@example.com',
      TopicArn: { Ref: Match.stringLikeRegexp('^AlarmsTopic') },
    });
  });

  it('uses custom parameter names verbatim in the ARNs', () => {
    const config: StageConfig = {
      ...FULL_CONFIG,
      parameters: {
        clientId: '/team/affix/id',
        clientSecret: '/team/affix/secret',
        etagKey: '/team/affix/etag',
      },
    };
    const statements = rolePolicyStatements(buildStack({ config }).template);
    expect(
      statements.find((statement) => statement.Sid === 'ReadAffixCredentialParameters')?.Resource,
    ).toEqual([
      'arn:aws:ssm:eu-west-1:123456789012:parameter/team/affix/etag',
      'arn:aws:ssm:eu-west-1:123456789012:parameter/team/affix/id',
      'arn:aws:ssm:eu-west-1:123456789012:parameter/team/affix/secret',
    ]);
  });
});

describe('API deployments', () => {
  const deploymentId = (config: StageConfig) =>
    Object.keys(resourcesOf(buildStack({ config }).template, 'AWS::ApiGateway::Deployment'));

  it('redeploy when the resource policy changes (a new policy takes effect only with a deployment)', () => {
    const before = deploymentId(BASIC);
    const after = deploymentId({
      ...BASIC,
      callers: { ...NO_CALLERS, readers: { accountIds: ['111111111111'], roleArns: [] } },
    });
    expect(before).toHaveLength(1);
    expect(after).toHaveLength(1);
    expect(after).not.toEqual(before);
    expect(deploymentId(BASIC)).toEqual(before);
  });
});

describe('the API Gateway logging role', () => {
  it('is created when the stage asks for it', () => {
    const { template } = buildStack({ config: BASIC });
    template.resourceCountIs('AWS::ApiGateway::Account', 1);
  });

  it('is left alone when the account already has one', () => {
    const { template } = buildStack({ config: { ...BASIC, apiGatewayCloudWatchRole: false } });
    template.resourceCountIs('AWS::ApiGateway::Account', 0);
  });
});

describe('configuration errors', () => {
  it('refuse an invalid stage entry before building anything', () => {
    expect(() => buildStack({ config: { ...BASIC, affixBaseUrl: 'http://example.com' } })).toThrow(
      StageConfigError,
    );
  });

  it('refuse an upstream deadline the Lambda timeout cannot cover', () => {
    const config = { ...BASIC, upstream: { attemptTimeoutMs: 5_000, deadlineMs: 14_000 } };
    expect(() => buildStack({ config })).toThrow(ServiceFunctionError);
    expect(() => buildStack({ config })).toThrow(
      'timeout 15000 ms must exceed the upstream deadline 14000 ms by at least 2000 ms',
    );
  });
});

describe("the API resource policy and API Gateway's 8 KiB limit", () => {
  const roles = (account: string, prefix: string, count: number) =>
    Array.from(
      { length: count },
      (_, i) => `arn:aws:iam::${account}:role/platform/${prefix}-service-${i + 1}`,
    );
  // A realistic large stage: several teams' services in three accounts, a few operators, one org.
  const large: StageConfig = {
    ...FULL_CONFIG,
    callers: {
      readers: {
        accountIds: ['111111111111', '222222222222', '333333333333'],
        roleArns: roles('444444444444', 'webhook-reader', 8),
        organizationId: 'o-a1b2c3d4e5',
      },
      writers: { accountIds: ['555555555555'], roleArns: roles('666666666666', 'webhook-writer', 6) },
      rotators: { accountIds: [], roleArns: roles('123456789012', 'secret-rotation', 3) },
      verifiers: { accountIds: [], roleArns: roles('777777777777', 'webhook-verifier', 4) },
    },
  };

  it('fits a realistic large stage (3 accounts, 21 roles, an organization, VPC endpoints) with room to spare', () => {
    const { stack } = buildStack({ config: large });
    const policy = stack.resolve((stack.api.node.defaultChild as CfnElement & { policy: unknown }).policy);
    // As API Gateway stores it: execute-api:/ expanded to a full ARN prefix.
    const stored = JSON.stringify(policy).replaceAll(
      'execute-api:/',
      'arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/',
    );
    expect(Buffer.byteLength(stored)).toBeLessThan(8_192 * 0.9);
    expect(estimatedPolicyBytes(invokePolicy(large.callers, large.vpcEndpointIds))).toBeLessThan(8_192);
  });

  it('refuses, at synth, a stage whose policy could exceed the limit', () => {
    const config: StageConfig = {
      ...large,
      callers: {
        ...large.callers,
        rotators: { accountIds: [], roleArns: roles('123456789012', 'rotation', 40) },
      },
    };
    expect(() => buildStack({ config })).toThrow(InvokePolicyError);
    expect(() => buildStack({ config })).toThrow(/over API Gateway's 8192/);
  });
});

describe.each(['dev', 'prod'])('the committed %s stage', (stage) => {
  const config = loadStage(stage);
  const { template } = buildStack({ stage, config });
  const plan = throttlesFor(config);

  it('applies the throttles derived from its budget: the stage default and one per route', () => {
    const settings = only(template, 'AWS::ApiGateway::Stage').properties.MethodSettings as Array<
      Record<string, unknown>
    >;
    const byPath = (method: string, path: string) =>
      settings.find((s) => s.HttpMethod === method && s.ResourcePath === `/${path.replaceAll('/', '~1')}`);
    expect(settings.find((s) => s.HttpMethod === '*')).toMatchObject({
      ThrottlingRateLimit: config.throttling.rateLimit,
      ThrottlingBurstLimit: config.throttling.burstLimit,
    });
    for (const [operationId, throttle] of Object.entries(plan.methods)) {
      const { method, path } = routeOf(operationId as OperationId);
      expect(byPath(method, path), operationId).toMatchObject({
        ThrottlingRateLimit: throttle.rateLimit,
        ThrottlingBurstLimit: throttle.burstLimit,
        MetricsEnabled: true,
        LoggingLevel: 'ERROR',
      });
    }
    expect(settings).toHaveLength(1 + Object.keys(plan.methods).length);
  });

  it('gives PUT /client/secrets the lowest rate of all methods, and keeps the worst case within 80%', () => {
    const settings = (
      only(template, 'AWS::ApiGateway::Stage').properties.MethodSettings as Array<Record<string, number>>
    ).filter((s) => String(s.HttpMethod) !== '*');
    const put = settings.find((s) => String(s.HttpMethod) === 'PUT');
    for (const other of settings.filter((s) => String(s.HttpMethod) !== 'PUT')) {
      expect(put?.ThrottlingRateLimit).toBeLessThan(other.ThrottlingRateLimit as number);
    }
    expect(worstCaseAffixRequests(plan, config.affixBudget.windowSeconds)).toBeLessThanOrEqual(
      Math.floor(config.affixBudget.requests * 0.8),
    );
  });
});
