/**
 * Per-environment settings as data: one validated file per stage, `infra/stages/<stage>.json`.
 *
 * `cdk synth|deploy -c stage=<stage>` picks `infra/stages/<stage>.json`; adding an environment is
 * adding a file. {@link loadStageFile} parses it with the valibot schema of `stage-schema.ts`, then
 * checks the handler-facing part with the handler's own `loadConfig` (the rules the function applies
 * at cold start), so a bad value fails at synth instead of at the first request. Any problem is ONE
 * line naming the file, the field and the rule.
 *
 * @example
 * const stage = resolveStage(app.node.tryGetContext('stage')); // 'dev', or throws StageError
 * const config = loadStage(stage);                              // StageConfig, or throws StageConfigError
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import * as v from 'valibot';
import type { DestinationPolicy } from '../functions/contract/destination-policy.ts';
import type { CallerGroup } from '../functions/contract/routes.ts';
import { ConfigError, loadConfig } from '../functions/core/adapters/config.ts';
import { DEFAULT_JOURNAL_RETENTION_DAYS } from '../functions/core/domain/change-journal.ts';
import { affixBaseUrlProblem, JournalRetentionDaysSchema, StageFileSchema } from './stage-schema.ts';
import { AFFIX_BUDGET, type AffixBudget, deriveThrottles, ThrottleBudgetError } from './throttles.ts';

/** Where the stage files live. */
export const STAGES_DIR = fileURLToPath(new URL('./stages/', import.meta.url));

/** A stage name is a file name: lower-case letters, digits and dashes. */
const STAGE_NAME = /^[a-z][a-z0-9-]{0,30}$/;

/** The name of a stage, i.e. of its file without `.json`. */
export type Stage = string;

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
  /** An AWS Organizations ID (`o-...`): every principal of the organization may call the group's routes. */
  readonly organizationId?: string;
}

/** Principals per caller group; a caller named in no group is denied every route. */
export type CallerPrincipals = Readonly<Record<CallerGroup, AllowedPrincipals>>;

const NOBODY: AllowedPrincipals = { accountIds: [], roleArns: [] };
export const NO_CALLERS: CallerPrincipals = {
  readers: NOBODY,
  writers: NOBODY,
  rotators: NOBODY,
  verifiers: NOBODY,
};

export type PowertoolsLogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

/** A value known at synth, or the name of an SSM String parameter read at deploy time. */
export type ValueOrParameter = { readonly value: string } | { readonly ssmParameter: string };

/** A deployment that shifts traffic step by step (CodeDeploy), as opposed to all at once. */
export interface TrafficShift {
  readonly strategy: 'canary' | 'linear';
  readonly percentage: number;
  readonly intervalMinutes: number;
}

export type DeploymentStrategy = { readonly strategy: 'all-at-once' } | TrafficShift;

export interface StageConfig {
  readonly env?: { readonly account: string; readonly region: string };
  /** Affix API base URL, https, without a trailing slash (`AFFIX_BASE_URL`). */
  readonly affixBaseUrl: string;
  /** Where writes may point `webhook_uri` and `redirect_uris` (`DESTINATION_POLICY`); never loopback. */
  readonly destinations: DestinationPolicy;
  /** SSM parameter NAMES the function reads; the stack never creates them. */
  readonly parameters: { readonly clientId: string; readonly clientSecret: string; readonly etagKey: string };
  /** Customer managed key of the SecureString parameters; undefined for `alias/aws/ssm`. */
  readonly parameterKmsKey?: ValueOrParameter;
  readonly callers: CallerPrincipals;
  /** Interface VPC endpoint IDs (`vpce-...`) for `execute-api`: when non-empty the API is PRIVATE. */
  readonly vpcEndpointIds?: readonly string[];
  readonly stateTable: { readonly pointInTimeRecovery: boolean; readonly deletionProtection: boolean };
  /** The stage-wide API throttle (per method; the write methods get lower ones, `throttles.ts`). */
  readonly throttling: { readonly rateLimit: number; readonly burstLimit: number };
  /** `CLIENT_CACHE_MAX_AGE_SECONDS`: the shared read cache's age; 0 turns it off. */
  readonly clientCacheMaxAgeSeconds: number;
  /** Affix's rate budget for our client_id, from which the method throttles are derived. */
  readonly affixBudget: AffixBudget;
  readonly logRetention: RetentionDays;
  /** `JOURNAL_RETENTION_DAYS` of both functions: how long a change-journal entry lives (1-3650). */
  readonly journalRetentionDays: number;
  readonly credentialsMaxAgeSeconds: number;
  readonly upstream: { readonly attemptTimeoutMs: number; readonly deadlineMs: number };
  readonly logLevel: PowertoolsLogLevel;
  readonly alarms: {
    /** API 5XX share (0..1) per 5 minutes. */
    readonly apiServerErrorRate: number;
    /** API 4XX share (0..1, 403s included) per 5 minutes. */
    readonly apiClientErrorRate: number;
    readonly apiLatencyP99Ms: number;
    /** Share of the function timeout its p99 duration may reach. */
    readonly durationP99OfTimeout: number;
  };
  readonly notifications: {
    readonly emails: readonly string[];
    readonly topicArns: readonly string[];
    readonly platformTopicArnParameter?: string;
  };
  readonly deployment: DeploymentStrategy;
  readonly syntheticCaller: { readonly enabled: boolean; readonly rateMinutes: number };
  /** The secret rotation job's schedule and timing; undefined: off (runnable on demand). */
  readonly rotation?: {
    readonly enabled: boolean;
    readonly intervalDays?: number;
    readonly graceSeconds?: number;
  };
  readonly tags: { readonly owner: string; readonly repository: string };
  /**
   * Set the account-wide role API Gateway needs to write CloudWatch logs (one per account and
   * region; the role is retained, so stacks that both set it do not break each other). false: the
   * account already has one, a prerequisite of the first deploy.
   */
  readonly apiGatewayCloudWatchRole: boolean;
  readonly terminationProtection: boolean;
}

/** What a stage file may leave out. */
export function stageDefaults(stage: Stage) {
  return {
    parameters: {
      clientId: `/affix/${stage}/client-id`,
      clientSecret: `/affix/${stage}/client-secret`,
      etagKey: `/affix/${stage}/etag-key`,
    },
    stateTable: { pointInTimeRecovery: false, deletionProtection: false },
    throttling: { rateLimit: 5, burstLimit: 10 },
    clientCacheMaxAgeSeconds: 30,
    affixBudget: AFFIX_BUDGET,
    logRetention: 30 as RetentionDays,
    journalRetentionDays: DEFAULT_JOURNAL_RETENTION_DAYS,
    credentialsMaxAgeSeconds: 300,
    upstream: { attemptTimeoutMs: 5_000, deadlineMs: 10_000 },
    logLevel: 'INFO' as PowertoolsLogLevel,
    alarms: {
      apiServerErrorRate: 0.05,
      apiClientErrorRate: 0.2,
      apiLatencyP99Ms: 5_000,
      durationP99OfTimeout: 0.8,
    },
  } as const;
}

export class StageError extends Error {
  override readonly name = 'StageError';
}

export class StageConfigError extends Error {
  override readonly name = 'StageConfigError';
}

/** The stages of a directory: its `*.json` files, sorted. */
export function stageNames(dir: string = STAGES_DIR): string[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .map((file) => basename(file, '.json'))
    .sort();
}

/** The committed stages (`infra/stages/*.json`). */
export const STAGES: readonly Stage[] = Object.freeze(stageNames());

/**
 * Turns the `stage` context value into the name of a stage file of `dir`.
 *
 * @throws StageError when the value is missing or names no file; the message lists the valid ones.
 */
export function resolveStage(value: unknown, dir: string = STAGES_DIR): Stage {
  const names = stageNames(dir);
  if (typeof value === 'string' && STAGE_NAME.test(value) && names.includes(value)) return value;
  const usage = `Pass -c stage=<stage>, one of: ${names.join(', ')}.`;
  if (value === undefined || value === null || value === '') throw new StageError(`No stage given. ${usage}`);
  throw new StageError(`Unknown stage ${JSON.stringify(value)}. ${usage}`);
}

/** The parsed file merged over {@link stageDefaults}. */
function toStageConfig(stage: Stage, file: v.InferOutput<typeof StageFileSchema>): StageConfig {
  const defaults = stageDefaults(stage);
  const { logRetentionDays, alarms, ...rest } = file;
  return {
    ...defaults,
    ...rest,
    parameters: file.parameters ?? defaults.parameters,
    stateTable: file.stateTable ?? defaults.stateTable,
    throttling: file.throttling ?? defaults.throttling,
    upstream: file.upstream ?? defaults.upstream,
    affixBudget: file.affixBudget ?? defaults.affixBudget,
    logRetention: (logRetentionDays ?? defaults.logRetention) as RetentionDays,
    alarms: { ...defaults.alarms, ...alarms },
  };
}

/**
 * The handler's own configuration rules (`loadConfig`), on the variables the stack gives it.
 * Returns the first problem in words, or undefined.
 */
export function handlerConfigProblem(stage: Stage, config: StageConfig): string | undefined {
  try {
    loadConfig({
      STAGE: stage,
      AFFIX_BASE_URL: config.affixBaseUrl,
      AFFIX_CLIENT_ID_PARAMETER: config.parameters.clientId,
      AFFIX_CLIENT_SECRET_PARAMETER: config.parameters.clientSecret,
      ETAG_KEY_PARAMETER: config.parameters.etagKey,
      // The table's name is chosen by CloudFormation; any valid name stands in for it here.
      STATE_TABLE_NAME: 'state-table',
      CREDENTIALS_MAX_AGE_SECONDS: String(config.credentialsMaxAgeSeconds),
      CLIENT_CACHE_MAX_AGE_SECONDS: String(config.clientCacheMaxAgeSeconds),
      JOURNAL_RETENTION_DAYS: String(config.journalRetentionDays),
      UPSTREAM_ATTEMPT_TIMEOUT_MS: String(config.upstream.attemptTimeoutMs),
      UPSTREAM_DEADLINE_MS: String(config.upstream.deadlineMs),
      POWERTOOLS_LOG_LEVEL: config.logLevel,
    });
    return undefined;
  } catch (error) {
    if (error instanceof ConfigError) return error.message.replace(/^Invalid configuration: /, '');
    throw error;
  }
}

/** Whether the stage's Affix budget leaves room for the derived throttles; the problem in words. */
export function throttleProblem(config: StageConfig): string | undefined {
  try {
    deriveThrottles({
      budget: config.affixBudget,
      clientCacheMaxAgeSeconds: config.clientCacheMaxAgeSeconds,
      rotationEnabled: config.rotation?.enabled ?? false,
      stageThrottle: config.throttling,
    });
    return undefined;
  } catch (error) {
    if (error instanceof ThrottleBudgetError) return error.message;
    throw error;
  }
}

/**
 * Parses and validates one stage's file content.
 *
 * @param file the file's path, named in the message
 * @throws StageConfigError with one line: `<file>: <field>: <rule>`
 */
export function parseStageConfig(stage: Stage, file: string, text: string): StageConfig {
  const fail = (field: string, rule: string): never => {
    throw new StageConfigError(`${file}: ${field}: ${rule}`);
  };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return fail('(file)', `is not valid JSON (${(error as Error).message})`);
  }
  const result = v.safeParse(StageFileSchema, json, { abortPipeEarly: true });
  if (!result.success) {
    const issue = result.issues[0];
    const field = v.getDotPath(issue) ?? '(top level)';
    // valibot's own words for a wrong type are clear; two cases read better in ours.
    const rule =
      issue.type === 'strict_object' && issue.expected === 'never'
        ? 'is not a known field'
        : issue.received === 'undefined'
          ? 'is required'
          : issue.message;
    return fail(field, rule);
  }
  const config = toStageConfig(stage, result.output);
  const problem = handlerConfigProblem(stage, config);
  if (problem !== undefined) return fail('(handler configuration)', problem);
  const throttles = throttleProblem(config);
  if (throttles !== undefined) return fail('(throttles)', throttles);
  return config;
}

/** Reads and validates `<dir>/<stage>.json`. */
export function loadStageFile(path: string): StageConfig {
  return parseStageConfig(basename(path, '.json'), path, readFileSync(path, 'utf8'));
}

/** The configuration of a committed stage (or one of `dir`). */
export function loadStage(stage: Stage, dir: string = STAGES_DIR): StageConfig {
  return loadStageFile(join(dir, `${stage}.json`));
}

/**
 * The checks a configuration built in code (not read from a file) must pass too: the handler's own
 * rules on the environment the stack gives it, and the stage files' https-only Affix base URL.
 *
 * @throws StageConfigError naming the stage and the problem, in one line
 */
export function validateStageConfig(stage: Stage, config: StageConfig): StageConfig {
  // The stage's own settings first: their messages name the setting, not the variable it becomes.
  const retention = v.safeParse(JournalRetentionDaysSchema, config.journalRetentionDays);
  if (!retention.success) {
    throw new StageConfigError(`stage ${stage}: journalRetentionDays: ${retention.issues[0].message}`);
  }
  const problem = handlerConfigProblem(stage, config);
  if (problem !== undefined)
    throw new StageConfigError(`stage ${stage}: (handler configuration): ${problem}`);
  // The handler allows http:// on loopback hosts (npm start); a deployed stage never does.
  const urlProblem = affixBaseUrlProblem(config.affixBaseUrl);
  if (urlProblem !== undefined) throw new StageConfigError(`stage ${stage}: affixBaseUrl: ${urlProblem}`);
  const throttles = throttleProblem(config);
  if (throttles !== undefined) throw new StageConfigError(`stage ${stage}: (throttles): ${throttles}`);
  return config;
}
