/**
 * One environment of the proxy: an IAM-authorized REST API in front of the client-config function
 * with per-route grants for each caller group, a function only API Gateway may invoke, the state
 * table, the function's least-privilege access to its SSM parameters and the table, API Gateway's
 * own answers as problem documents, and the alarms that page us.
 *
 * The stack reads the parameters at run time; it never creates secret values.
 *
 * @example
 * const app = new App();
 * new WebhookConfigStack(app, stackNameFor('dev'), { stage: 'dev', config: stages.dev });
 */
import {
  ArnFormat,
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
  EndpointType,
  LogGroupLogDestination,
  MethodLoggingLevel,
  RestApi,
} from 'aws-cdk-lib/aws-apigateway';
import {
  Alarm,
  ComparisonOperator,
  type IMetric,
  Metric,
  Stats,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { InterfaceVpcEndpoint } from 'aws-cdk-lib/aws-ec2';
import { Effect, Policy, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { CfnResourcePolicy } from 'aws-cdk-lib/aws-lambda';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import { ROUTES } from '../functions/contract/routes.ts';
import { functionInvokePolicy } from './function-policy.ts';
import { addGatewayResponses } from './gateway-responses.ts';
import { invokePolicy } from './invoke-policy.ts';
import {
  CLIENT_CONFIG_ENTRY,
  CLIENT_CONFIG_TIMEOUT,
  METRICS_NAMESPACE,
  REQUEST_OUTCOME_METRIC,
  SERVICE_NAME,
  UPSTREAM_AUTH_FAILED_OUTCOME,
} from './service.ts';
import { ServiceFunction } from './service-function.ts';
import { type Stage, type StageConfig, validateStageConfig } from './stages.ts';

/** The routes of the API (every one `AWS_IAM`), from the contract. */
export { ROUTES };

/** The state table's key and TTL attributes (the handler's contract, issue 9). */
export const STATE_TABLE_KEY = { partitionKey: 'pk', sortKey: 'sk', timeToLive: 'ttl' } as const;

/**
 * Exactly the item actions the write lock uses (conditional PutItem to take the lease, conditional
 * DeleteItem to give it back, GetItem to learn a holder's expiry where the refusal carries no item):
 * no UpdateItem, query, scan, batch or index access.
 */
export const STATE_TABLE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'] as const;

/** Alarm evaluation period. */
export const ALARM_PERIOD = Duration.minutes(5);

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
    UPSTREAM_ATTEMPT_TIMEOUT_MS: String(config.upstream.attemptTimeoutMs),
    UPSTREAM_DEADLINE_MS: String(config.upstream.deadlineMs),
    POWERTOOLS_LOG_LEVEL: config.logLevel,
  };
}

export interface WebhookConfigStackProps extends Omit<StackProps, 'env' | 'terminationProtection'> {
  readonly stage: Stage;
  /** Usually `stages[stage]`; validated before anything is built. */
  readonly config: StageConfig;
  /** Handler module; defaults to `functions/client-config/handler.ts`. */
  readonly entry?: string;
}

export class WebhookConfigStack extends Stack {
  readonly api: RestApi;
  readonly clientConfig: ServiceFunction;
  readonly stateTable: Table;
  readonly functionPolicy: CfnResourcePolicy;
  readonly alarmTopic: Topic;
  readonly alarms: Readonly<Record<string, Alarm>>;

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

    this.stateTable = this.createStateTable(config);
    this.clientConfig = new ServiceFunction(this, 'ClientConfig', {
      entry: props.entry ?? CLIENT_CONFIG_ENTRY,
      description: `Reads and updates our Affix API client (${stage})`,
      environment: functionEnvironment(stage, config, this.stateTable.tableName),
      logRetention: config.logRetention,
      timeout: CLIENT_CONFIG_TIMEOUT,
      upstreamDeadline: Duration.millis(config.upstream.deadlineMs),
    });
    this.grantReadCredentials(config);
    this.grantStateTable();

    this.api = this.createApi(stage, config);
    this.functionPolicy = this.restrictInvocationToApi(stage);
    this.alarmTopic = this.createAlarmTopic(stage, config);
    this.alarms = this.createAlarms(stage, config);

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
  private grantReadCredentials(config: StageConfig): void {
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
    if (config.parameterKmsKeyArn !== undefined) {
      statements.push(
        new PolicyStatement({
          sid: 'DecryptAffixCredentialParametersViaSsm',
          effect: Effect.ALLOW,
          actions: ['kms:Decrypt'],
          resources: [config.parameterKmsKeyArn],
          conditions: { StringEquals: { 'kms:ViaService': `ssm.${this.region}.amazonaws.com` } },
        }),
      );
    }
    this.clientConfig.role.attachInlinePolicy(new Policy(this, 'ReadAffixCredentials', { statements }));
  }

  private createApi(stage: Stage, config: StageConfig): RestApi {
    const vpcEndpointIds = config.vpcEndpointIds ?? [];
    const accessLogs = new LogGroup(this, 'ApiAccessLogs', { retention: config.logRetention });
    const policy = invokePolicy(config.callers, vpcEndpointIds);

    const api = new RestApi(this, 'Api', {
      restApiName: `${SERVICE_NAME}-${stage}`,
      description: `Affix webhook config proxy (${stage}); every method requires SigV4 (AWS_IAM)`,
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
      deployOptions: {
        stageName: stage,
        throttlingRateLimit: config.throttling.rateLimit,
        throttlingBurstLimit: config.throttling.burstLimit,
        accessLogDestination: new LogGroupLogDestination(accessLogs),
        accessLogFormat: accessLogFormat(),
        metricsEnabled: true,
        // Execution logs for failures only, never request or response bodies.
        loggingLevel: MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        tracingEnabled: true,
      },
    });

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
      path: `2015-03-31/functions/${this.clientConfig.function.functionArn}/invocations`,
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

  /** Only API Gateway, for one of this API's methods on this stage, may invoke the function. */
  private restrictInvocationToApi(stage: Stage): CfnResourcePolicy {
    const sourceArns = ROUTES.map((route) => this.api.arnForExecuteApi(route.method, route.path, stage));
    return new CfnResourcePolicy(this, 'ClientConfigInvokePolicy', {
      resourceArn: this.clientConfig.function.functionArn,
      policyDocument: functionInvokePolicy({
        functionArn: this.clientConfig.function.functionArn,
        sourceArns,
        sourceAccount: this.account,
      }),
    });
  }

  private createAlarmTopic(stage: Stage, config: StageConfig): Topic {
    const topic = new Topic(this, 'AlarmTopic', {
      displayName: `${SERVICE_NAME} ${stage} alarms`,
      enforceSSL: true,
    });
    // A topic with its own policy no longer has the default one, so let CloudWatch alarms of this
    // account publish explicitly.
    topic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowCloudWatchAlarmsOfThisAccount',
        effect: Effect.ALLOW,
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': this.account },
          ArnLike: {
            'aws:SourceArn': this.formatArn({
              service: 'cloudwatch',
              resource: 'alarm',
              resourceName: '*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );
    if (config.alarmEmail !== undefined) {
      topic.addSubscription(new EmailSubscription(config.alarmEmail));
    }
    return topic;
  }

  private createAlarms(stage: Stage, config: StageConfig): Record<string, Alarm> {
    const fn = this.clientConfig.function;
    const apiStage = this.api.deploymentStage;
    const action = new SnsAction(this.alarmTopic);
    const alarm = (
      id: string,
      props: {
        metric: IMetric;
        threshold: number;
        description: string;
        comparisonOperator?: ComparisonOperator;
        evaluationPeriods?: number;
        datapointsToAlarm?: number;
      },
    ): Alarm => {
      const created = new Alarm(this, id, {
        alarmName: `${SERVICE_NAME}-${stage}-${id}`,
        alarmDescription: props.description,
        metric: props.metric,
        threshold: props.threshold,
        comparisonOperator: props.comparisonOperator ?? ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: props.evaluationPeriods ?? 1,
        datapointsToAlarm: props.datapointsToAlarm ?? 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      created.addAlarmAction(action);
      created.addOkAction(action);
      return created;
    };

    return {
      functionErrors: alarm('function-errors', {
        metric: fn.metricErrors({ period: ALARM_PERIOD, statistic: Stats.SUM }),
        threshold: 1,
        description: 'The client-config function failed (crash or timeout) at least once in 5 minutes.',
      }),
      functionThrottles: alarm('function-throttles', {
        metric: fn.metricThrottles({ period: ALARM_PERIOD, statistic: Stats.SUM }),
        threshold: 1,
        description: 'Lambda throttled the client-config function at least once in 5 minutes.',
      }),
      apiServerErrorRate: alarm('api-5xx-rate', {
        metric: apiStage.metricServerError({ period: ALARM_PERIOD, statistic: Stats.AVERAGE }),
        threshold: config.alarms.apiServerErrorRate,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        description: `More than ${config.alarms.apiServerErrorRate * 100}% of API requests answered 5XX in 2 of 3 five-minute periods.`,
      }),
      apiLatencyP99: alarm('api-latency-p99', {
        metric: apiStage.metricLatency({ period: ALARM_PERIOD, statistic: Stats.p(99) }),
        threshold: config.alarms.apiLatencyP99Ms,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        description: `API p99 latency above ${config.alarms.apiLatencyP99Ms} ms in 2 of 3 five-minute periods.`,
      }),
      upstreamAuthFailed: alarm('upstream-auth-failed', {
        metric: new Metric({
          namespace: METRICS_NAMESPACE,
          metricName: REQUEST_OUTCOME_METRIC,
          dimensionsMap: { service: SERVICE_NAME, stage, outcome: UPSTREAM_AUTH_FAILED_OUTCOME },
          statistic: Stats.SUM,
          period: ALARM_PERIOD,
        }),
        threshold: 1,
        description:
          'Affix rejected our client credentials: the SSM parameters hold a wrong or revoked client ID or secret.',
      }),
    };
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
