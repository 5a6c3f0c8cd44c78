/**
 * `npm run lint:cfn`'s judgement of cfn-lint's findings, alone (no synth, no cfn-lint): which stages it
 * lints, which resource a finding is about, and which findings fail the lint. Importing the script runs
 * nothing.
 */
import { describe, expect, it } from 'vitest';
import {
  type Finding,
  KNOWN_FALSE_POSITIVES,
  resourceTypeOf,
  stagesOf,
  verdictOf,
} from '../../../scripts/lint-cfn.ts';

function finding(overrides: {
  level?: string;
  rule?: string;
  message?: string;
  path?: (string | number)[];
}): Finding {
  return {
    Level: overrides.level ?? 'Error',
    Message: overrides.message ?? 'something is wrong',
    Rule: { Id: overrides.rule ?? 'E3012' },
    Location: { Path: overrides.path ?? ['Resources', 'Fn', 'Properties'], Start: { LineNumber: 7 } },
  };
}

const RESOURCES = {
  Dashboard: { Type: 'AWS::CloudWatch::Dashboard' },
  Fn: { Type: 'AWS::Lambda::Function' },
};

describe('stagesOf', () => {
  it('lints every committed stage file, by name, sorted, and nothing that is not JSON', () => {
    expect(stagesOf(['prod.json', 'README.md', 'dev.json', 'staging.json', 'notes.json.bak'])).toEqual([
      'dev',
      'prod',
      'staging',
    ]);
    expect(stagesOf([])).toEqual([]);
  });
});

describe('resourceTypeOf', () => {
  it("names the type of the template's resource a finding points at, and none outside Resources", () => {
    expect(
      resourceTypeOf(finding({ path: ['Resources', 'Dashboard', 'Properties', 'Tags'] }), RESOURCES),
    ).toBe('AWS::CloudWatch::Dashboard');
    expect(resourceTypeOf(finding({ path: ['Resources', 'Missing'] }), RESOURCES)).toBeUndefined();
    expect(resourceTypeOf(finding({ path: ['Outputs', 'Fn'] }), RESOURCES)).toBeUndefined();
    expect(resourceTypeOf(finding({ path: [] }), RESOURCES)).toBeUndefined();
  });
});

describe('verdictOf', () => {
  it('fails the lint on an error that is not a known false positive', () => {
    expect(verdictOf(finding({ rule: 'E3012' }), 'AWS::Lambda::Function')).toBe('ERROR');
  });

  it('passes warnings and informational findings on at their level', () => {
    expect(verdictOf(finding({ level: 'Warning', rule: 'W3005' }), undefined)).toBe('Warning');
    expect(verdictOf(finding({ level: 'Informational', rule: 'I3042' }), undefined)).toBe('Informational');
  });

  it('lets through the stale-schema error about AWS::Lambda::ResourcePolicy, and no other E3006', () => {
    const stale = finding({
      rule: 'E3006',
      message: "Resource type 'AWS::Lambda::ResourcePolicy' does not exist",
    });
    expect(verdictOf(stale, undefined)).toBe('known');
    const other = finding({ rule: 'E3006', message: "Resource type 'AWS::Made::Up' does not exist" });
    expect(verdictOf(other, undefined)).toBe('ERROR');
  });

  it("lets through Tags on a dashboard only, not another rule's error there or Tags elsewhere", () => {
    const tags = finding({
      rule: 'E3002',
      message: "Additional properties are not allowed ('Tags' was unexpected)",
    });
    expect(verdictOf(tags, 'AWS::CloudWatch::Dashboard')).toBe('known');
    expect(verdictOf(tags, 'AWS::Lambda::Function')).toBe('ERROR');
    expect(verdictOf(tags, undefined)).toBe('ERROR');
    const otherProperty = finding({
      rule: 'E3002',
      message: "Additional properties are not allowed ('Colour' was unexpected)",
    });
    expect(verdictOf(otherProperty, 'AWS::CloudWatch::Dashboard')).toBe('ERROR');
    expect(verdictOf(finding({ rule: 'E3012', message: "'Tags'" }), 'AWS::CloudWatch::Dashboard')).toBe(
      'ERROR',
    );
  });

  it('says why for every known false positive', () => {
    for (const known of KNOWN_FALSE_POSITIVES) {
      expect(known.rule).toMatch(/^E\d{4}$/);
      expect(known.reason.length).toBeGreaterThan(40);
    }
  });
});
