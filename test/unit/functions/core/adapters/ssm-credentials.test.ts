import { GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { createSsmCredentialsLoader } from '../../../../../functions/core/adapters/ssm-credentials.ts';
import { ETAG_KEY, ETAG_KEY_BASE64 } from '../../../../support/affix-fixtures.ts';

const ssmMock = mockClient(SSMClient);
afterEach(() => ssmMock.reset());

const names = {
  clientIdParameter: '/affix/test/client-id',
  clientSecretParameter: '/affix/test/client-secret',
  etagKeyParameter: '/affix/test/etag-key',
};
const load = () => createSsmCredentialsLoader({ client: new SSMClient({ region: 'eu-west-1' }), ...names })();

const etagKeyParameter = (value: string) => ({ Name: names.etagKeyParameter, Value: value });

describe('createSsmCredentialsLoader', () => {
  it('reads the credentials and the ETag key in one GetParameters call, with decryption', async () => {
    ssmMock.on(GetParametersCommand).resolves({
      Parameters: [
        { Name: names.clientSecretParameter, Value: 'the-secret-value-123' },
        etagKeyParameter(`${ETAG_KEY_BASE64}\n`), // put from a file: a trailing newline is fine
        { Name: names.clientIdParameter, Value: 'the-client-id' },
      ],
      InvalidParameters: [],
    });
    const loaded = await load();
    expect({ clientId: loaded.clientId, clientSecret: loaded.clientSecret }).toEqual({
      clientId: 'the-client-id',
      clientSecret: 'the-secret-value-123',
    });
    expect(loaded.etagKey.type).toBe('secret');
    expect(loaded.etagKey.equals(ETAG_KEY)).toBe(true);
    // A KeyObject prints as nothing: the key cannot end up in a log line by accident.
    expect(JSON.stringify(loaded)).not.toContain(ETAG_KEY_BASE64.slice(0, 8));
    expect(ssmMock.commandCalls(GetParametersCommand)).toHaveLength(1);
    expect(ssmMock.commandCalls(GetParametersCommand)[0]?.args[0].input).toEqual({
      Names: [names.clientIdParameter, names.clientSecretParameter, names.etagKeyParameter],
      WithDecryption: true,
    });
  });

  it.each([
    ['31 bytes', Buffer.alloc(31, 7).toString('base64'), 'EtagKeyTooShort'],
    ['blank', '   ', 'EtagKeyNotBase64'],
    ['not Base64', `${'!'.repeat(44)}`, 'EtagKeyNotBase64'],
    ['base64url', Buffer.alloc(33, 0xfb).toString('base64url'), 'EtagKeyNotBase64'],
    ['16 bytes with padding', Buffer.alloc(16, 3).toString('base64'), 'EtagKeyTooShort'],
    [
      'non-canonical padding bits',
      `${Buffer.alloc(32, 7).toString('base64').slice(0, -2)}9=`,
      'EtagKeyNotBase64',
    ],
  ])('refuses a weak or malformed ETag key (%s) naming no value', async (_case, value, reason) => {
    ssmMock.on(GetParametersCommand).resolves({
      Parameters: [
        { Name: names.clientIdParameter, Value: 'the-client-id' },
        { Name: names.clientSecretParameter, Value: 'the-secret-value-123' },
        etagKeyParameter(value),
      ],
    });
    const error = (await load().catch((e: unknown) => e)) as Error & { slug?: string };
    expect(error).toMatchObject({ slug: 'credentials-unavailable', status: 503 });
    expect(error.cause).toEqual({ source: 'ssm', reason, parameter: names.etagKeyParameter });
    const said = `${error.message} ${JSON.stringify(error.cause)}`;
    if (value.trim() !== '') expect(said).not.toContain(value.trim().slice(0, 8));
    expect(said).not.toContain('the-secret-value-123');
  });

  it('accepts a key longer than 32 bytes', async () => {
    ssmMock.on(GetParametersCommand).resolves({
      Parameters: [
        { Name: names.clientIdParameter, Value: 'the-client-id' },
        { Name: names.clientSecretParameter, Value: 'the-secret-value-123' },
        etagKeyParameter(Buffer.alloc(64, 9).toString('base64')),
      ],
    });
    expect((await load()).etagKey.symmetricKeySize).toBe(64);
  });

  it('names a missing ETag key parameter like a missing credential', async () => {
    ssmMock.on(GetParametersCommand).resolves({
      Parameters: [
        { Name: names.clientIdParameter, Value: 'the-client-id' },
        { Name: names.clientSecretParameter, Value: 'the-secret-value-123' },
      ],
      InvalidParameters: [names.etagKeyParameter],
    });
    const error = await load().catch((e: unknown) => e);
    expect((error as Error).cause).toEqual({
      source: 'ssm',
      reason: 'ParameterMissing',
      missing: [names.etagKeyParameter],
    });
  });

  it('answers credentials-unavailable naming the missing parameter, never a value', async () => {
    ssmMock.on(GetParametersCommand).resolves({
      Parameters: [
        { Name: names.clientIdParameter, Value: 'the-client-id' },
        etagKeyParameter(ETAG_KEY_BASE64),
      ],
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
        etagKeyParameter(ETAG_KEY_BASE64),
      ],
    });
    await expect(load()).rejects.toMatchObject({ slug: 'credentials-unavailable' });
  });
});
