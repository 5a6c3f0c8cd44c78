/**
 * One CloudWatch dashboard per stage: traffic and answers, latency, Affix, the write lock, the
 * synthetic caller, changes of the client's destinations, and the state of every alarm.
 *
 * Affix's budget is shown as the handler spends it: Affix requests by method and outcome, shared
 * cache hits and answers from the shared back-off. Rotation state has no widget yet: a text widget
 * says so, so nobody looks for it in vain.
 *
 * @example
 * createDashboard(this, { stage, api, fn: clientConfig.function, alarms: Object.values(alarms.byId) });
 */
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import {
  AlarmStatusWidget,
  Dashboard,
  GraphWidget,
  type IAlarm,
  Metric,
  Stats,
  TextWidget,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { PROBLEMS } from '../functions/contract/problems.ts';
import { routeKeyOfOperation } from '../functions/contract/routes.ts';
import { DESTINATION_FIELD_DIMENSION, DESTINATION_FIELDS } from '../functions/contract/telemetry.ts';
import { SYNTHETIC_LATENCY_METRIC, SYNTHETIC_SUCCESS_METRIC } from '../functions/synthetic-caller/check.ts';
import { ALARM_PERIOD } from './alarm-period.ts';
import { affixRequestsMetric } from './alarms.ts';
import {
  METRIC,
  METRICS_NAMESPACE,
  REQUEST_OUTCOME_METRIC,
  SERVICE_NAME,
  UPSTREAM_LATENCY_METRIC,
  WRITE_LOCK_WAIT_METRIC,
} from './service.ts';
import type { Stage } from './stages.ts';

/** Every `outcome` the handler reports: `success` and each problem slug. */
export const OUTCOMES: readonly string[] = ['success', ...Object.keys(PROBLEMS)];

/** What the dashboard cannot show yet, in words. */
export const MISSING_WIDGETS =
  '**Not shown yet:** rotation state (see the `rotation-job` alarm). See infra/README.md "Dashboard".';

export function handlerMetric(
  stage: Stage,
  metricName: string,
  statistic: string,
  extra: Record<string, string> = {},
) {
  return new Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service: SERVICE_NAME, stage, ...extra },
    statistic,
    period: ALARM_PERIOD,
  });
}

export function createDashboard(
  scope: Construct,
  props: { stage: Stage; api: RestApi; fn: IFunction; alarms: readonly IAlarm[] },
): Dashboard {
  const { stage, api, fn } = props;
  const apiStage = api.deploymentStage;
  const dashboard = new Dashboard(scope, 'Dashboard', {
    dashboardName: `${SERVICE_NAME}-${stage}`,
  });
  dashboard.addWidgets(
    new GraphWidget({
      title: 'Requests and API answers',
      left: [
        apiStage.metricCount({ statistic: Stats.SUM, period: ALARM_PERIOD }),
        apiStage.metricClientError({ statistic: Stats.SUM, period: ALARM_PERIOD }),
        apiStage.metricServerError({ statistic: Stats.SUM, period: ALARM_PERIOD }),
      ],
      width: 12,
    }),
    new GraphWidget({
      title: 'Outcomes by slug (RequestOutcome)',
      left: OUTCOMES.map((outcome) =>
        handlerMetric(stage, REQUEST_OUTCOME_METRIC, Stats.SUM, { outcome }).with({ label: outcome }),
      ),
      stacked: true,
      width: 12,
    }),
  );
  dashboard.addWidgets(
    new GraphWidget({
      title: 'API latency p50 / p99 (ms)',
      left: [
        apiStage.metricLatency({ statistic: Stats.p(50), period: ALARM_PERIOD, label: 'p50' }),
        apiStage.metricLatency({ statistic: Stats.p(99), period: ALARM_PERIOD, label: 'p99' }),
      ],
      width: 8,
    }),
    new GraphWidget({
      title: 'Affix upstream latency p50 / p99 (ms)',
      left: [
        handlerMetric(stage, UPSTREAM_LATENCY_METRIC, Stats.p(50)).with({ label: 'p50' }),
        handlerMetric(stage, UPSTREAM_LATENCY_METRIC, Stats.p(99)).with({ label: 'p99' }),
      ],
      width: 8,
    }),
    new GraphWidget({
      title: 'Write-lock waits (ms)',
      left: [
        handlerMetric(stage, WRITE_LOCK_WAIT_METRIC, Stats.p(50)).with({ label: 'p50' }),
        handlerMetric(stage, WRITE_LOCK_WAIT_METRIC, Stats.MAXIMUM).with({ label: 'max' }),
      ],
      width: 8,
    }),
  );
  dashboard.addWidgets(
    new GraphWidget({
      title: 'Function: errors, throttles, duration p99 (ms)',
      left: [
        fn.metricErrors({ statistic: Stats.SUM, period: ALARM_PERIOD }),
        fn.metricThrottles({ statistic: Stats.SUM, period: ALARM_PERIOD }),
      ],
      right: [fn.metricDuration({ statistic: Stats.p(99), period: ALARM_PERIOD })],
      width: 12,
    }),
    new GraphWidget({
      title: 'Synthetic caller: successes and latency',
      left: [handlerMetric(stage, SYNTHETIC_SUCCESS_METRIC, Stats.SUM).with({ label: 'successes' })],
      right: [handlerMetric(stage, SYNTHETIC_LATENCY_METRIC, Stats.MAXIMUM).with({ label: 'latency max' })],
      width: 12,
    }),
  );
  dashboard.addWidgets(
    new GraphWidget({
      title: 'Affix requests by method and outcome (budget: see the affix-budget alarm)',
      left: [affixRequestsMetric(stage, ['method', 'outcome'])],
      stacked: true,
      width: 8,
    }),
    new GraphWidget({
      title: 'Shared read cache: hits and GETs (ClientCacheHit)',
      left: [
        handlerMetric(stage, METRIC.clientCacheHit, Stats.SUM).with({ label: 'hits' }),
        handlerMetric(stage, METRIC.clientCacheHit, Stats.SAMPLE_COUNT).with({
          label: routeKeyOfOperation('getClient'),
        }),
      ],
      width: 8,
    }),
    new GraphWidget({
      title: 'Answered from the shared back-off (RateLimitBackoff)',
      left: [handlerMetric(stage, METRIC.rateLimitBackoff, Stats.SUM).with({ label: 'back-off answers' })],
      width: 8,
    }),
  );
  dashboard.addWidgets(
    new GraphWidget({
      title: 'Client changes: destinations by field (DestinationChange) and outside changes (OutsideChange)',
      left: [
        ...DESTINATION_FIELDS.map((field) =>
          handlerMetric(stage, METRIC.destinationChange, Stats.SUM, {
            [DESTINATION_FIELD_DIMENSION]: field,
          }).with({ label: field }),
        ),
        handlerMetric(stage, METRIC.outsideChange, Stats.SUM).with({ label: 'outside changes' }),
      ],
      width: 24,
    }),
  );
  dashboard.addWidgets(
    new AlarmStatusWidget({ title: 'Alarms', alarms: [...props.alarms], width: 18 }),
    new TextWidget({ markdown: MISSING_WIDGETS, width: 6, height: 6 }),
  );
  return dashboard;
}
