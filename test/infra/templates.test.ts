/**
 * Every template the stack can take, as CloudFormation would see it: no dependency cycle (the graph
 * of `support/template-graph.ts`, the check behind cfn-lint's E3004) and nothing the CloudFormation
 * resource specification does not know (`support/resource-spec.ts`). For the committed stages, the
 * test fixtures, and every deployment strategy with the optional parts (VPC endpoints, rotation,
 * synthetic caller) all on and all off.
 */
import { describe, expect, it } from 'vitest';
import { loadStage, STAGES, type StageConfig } from '../../infra/stages.ts';
import { BASIC, buildStack, FIXTURE_STAGES, FULL_CONFIG, fixtureStage } from './fixtures.ts';
import { resourceSpec, specProblems } from './support/resource-spec.ts';
import { type CfnTemplate, dependencyGraph, describeCycles, findCycles } from './support/template-graph.ts';

const STRATEGIES: Array<[string, StageConfig['deployment']]> = [
  ['all-at-once', { strategy: 'all-at-once' }],
  ['canary', { strategy: 'canary', percentage: 10, intervalMinutes: 10 }],
  ['linear', { strategy: 'linear', percentage: 25, intervalMinutes: 3 }],
];

/** Every optional part on, or every one off. */
function shape(deployment: StageConfig['deployment'], on: boolean): StageConfig {
  return {
    ...BASIC,
    deployment,
    vpcEndpointIds: on ? ['vpce-0123456789abcdef0'] : [],
    rotation: { enabled: on },
    syntheticCaller: { enabled: on, rateMinutes: 5 },
  };
}

const cases: Array<[string, { stage: string; config: StageConfig }]> = [
  ...STAGES.map((stage): [string, { stage: string; config: StageConfig }] => [
    `committed stage ${stage}`,
    { stage, config: loadStage(stage) },
  ]),
  ...FIXTURE_STAGES.map((stage): [string, { stage: string; config: StageConfig }] => [
    `fixture stage ${stage}`,
    { stage, config: fixtureStage(stage) },
  ]),
  ['every option configured', { stage: 'basic', config: FULL_CONFIG }],
  ...STRATEGIES.flatMap(([name, deployment]) =>
    [true, false].map((on): [string, { stage: string; config: StageConfig }] => [
      `${name}, VPC endpoints, rotation and synthetic caller ${on ? 'on' : 'off'}`,
      { stage: 'shape', config: shape(deployment, on) },
    ]),
  ),
];

const db = await resourceSpec();

describe.each(cases)('the template of %s', (_name, options) => {
  const template = buildStack(options).template.toJSON() as CfnTemplate;

  it('has no dependency cycle', () => {
    expect(describeCycles(findCycles(dependencyGraph(template)))).toBe('');
  });

  it('uses only resource types, properties and attributes of the CloudFormation specification', () => {
    expect(specProblems(template, db)).toEqual([]);
  });
});
