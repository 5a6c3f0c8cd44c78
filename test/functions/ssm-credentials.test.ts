import { GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { createSsmCredentialsLoader } from '../../functions/client-config/ssm-credentials.ts';

const ssmMock = mockClient(SSMClient);
afterEach(() => ssmMock.reset());

const names = {
  clientIdParameter: '/affix/test/client-id',
  clientSecretParameter: '/affix/test/client-secret',
};
const load = () => createSsmCredentialsLoader({ client: new SSMClient({ region: 'eu-west-1' }), ...names })();

describe('createSsmCredentialsLoader', () => {
  it('reads both parameters in one GetParameters call, with decryption', async () => {
    ssmMock.on(GetParametersCommand).resolves({
      Parameters: [
        { Name: names.clientSecretParameter, Value: 'the-secret-value-123' },
        { Name: names.clientIdParameter, Value: 'the-client-id' },
      ],
      InvalidParameters: [],
    });
    await expect(load()).resolves.toEqual({
      clientId: 'the-client-id',
      clientSecret: 'the-secret-value-123',
    });
    expect(ssmMock.commandCalls(GetParametersCommand)).toHaveLength(1);
    expect(ssmMock.commandCalls(GetParametersCommand)[0]?.args[0].input).toEqual({
      Names: [names.clientIdParameter, names.clientSecretParameter],
      WithDecryption: true,
    });
  });

  it('answers credentials-unavailable naming the missing parameter, never a value', async () => {
    ssmMock.on(GetParametersCommand).resolves({
      Parameters: [{ Name: names.clientIdParameter, Value: 'the-client-id' }],
      InvalidParameters: [names.clientSecretParameter],
    });
    const error = await load().catch((e: unknown) => e);
    expect(error).toMatchObject({ slug: 'credentials-unavailable', status: 503 });
    expect((error as Error).cause).toEqual({
      source: 'ssm',
      reason: 'ParameterMissing',
      missing: [names.clientSecretParameter],
    });
    expect(JSON.stringify((error as Error).cause)).not.toContain('the-client-id');
  });

  it('turns any SDK error into credentials-unavailable, keeping only the error name', async () => {
    ssmMock
      .on(GetParametersCommand)
      .rejects(
        Object.assign(new Error('User: arn:... is not authorized'), { name: 'AccessDeniedException' }),
      );
    const error = await load().catch((e: unknown) => e);
    expect(error).toMatchObject({
      slug: 'credentials-unavailable',
      message: 'The Affix credentials could not be read.',
    });
    expect((error as Error).cause).toEqual({ source: 'ssm', reason: 'AccessDeniedException' });
  });

  it('treats an empty value as missing', async () => {
    ssmMock.on(GetParametersCommand).resolves({
      Parameters: [
        { Name: names.clientIdParameter, Value: 'id' },
        { Name: names.clientSecretParameter, Value: '' },
      ],
    });
    await expect(load()).rejects.toMatchObject({ slug: 'credentials-unavailable' });
  });
});
