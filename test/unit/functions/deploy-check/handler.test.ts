/** The hook's settings come from its environment; a missing one names itself. */
import { describe, expect, it } from 'vitest';

// The handler module builds its SDK clients at import; the settings parser is all this test needs.
process.env.TARGET_VERSION_ARN ??= 'arn:aws:lambda:eu-west-1:123456789012:function:fn:1';
process.env.CALLER_ARN ??= 'arn:aws:iam::123456789012:role/hook';
process.env.STAGE ??= 'test';
process.env.AWS_REGION ??= 'eu-west-1';
const { settingsFromEnv } = await import('../../../../functions/deploy-check/handler.ts');

describe('settingsFromEnv', () => {
  const env = {
    TARGET_VERSION_ARN: 'arn:aws:lambda:eu-west-1:123456789012:function:fn:3',
    CALLER_ARN: 'arn:aws:iam::123456789012:role/hook',
    STAGE: 'prod',
  };

  it('reads the target version, the caller and the stage', () => {
    expect(settingsFromEnv(env)).toEqual({
      targetVersionArn: env.TARGET_VERSION_ARN,
      callerArn: env.CALLER_ARN,
      stage: 'prod',
    });
  });

  it.each(['TARGET_VERSION_ARN', 'CALLER_ARN', 'STAGE'])('refuses a missing %s', (name) => {
    expect(() => settingsFromEnv({ ...env, [name]: ' ' })).toThrow(`${name} is required`);
  });
});
