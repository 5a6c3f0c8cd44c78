/** The specification check finds what CloudFormation would refuse, on a seeded template. */
import { describe, expect, it } from 'vitest';
import { resourceSpec, specProblems } from './resource-spec.ts';

const db = await resourceSpec();

describe('specProblems', () => {
  it('accepts a valid template, intrinsics included', () => {
    expect(
      specProblems(
        {
          Resources: {
            Fn: {
              Type: 'AWS::Lambda::Function',
              Properties: {
                Code: { ZipFile: 'exports.handler = 1' },
                Role: { 'Fn::GetAtt': ['Role', 'Arn'] },
                Timeout: 15,
                Environment: { Variables: { A: 'b' } },
                Tags: [{ Key: 'k', Value: 'v' }],
              },
            },
            Role: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: {} } },
            Policy: {
              Type: 'AWS::Lambda::ResourcePolicy',
              Properties: { ResourceArn: { Ref: 'Fn' }, PolicyDocument: {} },
            },
          },
        },
        db,
      ),
    ).toEqual([]);
  });

  it('reports an unknown type, an unknown or ill-shaped property, a missing one and a wrong attribute', () => {
    expect(
      specProblems(
        {
          Resources: {
            Nope: { Type: 'AWS::Lambda::Functoin', Properties: {} },
            Fn: {
              Type: 'AWS::Lambda::Function',
              Properties: {
                Code: { ZipFile: 'x', Zip: 'y' },
                Role: { 'Fn::GetAtt': ['Role', 'Name'] },
                Timeout: 'fifteen',
                Environment: { Variables: ['A'] },
                Handle: 'index.handler',
              },
              Retain: true,
            },
            Role: { Type: 'AWS::IAM::Role', Properties: {} },
          },
        },
        db,
      ).sort(),
    ).toEqual(
      [
        'Nope: unknown type AWS::Lambda::Functoin',
        'Fn: Retain is not a resource attribute',
        'Fn.Code: no property Zip',
        'Fn.Timeout: must be a number',
        'Fn.Environment.Variables: must be a map',
        'Fn: no property Handle',
        'Fn: Fn::GetAtt Role.Name: AWS::IAM::Role has no such attribute',
        'Role: required property AssumeRolePolicyDocument is missing',
      ].sort(),
    );
  });
});
