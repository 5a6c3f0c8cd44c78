/**
 * One construct decides how our functions are built: Node.js 22 on arm64, bundled by the local
 * esbuild with the options of `bundling.ts`, an explicit log group with retention, no X-Ray
 * tracing (infra/README.md "Tracing"), a role that can write its own log group and nothing else, and a timeout that fits
 * between the handler's own deadline and API Gateway's 29 s integration limit.
 *
 * Permissions beyond logs and tracing are granted by the caller through separate policies
 * attached to {@link ServiceFunction.role}.
 *
 * @example
 * const fn = new ServiceFunction(this, 'ClientConfig', {
 *   entry: CLIENT_CONFIG_ENTRY,
 *   description: 'Reads and updates our Affix API client',
 *   environment: { STAGE: 'dev' },
 *   logRetention: RetentionDays.ONE_MONTH,
 *   timeout: Duration.seconds(15),
 *   upstreamDeadline: Duration.seconds(10),
 * });
 * fn.role.attachInlinePolicy(new Policy(this, 'ReadParameters', { statements: [statement] }));
 */
import { type Duration, Validations } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing, type VersionOptions } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { nodejsBundling, SOURCE_MAP_NODE_OPTIONS } from './bundling.ts';
import {
  API_GATEWAY_INTEGRATION_LIMIT,
  DEPS_LOCK_FILE,
  METRICS_NAMESPACE,
  REPO_ROOT,
  SERVICE_NAME,
} from './service.ts';

export const FUNCTION_RUNTIME = Runtime.NODEJS_22_X;
export const FUNCTION_ARCHITECTURE = Architecture.ARM_64;
/** Extra CPU comes with memory: 512 MB keeps the cold-start import of the bundle short. */
export const DEFAULT_MEMORY_SIZE = 512;
/** Time the function needs after the upstream deadline to answer with a problem and flush metrics. */
export const MIN_TIMEOUT_HEADROOM_MS = 2_000;

export interface ServiceFunctionProps {
  /** TypeScript module exporting `handler`. */
  readonly entry: string;
  readonly description: string;
  /** Merged over the defaults (`NODE_OPTIONS`, `POWERTOOLS_SERVICE_NAME`, `POWERTOOLS_METRICS_NAMESPACE`). */
  readonly environment: Readonly<Record<string, string>>;
  readonly logRetention: RetentionDays;
  /** Must exceed `upstreamDeadline` by {@link MIN_TIMEOUT_HEADROOM_MS} and stay within 28 s. */
  readonly timeout: Duration;
  /** The handler's own deadline for its upstream calls. */
  readonly upstreamDeadline: Duration;
  readonly memorySize?: number;
  /** Runs at most this many at once (the rotation job: 1). */
  readonly reservedConcurrentExecutions?: number;
  /** Options of `currentVersion` (the client-config function retains its published versions). */
  readonly currentVersionOptions?: VersionOptions;
}

export class ServiceFunctionError extends Error {
  override readonly name = 'ServiceFunctionError';
}

export class ServiceFunction extends Construct {
  readonly function: NodejsFunction;
  readonly logGroup: LogGroup;
  readonly role: Role;

  constructor(scope: Construct, id: string, props: ServiceFunctionProps) {
    super(scope, id);
    assertTimeoutFits(this.node.path, props.timeout, props.upstreamDeadline);

    this.logGroup = new LogGroup(this, 'LogGroup', { retention: props.logRetention });

    // Our own role instead of the default one with AWSLambdaBasicExecutionRole (logs:* on every
    // log group): this one may write to its own log group only.
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${this.node.path}`,
    });
    this.logGroup.grantWrite(this.role);

    this.function = new NodejsFunction(this, 'Function', {
      entry: props.entry,
      handler: 'handler',
      description: props.description,
      runtime: FUNCTION_RUNTIME,
      architecture: FUNCTION_ARCHITECTURE,
      memorySize: props.memorySize ?? DEFAULT_MEMORY_SIZE,
      ...(props.reservedConcurrentExecutions === undefined
        ? {}
        : { reservedConcurrentExecutions: props.reservedConcurrentExecutions }),
      ...(props.currentVersionOptions === undefined
        ? {}
        : { currentVersionOptions: props.currentVersionOptions }),
      timeout: props.timeout,
      projectRoot: REPO_ROOT,
      depsLockFilePath: DEPS_LOCK_FILE,
      bundling: nodejsBundling,
      environment: {
        NODE_OPTIONS: SOURCE_MAP_NODE_OPTIONS,
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        ...props.environment,
      },
      logGroup: this.logGroup,
      // X-Ray is off: see infra/README.md "Tracing".
      tracing: Tracing.DISABLED,
      role: this.role,
    });

    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Node.js 22 is pinned for the whole repository (engines, toolchain, tests); it moves with the repo.',
    });
  }
}

function assertTimeoutFits(path: string, timeout: Duration, upstreamDeadline: Duration): void {
  const timeoutMs = timeout.toMilliseconds();
  const limitMs = API_GATEWAY_INTEGRATION_LIMIT.toMilliseconds();
  const deadlineMs = upstreamDeadline.toMilliseconds();
  if (timeoutMs > limitMs) {
    throw new ServiceFunctionError(
      `${path}: timeout ${timeoutMs} ms exceeds ${limitMs} ms; API Gateway stops waiting after 29 s`,
    );
  }
  if (timeoutMs < deadlineMs + MIN_TIMEOUT_HEADROOM_MS) {
    throw new ServiceFunctionError(
      `${path}: timeout ${timeoutMs} ms must exceed the upstream deadline ${deadlineMs} ms by at least ${MIN_TIMEOUT_HEADROOM_MS} ms`,
    );
  }
}
