/**
 * The schema of one stage file (`infra/stages/<stage>.json`), in valibot.
 *
 * Field rules the handler already has are reused rather than written again: the Affix base URL goes
 * through the contract's URL rule (`functions/contract/urls.ts`), and the whole handler-facing
 * part (parameter names, timeouts, cache age, log level) is checked by the handler's own
 * `loadConfig` on the environment the stack will give it (see `stages.ts`). What only the
 * infrastructure knows (principals, alarms, deployment) is checked here.
 *
 * @example
 * const result = v.safeParse(StageFileSchema, JSON.parse(text));
 */
import * as v from 'valibot';
import { CALLER_GROUPS } from '../functions/contract/routes.ts';
import { checkUrl, URL_RULE_MESSAGES } from '../functions/contract/urls.ts';
import { StageDestinationsSchema } from '../functions/core/domain/client-state.ts';

/** The retention values CloudWatch Logs accepts, in days. */
export const RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

const ACCOUNT_ID = /^\d{12}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;
const ORGANIZATION_ID = /^o-[a-z0-9]{10,32}$/;
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z]{2}(-[a-z]+)+-\d:\d{12}:key\/[a-zA-Z0-9-]+$/;
const TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z]{2}(-[a-z]+)+-\d:\d{12}:[\w-]{1,256}$/;
const VPC_ENDPOINT_ID = /^vpce-[0-9a-f]{8,17}$/;
/** The SSM parameter name shape (a leading `/`, then path segments); the handler checks the rest. */
const PARAMETER_NAME = /^(\/[a-zA-Z0-9_.-]+)+$/;
const TAG_VALUE = /^[\w.:/=+@ -]{1,256}$/;

const accountId = v.pipe(v.string(), v.regex(ACCOUNT_ID, 'must be a 12-digit account ID'));
const parameterName = v.pipe(
  v.string(),
  v.regex(PARAMETER_NAME, 'must be an SSM parameter name starting with / (such as /affix/dev/client-id)'),
);
/** A whole number from `min` (the stage files' one integer rule; a maximum is piped on where there is one). */
const integerFrom = (min: number) =>
  v.pipe(v.number(), v.integer('must be a whole number'), v.minValue(min, `must be at least ${min}`));
const positiveInteger = integerFrom(1);
/**
 * `JOURNAL_RETENTION_DAYS`: how long change-journal entries live before the table's TTL removes them;
 * one day to ten years.
 */
const JOURNAL_RETENTION_DAYS_LIMITS = { min: 1, max: 3_650 } as const;
export const JournalRetentionDaysSchema = v.pipe(
  v.number(),
  v.integer('must be a whole number of days'),
  v.minValue(JOURNAL_RETENTION_DAYS_LIMITS.min, `must be at least ${JOURNAL_RETENTION_DAYS_LIMITS.min} day`),
  v.maxValue(
    JOURNAL_RETENTION_DAYS_LIMITS.max,
    `must be at most ${JOURNAL_RETENTION_DAYS_LIMITS.max} days (ten years)`,
  ),
);
const fraction = v.pipe(v.number(), v.gtValue(0, 'must be above 0'), v.maxValue(1, 'must be at most 1'));

/**
 * Why a stage's Affix base URL is refused (the contract's URL rule, https only: a deployed stage never
 * talks to a loopback host), or undefined. For stage files and for configurations built in code.
 */
export function affixBaseUrlProblem(value: string): string | undefined {
  const result = checkUrl(value);
  if (!result.ok) return URL_RULE_MESSAGES[result.reason];
  return value.endsWith('/') ? 'must not end with /' : undefined;
}

const affixBaseUrl = v.pipe(
  v.string(),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const problem = affixBaseUrlProblem(dataset.value);
    if (problem !== undefined) addIssue({ message: problem });
  }),
);

const Principals = v.strictObject({
  accountIds: v.array(accountId),
  roleArns: v.array(
    v.pipe(v.string(), v.regex(ROLE_ARN, 'must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)')),
  ),
  organizationId: v.optional(
    v.pipe(v.string(), v.regex(ORGANIZATION_ID, 'must be an organization ID (o-...)')),
  ),
});

/** Every caller group, each required: a group left out is a typo or an oversight, never "nobody". */
const Callers = v.strictObject(
  Object.fromEntries(CALLER_GROUPS.map((group) => [group, Principals])) as Record<
    (typeof CALLER_GROUPS)[number],
    typeof Principals
  >,
);

/** A value given in the file, or the name of an SSM String parameter that holds it (read at deploy). */
const valueOrParameter = (rule: RegExp, what: string) =>
  v.union(
    [
      v.strictObject({ value: v.pipe(v.string(), v.regex(rule, `must be ${what}`)) }),
      v.strictObject({ ssmParameter: parameterName }),
    ],
    `must be { "value": <${what}> } or { "ssmParameter": "<SSM parameter name>" }`,
  );

/** Share of traffic on the new version per step, and minutes between steps (canary and linear alike). */
const trafficShift = {
  percentage: v.pipe(v.number(), v.integer('must be a whole percent'), v.minValue(1), v.maxValue(99)),
  /**
   * At least 2: every rollback alarm must be able to fire within half the interval, and the
   * shortest alarm is one 1-minute period.
   */
  intervalMinutes: v.pipe(integerFrom(2), v.maxValue(2880, 'must be at most 2880 (two days)')),
};

const Deployment = v.variant(
  'strategy',
  [
    v.strictObject({ strategy: v.literal('all-at-once') }),
    /** `percentage` of the traffic for `intervalMinutes`, then the rest. */
    v.strictObject({ strategy: v.literal('canary'), ...trafficShift }),
    /** Another `percentage` of the traffic every `intervalMinutes` until all of it. */
    v.strictObject({ strategy: v.literal('linear'), ...trafficShift }),
  ],
  'must be { "strategy": "all-at-once" } or { "strategy": "canary" | "linear", "percentage": n, "intervalMinutes": n }',
);

export const StageFileSchema = v.pipe(
  v.strictObject({
    /** Pin the stack to one account and region; leave out for an environment-agnostic stack. */
    env: v.optional(
      v.strictObject({
        account: accountId,
        region: v.pipe(v.string(), v.regex(REGION, 'must be a region such as eu-west-1')),
      }),
    ),
    affixBaseUrl,
    /**
     * Where writes may point `webhook_uri` and `redirect_uris` (`destination-policy.ts`): both fields'
     * host lists, or `{ "anyHost": true }` said explicitly. Required: no stage sends data anywhere by
     * default.
     */
    destinations: StageDestinationsSchema,
    parameters: v.optional(
      v.strictObject({ clientId: parameterName, clientSecret: parameterName, etagKey: parameterName }),
    ),
    /** The customer managed key of the SecureString parameters; leave out for `alias/aws/ssm`. */
    parameterKmsKey: v.optional(valueOrParameter(KMS_KEY_ARN, 'a KMS key ARN (not an alias)')),
    callers: Callers,
    vpcEndpointIds: v.optional(
      v.array(v.pipe(v.string(), v.regex(VPC_ENDPOINT_ID, 'must be a VPC endpoint ID (vpce-...)'))),
    ),
    stateTable: v.optional(
      v.strictObject({ pointInTimeRecovery: v.boolean(), deletionProtection: v.boolean() }),
    ),
    throttling: v.optional(
      v.strictObject({
        rateLimit: v.pipe(v.number(), v.gtValue(0, 'must be above 0')),
        burstLimit: positiveInteger,
      }),
    ),
    logRetentionDays: v.optional(
      v.picklist(
        RETENTION_DAYS,
        `must be one of CloudWatch's retention values: ${RETENTION_DAYS.join(', ')}`,
      ),
    ),
    /** `JOURNAL_RETENTION_DAYS`: how long the change journal keeps an entry (default 400 days). */
    journalRetentionDays: v.optional(JournalRetentionDaysSchema),
    /** `CLIENT_CACHE_MAX_AGE_SECONDS`: age of the shared read cache; 0 turns it off. */
    clientCacheMaxAgeSeconds: v.optional(v.pipe(integerFrom(0), v.maxValue(3_600, 'must be at most 3600'))),
    /** Affix's rate budget for our client_id; leave out for the documented 40 per 300 s. */
    affixBudget: v.optional(
      v.strictObject({
        requests: positiveInteger,
        windowSeconds: v.pipe(positiveInteger, v.maxValue(3_600, 'must be at most 3600')),
      }),
    ),
    credentialsMaxAgeSeconds: v.optional(
      v.pipe(positiveInteger, v.maxValue(86_400, 'must be at most 86400')),
    ),
    upstream: v.optional(v.strictObject({ attemptTimeoutMs: positiveInteger, deadlineMs: positiveInteger })),
    logLevel: v.optional(
      v.picklist(['DEBUG', 'INFO', 'WARN', 'ERROR'], 'must be DEBUG, INFO, WARN or ERROR'),
    ),
    alarms: v.optional(
      v.strictObject({
        apiServerErrorRate: v.optional(fraction),
        apiClientErrorRate: v.optional(fraction),
        apiLatencyP99Ms: v.optional(positiveInteger),
        /** Alarm when the function's p99 duration passes this share of its timeout. */
        durationP99OfTimeout: v.optional(fraction),
      }),
    ),
    /** Where alarms go: e-mail addresses and/or existing topics (a chat integration, the platform's). */
    notifications: v.strictObject({
      emails: v.array(v.pipe(v.string(), v.email('must be an e-mail address'))),
      topicArns: v.array(v.pipe(v.string(), v.regex(TOPIC_ARN, 'must be an SNS topic ARN'))),
      /** SSM String parameter holding the ARN of the platform's alarm topic. */
      platformTopicArnParameter: v.optional(parameterName),
    }),
    deployment: Deployment,
    syntheticCaller: v.strictObject({
      enabled: v.boolean(),
      rateMinutes: v.pipe(positiveInteger, v.maxValue(60, 'must be at most 60')),
    }),
    /** The secret rotation job: a daily schedule when enabled; rotates every intervalDays. */
    rotation: v.optional(
      v.strictObject({
        enabled: v.boolean(),
        intervalDays: v.optional(v.pipe(positiveInteger, v.maxValue(365, 'must be at most 365'))),
        graceSeconds: v.optional(
          v.pipe(integerFrom(0), v.maxValue(2_592_000, 'must be at most 2592000 (30 days)')),
        ),
      }),
    ),
    tags: v.strictObject({
      owner: v.pipe(
        v.string(),
        v.regex(TAG_VALUE, 'must be a tag value (1-256 letters, digits, spaces, _.:/=+-@)'),
      ),
      repository: v.pipe(
        v.string(),
        v.regex(TAG_VALUE, 'must be a tag value (1-256 letters, digits, spaces, _.:/=+-@)'),
      ),
    }),
    /**
     * true: the stack sets API Gateway's account-wide CloudWatch Logs role (retained with the
     * stack); false: the account already has one (infra/README.md "Prerequisites").
     */
    apiGatewayCloudWatchRole: v.boolean(),
    terminationProtection: v.boolean(),
  }),
  v.forward(
    v.check(
      (file) =>
        file.parameters === undefined ||
        new Set(Object.values(file.parameters)).size === Object.values(file.parameters).length,
      'clientId, clientSecret and etagKey must name three different parameters',
    ),
    ['parameters'],
  ),
  v.forward(
    v.check(
      (file) =>
        file.notifications.emails.length + file.notifications.topicArns.length > 0 ||
        file.notifications.platformTopicArnParameter !== undefined,
      'must name at least one e-mail, topic ARN or platformTopicArnParameter: an alarm nobody receives pages nobody',
    ),
    ['notifications'],
  ),
);

export type StageFile = v.InferOutput<typeof StageFileSchema>;
