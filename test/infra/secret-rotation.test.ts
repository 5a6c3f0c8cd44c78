/**
 * The rotation job's infrastructure: its function, its least-privilege role (the only one that may
 * write the secret parameter), its schedule (per stage) and its alarm.
 */
import type { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { nextStep, type Observation } from '../../functions/core/domain/rotation-state.ts';
import { graceForSchedule, SECRET_ROTATION_ENTRY } from '../../infra/secret-rotation.ts';
import type { WebhookConfigStack } from '../../infra/webhook-config-stack.ts';
import { BASIC, buildStack, FULL_CONFIG, fixtureStage } from './fixtures.ts';

type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown };
type PolicyResource = {
  Properties: { PolicyDocument: { Statement: Statement[] }; Roles?: { Ref: string }[] };
};

const actionsOf = (statement: Statement) => [statement.Action].flat();
/** Does this action pattern grant ssm:PutParameter (wildcards included)? */
const grantsPut = (action: string) =>
  new RegExp(`^${action.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`, 'i').test(
    'ssm:PutParameter',
  );

/** Every statement of every identity policy, with the logical ids of the roles it is attached to. */
function roleStatements(template: Template): { roles: string[]; statement: Statement }[] {
  const out: { roles: string[]; statement: Statement }[] = [];
  for (const policy of Object.values(template.findResources('AWS::IAM::Policy')) as PolicyResource[]) {
    const roles = (policy.Properties.Roles ?? []).map((role) => role.Ref);
    for (const statement of policy.Properties.PolicyDocument.Statement) out.push({ roles, statement });
  }
  for (const [id, role] of Object.entries(template.findResources('AWS::IAM::Role'))) {
    const inline = (role.Properties?.Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[];
    for (const policy of inline)
      for (const statement of policy.PolicyDocument.Statement) out.push({ roles: [id], statement });
  }
  return out;
}

const roleId = (stack: WebhookConfigStack) =>
  (stack.resolve(stack.secretRotation.fn.role.roleName) as { Ref: string }).Ref;

describe.each([
  ['basic', buildStack({ stage: 'basic' }), BASIC],
  ['canary', buildStack({ stage: 'canary' }), fixtureStage('canary')],
  ['basic with every option', buildStack({ stage: 'basic', config: FULL_CONFIG }), FULL_CONFIG],
])('the secret rotation on %s', (_name, { stack, template }, config) => {
  const secretArn = stack.resolve(stack.parameterArn(config.parameters.clientSecret));

  it('gives ssm:PutParameter to the rotation role only, on the secret parameter only', () => {
    const puts = roleStatements(template).filter(
      ({ statement }) => statement.Effect === 'Allow' && actionsOf(statement).some(grantsPut),
    );
    expect(puts).toHaveLength(1);
    expect(puts[0]?.roles).toEqual([roleId(stack)]);
    expect(puts[0]?.statement.Resource).toEqual(secretArn);
  });

  it('lets the rotation role read the three parameters, the ETag key too: the shared state it goes through needs it', () => {
    const reads = roleStatements(template).filter(
      ({ roles, statement }) =>
        roles.includes(roleId(stack)) && actionsOf(statement).includes('ssm:GetParameters'),
    );
    expect(reads).toHaveLength(1);
    const { clientId, clientSecret, etagKey } = config.parameters;
    expect(reads[0]?.statement.Resource).toEqual(
      [clientId, clientSecret, etagKey].map((name) => stack.resolve(stack.parameterArn(name))),
    );
  });

  it('gives the rotation role no API route: it calls Affix directly and is in no caller group', () => {
    const rotation = roleStatements(template).filter(({ roles }) => roles.includes(roleId(stack)));
    expect(
      rotation.flatMap(({ statement }) => actionsOf(statement)).some((a) => a.startsWith('execute-api:')),
    ).toBe(false);
    // Not among the principals the API's resource policy names.
    expect(JSON.stringify(template.findResources('AWS::ApiGateway::RestApi'))).not.toContain(roleId(stack));
  });

  it("uses the state table like the proxy: the same four item actions, on the lease's partition key only", () => {
    const table = roleStatements(template).filter(
      ({ roles, statement }) =>
        roles.includes(roleId(stack)) && actionsOf(statement).some((a) => a.startsWith('dynamodb:')),
    );
    expect(table).toHaveLength(1);
    expect(actionsOf(table[0]?.statement as Statement).sort()).toEqual([
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
    ]);
    expect(table[0]?.statement.Condition).toEqual({
      'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['affix-client'] },
    });
  });

  it('runs the rotation handler with its grace and interval', () => {
    const fn =
      template.findResources('AWS::Lambda::Function')[
        (stack.resolve(stack.secretRotation.fn.function.functionName) as { Ref: string }).Ref
      ];
    if (fn === undefined) throw new Error('no rotation function');
    const variables = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    // The stage's 24 h grace, less the daily schedule's slack (see the grace test below).
    expect(variables).toMatchObject({ ROTATION_GRACE_SECONDS: '85800', ROTATION_INTERVAL_DAYS: '30' });
    expect(SECRET_ROTATION_ENTRY).toMatch(/functions\/secret-rotation\/handler\.ts$/);
  });

  it('runs once per event: no Lambda async retries, a maximum event age, one run at a time', () => {
    const fnRef = stack.resolve(stack.secretRotation.fn.function.functionName) as { Ref: string };
    const configs = Object.values(template.findResources('AWS::Lambda::EventInvokeConfig')).filter(
      (c) => JSON.stringify(c.Properties.FunctionName) === JSON.stringify(fnRef),
    );
    expect(configs.map((c) => c.Properties)).toEqual([
      { FunctionName: fnRef, Qualifier: '$LATEST', MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 3_600 },
    ]);
    const fn = template.findResources('AWS::Lambda::Function')[fnRef.Ref];
    expect(fn?.Properties.ReservedConcurrentExecutions).toBe(1);
  });
});

describe('the grace period on a daily schedule', () => {
  const DAY = 86_400_000;
  // The run that stored the new secret started at midnight and wrote SSM 7 s into its run; the next
  // daily run starts at the next midnight, a few hundred milliseconds late or early.
  const stored = new Date(Date.UTC(2026, 0, 1, 0, 0, 7));
  const observation = (graceSeconds: number, now: Date): Observation => ({
    affixSecrets: ['old', 'new'],
    ssm: { current: 'new', currentSince: stored, version: 2, history: ['old'] },
    now,
    graceSeconds,
    intervalSeconds: 30 * 86_400,
    force: false,
  });

  it.each([
    ['on time', 0],
    ['half a second early', -500],
    ['a minute late', 60_000],
  ])('retires the old secret on the next daily run (%s) with a 24 h grace', (_name, offsetMs) => {
    const nextRun = new Date(Date.UTC(2026, 0, 1) + DAY + offsetMs);
    expect(nextStep(observation(graceForSchedule(86_400), nextRun)).kind).toBe('retire');
  });

  it("would wait a whole day more with the stage's grace as it is (the run sees less than 86,400 s)", () => {
    const nextRun = new Date(Date.UTC(2026, 0, 1) + DAY);
    expect(nextStep(observation(86_400, nextRun)).kind).toBe('wait-grace');
  });

  it('still waits on a run well before the grace is over', () => {
    const sameDayLater = new Date(stored.getTime() + 12 * 3_600_000);
    expect(nextStep(observation(graceForSchedule(86_400), sameDayLater)).kind).toBe('wait-grace');
    expect(graceForSchedule(300)).toBe(0);
  });
});

describe('the rotation schedule and key', () => {
  it('is off unless the stage enables it (basic), daily when it does (canary)', () => {
    const basic = buildStack({ stage: 'basic' }).template.findResources('AWS::Scheduler::Schedule');
    // The synthetic caller's only.
    expect(Object.values(basic).map((s) => s.Properties.ScheduleExpression)).toEqual(['rate(5 minutes)']);
    const canary = buildStack({ stage: 'canary' }).template.findResources('AWS::Scheduler::Schedule');
    const expressions = Object.values(canary).map((s) => s.Properties.ScheduleExpression);
    // The synthetic caller's schedule, and the rotation's.
    expect(expressions.sort()).toEqual(['rate(1 day)', 'rate(10 minutes)']);
  });

  it('encrypts with the customer managed key only for the secret parameter, only via SSM', () => {
    const { stack, template } = buildStack({ stage: 'basic', config: FULL_CONFIG });
    const encrypts = roleStatements(template).filter(({ statement }) =>
      actionsOf(statement).some((a) => a === 'kms:Encrypt' || a === 'kms:*' || a === '*'),
    );
    expect(encrypts).toHaveLength(1);
    expect(encrypts[0]?.roles).toEqual([roleId(stack)]);
    expect(JSON.stringify(encrypts[0]?.statement.Condition)).toContain('kms:EncryptionContext:PARAMETER_ARN');
  });
});
