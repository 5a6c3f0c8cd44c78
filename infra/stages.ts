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
 */
import { RetentionDays } from 'aws-cdk-lib/aws-logs';

export const STAGES = ['dev', 'prod'] as const;
export type Stage = (typeof STAGES)[number];

/** Who may call the API. Every list may be empty; with nothing configured nobody can call. */
export interface AllowedPrincipals {
  /**
   * 12-digit account IDs. Any IAM principal of such an account may call, provided its own IAM
   * policy allows `execute-api:Invoke` on the API (see infra/README.md).
   */
  readonly accountIds: readonly string[];
  /** IAM role ARNs (`arn:aws:iam::<account>:role/<path/name>`) that may call. */
  readonly roleArns: readonly string[];
  /** An AWS Organizations ID (`o-...`): every principal of the organization may call. */
  readonly organizationId?: string;
}

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
  readonly parameters: { readonly clientId: string; readonly clientSecret: string };
  /**
   * Key ARN of the customer managed KMS key that encrypts the SecureString parameter(s). Leave it
   * out when they use the AWS managed key `alias/aws/ssm` (no KMS permission is needed then).
   */
  readonly parameterKmsKeyArn?: string;
  readonly allowedPrincipals: AllowedPrincipals;
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
    },
    allowedPrincipals: { accountIds: [], roleArns: [] },
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
    // PLACEHOLDER: nobody may call until principals are listed here, for example
    //   accountIds: ['111111111111'],
    //   roleArns: ['arn:aws:iam::111111111111:role/webhook-config-admin'],
    //   organizationId: 'o-a1b2c3d4e5',
    allowedPrincipals: { accountIds: [], roleArns: [] },
    logRetention: RetentionDays.TWO_WEEKS,
    // PLACEHOLDER: alarmEmail: 'platform-alerts@example.com',
  },
  prod: {
    ...stageDefaults('prod'),
    affixBaseUrl: 'https://api.affixapi.com',
    // PLACEHOLDER: nobody may call until principals are listed here (see dev for the shape).
    allowedPrincipals: { accountIds: [], roleArns: [] },
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

/** Every problem of one stage entry, in words; empty when the entry is valid. */
export function stageConfigProblems(config: StageConfig): string[] {
  const problems: string[] = [];
  const { env, parameters, allowedPrincipals: principals, throttling, upstream, alarms } = config;
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
  if (parameters.clientId === parameters.clientSecret) {
    problems.push('parameters.clientId and parameters.clientSecret must differ');
  }
  if (config.parameterKmsKeyArn !== undefined && !KMS_KEY_ARN.test(config.parameterKmsKeyArn)) {
    problems.push(
      'parameterKmsKeyArn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>), not an alias',
    );
  }
  for (const id of principals.accountIds) {
    if (!ACCOUNT_ID.test(id))
      problems.push(`allowedPrincipals.accountIds: ${id} is not a 12-digit account ID`);
  }
  for (const arn of principals.roleArns) {
    if (!ROLE_ARN.test(arn)) problems.push(`allowedPrincipals.roleArns: ${arn} is not an IAM role ARN`);
  }
  if (principals.organizationId !== undefined && !ORGANIZATION_ID.test(principals.organizationId)) {
    problems.push(
      `allowedPrincipals.organizationId ${principals.organizationId} is not an organization ID (o-...)`,
    );
  }
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
