/**
 * cdk-nag (AWS Solutions) on every stage: no finding may be left unacknowledged, and every
 * acknowledgment is one we meant, with a reason.
 */
import { App, Stack, Validations } from 'aws-cdk-lib';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { StageConfig } from '../../infra/stages.ts';
import type { WebhookConfigStack } from '../../infra/webhook-config-stack.ts';
import { buildApp, buildStack, FIXTURE_STAGES, FULL_CONFIG, fixtureStage } from './fixtures.ts';

function findings(scope: IConstruct): string[] {
  const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(scope);
  return report.violations.flatMap((violation) =>
    violation.violatingResources.map(
      (resource) =>
        `${violation.severity} ${violation.ruleName} at ${resource.constructPath}: ${violation.description}`,
    ),
  );
}

/** Every acknowledgment in the tree, as `<construct path relative to the stack> <rule id>`, with its reason. */
function acknowledgments(stack: Stack): Array<{ at: string; id: string; reason: string }> {
  return stack.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
          at: construct.node.path.slice(stack.node.path.length + 1),
          id: id.replace(/^annotation::/i, ''),
          reason,
        })),
      ),
  );
}

const EXPECTED_ACKNOWLEDGMENTS = [
  'Api AwsSolutions-APIG2',
  'Api/Default/client/GET AwsSolutions-COG4',
  'Api/Default/client/PATCH AwsSolutions-COG4',
  'Api/Default/client/changes/GET AwsSolutions-COG4',
  'Api/Default/client/secrets/PUT AwsSolutions-COG4',
  'Api/Default/webhooks/verify/POST AwsSolutions-COG4',
  'Api/DeploymentStage.{stage} AwsSolutions-APIG3',
  'ClientConfig/Function AwsSolutions-L1',
  'SecretRotation/Function/Function AwsSolutions-L1',
];

/** The logical ID of the pre-traffic hook function (a canary or linear stage has one). */
function hookLogicalId(stack: WebhookConfigStack): string {
  const fn = stack.deployCheck?.fn.function.node.defaultChild as CfnFunction | undefined;
  if (fn === undefined) throw new Error('no pre-traffic hook');
  return stack.resolve(fn.logicalId) as string;
}

const variants: Array<[string, StageConfig | undefined, string]> = [
  ...FIXTURE_STAGES.map((stage): [string, undefined, string] => [stage, undefined, stage]),
  ['basic with every option configured', FULL_CONFIG, 'basic'],
];

describe.each(variants)('cdk-nag AwsSolutions on %s', (_name, config, stage) => {
  // The worker's app of this stage (fixtures.ts), built with the checks registered as a validation
  // plugin and synthesized once, shared with the other CDK suites; a synthesis the checks refuse fails
  // this stage's tests.
  const built = () => buildStack({ stage, ...(config ? { config } : {}) });
  const effective = config ?? fixtureStage(stage as (typeof FIXTURE_STAGES)[number]);
  // The first synthesis in a worker loads CDK's template validation: a hook's time, not a test's.
  beforeAll(() => {
    built();
  });

  it('reports no unacknowledged error or warning', () => {
    expect(findings(built().app)).toEqual([]);
  });

  it('lets the app synthesize with the checks registered as a validation plugin', () => {
    const { app, stack } = built();
    const assembly = app.synth();
    expect(assembly.getStackArtifact(stack.artifactId).template.Resources).toBeDefined();
  });

  it('acknowledges exactly the expected findings, each with a specific reason', () => {
    const { stack } = built();
    const found = acknowledgments(stack);
    expect(found.map((ack) => `${ack.at} ${ack.id}`).sort()).toEqual(
      [
        ...EXPECTED_ACKNOWLEDGMENTS,
        // Point-in-time recovery is a stage setting: only a stage without it acknowledges DDB3.
        ...(effective.stateTable.pointInTimeRecovery ? [] : ['StateTable AwsSolutions-DDB3']),
        // Only the stack that creates API Gateway's account-wide logging role acknowledges its policy.
        ...(effective.apiGatewayCloudWatchRole
          ? [
              'Api/CloudWatchRole AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
            ]
          : []),
        // Only a traffic-shifting stage has CodeDeploy, whose service role uses CodeDeploy's managed
        // policy and may invoke the pre-traffic hook (CDK's grant: the function and its qualifiers).
        ...(effective.deployment.strategy !== 'all-at-once'
          ? [
              'Live/DeploymentGroup/ServiceRole AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSCodeDeployRoleForLambdaLimited]',
              `Live/DeploymentGroup/ServiceRole AwsSolutions-IAM5[Resource::<${hookLogicalId(stack)}.Arn>:*]`,
              'DeployCheck/Function/Function AwsSolutions-L1',
            ]
          : []),
        ...(effective.syntheticCaller.enabled ? ['SyntheticCaller/Function/Function AwsSolutions-L1'] : []),
      ]
        .map((line) => line.replace('{stage}', stage))
        .sort(),
    );
    for (const ack of found) {
      expect(ack.reason.length, ack.id).toBeGreaterThan(40);
      expect(ack.reason, ack.id).not.toMatch(/\n/);
    }
  });
});

describe('the nag check itself', () => {
  it('fails on an unacknowledged finding', () => {
    const app = new App();
    new Topic(new Stack(app, 'Probe'), 'Topic');
    expect(findings(app)).toEqual([
      expect.stringMatching(/^error AwsSolutions-SNS3 at Probe\/Topic\/Resource/),
    ]);
  });

  it('fails synthesis of a stage when a finding is not acknowledged', () => {
    const { app, stack } = buildApp({ stage: 'basic' });
    new Topic(stack, 'Probe');
    expect(() => app.synth()).toThrow(/AwsSolutions-SNS3/);
  });
});
