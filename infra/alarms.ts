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
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Effect, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { StringParameter } from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { SERVICE_NAME } from './service.ts';
import type { Stage, StageConfig } from './stages.ts';

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
