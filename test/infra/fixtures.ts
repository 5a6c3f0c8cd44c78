/**
 * Builds the stack the way `infra/app.ts` does (cdk.json feature flags, cdk-nag), for tests.
 * Asset bundling is skipped unless asked for: `aws:cdk:bundling-stacks: []`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { applyNagChecks } from '../../infra/nag.ts';
import { REPO_ROOT } from '../../infra/service.ts';
import { loadStage, type Stage, type StageConfig } from '../../infra/stages.ts';
import { stackNameFor, WebhookConfigStack } from '../../infra/webhook-config-stack.ts';

export const CDK_JSON_CONTEXT: Record<string, unknown> = JSON.parse(
  readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8'),
).context;

/** The tests' own stage files: the committed dev.json/prod.json stay free to edit. */
export const FIXTURE_STAGES_DIR = fileURLToPath(new URL('./stages/', import.meta.url));
/** `basic`: all at once, one e-mail; `canary`: prod-like, a CodeDeploy canary, several destinations. */
export const FIXTURE_STAGES = ['basic', 'canary'] as const;
export type FixtureStage = (typeof FIXTURE_STAGES)[number];
export const fixtureStage = (stage: FixtureStage): StageConfig => loadStage(stage, FIXTURE_STAGES_DIR);
export const BASIC: StageConfig = fixtureStage('basic');

export interface BuildOptions {
  stage?: Stage;
  config?: StageConfig;
  /** Bundle the function's asset for real (slow); skipped by default. */
  bundle?: boolean;
  /** `-c ignoreRollbackAlarms=true`. */
  ignoreRollbackAlarms?: boolean;
}

/** The app of `infra/app.ts` for one stage, not yet synthesized. */
export function buildApp(options: BuildOptions = {}): { app: App; stack: WebhookConfigStack } {
  const stage = options.stage ?? 'basic';
  const app = new App({
    context: { ...CDK_JSON_CONTEXT, ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }) },
  });
  applyNagChecks(app);
  const stack = new WebhookConfigStack(app, stackNameFor(stage), {
    stage,
    config: options.config ?? loadStage(stage, FIXTURE_STAGES_DIR),
    ...(options.ignoreRollbackAlarms === undefined
      ? {}
      : { ignoreRollbackAlarms: options.ignoreRollbackAlarms }),
  });
  return { app, stack };
}

export interface BuiltStack {
  app: App;
  stack: WebhookConfigStack;
  template: Template;
}

/**
 * Synthesized stacks of this worker by build options: the CDK suites share one module graph per worker
 * (`isolate: false`), so each stage or shape is built, synthesized and nag-checked once per worker, not
 * once per file or test. A build that threw throws the same error again.
 */
const built = new Map<string, { ok: BuiltStack } | { error: unknown }>();

/** The options as a key: the stage, the effective configuration (fields set to `undefined` included). */
function buildKey(options: BuildOptions): string {
  const stage = options.stage ?? 'basic';
  return JSON.stringify(
    {
      stage,
      config: options.config ?? loadStage(stage, FIXTURE_STAGES_DIR),
      bundle: options.bundle === true,
      ignoreRollbackAlarms: options.ignoreRollbackAlarms ?? null,
    },
    (_key, value: unknown) => (value === undefined ? '<undefined>' : value),
  );
}

/** Freezes a synthesized template, so a test that would change what another test reads fails instead. */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/**
 * The stage's stack, synthesized (cdk-nag included: an unacknowledged finding throws), shared by every
 * caller in this worker with the same options: read it, never add to it (use {@link buildApp} for that).
 */
export function buildStack(options: BuildOptions = {}): BuiltStack {
  const key = buildKey(options);
  let entry = built.get(key);
  if (entry === undefined) {
    try {
      const { app, stack } = buildApp(options);
      const template = Template.fromStack(stack);
      deepFreeze(template.toJSON());
      entry = { ok: { app, stack, template } };
    } catch (error) {
      entry = { error };
    }
    built.set(key, entry);
  }
  if ('error' in entry) throw entry.error;
  return entry.ok;
}

/** A configuration that exercises every option: principals of each kind, KMS, VPC endpoints, e-mail. */
export const FULL_CONFIG: StageConfig = {
  ...BASIC,
  env: { account: '123456789012', region: 'eu-west-1' },
  callers: {
    readers: { accountIds: ['111111111111'], roleArns: [], organizationId: 'o-a1b2c3d4e5' },
    writers: {
      accountIds: ['222222222222'],
      roleArns: ['arn:aws:iam::123456789012:role/webhook-config-admin'],
    },
    rotators: { accountIds: [], roleArns: ['arn:aws:iam::333333333333:role/ops/secret-rotation'] },
    verifiers: { accountIds: [], roleArns: ['arn:aws:iam::444444444444:role/webhook-verifier'] },
  },
  parameterKmsKey: { value: 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab' },
  vpcEndpointIds: ['vpce-0123456789abcdef0', 'vpce-0fedcba9876543210'],
  notifications: { emails: ['alerts@example.com'], topicArns: [] },
  // Off here, so the policy assertions see exactly the principals above (synthetic.test.ts covers it).
  syntheticCaller: { enabled: false, rateMinutes: 5 },
};

/** Intrinsics CDK writes for environment-agnostic stacks. */
export const PARTITION = { Ref: 'AWS::Partition' };
export const REGION = { Ref: 'AWS::Region' };
export const ACCOUNT = { Ref: 'AWS::AccountId' };
