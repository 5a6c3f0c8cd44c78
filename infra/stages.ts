/**
 * Per-environment settings, typed and validated in code (not loose CDK context).
 *
 * `cdk synth|deploy -c stage=<stage>` picks one entry of {@link stages}; {@link resolveStage} turns a
 * missing or unknown value into an error that lists the valid stages, and
 * {@link validateStageConfig} rejects a malformed entry before any resource is built.
 *
 * @example
 * const stage = resolveStage(app.node.tryGetContext('stage')); // 'dev' | 'prod', or throws
 * const config = stages[stage];
 * config.parameters.clientSecret; // '/affix/dev/client-secret'
 * config.callers.rotators.roleArns; // who may call every route, PUT /client/secrets included
 */
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { CALLER_GROUPS, type CallerGroup } from '../functions/contract/routes.ts';

export const STAGES = ['dev', 'prod'] as const;
export type Stage = (typeof STAGES)[number];

/** The principals of one caller group. Every list may be empty. */
export interface AllowedPrincipals {
  /**
   * 12-digit account IDs. Any IAM principal of such an account may call the group's routes,
   * provided its own IAM policy allows `execute-api:Invoke` on them (see infra/README.md).
   */
  readonly accountIds: readonly string[];
  /**
   * IAM role ARNs (`arn:aws:iam::<account>:role/<path/name>`) that may call the group's routes. A
   * role of the API's own account needs no IAM policy of its own; a role of another account does.
   */
  readonly roleArns: readonly string[];
  /**
   * An AWS Organizations ID (`o-...`): every principal of the organization may call the group's
   * routes (those of the API's own account even without an IAM policy of their own).
   */
  readonly organizationId?: string;
}

/**
 * Principals per caller group (`functions/contract/routes.ts` says which routes each group may
 * call). A caller named in no group is denied every route, whatever its own IAM policy says; with
 * nothing configured nobody can call.
 */
export type CallerPrincipals = Readonly<Record<CallerGroup, AllowedPrincipals>>;

/** Nobody in any group: the API denies every caller. */
const NOBODY: AllowedPrincipals = { accountIds: [], roleArns: [] };
export const NO_CALLERS: CallerPrincipals = {
  readers: NOBODY,
  writers: NOBODY,
  rotators: NOBODY,
  verifiers: NOBODY,
};

export type PowertoolsLogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

export interface StageConfig {
  /**
   * Pin the stack to one account and region. Leave it out for an environment-agnostic stack that
   * deploys wherever the caller's credentials point (ARNs then use `AWS::AccountId`/`AWS::Region`).
   */
  readonly env?: { readonly account: string; readonly region: string };
  /** Affix API base URL, https, without a trailing slash (`AFFIX_BASE_URL`). */
  readonly affixBaseUrl: string;
  /**
   * SSM parameter NAMES holding the Affix client credentials; the stack reads them, it never
   * creates them (infra/README.md shows how to put them).
   */
  readonly parameters: {
    readonly clientId: string;
    readonly clientSecret: string;
    /** SecureString with the ETag HMAC key, base64 of at least 32 random bytes (`ETAG_KEY_PARAMETER`). */
    readonly etagKey: string;
  };
  /**
   * Key ARN of the customer managed KMS key that encrypts the SecureString parameters. Leave it
   * out when they use the AWS managed key `alias/aws/ssm` (no KMS permission is needed then).
   */
  readonly parameterKmsKeyArn?: string;
  /** Who may call which routes: principals per caller group. */
  readonly callers: CallerPrincipals;
  /**
   * The state table (`STATE_TABLE_NAME`: write leases, later shared state). Point-in-time recovery,
   * and deletion protection with a retain policy, are per stage.
   */
  readonly stateTable: { readonly pointInTimeRecovery: boolean; readonly deletionProtection: boolean };
  /** API Gateway stage throttling: steady requests per second and burst. */
  readonly throttling: { readonly rateLimit: number; readonly burstLimit: number };
  /** Retention of the function's log group and the API's access and execution logs. */
  readonly logRetention: RetentionDays;
  /** Subscribed (after confirming) to the alarm topic when set. */
  readonly alarmEmail?: string;
  /** Interface VPC endpoint IDs (`vpce-...`) for `execute-api`: when non-empty the API is PRIVATE. */
  readonly vpcEndpointIds?: readonly string[];
  /** `CREDENTIALS_MAX_AGE_SECONDS`: how long the function caches the credentials it read. */
  readonly credentialsMaxAgeSeconds: number;
  /** `UPSTREAM_ATTEMPT_TIMEOUT_MS` and `UPSTREAM_DEADLINE_MS` of the handler. */
  readonly upstream: { readonly attemptTimeoutMs: number; readonly deadlineMs: number };
  /** `POWERTOOLS_LOG_LEVEL`. */
  readonly logLevel: PowertoolsLogLevel;
  /** Alarm thresholds: API 5XX rate (0..1, per 5 minutes) and API p99 latency. */
  readonly alarms: { readonly apiServerErrorRate: number; readonly apiLatencyP99Ms: number };
  /**
   * Create the account-wide role API Gateway needs to write CloudWatch logs (one per account and
   * region). Set it to false where another stack or the platform team already set it.
   */
  readonly apiGatewayCloudWatchRole: boolean;
  readonly terminationProtection: boolean;
}

/** The defaults every stage starts from; a stage overrides what differs. */
export function stageDefaults(stage: Stage): Omit<StageConfig, 'affixBaseUrl'> {
  return {
    parameters: {
      clientId: `/affix/${stage}/client-id`,
      clientSecret: `/affix/${stage}/client-secret`,
      etagKey: `/affix/${stage}/etag-key`,
    },
    callers: NO_CALLERS,
    stateTable: { pointInTimeRecovery: false, deletionProtection: false },
    throttling: { rateLimit: 5, burstLimit: 10 },
    logRetention: RetentionDays.ONE_MONTH,
    credentialsMaxAgeSeconds: 300,
    upstream: { attemptTimeoutMs: 5_000, deadlineMs: 10_000 },
    logLevel: 'INFO',
    alarms: { apiServerErrorRate: 0.05, apiLatencyP99Ms: 5_000 },
    apiGatewayCloudWatchRole: true,
    terminationProtection: false,
  };
}

export const stages: Record<Stage, StageConfig> = {
  dev: {
    ...stageDefaults('dev'),
    affixBaseUrl: 'https://dev.api.affixapi.com',
    // PLACEHOLDER: nobody may call until principals are listed per group, for example
    //   callers: {
    //     ...NO_CALLERS,
    //     readers: { accountIds: ['111111111111'], roleArns: [], organizationId: 'o-a1b2c3d4e5' },
    //     writers: { accountIds: [], roleArns: ['arn:aws:iam::111111111111:role/webhook-admin'] },
    //     rotators: { accountIds: [], roleArns: ['arn:aws:iam::111111111111:role/secret-rotation'] },
    //   },
    callers: NO_CALLERS,
    logRetention: RetentionDays.TWO_WEEKS,
    // PLACEHOLDER: alarmEmail: 'platform-alerts@example.com',
  },
  prod: {
    ...stageDefaults('prod'),
    affixBaseUrl: 'https://api.affixapi.com',
    // PLACEHOLDER: nobody may call until principals are listed per group (see dev for the shape).
    callers: NO_CALLERS,
    // Leases are short-lived, but later state (the shared read cache) is worth restoring.
    stateTable: { pointInTimeRecovery: true, deletionProtection: true },
    // PLACEHOLDER: env: { account: '222222222222', region: 'eu-west-1' }, to pin prod to its account.
    // PLACEHOLDER: parameterKmsKeyArn: 'arn:aws:kms:eu-west-1:222222222222:key/<key-id>',
    // PLACEHOLDER: alarmEmail: 'platform-alerts@example.com',
    throttling: { rateLimit: 20, burstLimit: 40 },
    // Write requests leave one audit line each; keep them for a year.
    logRetention: RetentionDays.ONE_YEAR,
    terminationProtection: true,
  },
};

export class StageError extends Error {
  override readonly name = 'StageError';
}

export class StageConfigError extends Error {
  override readonly name = 'StageConfigError';
}

export function isStage(value: unknown): value is Stage {
  return typeof value === 'string' && (STAGES as readonly string[]).includes(value);
}

/**
 * Turns the `stage` context value into a {@link Stage}.
 *
 * @throws StageError when the value is missing or names no stage; the message lists the valid ones.
 */
export function resolveStage(value: unknown): Stage {
  if (isStage(value)) return value;
  const valid = STAGES.join(', ');
  const usage = `Pass -c stage=<stage>, one of: ${valid}.`;
  if (value === undefined || value === null || value === '') {
    throw new StageError(`No stage given. ${usage}`);
  }
  throw new StageError(`Unknown stage ${JSON.stringify(value)}. ${usage}`);
}

const ACCOUNT_ID = /^\d{12}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const PARAMETER_NAME = /^(\/[a-zA-Z0-9_.-]+)+$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;
const ORGANIZATION_ID = /^o-[a-z0-9]{10,32}$/;
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z]{2}(-[a-z]+)+-\d:\d{12}:key\/[a-zA-Z0-9-]+$/;
const VPC_ENDPOINT_ID = /^vpce-[0-9a-f]{8,17}$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

function isHttpsBaseUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return (
    url.protocol === 'https:' &&
    url.username === '' &&
    url.password === '' &&
    url.search === '' &&
    url.hash === '' &&
    !value.endsWith('/')
  );
}

const isPositiveInteger = (value: number) => Number.isInteger(value) && value > 0;

function callerProblems(callers: CallerPrincipals): string[] {
  const problems: string[] = [];
  const unknown = Object.keys(callers).filter(
    (group) => !(CALLER_GROUPS as readonly string[]).includes(group),
  );
  if (unknown.length > 0) {
    problems.push(
      `callers: unknown group(s) ${unknown.join(', ')}; the groups are ${CALLER_GROUPS.join(', ')}`,
    );
  }
  for (const group of CALLER_GROUPS) {
    const principals = callers[group];
    if (principals === undefined) {
      problems.push(`callers.${group} is missing (use { accountIds: [], roleArns: [] } for nobody)`);
      continue;
    }
    for (const id of principals.accountIds) {
      if (!ACCOUNT_ID.test(id))
        problems.push(`callers.${group}.accountIds: ${id} is not a 12-digit account ID`);
    }
    for (const arn of principals.roleArns) {
      if (!ROLE_ARN.test(arn)) problems.push(`callers.${group}.roleArns: ${arn} is not an IAM role ARN`);
    }
    if (principals.organizationId !== undefined && !ORGANIZATION_ID.test(principals.organizationId)) {
      problems.push(
        `callers.${group}.organizationId ${principals.organizationId} is not an organization ID (o-...)`,
      );
    }
  }
  return problems;
}

/** Every problem of one stage entry, in words; empty when the entry is valid. */
export function stageConfigProblems(config: StageConfig): string[] {
  const problems: string[] = [];
  const { env, parameters, callers, throttling, upstream, alarms } = config;
  if (env !== undefined) {
    if (!ACCOUNT_ID.test(env.account))
      problems.push(`env.account ${env.account} is not a 12-digit account ID`);
    if (!REGION.test(env.region)) problems.push(`env.region ${env.region} is not a region such as eu-west-1`);
  }
  if (!isHttpsBaseUrl(config.affixBaseUrl)) {
    problems.push(
      'affixBaseUrl must be an https:// URL without credentials, query, fragment or trailing slash',
    );
  }
  for (const [key, name] of Object.entries(parameters)) {
    if (!PARAMETER_NAME.test(name)) {
      problems.push(`parameters.${key} ${name} must be an SSM parameter name starting with /`);
    }
  }
  if (new Set(Object.values(parameters)).size !== Object.values(parameters).length) {
    problems.push('parameters.clientId, parameters.clientSecret and parameters.etagKey must all differ');
  }
  if (config.parameterKmsKeyArn !== undefined && !KMS_KEY_ARN.test(config.parameterKmsKeyArn)) {
    problems.push(
      'parameterKmsKeyArn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>), not an alias',
    );
  }
  problems.push(...callerProblems(callers));
  if (!(throttling.rateLimit > 0) || !isPositiveInteger(throttling.burstLimit)) {
    problems.push('throttling needs a rateLimit above 0 and a whole burstLimit above 0');
  }
  if (config.alarmEmail !== undefined && !EMAIL.test(config.alarmEmail)) {
    problems.push(`alarmEmail ${config.alarmEmail} is not an e-mail address`);
  }
  for (const id of config.vpcEndpointIds ?? []) {
    if (!VPC_ENDPOINT_ID.test(id)) problems.push(`vpcEndpointIds: ${id} is not a VPC endpoint ID (vpce-...)`);
  }
  if (!isPositiveInteger(config.credentialsMaxAgeSeconds) || config.credentialsMaxAgeSeconds > 86_400) {
    problems.push('credentialsMaxAgeSeconds must be a whole number from 1 to 86400');
  }
  if (!isPositiveInteger(upstream.attemptTimeoutMs) || !isPositiveInteger(upstream.deadlineMs)) {
    problems.push('upstream.attemptTimeoutMs and upstream.deadlineMs must be whole milliseconds above 0');
  } else if (upstream.attemptTimeoutMs > upstream.deadlineMs) {
    problems.push('upstream.attemptTimeoutMs must not exceed upstream.deadlineMs');
  }
  if (!(alarms.apiServerErrorRate > 0 && alarms.apiServerErrorRate <= 1)) {
    problems.push('alarms.apiServerErrorRate must be a fraction above 0 and at most 1');
  }
  if (!(alarms.apiLatencyP99Ms > 0)) problems.push('alarms.apiLatencyP99Ms must be above 0');
  return problems;
}

/** @throws StageConfigError naming the stage and listing every problem of its entry. */
export function validateStageConfig(stage: string, config: StageConfig): StageConfig {
  const problems = stageConfigProblems(config);
  if (problems.length > 0) {
    throw new StageConfigError(`Invalid configuration for stage ${stage}:\n- ${problems.join('\n- ')}`);
  }
  return config;
}
