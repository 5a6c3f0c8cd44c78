/**
 * The synthetic caller's infrastructure: its function (built like every function of ours), an
 * EventBridge Scheduler schedule that runs it every `rateMinutes`, and its role, which may call
 * `GET /client` of this API stage and nothing else.
 *
 * The role is made a member of `readers` by the stack (see `callersWithSyntheticCaller`), so the
 * API's resource policy lets it GET and its per-route denies keep it from PATCH and PUT whatever
 * its own policy says.
 *
 * @example
 * const synthetic = new SyntheticCaller(this, 'SyntheticCaller', { stage, config, logRetention });
 * synthetic.connect(api); // after the API exists: URL and invoke permission
 */
import { Duration, Stack } from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import { Effect, Policy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Schedule, ScheduleExpression } from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import { Construct } from 'constructs';
import { routeKeyOf, routeOf } from '../functions/contract/routes.ts';
import { schedulerInvokeRole } from './scheduler-role.ts';
import { SYNTHETIC_CALLER_ENTRY, SYNTHETIC_CALLER_TIMEOUT, SYNTHETIC_CLIENT_TIMEOUT } from './service.ts';
import { ServiceFunction } from './service-function.ts';
import type { CallerPrincipals, Stage } from './stages.ts';

/** The one route the synthetic caller calls. */
export const SYNTHETIC_ROUTE = routeOf('getClient');

export interface SyntheticCallerProps {
  readonly stage: Stage;
  readonly rateMinutes: number;
  readonly logRetention: RetentionDays;
}

export class SyntheticCaller extends Construct {
  readonly fn: ServiceFunction;
  readonly schedule: Schedule;
  private readonly stage: Stage;

  constructor(scope: Construct, id: string, props: SyntheticCallerProps) {
    super(scope, id);
    this.stage = props.stage;
    this.fn = new ServiceFunction(this, 'Function', {
      entry: SYNTHETIC_CALLER_ENTRY,
      description: `Synthetic ${routeKeyOf(SYNTHETIC_ROUTE)} through the API, every ${props.rateMinutes} min (${props.stage})`,
      environment: {
        STAGE: props.stage,
        SYNTHETIC_TIMEOUT_MS: String(SYNTHETIC_CLIENT_TIMEOUT.toMilliseconds()),
      },
      logRetention: props.logRetention,
      timeout: SYNTHETIC_CALLER_TIMEOUT,
      upstreamDeadline: SYNTHETIC_CLIENT_TIMEOUT,
      memorySize: 256,
    });
    // Scheduler invokes asynchronously: Lambda must not retry a failed check (two more Affix reads),
    // and a check older than one interval is stale: the next one is due.
    this.fn.function.configureAsyncInvoke({
      retryAttempts: 0,
      maxEventAge: Duration.minutes(props.rateMinutes),
    });
    // Our own scheduler role, invoking exactly this function (the target's default grant adds
    // `<function>:*`, every version and alias, which the schedule does not need).
    const schedulerRole = schedulerInvokeRole(this, {
      fn: this.fn.function,
      job: `the synthetic caller of ${props.stage}`,
      policyId: 'InvokeSyntheticCaller',
      sid: 'InvokeTheSyntheticCaller',
    });
    this.schedule = new Schedule(this, 'Schedule', {
      description: `Runs the synthetic caller of ${props.stage}`,
      schedule: ScheduleExpression.rate(Duration.minutes(props.rateMinutes)),
      // A missed run is not worth replaying: the next one comes within minutes.
      target: new LambdaInvoke(this.fn.function, {
        retryAttempts: 0,
        role: schedulerRole.withoutPolicyUpdates(),
      }),
    });
  }

  /** The caller groups with this role added to `readers`. */
  withReader(callers: CallerPrincipals): CallerPrincipals {
    return {
      ...callers,
      readers: { ...callers.readers, roleArns: [...callers.readers.roleArns, this.fn.role.roleArn] },
    };
  }

  /** Points the function at the API stage and lets its role call `GET /client` there only. */
  connect(api: RestApi): void {
    this.fn.function.addEnvironment('CLIENT_CONFIG_URL', api.url);
    this.fn.function.addEnvironment('CLIENT_CONFIG_REGION', Stack.of(this).region);
    this.fn.role.attachInlinePolicy(
      new Policy(this, 'InvokeGetClient', {
        statements: [
          new PolicyStatement({
            sid: 'InvokeGetClientOnly',
            effect: Effect.ALLOW,
            actions: ['execute-api:Invoke'],
            resources: [api.arnForExecuteApi(SYNTHETIC_ROUTE.method, SYNTHETIC_ROUTE.path, this.stage)],
          }),
        ],
      }),
    );
  }
}
