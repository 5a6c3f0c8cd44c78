/**
 * One environment of the proxy: an IAM-authorized REST API in front of the alias `live` of the
 * client-config function, with per-route grants for each caller group; a function only API Gateway
 * may invoke; the state table; the function's least-privilege access to its SSM parameters and the
 * table; API Gateway's own answers as problem documents; safe deploys (a version per deploy, a
 * CodeDeploy canary where the stage asks for one); alarms that reach someone; a synthetic caller; a
 * dashboard; and the API URL in SSM for consumers.
 *
 * The stack reads the parameters at run time; it never creates secret values.
 *
 * @example
 * const app = new App();
 * new WebhookConfigStack(app, stackNameFor('dev'), { stage: 'dev', config: loadStage('dev') });
 */
import {
  ArnFormat,
  type CfnElement,
  CfnOutput,
  Duration,
  RemovalPolicy,
  Stack,
  type StackProps,
  Tags,
  Validations,
} from 'aws-cdk-lib';
import {
  AccessLogField,
  AccessLogFormat,
  AuthorizationType,
  AwsIntegration,
  type CfnRestApi,
  EndpointType,
  LogGroupLogDestination,
  MethodLoggingLevel,
  RestApi,
} from 'aws-cdk-lib/aws-apigateway';
import {
  type Alarm,
  ComparisonOperator,
  type Dashboard,
  Stats,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { InterfaceVpcEndpoint } from 'aws-cdk-lib/aws-ec2';
import { Effect, Policy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { CfnResourcePolicy } from 'aws-cdk-lib/aws-lambda';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import type { Topic } from 'aws-cdk-lib/aws-sns';
import { StringParameter } from 'aws-cdk-lib/aws-ssm';
import type { Construct } from 'constructs';
import { ROUTES, routeKeyOf } from '../functions/contract/routes.ts';
import { LEASE_KEY } from '../functions/core/adapters/dynamodb-write-lock.ts';
import { DESTINATION_POLICY_ENV } from '../functions/core/domain/client-state.ts';
import { SYNTHETIC_SUCCESS_METRIC } from '../functions/synthetic-caller/check.ts';
import { ALARM_PERIOD } from './alarm-period.ts';
import { addAffixAlarms, StageAlarms } from './alarms.ts';
import { createDashboard, handlerMetric } from './dashboard.ts';
import { DeployCheck } from './deploy-check.ts';
import { LiveAlias } from './deployment.ts';
import { functionInvokePolicy } from './function-policy.ts';
import { addGatewayResponses } from './gateway-responses.ts';
import { invokePolicy } from './invoke-policy.ts';
import { addReleaseAlarms } from './release-alarms.ts';
import { SecretRotation } from './secret-rotation.ts';
import {
  CLIENT_CONFIG_ENTRY,
  CLIENT_CONFIG_TIMEOUT,
  REQUEST_OUTCOME_METRIC,
  SERVICE_NAME,
  UPSTREAM_AUTH_FAILED_OUTCOME,
  UPSTREAM_RATE_LIMITED_OUTCOME,
} from './service.ts';
import { ServiceFunction } from './service-function.ts';
import { type Stage, type StageConfig, validateStageConfig } from './stages.ts';
import { SYNTHETIC_ROUTE, SyntheticCaller } from './synthetic-caller.ts';
import { deriveThrottles, type ThrottlePlan } from './throttles.ts';

export { ALARM_PERIOD };

/**
 * API Gateway's TLS security policy for the stage's endpoint: TLS 1.3, or TLS 1.2 with
 * forward-secret, post-quantum-ready ciphers; nothing older. Enhanced policies need an endpoint
 * access mode; STRICT refuses clients that negotiate outside the policy.
 */
export const API_SECURITY_POLICY = 'SecurityPolicy_TLS13_1_2_PQ_2025_09';
export const API_ENDPOINT_ACCESS_MODE = 'STRICT';

/** The media type API Gateway passes to the function base64-encoded, byte for byte. */
export const BINARY_MEDIA_TYPE = 'application/octet-stream';

/** The SSM String parameter that publishes the stage URL to consumers. */
export function apiUrlParameterName(stage: Stage): string {
  return `/${SERVICE_NAME}/${stage}/api-url`;
}

/** The routes of the API (every one `AWS_IAM`), from the contract. */
export { ROUTES };

/** The state table's key and TTL attributes (the handler's contract). */
export const STATE_TABLE_KEY = { partitionKey: 'pk', sortKey: 'sk', timeToLive: 'ttl' } as const;

/**
 * Exactly the item actions the state items need: the write lease (conditional PutItem to take it,
 * conditional DeleteItem to give it back, GetItem to learn a holder's expiry), and next to it the
 * shared read cache (`sk=read-cache`), the shared back-off (`sk=rate-limit`) and the last state seen
 * (`sk=last-seen`), read with GetItem and written with PutItem/UpdateItem/DeleteItem. The rotation
 * job needs these only.
 */
export const STATE_ITEM_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
] as const;

/**
 * The function's: the item actions, and Query for `GET /client/changes` (the journal items of the
 * same partition, read newest first): no scan, batch or index access.
 */
export const STATE_TABLE_ACTIONS = [...STATE_ITEM_ACTIONS, 'dynamodb:Query'] as const;

/**
 * Every item of ours has this partition key (the lease's), so the grant is limited to it with
 * `dynamodb:LeadingKeys`: a bug or a stolen role cannot touch items of any other key.
 */
export const STATE_TABLE_PARTITION = LEASE_KEY.pk;

/** The condition that limits the state-table actions to {@link STATE_TABLE_PARTITION}. */
export const STATE_TABLE_CONDITIONS = {
  'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [STATE_TABLE_PARTITION] },
} as const;

/** The stage's throttles, derived from Affix's budget (`throttles.ts`). */
export function throttlesFor(config: StageConfig): ThrottlePlan {
  return deriveThrottles({
    budget: config.affixBudget,
    clientCacheMaxAgeSeconds: config.clientCacheMaxAgeSeconds,
    rotationEnabled: config.rotation?.enabled ?? false,
    stageThrottle: config.throttling,
  });
}

/** CDK's `methodOptions` key of a route: `/client/secrets/PUT`. */
export function methodOptionsKey(route: { readonly method: string; readonly path: string }): string {
  return `${route.path}/${route.method}`;
}

export function stackNameFor(stage: Stage): string {
  return `AffixWebhookConfig-${stage}`;
}

/**
 * The handler's environment, from the stage configuration and the state table's name (the
 * handler's contract).
 */
export function functionEnvironment(
  stage: Stage,
  config: StageConfig,
  stateTableName: string,
): Record<string, string> {
  return {
    STAGE: stage,
    AFFIX_BASE_URL: config.affixBaseUrl,
    AFFIX_CLIENT_ID_PARAMETER: config.parameters.clientId,
    AFFIX_CLIENT_SECRET_PARAMETER: config.parameters.clientSecret,
    ETAG_KEY_PARAMETER: config.parameters.etagKey,
    STATE_TABLE_NAME: stateTableName,
    CREDENTIALS_MAX_AGE_SECONDS: String(config.credentialsMaxAgeSeconds),
    CLIENT_CACHE_MAX_AGE_SECONDS: String(config.clientCacheMaxAgeSeconds),
    JOURNAL_RETENTION_DAYS: String(config.journalRetentionDays),
    UPSTREAM_ATTEMPT_TIMEOUT_MS: String(config.upstream.attemptTimeoutMs),
    UPSTREAM_DEADLINE_MS: String(config.upstream.deadlineMs),
    POWERTOOLS_LOG_LEVEL: config.logLevel,
    [DESTINATION_POLICY_ENV]: JSON.stringify(config.destinations),
  };
}

export interface WebhookConfigStackProps extends Omit<StackProps, 'env' | 'terminationProtection'> {
  readonly stage: Stage;
  /** Usually `stages[stage]`; validated before anything is built. */
  readonly config: StageConfig;
  /** Handler module; defaults to `functions/client-config/handler.ts`. */
  readonly entry?: string;
  /**
   * This deploy ignores the rollback alarms (`-c ignoreRollbackAlarms=true`): ships a fix while an
   * alarm that has nothing to do with the release fires. The pre-traffic check still runs.
   */
  readonly ignoreRollbackAlarms?: boolean;
}

export class WebhookConfigStack extends Stack {
  readonly api: RestApi;
  readonly clientConfig: ServiceFunction;
  readonly stateTable: Table;
  readonly functionPolicy: CfnResourcePolicy;
  /** The resource policy of the alias `live`, the qualifier API Gateway invokes. */
  readonly aliasPolicy: CfnResourcePolicy;
  /** The resource policy of this deploy's version (kept on it after the next deploy). */
  readonly versionPolicy: CfnResourcePolicy;
  readonly live: LiveAlias;
  /** The pre-traffic hook of a canary or linear stage. */
  readonly deployCheck: DeployCheck | undefined;
  readonly syntheticCaller: SyntheticCaller | undefined;
  readonly secretRotation: SecretRotation;
  readonly alarmTopic: Topic;
  /** Every alarm of the stack, by its runbook id. */
  readonly alarms: Readonly<Record<string, Alarm>>;
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: WebhookConfigStackProps) {
    const config = validateStageConfig(props.stage, props.config);
    super(scope, id, {
      ...props,
      description: props.description ?? `Affix webhook config proxy (${props.stage})`,
      terminationProtection: config.terminationProtection,
      ...(config.env ? { env: { account: config.env.account, region: config.env.region } } : {}),
    });
    const { stage } = props;
    Tags.of(this).add('service', SERVICE_NAME);
    Tags.of(this).add('stage', stage);
    Tags.of(this).add('owner', config.tags.owner);
    Tags.of(this).add('repository', config.tags.repository);

    this.stateTable = this.createStateTable(config);
    this.clientConfig = new ServiceFunction(this, 'ClientConfig', {
      entry: props.entry ?? CLIENT_CONFIG_ENTRY,
      description: `Reads and updates our Affix API client (${stage})`,
      environment: functionEnvironment(stage, config, this.stateTable.tableName),
      logRetention: config.logRetention,
      timeout: CLIENT_CONFIG_TIMEOUT,
      upstreamDeadline: Duration.millis(config.upstream.deadlineMs),
      // Published versions stay when the next deploy publishes another: a rollback points the alias
      // back at one, and each keeps its resource policy (infra/README.md "Rollback").
      currentVersionOptions: { removalPolicy: RemovalPolicy.RETAIN },
    });
    const readCredentials = this.grantReadCredentials(config);
    this.grantStateTable();
    this.secretRotation = new SecretRotation(this, 'SecretRotation', {
      stage,
      config,
      environment: functionEnvironment(stage, config, this.stateTable.tableName),
      stateTable: this.stateTable,
      stateTableActions: STATE_ITEM_ACTIONS,
      stateTableConditions: STATE_TABLE_CONDITIONS,
      readCredentials,
      parameterArn: (name) => this.parameterArn(name),
      kmsKeyArn: this.parameterKmsKeyArn(config),
    });
    this.live = new LiveAlias(this, 'Live', {
      fn: this.clientConfig.function,
      deployment: config.deployment,
      ignoreRollbackAlarms: props.ignoreRollbackAlarms ?? false,
    });
    this.deployCheck = this.addDeployCheck(stage, config);

    this.syntheticCaller = config.syntheticCaller.enabled
      ? new SyntheticCaller(this, 'SyntheticCaller', {
          stage,
          rateMinutes: config.syntheticCaller.rateMinutes,
          logRetention: config.logRetention,
        })
      : undefined;
    const callers = this.syntheticCaller?.withReader(config.callers) ?? config.callers;

    this.api = this.createApi(stage, config, callers);
    this.syntheticCaller?.connect(this.api);
    [this.functionPolicy, this.aliasPolicy, this.versionPolicy] = this.restrictInvocationToApi(stage);

    const alarms = new StageAlarms(this, 'Alarms', { stage, config });
    this.alarmTopic = alarms.topic;
    this.createAlarms(alarms, stage, config);
    this.alarms = alarms.byId;
    this.dashboard = createDashboard(this, {
      stage,
      api: this.api,
      fn: this.clientConfig.function,
      alarms: Object.values(alarms.byId),
    });

    new StringParameter(this, 'ApiUrlParameter', {
      parameterName: apiUrlParameterName(stage),
      description: `Base URL of the ${SERVICE_NAME} ${stage} API stage, for consumers`,
      stringValue: this.api.url,
    });
    new CfnOutput(this, 'ApiUrl', { description: 'Base URL of the API stage', value: this.api.url });
    new CfnOutput(this, 'FunctionName', { value: this.clientConfig.function.functionName });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarmTopic.topicArn });
  }

  /** `arn:<partition>:ssm:<region>:<account>:parameter/affix/dev/client-id` for `/affix/dev/client-id`. */
  parameterArn(name: string): string {
    return this.formatArn({
      service: 'ssm',
      resource: 'parameter',
      resourceName: name.replace(/^\//, ''),
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
  }

  /**
   * One table per stage: `pk`/`sk` strings, TTL on `ttl`, on-demand. Encrypted with the AWS owned
   * key: its items are leases (an owner token and an expiry), no secret, and IAM already decides
   * who may read them; a customer managed key would add cost, a key policy and KMS calls on every
   * request without narrowing who can read. Revisit if the table ever holds client data.
   */
  private createStateTable(config: StageConfig): Table {
    const { pointInTimeRecovery, deletionProtection } = config.stateTable;
    const table = new Table(this, 'StateTable', {
      partitionKey: { name: STATE_TABLE_KEY.partitionKey, type: AttributeType.STRING },
      sortKey: { name: STATE_TABLE_KEY.sortKey, type: AttributeType.STRING },
      timeToLiveAttribute: STATE_TABLE_KEY.timeToLive,
      billingMode: BillingMode.PAY_PER_REQUEST,
      encryption: TableEncryption.DEFAULT,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: pointInTimeRecovery },
      deletionProtection,
      // A protected table is kept when the stack goes; an unprotected one (dev) goes with it.
      removalPolicy: deletionProtection ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    if (!pointInTimeRecovery) {
      Validations.of(table).acknowledge({
        id: 'AwsSolutions-DDB3',
        reason:
          'This stage keeps point-in-time recovery off: the table holds short-lived write leases that expire by TTL, nothing to restore.',
      });
    }
    return table;
  }

  /** Exactly {@link STATE_TABLE_ACTIONS} on the table itself, in a policy of its own. */
  private grantStateTable(): void {
    this.clientConfig.role.attachInlinePolicy(
      new Policy(this, 'UseStateTable', {
        statements: [
          new PolicyStatement({
            sid: 'UseStateTableItems',
            effect: Effect.ALLOW,
            actions: [...STATE_TABLE_ACTIONS],
            resources: [this.stateTable.tableArn],
            conditions: STATE_TABLE_CONDITIONS,
          }),
        ],
      }),
    );
  }

  /**
   * `ssm:GetParameter(s)` on exactly the three parameters (client id, client secret, ETag key)
   * and, with a customer managed key, `kms:Decrypt` on that key only when SSM calls it; in a
   * policy of its own (not the role's default policy, whose X-Ray wildcard is acknowledged for
   * cdk-nag).
   */
  private grantReadCredentials(config: StageConfig): PolicyStatement[] {
    const statements = [
      new PolicyStatement({
        sid: 'ReadAffixCredentialParameters',
        effect: Effect.ALLOW,
        actions: ['ssm:GetParameter', 'ssm:GetParameters'],
        resources: [
          this.parameterArn(config.parameters.clientId),
          this.parameterArn(config.parameters.clientSecret),
          this.parameterArn(config.parameters.etagKey),
        ],
      }),
    ];
    const keyArn = this.parameterKmsKeyArn(config);
    if (keyArn !== undefined) {
      statements.push(
        new PolicyStatement({
          sid: 'DecryptAffixCredentialParametersViaSsm',
          effect: Effect.ALLOW,
          actions: ['kms:Decrypt'],
          resources: [keyArn],
          conditions: {
            StringEquals: {
              'kms:ViaService': `ssm.${this.region}.amazonaws.com`,
              // SSM decrypts a SecureString with the encryption context PARAMETER_ARN=<its ARN>, so
              // the key decrypts these three parameters for us and no other parameter it protects.
              'kms:EncryptionContext:PARAMETER_ARN': [
                this.parameterArn(config.parameters.clientId),
                this.parameterArn(config.parameters.clientSecret),
                this.parameterArn(config.parameters.etagKey),
              ],
            },
          },
        }),
      );
    }
    this.clientConfig.role.attachInlinePolicy(new Policy(this, 'ReadAffixCredentials', { statements }));
    // The rotation job reads the same three parameters with the same grant.
    return statements;
  }

  /** The key ARN from the stage file, or from the SSM parameter it names (read at deploy). */
  private parameterKmsKeyArn(config: StageConfig): string | undefined {
    const key = config.parameterKmsKey;
    if (key === undefined) return undefined;
    if ('value' in key) return key.value;
    return StringParameter.valueForStringParameter(this, key.ssmParameter);
  }

  private createApi(stage: Stage, config: StageConfig, callers: StageConfig['callers']): RestApi {
    const vpcEndpointIds = config.vpcEndpointIds ?? [];
    const accessLogs = new LogGroup(this, 'ApiAccessLogs', { retention: config.logRetention });
    const policy = invokePolicy(callers, vpcEndpointIds);
    const throttles = throttlesFor(config);

    const api = new RestApi(this, 'Api', {
      restApiName: `${SERVICE_NAME}-${stage}`,
      description: `Affix webhook config proxy (${stage}); every method requires SigV4 (AWS_IAM)`,
      // Webhook deliveries forwarded for verification must reach the function as their exact bytes:
      // binary (and gzip-compressed) bodies come as application/octet-stream, base64 in the event.
      // JSON stays text (base64 would make every body a third larger).
      binaryMediaTypes: [BINARY_MEDIA_TYPE],
      endpointConfiguration:
        vpcEndpointIds.length > 0
          ? {
              types: [EndpointType.PRIVATE],
              vpcEndpoints: vpcEndpointIds.map((vpcEndpointId) =>
                InterfaceVpcEndpoint.fromInterfaceVpcEndpointAttributes(
                  this,
                  `VpcEndpoint-${vpcEndpointId}`,
                  {
                    vpcEndpointId,
                    port: 443,
                  },
                ),
              ),
            }
          : { types: [EndpointType.REGIONAL] },
      policy,
      defaultMethodOptions: { authorizationType: AuthorizationType.IAM },
      cloudWatchRole: config.apiGatewayCloudWatchRole,
      // The role is account-wide: a stack that goes must not take it from every other API.
      ...(config.apiGatewayCloudWatchRole ? { cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN } : {}),
      deployOptions: {
        stageName: stage,
        throttlingRateLimit: throttles.stage.rateLimit,
        throttlingBurstLimit: throttles.stage.burstLimit,
        // Every route its own throttle, the writes' derived from Affix's budget (infra/README.md).
        methodOptions: Object.fromEntries(
          ROUTES.map((route) => {
            const throttle = throttles.methods[route.operationId];
            // A method override replaces the stage's settings for it: repeat metrics and logging.
            return [
              methodOptionsKey(route),
              {
                throttlingRateLimit: throttle.rateLimit,
                throttlingBurstLimit: throttle.burstLimit,
                metricsEnabled: true,
                loggingLevel: MethodLoggingLevel.ERROR,
                dataTraceEnabled: false,
              },
            ];
          }),
        ),
        accessLogDestination: new LogGroupLogDestination(accessLogs),
        accessLogFormat: accessLogFormat(),
        metricsEnabled: true,
        // Execution logs for failures only, never request or response bodies.
        loggingLevel: MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        // X-Ray is off: see infra/README.md "Tracing".
        tracingEnabled: false,
      },
    });
    const cfnApi = api.node.defaultChild as CfnRestApi;
    cfnApi.securityPolicy = API_SECURITY_POLICY;
    cfnApi.endpointAccessMode = API_ENDPOINT_ACCESS_MODE;

    // A new resource policy takes effect only with a new deployment: make the policy part of the
    // deployment's logical ID, as CDK already does for methods and resources.
    api.latestDeployment?.addToLogicalId({ policy });
    // The stack has its own ApiUrl output.
    api.node.tryRemoveChild('Endpoint');

    // API Gateway creates the execution log group on first use, without retention; create it first.
    const executionLogs = new LogGroup(this, 'ApiExecutionLogs', {
      logGroupName: `API-Gateway-Execution-Logs_${api.restApiId}/${stage}`,
      retention: config.logRetention,
    });
    api.deploymentStage.node.addDependency(executionLogs);

    // What LambdaIntegration builds, minus its AWS::Lambda::Permission resources: the function's
    // policy is one AWS::Lambda::ResourcePolicy (restrictInvocationToApi), which would overwrite them.
    const integration = new AwsIntegration({
      proxy: true,
      service: 'lambda',
      // The alias, never $LATEST: what CodeDeploy shifts is what API Gateway calls.
      path: `2015-03-31/functions/${this.live.alias.functionArn}/invocations`,
    });
    for (const route of ROUTES) {
      const method = api.root.resourceForPath(route.path).addMethod(route.method, integration);
      Validations.of(method).acknowledge({
        id: 'AwsSolutions-COG4',
        reason:
          'Callers are AWS workloads and operators signing with SigV4 (AWS_IAM); there are no user-pool users.',
      });
    }

    addGatewayResponses(api);

    Validations.of(api).acknowledge({
      id: 'AwsSolutions-APIG2',
      reason:
        'The handler validates every body with strict valibot schemas and answers RFC 9457 problems; a gateway model would duplicate them.',
    });
    Validations.of(api.deploymentStage).acknowledge({
      id: 'AwsSolutions-APIG3',
      reason:
        'Every method needs SigV4 and the resource policy admits only configured principals, so anonymous traffic is refused before any integration; stage throttling caps the rest.',
    });
    const cloudWatchRole = api.node.tryFindChild('CloudWatchRole');
    if (cloudWatchRole !== undefined) {
      Validations.of(cloudWatchRole).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason:
          "API Gateway's account-wide logging role must write to every API's log groups, which is what this AWS managed policy grants.",
      });
    }
    return api;
  }

  /**
   * Only API Gateway, for one of this API's methods on this stage, may invoke the function: the
   * same document on the unqualified function, on the alias `live` and on this deploy's version.
   * Lambda keeps one policy per qualifier and checks the one of the ARN that is invoked, so a
   * policy on the function alone would leave `function:live` and `function:<n>` open to any
   * principal whose own IAM policy allows the invoke (infra/README.md "The function's resource
   * policies"). The version's policy is retained when the next deploy replaces it, so every
   * published (and retained) version keeps it.
   */
  private restrictInvocationToApi(stage: Stage): [CfnResourcePolicy, CfnResourcePolicy, CfnResourcePolicy] {
    const sourceArns = ROUTES.map((route) => this.api.arnForExecuteApi(route.method, route.path, stage));
    const policyFor = (id: string, arn: string, directInvokerRoleArns: readonly string[] = []) =>
      new CfnResourcePolicy(this, id, {
        resourceArn: arn,
        policyDocument: functionInvokePolicy({ functionArn: arn, sourceArns, directInvokerRoleArns }),
      });
    // The pre-traffic hook invokes this version directly, before it takes traffic: its one exception.
    const hookRoles = this.deployCheck === undefined ? [] : [this.deployCheck.fn.role.roleArn];
    const versionPolicy = policyFor(
      'ClientConfigVersionInvokePolicy',
      this.live.alias.version.functionArn,
      hookRoles,
    );
    // Replaced on every deploy (a new version ARN): keep the old one, which guards the old version.
    versionPolicy.applyRemovalPolicy(RemovalPolicy.RETAIN);
    // The new version is guarded before the alias (and CodeDeploy's hook) can reach it.
    this.live.alias.node.addDependency(versionPolicy);
    return [
      policyFor('ClientConfigInvokePolicy', this.clientConfig.function.functionArn),
      policyFor('ClientConfigLiveInvokePolicy', this.live.alias.functionArn),
      versionPolicy,
    ];
  }

  /** Every alarm, each with a runbook section of the same id in infra/README.md. */
  private createAlarms(alarms: StageAlarms, stage: Stage, config: StageConfig): void {
    const fn = this.clientConfig.function;
    const apiStage = this.api.deploymentStage;
    const timeoutMs = CLIENT_CONFIG_TIMEOUT.toMilliseconds();
    const durationThresholdMs = Math.round(timeoutMs * config.alarms.durationP99OfTimeout);

    alarms.add('function-errors', {
      metric: fn.metricErrors({ period: ALARM_PERIOD, statistic: Stats.SUM }),
      threshold: 1,
      description: 'The client-config function failed (crash or timeout) at least once in 5 minutes.',
    });
    alarms.add('function-throttles', {
      metric: fn.metricThrottles({ period: ALARM_PERIOD, statistic: Stats.SUM }),
      threshold: 1,
      description: 'Lambda throttled the client-config function at least once in 5 minutes.',
    });
    alarms.add('function-duration-p99', {
      metric: fn.metricDuration({ period: ALARM_PERIOD, statistic: Stats.p(99) }),
      threshold: durationThresholdMs,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      description: `Function p99 duration above ${durationThresholdMs} ms (${config.alarms.durationP99OfTimeout * 100}% of its ${timeoutMs} ms timeout) in 2 of 3 five-minute periods.`,
    });
    alarms.add('api-5xx-rate', {
      metric: apiStage.metricServerError({ period: ALARM_PERIOD, statistic: Stats.AVERAGE }),
      threshold: config.alarms.apiServerErrorRate,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      description: `More than ${config.alarms.apiServerErrorRate * 100}% of API requests answered 5XX in 2 of 3 five-minute periods.`,
    });
    alarms.add('api-4xx-rate', {
      metric: apiStage.metricClientError({ period: ALARM_PERIOD, statistic: Stats.AVERAGE }),
      threshold: config.alarms.apiClientErrorRate,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      description: `More than ${config.alarms.apiClientErrorRate * 100}% of API requests answered 4XX (403s from the resource policy included) in 2 of 3 five-minute periods: a policy change may have locked callers out.`,
    });
    alarms.add('api-latency-p99', {
      metric: apiStage.metricLatency({ period: ALARM_PERIOD, statistic: Stats.p(99) }),
      threshold: config.alarms.apiLatencyP99Ms,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      description: `API p99 latency above ${config.alarms.apiLatencyP99Ms} ms in 2 of 3 five-minute periods.`,
    });
    alarms.add(UPSTREAM_AUTH_FAILED_OUTCOME, {
      metric: handlerMetric(stage, REQUEST_OUTCOME_METRIC, Stats.SUM, {
        outcome: UPSTREAM_AUTH_FAILED_OUTCOME,
      }),
      threshold: 1,
      description:
        'Affix rejected our client credentials: the SSM parameters hold a wrong or revoked client ID or secret.',
    });
    alarms.add(UPSTREAM_RATE_LIMITED_OUTCOME, {
      metric: handlerMetric(stage, REQUEST_OUTCOME_METRIC, Stats.SUM, {
        outcome: UPSTREAM_RATE_LIMITED_OUTCOME,
      }),
      threshold: 3,
      description: "Affix rate-limited us at least 3 times in 5 minutes (after the handler's own retries).",
    });
    if (this.syntheticCaller !== undefined) {
      const periodMinutes = 2 * config.syntheticCaller.rateMinutes;
      alarms.add('synthetic-caller', {
        metric: handlerMetric(stage, SYNTHETIC_SUCCESS_METRIC, Stats.SUM).with({
          period: Duration.minutes(periodMinutes),
        }),
        threshold: 1,
        comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: 2,
        // Every run reports 1 or 0, so a failure is data. No data is not breaching: before its first
        // run a new stack would page, and a stopped schedule shows as a gap (infra/README.md).
        treatMissingData: TreatMissingData.NOT_BREACHING,
        description: `The synthetic ${routeKeyOf(SYNTHETIC_ROUTE)} had no success in two ${periodMinutes}-minute periods: credentials, policy, the function or Affix is broken.`,
      });
    }
    addAffixAlarms(alarms, stage, config);
    // Any failed run (a step refused, a crash, a stuck state) alarms; the client keeps a working secret.
    alarms.add('rotation-job', {
      metric: this.secretRotation.fn.function.metricErrors({ period: ALARM_PERIOD, statistic: Stats.SUM }),
      threshold: 1,
      description:
        'A secret rotation run failed: the client still works with the secret SSM holds; see the runbook.',
    });

    // A traffic shift rolls back when the new version errs, answers 5xx, is throttled or slow, or the API fails,
    // each within half the interval: per-minute alarms with literal dimensions (release-alarms.ts).
    const shift = this.live.shift;
    if (shift !== undefined) {
      this.live.rollBackOn(
        addReleaseAlarms(alarms, {
          fn,
          version: this.live.alias.version,
          apiName: this.api.restApiName,
          stageName: stage,
          stage,
          config,
          shift,
          timeoutMs,
        }),
      );
    }
  }

  /** The pre-traffic hook of a canary or linear stage (none with all-at-once). */
  private addDeployCheck(stage: Stage, config: StageConfig): DeployCheck | undefined {
    const group = this.live.deploymentGroup;
    if (group === undefined) return undefined;
    const check = new DeployCheck(this, 'DeployCheck', {
      stage,
      version: this.live.alias.version,
      logRetention: config.logRetention,
    });
    group.addPreHook(check.fn.function);
    Validations.of(group.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${this.getLogicalId(check.fn.function.node.defaultChild as CfnElement)}.Arn>:*]`,
      reason:
        "CDK's grant for a CodeDeploy hook: the deployment group's role invokes the hook function (any qualifier of that one function).",
    });
    return check;
  }
}

/** One JSON object per request; no bodies, headers or query strings. */
function accessLogFormat(): AccessLogFormat {
  return AccessLogFormat.custom(
    JSON.stringify({
      requestId: AccessLogField.contextRequestId(),
      extendedRequestId: AccessLogField.contextExtendedRequestId(),
      requestTime: AccessLogField.contextRequestTime(),
      httpMethod: AccessLogField.contextHttpMethod(),
      resourcePath: AccessLogField.contextResourcePath(),
      status: AccessLogField.contextStatus(),
      protocol: AccessLogField.contextProtocol(),
      responseLength: AccessLogField.contextResponseLength(),
      responseLatency: AccessLogField.contextResponseLatency(),
      integrationLatency: AccessLogField.contextIntegrationLatency(),
      integrationStatus: AccessLogField.contextIntegrationStatus(),
      sourceIp: AccessLogField.contextIdentitySourceIp(),
      userAgent: AccessLogField.contextIdentityUserAgent(),
      caller: AccessLogField.contextIdentityCaller(),
      userArn: AccessLogField.contextIdentityUserArn(),
      accountId: AccessLogField.contextIdentityAccountId(),
      vpceId: '$context.identity.vpceId',
      errorType: AccessLogField.contextErrorResponseType(),
      errorMessage: AccessLogField.contextErrorMessage(),
      xrayTraceId: AccessLogField.contextXrayTraceId(),
    }),
  );
}
