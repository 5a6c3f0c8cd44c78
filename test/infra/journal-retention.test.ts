/**
 * The change journal's retention per stage: `journalRetentionDays` of the stage file reaches both
 * functions that append journal entries (client-config and the rotation job) as
 * `JOURNAL_RETENTION_DAYS`; a stack built with a retention out of 1..3650 is refused before synth.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_JOURNAL_RETENTION_DAYS } from '../../functions/core/domain/change-journal.ts';
import { StageConfigError } from '../../infra/stages.ts';
import { BASIC, buildStack } from './fixtures.ts';

type Fn = { Type: string; Properties: { Environment?: { Variables?: Record<string, unknown> } } };

/** `JOURNAL_RETENTION_DAYS` of the client-config and the rotation function of a built stack. */
function retentionOf(journalRetentionDays?: number) {
  const { stack, template } = buildStack(
    journalRetentionDays === undefined ? {} : { config: { ...BASIC, journalRetentionDays } },
  );
  const resources = template.toJSON().Resources as Record<string, Fn>;
  const variable = (functionName: string) => {
    const id = stack.resolve(functionName).Ref as string;
    return resources[id]?.Properties.Environment?.Variables?.JOURNAL_RETENTION_DAYS;
  };
  return {
    clientConfig: variable(stack.clientConfig.function.functionName),
    rotation: variable(stack.secretRotation.fn.function.functionName),
  };
}

// Built while the file loads, like the other CDK suites: synth is the slow part, not the assertion.
const byDefault = retentionOf();
const longer = retentionOf(1096);

describe('JOURNAL_RETENTION_DAYS', () => {
  it(`is ${DEFAULT_JOURNAL_RETENTION_DAYS} on both functions when the stage file leaves it out`, () => {
    const value = String(DEFAULT_JOURNAL_RETENTION_DAYS);
    expect(byDefault).toEqual({ clientConfig: value, rotation: value });
  });

  it("is the stage's journalRetentionDays on both functions", () => {
    expect(longer).toEqual({ clientConfig: '1096', rotation: '1096' });
  });

  it.each([0, 5000])('a stack with %d days is refused before anything is built', (days) => {
    expect(() => retentionOf(days)).toThrow(StageConfigError);
    expect(() => retentionOf(days)).toThrow(
      /^stage basic: journalRetentionDays: must be at (least 1 day|most 3650 days)/,
    );
  });
});
