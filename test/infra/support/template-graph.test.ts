// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${X}` is CloudFormation's Fn::Sub syntax here.
/**
 * The template graph finds what CloudFormation would refuse: a seeded cycle through each kind of
 * reference, and the cycle of the prod template as it was before its rollback alarms got literal
 * dimensions (the resources of that cycle, kept as a fixture).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  type CfnTemplate,
  dependencyGraph,
  describeCycles,
  findCycles,
  referencesIn,
} from './template-graph.ts';

const OLD_PROD_CYCLE: CfnTemplate = JSON.parse(
  readFileSync(new URL('./fixtures/prod-cycle.template.json', import.meta.url), 'utf8'),
);

describe('referencesIn', () => {
  it('reads Ref, both GetAtt forms, Sub with ${X} and ${X.Attr}, and skips ${!X} and Sub variables', () => {
    const refs = referencesIn({
      A: { Ref: 'Ref1' },
      B: { 'Fn::GetAtt': ['GetAttList', 'Arn'] },
      C: { 'Fn::GetAtt': 'GetAttString.Arn' },
      D: { 'Fn::Sub': 'arn:${AWS::Partition}:x:${SubPlain}/${SubAttr.Name}/${!Literal}' },
      E: { 'Fn::Sub': ['${Local}-${SubOuter}', { Local: { Ref: 'SubVariable' } }] },
      F: { 'Fn::If': ['IsProd', { Ref: 'IfBranch' }, 'x'] },
    });
    expect([...refs].sort()).toEqual(
      [
        'AWS::Partition',
        'Condition:IsProd',
        'GetAttList',
        'GetAttString',
        'IfBranch',
        'Ref1',
        'SubAttr',
        'SubOuter',
        'SubPlain',
        'SubVariable',
      ].sort(),
    );
  });
});

describe('findCycles', () => {
  it('finds no cycle in an acyclic template', () => {
    const template: CfnTemplate = {
      Resources: {
        A: { Type: 'T', Properties: { X: { Ref: 'B' } } },
        B: { Type: 'T', Properties: { X: { Ref: 'C' }, Y: { Ref: 'AWS::Region' } } },
        C: { Type: 'T', DependsOn: ['D'] },
        D: { Type: 'T' },
      },
    };
    expect(findCycles(dependencyGraph(template))).toEqual([]);
  });

  it('finds a seeded cycle that runs through UpdatePolicy, Sub, GetAtt and DependsOn, as a path', () => {
    const template: CfnTemplate = {
      Resources: {
        Alias: {
          Type: 'AWS::Lambda::Alias',
          UpdatePolicy: { CodeDeployLambdaAliasUpdate: { DeploymentGroupName: { Ref: 'Group' } } },
        },
        Group: { Type: 'T', Properties: { Alarms: [{ Name: { 'Fn::Sub': '${Alarm.Arn}' } }] } },
        Alarm: { Type: 'T', Properties: { Stage: { 'Fn::GetAtt': ['Stage', 'Name'] } } },
        Stage: { Type: 'T', DependsOn: 'Alias' },
        Unrelated: { Type: 'T', Properties: { X: { Ref: 'Alias' } } },
      },
    };
    const cycles = findCycles(dependencyGraph(template));
    expect(describeCycles(cycles)).toBe('Alarm -> Stage -> Alias -> Group -> Alarm');
  });

  it('finds a cycle through conditions, and a self-reference', () => {
    const template: CfnTemplate = {
      Conditions: {
        A: { 'Fn::Equals': [{ Condition: 'B' }, 'x'] },
        B: { 'Fn::Not': [{ Condition: 'A' }] },
      },
      Resources: { Self: { Type: 'T', Properties: { X: { Ref: 'Self' } } } },
    };
    expect(describeCycles(findCycles(dependencyGraph(template)))).toBe(
      'Condition:A -> Condition:B -> Condition:A\nSelf -> Self',
    );
  });

  it('finds the cycle of the old prod template (alias -> deployment group -> API alarm -> stage -> deployment -> method -> alias)', () => {
    expect(describeCycles(findCycles(dependencyGraph(OLD_PROD_CYCLE)))).toBe(
      'Alarmsapi5xxrate8895D640 -> ApiDeploymentStageprod3EB9684E -> ApiDeploymentB17BE62Dbbbf01103f5076a54074234f52bf1a15 -> ApiclientGETE5A242D3 -> LiveAlias07E54589 -> LiveDeploymentGroupCF63328F -> Alarmsapi5xxrate8895D640',
    );
  });

  it('sees no cycle in the old prod template once the alias update policy is ignored (it is the UpdatePolicy edge)', () => {
    const resources = structuredClone(OLD_PROD_CYCLE.Resources ?? {});
    for (const resource of Object.values(resources)) delete resource.UpdatePolicy;
    expect(findCycles(dependencyGraph({ Resources: resources }))).toEqual([]);
  });
});
