/**
 * The security boundary, evaluated: the synthesized API resource policy and function policy, run
 * through an IAM policy evaluator for every principal kind x caller group membership x route x
 * identity policy, and every direct or service invocation of the function.
 *
 * The expected decision of each cell comes from the contract (`groupMayCall`) and IAM's rules for
 * who needs an identity policy, never from the policy code under test:
 * - a principal in no group, or in a group that may not call the route: denied, and explicitly so
 *   when its own IAM policy would allow the call (only an explicit deny beats that allow);
 * - a member of a group that may call the route: allowed when its own IAM policy allows the call;
 *   without one, only when the resource policy alone suffices, that is a principal of the API's own
 *   account named by role ARN or by organization (a whole account named in the policy, and any
 *   principal of another account, also need their own IAM policy).
 */
import type { CfnElement } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import {
  CALLER_GROUPS,
  type CallerGroup,
  groupMayCall,
  ROUTES,
  routeKeyOf,
} from '../../functions/contract/routes.ts';
import type { CallerPrincipals, StageConfig } from '../../infra/stages.ts';
import { NO_CALLERS } from '../../infra/stages.ts';
import { BASIC, buildStack, FIXTURE_STAGES } from './fixtures.ts';
import {
  ALIAS_ARN,
  API_ACCOUNT,
  apiResourcePolicy,
  type Decision,
  evaluate,
  FUNCTION_ARN,
  functionResourcePolicy,
  methodArn,
  type PolicyDocumentJson,
  permissive,
  REGION,
  resolveIntrinsics,
  roleSession,
  stackRoleArn,
  VERSION_ARN,
} from './policy-eval.ts';

const STAGE = 'basic';
const CROSS_ACCOUNT = '210987654321';
/** One distinct account and organization per group, so each cell tests one membership. */
const GROUP_ACCOUNT: Record<CallerGroup, string> = {
  readers: '300000000001',
  writers: '300000000002',
  rotators: '300000000003',
  verifiers: '300000000004',
};
const GROUP_ORG: Record<CallerGroup, string> = {
  readers: 'o-readersorg1',
  writers: 'o-writersorg1',
  rotators: 'o-rotatorsorg',
  verifiers: 'o-verifiersor',
};
const UNLISTED_ACCOUNT = '399999999999';
const UNLISTED_ORG = 'o-unlistedorg';
const ORG_MEMBER_ACCOUNT = '400000000001';

type Kind =
  | 'same-account role'
  | 'cross-account role'
  | 'whole account (another)'
  | 'organization member (another account)'
  | 'organization member (API account)';
const KINDS: readonly Kind[] = [
  'same-account role',
  'cross-account role',
  'whole account (another)',
  'organization member (another account)',
  'organization member (API account)',
];

/** The caller for a kind, as a member of `group` (or of none). */
function callerFor(kind: Kind, group: CallerGroup | undefined) {
  const role = `${group ?? 'nobody'}-caller`;
  switch (kind) {
    case 'same-account role':
      return roleSession(API_ACCOUNT, role);
    case 'cross-account role':
      return roleSession(CROSS_ACCOUNT, role);
    case 'whole account (another)':
      return roleSession(group ? GROUP_ACCOUNT[group] : UNLISTED_ACCOUNT, 'any-role');
    case 'organization member (another account)':
      return roleSession(ORG_MEMBER_ACCOUNT, 'any-role', group ? GROUP_ORG[group] : UNLISTED_ORG);
    case 'organization member (API account)':
      return roleSession(API_ACCOUNT, 'org-member-role', group ? GROUP_ORG[group] : UNLISTED_ORG);
  }
}

/** Every kind of principal in every group, at once (distinct principals, so cells do not overlap). */
const MATRIX_CALLERS: CallerPrincipals = Object.fromEntries(
  CALLER_GROUPS.map((group) => [
    group,
    {
      accountIds: [GROUP_ACCOUNT[group]],
      roleArns: [
        `arn:aws:iam::${API_ACCOUNT}:role/${group}-caller`,
        `arn:aws:iam::${CROSS_ACCOUNT}:role/${group}-caller`,
      ],
      organizationId: GROUP_ORG[group],
    },
  ]),
) as unknown as CallerPrincipals;

const MATRIX_CONFIG: StageConfig = {
  ...BASIC,
  env: { account: API_ACCOUNT, region: REGION },
  callers: MATRIX_CALLERS,
  // Off, so each cell sees exactly the principals above (synthetic-caller.test.ts covers its role).
  syntheticCaller: { enabled: false, rateMinutes: 5 },
};

function resourceAloneSuffices(kind: Kind | 'whole account (API account)'): boolean {
  return kind === 'same-account role' || kind === 'organization member (API account)';
}

function expected(
  kind: Kind | 'whole account (API account)',
  group: CallerGroup | undefined,
  route: (typeof ROUTES)[number],
  identity: boolean,
): Decision | 'Denied' {
  if (group === undefined || !groupMayCall(group, routeKeyOf(route))) {
    return identity ? 'ExplicitlyDenied' : 'Denied';
  }
  return identity || resourceAloneSuffices(kind) ? 'Allowed' : 'Denied';
}

function assertDecision(actual: Decision, want: Decision | 'Denied'): void {
  if (want === 'Denied') expect(actual).not.toBe('Allowed');
  else expect(actual).toBe(want);
}

const memberships: Array<CallerGroup | undefined> = [...CALLER_GROUPS, undefined];
const IDENTITY = [false, true] as const;
const identityName = (identity: boolean) =>
  identity ? 'permissive execute-api:Invoke *' : 'no identity policy';
const wantName = (want: Decision | 'Denied') =>
  want === 'Allowed' ? 'allow' : want === 'ExplicitlyDenied' ? 'explicit deny' : 'deny';

describe('the API resource policy, evaluated', () => {
  const { template } = buildStack({ config: MATRIX_CONFIG });
  const policy = apiResourcePolicy(template, STAGE);

  const cells = KINDS.flatMap((kind) =>
    memberships.flatMap((group) =>
      ROUTES.flatMap((route) =>
        IDENTITY.map((identity) => ({
          kind,
          group,
          route,
          identity,
          want: expected(kind, group, route, identity),
        })),
      ),
    ),
  );

  it.each(
    cells.map(
      (cell) =>
        [
          `${cell.kind} | ${cell.group ?? 'in no group'} | ${cell.route.method} ${cell.route.path} | ${identityName(cell.identity)} -> ${wantName(cell.want)}`,
          cell,
        ] as const,
    ),
  )('%s', async (_name, { kind, group, route, identity, want }) => {
    const caller = callerFor(kind, group);
    const actual = await evaluate({
      ...caller,
      action: 'execute-api:Invoke',
      resource: methodArn(STAGE, route.method, route.path),
      ...(identity ? { identityPolicy: permissive('execute-api:Invoke') } : {}),
      resourcePolicy: policy,
    });
    assertDecision(actual, want);
  });
});

describe.each(CALLER_GROUPS)(
  'the API resource policy with the API account itself in %s, evaluated',
  (group) => {
    // A whole account named in the policy: every principal of it, provided its own IAM policy allows.
    const config: StageConfig = {
      ...MATRIX_CONFIG,
      callers: { ...NO_CALLERS, [group]: { accountIds: [API_ACCOUNT], roleArns: [] } },
    };
    const policy = apiResourcePolicy(buildStack({ config }).template, STAGE);
    const cells = ROUTES.flatMap((route) =>
      IDENTITY.map((identity) => ({
        route,
        identity,
        want: expected('whole account (API account)', group, route, identity),
      })),
    );

    it.each(
      cells.map(
        (cell) =>
          [
            `whole account (API account) | ${group} | ${cell.route.method} ${cell.route.path} | ${identityName(cell.identity)} -> ${wantName(cell.want)}`,
            cell,
          ] as const,
      ),
    )('%s', async (_name, { route, identity, want }) => {
      const actual = await evaluate({
        ...roleSession(API_ACCOUNT, 'any-role'),
        action: 'execute-api:Invoke',
        resource: methodArn(STAGE, route.method, route.path),
        ...(identity ? { identityPolicy: permissive('execute-api:Invoke') } : {}),
        resourcePolicy: policy,
      });
      assertDecision(actual, want);
    });
  },
);

describe('GET /client/changes in the synthesized policy, evaluated', () => {
  const { template } = buildStack({ config: MATRIX_CONFIG });
  const policy = apiResourcePolicy(template, STAGE);
  // Written out here, not read from the contract: the readers' route is the reading groups', never the verifiers'.
  const granted: Record<CallerGroup, boolean> = {
    readers: true,
    writers: true,
    rotators: true,
    verifiers: false,
  };
  it.each(CALLER_GROUPS.flatMap((group) => KINDS.map((kind) => [group, kind] as const)))(
    '%s, %s, with a permissive IAM policy',
    async (group, kind) => {
      const actual = await evaluate({
        ...callerFor(kind, group),
        action: 'execute-api:Invoke',
        resource: methodArn(STAGE, 'GET', '/client/changes'),
        identityPolicy: permissive('execute-api:Invoke'),
        resourcePolicy: policy,
      });
      expect(actual).toBe(granted[group] ? 'Allowed' : 'ExplicitlyDenied');
    },
  );

  it('is denied to a principal in no group, even with a permissive IAM policy', async () => {
    for (const kind of KINDS) {
      const actual = await evaluate({
        ...callerFor(kind, undefined),
        action: 'execute-api:Invoke',
        resource: methodArn(STAGE, 'GET', '/client/changes'),
        identityPolicy: permissive('execute-api:Invoke'),
        resourcePolicy: policy,
      });
      expect(actual, kind).toBe('ExplicitlyDenied');
    }
  });
});

describe.each(FIXTURE_STAGES)('the %s stage as configured (nobody listed), evaluated', (stage) => {
  const policy = apiResourcePolicy(buildStack({ stage }).template, stage);
  it.each(ROUTES.map((route) => [`${route.method} ${route.path}`, route] as const))(
    'explicitly denies %s to a same-account admin with a permissive IAM policy',
    async (_name, route) => {
      const actual = await evaluate({
        ...roleSession(API_ACCOUNT, 'admin'),
        action: 'execute-api:Invoke',
        resource: methodArn(stage, route.method, route.path),
        identityPolicy: permissive('execute-api:Invoke'),
        resourcePolicy: policy,
      });
      expect(actual).toBe('ExplicitlyDenied');
    },
  );
});

describe('the API resource policy of a PRIVATE API, evaluated', () => {
  const vpce = 'vpce-0123456789abcdef0';
  const { template } = buildStack({ config: { ...MATRIX_CONFIG, vpcEndpointIds: [vpce] } });
  const policy = apiResourcePolicy(template, STAGE);
  const rotator = roleSession(API_ACCOUNT, 'rotators-caller');
  const put = methodArn(STAGE, 'PUT', '/client/secrets');

  it('allows a rotator through the VPC endpoint', async () => {
    const context = { ...rotator.context, 'aws:SourceVpce': vpce };
    expect(
      await evaluate({
        ...rotator,
        context,
        action: 'execute-api:Invoke',
        resource: put,
        resourcePolicy: policy,
      }),
    ).toBe('Allowed');
  });

  it('explicitly denies the same rotator from anywhere else (another endpoint, or none)', async () => {
    for (const context of [
      { ...rotator.context, 'aws:SourceVpce': 'vpce-0fedcba9876543210' },
      rotator.context,
    ]) {
      expect(
        await evaluate({
          ...rotator,
          context,
          action: 'execute-api:Invoke',
          resource: put,
          resourcePolicy: policy,
        }),
      ).toBe('ExplicitlyDenied');
    }
  });
});

const { template: matrixTemplate } = buildStack({ config: MATRIX_CONFIG });

// API Gateway invokes the alias live; the unqualified function and the published version keep the
// same policy, so no qualifier is a way around the API.
describe.each([
  ['the alias live', ALIAS_ARN],
  ['the unqualified function', FUNCTION_ARN],
  ['the published version', VERSION_ARN],
])('the function policy of %s, evaluated', (_qualifier, FUNCTION_ARN) => {
  const policy: PolicyDocumentJson = functionResourcePolicy(matrixTemplate, STAGE, FUNCTION_ARN);

  it('has statements of its own (a qualifier without a policy would be open to IAM alone)', () => {
    expect(policy.Statement.length).toBeGreaterThan(0);
  });
  const apiGateway = (sourceArn: string, sourceAccount = API_ACCOUNT) => ({
    principal: 'apigateway.amazonaws.com',
    context: { 'aws:SourceArn': sourceArn, 'aws:SourceAccount': sourceAccount },
  });

  const direct: Array<[string, { principal: string; context: Record<string, string> }, boolean]> = [
    ['a same-account admin (identity lambda:*)', roleSession(API_ACCOUNT, 'admin'), true],
    ['a same-account role without an identity policy', roleSession(API_ACCOUNT, 'app'), false],
    ['a cross-account admin (identity lambda:*)', roleSession(CROSS_ACCOUNT, 'admin'), true],
    [
      'a rotator of the API, invoking directly (identity lambda:*)',
      roleSession(API_ACCOUNT, 'rotators-caller'),
      true,
    ],
  ];
  const actions = ['lambda:InvokeFunction', 'lambda:InvokeFunctionUrl'];

  it.each(
    direct.flatMap(([name, caller, identity]) =>
      actions.map(
        (action) =>
          [
            `direct ${action} by ${name} -> ${identity ? 'explicit deny' : 'deny'}`,
            caller,
            identity,
            action,
          ] as const,
      ),
    ),
  )('%s', async (_name, caller, identity, action) => {
    const actual = await evaluate({
      ...caller,
      action,
      resource: FUNCTION_ARN,
      ...(identity ? { identityPolicy: permissive('lambda:*') } : {}),
      resourcePolicy: policy,
    });
    if (identity) expect(actual).toBe('ExplicitlyDenied');
    else expect(actual).not.toBe('Allowed');
  });

  it.each(ROUTES.map((route) => [`${route.method} ${route.path}`, route] as const))(
    'API Gateway invoking for this API and stage, %s -> allow',
    async (_name, route) => {
      const actual = await evaluate({
        ...apiGateway(methodArn(STAGE, route.method, route.path)),
        action: 'lambda:InvokeFunction',
        resource: FUNCTION_ARN,
        resourcePolicy: policy,
      });
      expect(actual).toBe('Allowed');
    },
  );

  const refused: Array<[string, ReturnType<typeof apiGateway>]> = [
    ["another API's source ARN", apiGateway(methodArn(STAGE, 'GET', '/client', 'zzzzzzzzzz'))],
    [
      "another account's API",
      apiGateway(methodArn(STAGE, 'GET', '/client').replace(API_ACCOUNT, CROSS_ACCOUNT), CROSS_ACCOUNT),
    ],
    [
      'this API, another stage (test-invoke-stage)',
      apiGateway(methodArn('test-invoke-stage', 'GET', '/client')),
    ],
    ['this API, a method outside the contract', apiGateway(methodArn(STAGE, 'DELETE', '/client'))],
  ];
  it.each(refused)('API Gateway invoking with %s -> explicit deny', async (_name, caller) => {
    const actual = await evaluate({
      ...caller,
      action: 'lambda:InvokeFunction',
      resource: FUNCTION_ARN,
      resourcePolicy: policy,
    });
    expect(actual).toBe('ExplicitlyDenied');
  });

  it('API Gateway may not use a function URL either -> deny', async () => {
    const actual = await evaluate({
      ...apiGateway(methodArn(STAGE, 'GET', '/client')),
      action: 'lambda:InvokeFunctionUrl',
      resource: FUNCTION_ARN,
      resourcePolicy: policy,
    });
    expect(actual).not.toBe('Allowed');
  });
});

// A traffic-shifting stage's pre-traffic hook invokes the published version directly, before it takes
// traffic: the version's policy spares exactly the hook's role; the alias and the function do not.
describe('the pre-traffic hook and the function policies of a canary stage, evaluated', () => {
  const { stack, template } = buildStack({ stage: 'canary' });
  const hookRole = stack.deployCheck?.fn.role;
  if (hookRole === undefined) throw new Error('the canary stage has no pre-traffic hook');
  const hookRoleId = stack.resolve((hookRole.node.defaultChild as CfnElement).logicalId) as string;
  const hook = {
    principal: `arn:aws:sts::${API_ACCOUNT}:assumed-role/${hookRoleId}/session`,
    context: { 'aws:PrincipalArn': stackRoleArn(hookRoleId), 'aws:PrincipalAccount': API_ACCOUNT },
  };
  // The hook role's own Lambda statements, as deployed (its CodeDeploy grant is not about Lambda).
  const hookIdentity: PolicyDocumentJson = {
    Version: '2012-10-17',
    Statement: Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((policy) => JSON.stringify(policy.Properties.Roles) === JSON.stringify([{ Ref: hookRoleId }]))
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Array<Record<string, unknown>>)
      .filter((statement) => JSON.stringify(statement.Action).includes('lambda:'))
      .map((statement) => resolveIntrinsics(statement as never, template, 'canary') as Record<string, never>),
  };
  const policyOf = (arn: string) => functionResourcePolicy(template, 'canary', arn);

  it("the hook's own policy allows invoking the published version only", () => {
    expect(hookIdentity.Statement).toEqual([
      expect.objectContaining({ Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: VERSION_ARN }),
    ]);
  });

  it('the hook may invoke the published version', async () => {
    const actual = await evaluate({
      ...hook,
      action: 'lambda:InvokeFunction',
      resource: VERSION_ARN,
      identityPolicy: hookIdentity,
      resourcePolicy: policyOf(VERSION_ARN),
    });
    expect(actual).toBe('Allowed');
  });

  it.each([
    ['the alias live', ALIAS_ARN],
    ['the unqualified function', FUNCTION_ARN],
  ])('the hook may not invoke %s, even with an identity policy allowing every invoke', async (_name, arn) => {
    const actual = await evaluate({
      ...hook,
      action: 'lambda:InvokeFunction',
      resource: arn,
      identityPolicy: permissive('lambda:*'),
      resourcePolicy: policyOf(arn),
    });
    expect(actual).toBe('ExplicitlyDenied');
  });

  const others: Array<[string, { principal: string; context: Record<string, string> }]> = [
    ['a same-account admin', roleSession(API_ACCOUNT, 'admin')],
    ["a role of another account with the hook role's name", roleSession(CROSS_ACCOUNT, hookRoleId)],
    [
      "a same-account role whose name starts with the hook role's",
      roleSession(API_ACCOUNT, `${hookRoleId}x`),
    ],
    ['the synthetic caller, invoking directly', roleSession(API_ACCOUNT, 'SyntheticCallerFunctionRole')],
  ];
  it.each(others)(
    'nobody else gains a direct invoke of the published version: %s (identity lambda:*) -> explicit deny',
    async (_name, caller) => {
      for (const action of ['lambda:InvokeFunction', 'lambda:InvokeFunctionUrl']) {
        const actual = await evaluate({
          ...caller,
          action,
          resource: VERSION_ARN,
          identityPolicy: permissive('lambda:*'),
          resourcePolicy: policyOf(VERSION_ARN),
        });
        expect(actual, action).toBe('ExplicitlyDenied');
      }
    },
  );

  it.each([
    ['the alias live', ALIAS_ARN],
    ['the published version', VERSION_ARN],
  ])('API Gateway still invokes %s for this API and stage', async (_name, arn) => {
    const actual = await evaluate({
      principal: 'apigateway.amazonaws.com',
      context: { 'aws:SourceArn': methodArn('canary', 'GET', '/client') },
      action: 'lambda:InvokeFunction',
      resource: arn,
      resourcePolicy: policyOf(arn),
    });
    expect(actual).toBe('Allowed');
  });
});
