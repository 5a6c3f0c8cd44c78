/**
 * The alarms a CodeDeploy traffic shift rolls back on: the new version's own traffic and the API's
 * answers, per minute, each able to fire within half the shift interval.
 *
 * They must not reference anything that depends on the alias `live` (the API's methods, its
 * deployment and stage): the alias's `UpdatePolicy` names the deployment group, the group names
 * these alarms, and CloudFormation counts references inside `UpdatePolicy` as dependencies, so such
 * a reference closes a cycle (aws-cdk's own alias metrics, in `aws-lambda/lib/alias.ts`, use
 * literal dimensions for the same reason). The API's dimensions are therefore its literal name and stage name, and the
 * version's are the function's name plus the version number (or, for the handler's own
 * `ServerErrorAnswers`, the service, the stage and the version number).
 *
 * @example
 * const alarms = addReleaseAlarms(stageAlarms, { fn, version, apiName, stage, config, shift });
 * live.rollBackOn(alarms);
 */
import { Duration } from 'aws-cdk-lib';
import { type Alarm, ComparisonOperator, Metric, Stats, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction, IVersion } from 'aws-cdk-lib/aws-lambda';
import type { StageAlarms } from './alarms.ts';
import { LIVE_ALIAS_NAME } from './deployment.ts';
import { EXECUTED_VERSION_DIMENSION, METRIC, METRICS_NAMESPACE, SERVICE_NAME } from './service.ts';
import type { Stage, StageConfig, TrafficShift } from './stages.ts';

/** Lambda publishes metrics per minute; a rollback alarm looks at each minute. */
export const RELEASE_ALARM_PERIOD = Duration.minutes(1);

/** How many 1-minute periods a rollback alarm looks at, and how many of them must breach. */
export interface ReleaseEvaluation {
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
}

/**
 * At most half the shift interval of periods (so the alarm can fire before the next shift), at most
 * three; two breaching minutes out of them where there are two, else one.
 */
export function releaseEvaluation(intervalMinutes: number): ReleaseEvaluation {
  const evaluationPeriods = Math.max(1, Math.min(3, Math.floor(intervalMinutes / 2)));
  return { evaluationPeriods, datapointsToAlarm: Math.min(2, evaluationPeriods) };
}

export interface ReleaseAlarmProps {
  readonly fn: IFunction;
  /** The version this deploy publishes (the one CodeDeploy shifts traffic to). */
  readonly version: IVersion;
  /** The REST API's name, a literal (`affix-webhook-config-<stage>`). */
  readonly apiName: string;
  /** The API stage's name, a literal. */
  readonly stageName: string;
  /** The stage: the `stage` dimension of the handler's own metrics (its `STAGE`). */
  readonly stage: Stage;
  readonly config: StageConfig;
  readonly shift: TrafficShift;
  /** The function's timeout in milliseconds, for the duration threshold. */
  readonly timeoutMs: number;
}

/**
 * `release-errors`, `release-throttles`, `release-duration-p99` on the new version's invocations
 * through `live` (`ExecutedVersion`), `release-5xx-answers` on the new version's own 5xx answers
 * (problem documents are no Lambda errors), and `release-api-5xx-rate` on the API's answers.
 */
export function addReleaseAlarms(alarms: StageAlarms, props: ReleaseAlarmProps): Alarm[] {
  const { evaluationPeriods, datapointsToAlarm } = releaseEvaluation(props.shift.intervalMinutes);
  const aliasResource = `${props.fn.functionName}:${LIVE_ALIAS_NAME}`;
  const versionMetric = (metricName: string, statistic: string) =>
    new Metric({
      namespace: 'AWS/Lambda',
      metricName,
      dimensionsMap: {
        FunctionName: props.fn.functionName,
        Resource: aliasResource,
        ExecutedVersion: props.version.version,
      },
      statistic,
      period: RELEASE_ALARM_PERIOD,
    });
  const durationThresholdMs = Math.round(props.timeoutMs * props.config.alarms.durationP99OfTimeout);
  const window = `${datapointsToAlarm} of ${evaluationPeriods} one-minute periods`;
  return [
    alarms.add('release-errors', {
      metric: versionMetric('Errors', Stats.SUM),
      threshold: 1,
      description:
        'The newest version (live, or taking traffic in a deploy) failed (crash or timeout) at least once in a minute; during a deploy CodeDeploy rolls back.',
    }),
    // A throttled invocation never ran, so it has no ExecutedVersion: watch the alias as a whole.
    alarms.add('release-throttles', {
      metric: new Metric({
        namespace: 'AWS/Lambda',
        metricName: 'Throttles',
        dimensionsMap: { FunctionName: props.fn.functionName, Resource: aliasResource },
        statistic: Stats.SUM,
        period: RELEASE_ALARM_PERIOD,
      }),
      threshold: 1,
      description: `Lambda throttled invocations of the alias ${LIVE_ALIAS_NAME} in a minute; during a deploy CodeDeploy rolls back.`,
    }),
    alarms.add('release-duration-p99', {
      metric: versionMetric('Duration', Stats.p(99)),
      threshold: durationThresholdMs,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods,
      datapointsToAlarm,
      description: `The newest version has a p99 duration above ${durationThresholdMs} ms in ${window}; during a deploy CodeDeploy rolls back.`,
    }),
    // A 503 or 502 problem document is a successful invocation to Lambda: the handler counts its own
    // 5xx answers by version (adapters/telemetry.ts), with the service and stage as default dimensions.
    alarms.add('release-5xx-answers', {
      metric: new Metric({
        namespace: METRICS_NAMESPACE,
        metricName: METRIC.serverErrorAnswers,
        dimensionsMap: {
          service: SERVICE_NAME,
          stage: props.stage,
          [EXECUTED_VERSION_DIMENSION]: props.version.version,
        },
        statistic: Stats.SUM,
        period: RELEASE_ALARM_PERIOD,
      }),
      threshold: 1,
      evaluationPeriods,
      datapointsToAlarm,
      treatMissingData: TreatMissingData.NOT_BREACHING,
      description: `The newest version answered 500 or above (a problem document, not a crash) in ${window}; during a deploy CodeDeploy rolls back.`,
    }),
    alarms.add('release-api-5xx-rate', {
      metric: new Metric({
        namespace: 'AWS/ApiGateway',
        metricName: '5XXError',
        dimensionsMap: { ApiName: props.apiName, Stage: props.stageName },
        statistic: Stats.AVERAGE,
        period: RELEASE_ALARM_PERIOD,
      }),
      threshold: props.config.alarms.apiServerErrorRate,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods,
      datapointsToAlarm,
      description: `More than ${props.config.alarms.apiServerErrorRate * 100}% of API requests answered 5XX in ${window}; during a deploy CodeDeploy rolls back.`,
    }),
  ];
}
