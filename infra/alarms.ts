/**
 * Alarms that reach someone: the stage's SNS topic (e-mail subscriptions from the stage file) and,
 * as further alarm actions, any existing topics it names (a chat integration) and the platform's
 * topic (its ARN read from SSM at deploy). An SNS topic cannot subscribe to another topic, so the
 * alarms publish to each of them directly.
 *
 * Every alarm has an id that is also its runbook section in `infra/README.md`
 * (`test/infra/runbooks.test.ts` checks each has one). Later work adds its alarms with
 * {@link StageAlarms.add} (the secret rotation job: see the README's "rotation job" hook).
 *
 * @example
 * const alarms = new StageAlarms(this, 'Alarms', { stage, config });
 * alarms.add('function-errors', { metric, threshold: 1, description: '...' });
 */
import { ArnFormat, Stack } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  type IAlarmAction,
  type IMetric,
  MathExpression,
  Metric,
  Stats,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Effect, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { StringParameter } from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import {
  DESTINATION_FIELD_DIMENSION,
  DESTINATION_FIELDS,
  type DestinationField,
} from '../functions/contract/telemetry.ts';
import { ALARM_PERIOD } from './alarm-period.ts';
import { METRIC, METRICS_NAMESPACE, SERVICE_NAME } from './service.ts';
import type { Stage, StageConfig } from './stages.ts';
import { BUDGET_ALARM_SHARE } from './throttles.ts';

/** The dimensions `AffixRequests` carries (besides none other): every series has all four. */
export const AFFIX_REQUESTS_DIMENSIONS = ['method', 'outcome', 'service', 'stage'] as const;

/**
 * A CloudWatch Metrics Insights query over every `AffixRequests` series of the stage, whatever
 * its `method` and `outcome` (an outcome is a status or a failure kind: an open set, so a sum of
 * known combinations would miss a new one, and a math alarm may name at most 10 metrics).
 * `groupBy` splits it for a graph; without it, one aggregated series an alarm can watch.
 */
export function affixRequestsQuery(stage: Stage, groupBy: readonly string[] = []): string {
  const schema = `SCHEMA("${METRICS_NAMESPACE}", ${AFFIX_REQUESTS_DIMENSIONS.join(', ')})`;
  const where = `WHERE service = '${SERVICE_NAME}' AND stage = '${stage}'`;
  const group = groupBy.length > 0 ? ` GROUP BY ${groupBy.join(', ')}` : '';
  return `SELECT SUM(${METRIC.affixRequests}) FROM ${schema} ${where}${group}`;
}

/** Affix requests of the stage per alarm period, summed over every method and outcome. */
export function affixRequestsMetric(stage: Stage, groupBy: readonly string[] = []): MathExpression {
  return new MathExpression({
    expression: affixRequestsQuery(stage, groupBy),
    usingMetrics: {},
    period: ALARM_PERIOD,
    label: groupBy.length > 0 ? '' : 'Affix requests',
  });
}

/** The budget alarm's threshold: within 20% of the budget, per period (rounded up). */
export function budgetAlarmThreshold(config: StageConfig): number {
  const periodShare = ALARM_PERIOD.toSeconds() / config.affixBudget.windowSeconds;
  return Math.ceil(config.affixBudget.requests * periodShare * BUDGET_ALARM_SHARE);
}

/** A metric of the function's own (dimensions `service`, `stage` and `extra`), summed per alarm period. */
function countMetric(stage: Stage, metricName: string, extra: Record<string, string> = {}): Metric {
  return new Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service: SERVICE_NAME, stage, ...extra },
    statistic: Stats.SUM,
    period: ALARM_PERIOD,
  });
}

/** What each destination field decides, for the alarm descriptions and the runbooks. */
const DESTINATION_MEANING: Readonly<Record<DestinationField, string>> = {
  webhook_uri: "where Affix sends our employees' data (webhooks)",
  redirect_uris: 'where Affix Connect sends OAuth authorization codes',
};

/** The alarm id of a destination field: `destination-change-webhook-uri`, `destination-change-redirect-uris`. */
function destinationAlarmId(field: DestinationField): string {
  return `destination-change-${field.replaceAll('_', '-')}`;
}

/**
 * One alarm per destination field: any change of it (through the proxy or at Affix) reaches a
 * human, expected or not. Operational, never a rollback alarm: a destination change is no bad release.
 */
function addDestinationAlarms(alarms: StageAlarms, stage: Stage): void {
  for (const field of DESTINATION_FIELDS) {
    alarms.add(destinationAlarmId(field), {
      metric: countMetric(stage, METRIC.destinationChange, { [DESTINATION_FIELD_DIMENSION]: field }),
      threshold: 1,
      description: `${field} of the Affix client changed (a write through the proxy or a change at Affix): it decides ${DESTINATION_MEANING[field]}. Check who changed it and whether it was expected: docs/operations.md "A destination changed".`,
    });
  }
}

/**
 * The Affix client alarms: `affix-budget` (the proxy's Affix requests within 20% of the budget in 5
 * minutes), `outside-change` (any change of the client no write through the proxy explains: a
 * security event) and one `destination-change-*` per destination field (every change of one).
 */
export function addAffixAlarms(alarms: StageAlarms, stage: Stage, config: StageConfig): void {
  const threshold = budgetAlarmThreshold(config);
  alarms.add('affix-budget', {
    metric: affixRequestsMetric(stage),
    threshold,
    description: `The proxy made at least ${threshold} Affix requests in 5 minutes: within ${Math.round((1 - BUDGET_ALARM_SHARE) * 100)}% of Affix's budget of ${config.affixBudget.requests} per ${config.affixBudget.windowSeconds} s; the next requests may get 429.`,
  });
  alarms.add('outside-change', {
    metric: countMetric(stage, METRIC.outsideChange),
    threshold: 1,
    description:
      'The Affix client changed outside the proxy (dashboard, Affix support, or a leaked secret): check webhook_uri first.',
  });
  addDestinationAlarms(alarms, stage);
}

export interface AlarmProps {
  readonly metric: IMetric;
  readonly threshold: number;
  readonly description: string;
  readonly comparisonOperator?: ComparisonOperator;
  readonly evaluationPeriods?: number;
  readonly datapointsToAlarm?: number;
  readonly treatMissingData?: TreatMissingData;
}

export class StageAlarms extends Construct {
  readonly topic: Topic;
  /** Every alarm, by its runbook id. */
  readonly byId: Record<string, Alarm> = {};
  private readonly actions: IAlarmAction[];
  private readonly stage: Stage;

  constructor(scope: Construct, id: string, props: { stage: Stage; config: StageConfig }) {
    super(scope, id);
    this.stage = props.stage;
    const { notifications } = props.config;
    this.topic = new Topic(this, 'Topic', {
      displayName: `${SERVICE_NAME} ${props.stage} alarms`,
      enforceSSL: true,
    });
    const stack = Stack.of(this);
    // A topic with its own policy no longer has the default one, so let CloudWatch alarms of this
    // account publish explicitly.
    this.topic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowCloudWatchAlarmsOfThisAccount',
        effect: Effect.ALLOW,
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: {
            'aws:SourceArn': stack.formatArn({
              service: 'cloudwatch',
              resource: 'alarm',
              resourceName: '*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );
    for (const email of notifications.emails) this.topic.addSubscription(new EmailSubscription(email));

    this.actions = [new SnsAction(this.topic)];
    notifications.topicArns.forEach((arn, index) => {
      this.actions.push(new SnsAction(Topic.fromTopicArn(this, `ExtraTopic${index}`, arn)));
    });
    if (notifications.platformTopicArnParameter !== undefined) {
      const arn = StringParameter.valueForStringParameter(this, notifications.platformTopicArnParameter);
      this.actions.push(new SnsAction(Topic.fromTopicArn(this, 'PlatformTopic', arn)));
    }
  }

  /** Creates alarm `id` (`<service>-<stage>-<id>`), notifying every destination on ALARM and OK. */
  add(id: string, props: AlarmProps): Alarm {
    const alarm = new Alarm(this, id, {
      alarmName: `${SERVICE_NAME}-${this.stage}-${id}`,
      alarmDescription: `${props.description} Runbook: infra/README.md#${id}`,
      metric: props.metric,
      threshold: props.threshold,
      comparisonOperator: props.comparisonOperator ?? ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: props.evaluationPeriods ?? 1,
      datapointsToAlarm: props.datapointsToAlarm ?? props.evaluationPeriods ?? 1,
      treatMissingData: props.treatMissingData ?? TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(...this.actions);
    alarm.addOkAction(...this.actions);
    this.byId[id] = alarm;
    return alarm;
  }
}
