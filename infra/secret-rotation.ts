/**
 * The rotation job's infrastructure: its function (built like every function of ours), its own role,
 * and, when the stage enables it, an EventBridge Scheduler schedule that runs it daily (the job itself
 * rotates only when the secret is `intervalDays` old, and finishes a rotation's grace step the day
 * after it is due). Runnable on demand: `aws lambda invoke --payload '{"force":true}'`.
 *
 * The role is the only one in the stack with `ssm:PutParameter`, on the secret parameter only, and
 * `kms:Encrypt` (customer managed key) for that parameter only. It calls Affix directly, not through
 * API Gateway, so it belongs to no caller group and gets no `execute-api:Invoke`.
 */

import { fileURLToPath } from 'node:url';
import { Duration, Stack } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Effect, Policy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Schedule, ScheduleExpression } from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import { Construct } from 'constructs';
import { schedulerInvokeRole } from './scheduler-role.ts';
import { API_GATEWAY_INTEGRATION_LIMIT } from './service.ts';
import { ServiceFunction } from './service-function.ts';
import type { Stage, StageConfig } from './stages.ts';

export const SECRET_ROTATION_ENTRY = fileURLToPath(
  new URL('../functions/secret-rotation/handler.ts', import.meta.url),
);

/**
 * How much earlier than `graceSeconds` after the secret was stored a scheduled run may retire the old
 * one. The daily run that stored it started its day a few seconds before `LastModifiedDate`, so the
 * run a day later sees slightly less than 86,400 s; without this slack it would wait another day.
 * Ten minutes cover the scheduler's delivery and a whole run (at most its 28 s timeout).
 */
export const GRACE_SCHEDULE_SLACK_SECONDS = 600;

/** `ROTATION_GRACE_SECONDS`: the stage's grace, less the schedule's slack (never below 0). */
export function graceForSchedule(graceSeconds: number): number {
  return Math.max(0, graceSeconds - GRACE_SCHEDULE_SLACK_SECONDS);
}

/** A run that waited this long in Lambda's async queue is dropped: the next daily run resumes. */
export const ROTATION_MAX_EVENT_AGE = Duration.hours(1);

/** What a stage file may leave out: off (runnable on demand), 30-day interval, 24 h grace. */
export const ROTATION_DEFAULTS = { enabled: false, intervalDays: 30, graceSeconds: 86_400 } as const;

export interface RotationSettings {
  readonly enabled: boolean;
  readonly intervalDays: number;
  readonly graceSeconds: number;
}

export interface SecretRotationProps {
  readonly stage: Stage;
  readonly config: StageConfig;
  /** The client-config function's environment: the same parameters, table and Affix URL. */
  readonly environment: Readonly<Record<string, string>>;
  readonly stateTable: ITable;
  readonly stateTableActions: readonly string[];
  /** Conditions of the state-table grant (the partition key its items share). */
  readonly stateTableConditions: Readonly<Record<string, unknown>>;
  /**
   * The GetParameters statements of the client-config function (reading the three parameters). The
   * job needs the ETag key too: its Affix exchanges refresh the shared view (an ETag) and the last
   * state seen (digests keyed from the ETag key), and the credentials load all three in one call.
   */
  readonly readCredentials: readonly PolicyStatement[];
  readonly parameterArn: (name: string) => string;
  readonly kmsKeyArn: string | undefined;
}

export class SecretRotation extends Construct {
  readonly fn: ServiceFunction;
  readonly schedule: Schedule | undefined;
  readonly settings: RotationSettings;

  constructor(scope: Construct, id: string, props: SecretRotationProps) {
    super(scope, id);
    const settings = { ...ROTATION_DEFAULTS, ...props.config.rotation };
    this.settings = settings;
    const secretArn = props.parameterArn(props.config.parameters.clientSecret);
    this.fn = new ServiceFunction(this, 'Function', {
      entry: SECRET_ROTATION_ENTRY,
      description: `Rotates the Affix client secret (${props.stage})`,
      environment: {
        ...props.environment,
        ROTATION_GRACE_SECONDS: String(graceForSchedule(settings.graceSeconds)),
        ROTATION_INTERVAL_DAYS: String(settings.intervalDays),
        ...(props.kmsKeyArn === undefined ? {} : { SECRET_KMS_KEY_ID: props.kmsKeyArn }),
      },
      logRetention: props.config.logRetention,
      // Several Affix calls in a row, each within the upstream deadline; a run cut short resumes.
      timeout: API_GATEWAY_INTEGRATION_LIMIT,
      upstreamDeadline: Duration.millis(props.config.upstream.deadlineMs),
      // One run at a time: two runs would race each other's steps and spend Affix budget twice.
      reservedConcurrentExecutions: 1,
    });
    // EventBridge Scheduler invokes asynchronously: without this Lambda retries a failed run twice
    // (three runs in about three minutes, each spending Affix budget the throttle plan reserves once).
    this.fn.function.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: ROTATION_MAX_EVENT_AGE });

    const statements = [
      ...props.readCredentials,
      new PolicyStatement({
        sid: 'RotateTheClientSecretParameter',
        effect: Effect.ALLOW,
        actions: ['ssm:GetParameterHistory', 'ssm:PutParameter'],
        resources: [secretArn],
      }),
      new PolicyStatement({
        sid: 'UseStateTableItems',
        effect: Effect.ALLOW,
        actions: [...props.stateTableActions],
        resources: [props.stateTable.tableArn],
        conditions: { ...props.stateTableConditions },
      }),
    ];
    if (props.kmsKeyArn !== undefined) {
      statements.push(
        new PolicyStatement({
          sid: 'EncryptTheClientSecretViaSsm',
          effect: Effect.ALLOW,
          actions: ['kms:Encrypt'],
          resources: [props.kmsKeyArn],
          conditions: {
            StringEquals: {
              'kms:ViaService': `ssm.${Stack.of(this).region}.amazonaws.com`,
              'kms:EncryptionContext:PARAMETER_ARN': secretArn,
            },
          },
        }),
      );
    }
    this.fn.role.attachInlinePolicy(new Policy(this, 'RotateSecret', { statements }));

    if (settings.enabled) {
      const schedulerRole = schedulerInvokeRole(this, {
        fn: this.fn.function,
        job: `the secret rotation of ${props.stage}`,
        policyId: 'InvokeSecretRotation',
        sid: 'InvokeTheSecretRotation',
      });
      this.schedule = new Schedule(this, 'Schedule', {
        description: `Daily check of the ${props.stage} Affix secret: rotates it every ${settings.intervalDays} days`,
        schedule: ScheduleExpression.rate(Duration.days(1)),
        // Not retried by the scheduler nor by Lambda (above): the next day's run resumes whatever
        // this one left half done.
        target: new LambdaInvoke(this.fn.function, {
          retryAttempts: 0,
          role: schedulerRole.withoutPolicyUpdates(),
        }),
      });
    }
  }
}
