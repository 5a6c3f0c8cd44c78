/**
 * Every operation of the local SSM endpoint driven with the real `@aws-sdk/client-ssm`, including the
 * error types the SDK maps to its exception classes.
 */
import {
  DeleteParameterCommand,
  DescribeParametersCommand,
  GetParameterCommand,
  GetParameterHistoryCommand,
  GetParametersByPathCommand,
  GetParametersCommand,
  LabelParameterVersionCommand,
  ParameterAlreadyExists,
  ParameterNotFound,
  ParameterVersionNotFound,
  PutParameterCommand,
  SSMClient,
  SSMServiceException,
} from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SsmEndpoint, startSsmEndpoint } from '../../local/ssm-endpoint.ts';

let ssm: SsmEndpoint;
let client: SSMClient;
const SECRET = '/affix/local/client-secret';

beforeAll(async () => {
  ssm = await startSsmEndpoint({ port: 0 });
  client = new SSMClient({
    region: 'us-east-1',
    endpoint: ssm.url,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
});
afterAll(async () => {
  client?.destroy();
  await ssm?.close();
});

async function rejection(promise: Promise<unknown>): Promise<SSMServiceException> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof SSMServiceException) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

const put = (Name: string, Value: string, extra: Record<string, unknown> = {}) =>
  client.send(new PutParameterCommand({ Name, Value, ...extra }));

describe('the local SSM endpoint with the real SDK', () => {
  it('PutParameter: versions, Overwrite, SecureString, ParameterAlreadyExists without Overwrite', async () => {
    expect(await put(SECRET, 'secret-one-1111111111', { Type: 'SecureString' })).toMatchObject({
      Version: 1,
    });
    const exists = await rejection(put(SECRET, 'secret-two'));
    expect(exists).toBeInstanceOf(ParameterAlreadyExists);
    expect(exists.$metadata.httpStatusCode).toBe(400);
    expect(await put(SECRET, 'secret-two-2222222222', { Overwrite: true })).toMatchObject({ Version: 2 });
    // The type is kept on overwrite: still SecureString, so undecrypted reads see no value.
    const encrypted = await client.send(new GetParameterCommand({ Name: SECRET }));
    expect(encrypted.Parameter).toMatchObject({ Type: 'SecureString', Version: 2 });
    expect(encrypted.Parameter?.Value).not.toContain('secret-two');
    const decrypted = await client.send(new GetParameterCommand({ Name: SECRET, WithDecryption: true }));
    expect(decrypted.Parameter?.Value).toBe('secret-two-2222222222');
    expect(decrypted.Parameter?.LastModifiedDate).toBeInstanceOf(Date);
    const badType = await rejection(put('/affix/local/x', 'v', { Type: 'Secret' }));
    expect(badType.name).toBe('ValidationException');
  });

  it('GetParameter(s) with name:version and name:label selectors; ParameterVersionNotFound', async () => {
    const v1 = await client.send(new GetParameterCommand({ Name: `${SECRET}:1`, WithDecryption: true }));
    expect(v1.Parameter).toMatchObject({
      Name: SECRET,
      Version: 1,
      Value: 'secret-one-1111111111',
      Selector: ':1',
    });
    expect(await rejection(client.send(new GetParameterCommand({ Name: `${SECRET}:9` })))).toBeInstanceOf(
      ParameterVersionNotFound,
    );
    expect(
      await rejection(client.send(new GetParameterCommand({ Name: '/affix/local/missing' }))),
    ).toBeInstanceOf(ParameterNotFound);

    const labelled = await client.send(
      new LabelParameterVersionCommand({
        Name: SECRET,
        ParameterVersion: 1,
        Labels: ['previous', 'aws-bad', '123'],
      }),
    );
    expect(labelled).toMatchObject({ ParameterVersion: 1, InvalidLabels: ['aws-bad', '123'] });
    const byLabel = await client.send(
      new GetParameterCommand({ Name: `${SECRET}:previous`, WithDecryption: true }),
    );
    expect(byLabel.Parameter).toMatchObject({
      Version: 1,
      Value: 'secret-one-1111111111',
      Selector: ':previous',
    });
    expect(
      await rejection(client.send(new GetParameterCommand({ Name: `${SECRET}:nolabel` }))),
    ).toBeInstanceOf(ParameterVersionNotFound);

    const many = await client.send(
      new GetParametersCommand({
        Names: [`${SECRET}:previous`, SECRET, `${SECRET}:7`, '/affix/local/missing'],
        WithDecryption: true,
      }),
    );
    expect(many.Parameters?.map((p) => [p.Version, p.Value])).toEqual([
      [1, 'secret-one-1111111111'],
      [2, 'secret-two-2222222222'],
    ]);
    expect(many.InvalidParameters).toEqual([`${SECRET}:7`, '/affix/local/missing']);
  });

  it('LabelParameterVersion: moves a label between versions, defaults to the latest, errors', async () => {
    expect(
      await client.send(new LabelParameterVersionCommand({ Name: SECRET, Labels: ['previous'] })),
    ).toMatchObject({
      ParameterVersion: 2,
      InvalidLabels: [],
    });
    const byLabel = await client.send(new GetParameterCommand({ Name: `${SECRET}:previous` }));
    expect(byLabel.Parameter?.Version).toBe(2);
    expect(
      await rejection(
        client.send(new LabelParameterVersionCommand({ Name: SECRET, ParameterVersion: 5, Labels: ['x'] })),
      ),
    ).toBeInstanceOf(ParameterVersionNotFound);
    expect(
      await rejection(client.send(new LabelParameterVersionCommand({ Name: '/nope', Labels: ['x'] }))),
    ).toBeInstanceOf(ParameterNotFound);
  });

  it('GetParameterHistory: every version with its labels, paged; ParameterNotFound', async () => {
    const history = await client.send(new GetParameterHistoryCommand({ Name: SECRET, WithDecryption: true }));
    expect(history.Parameters?.map((p) => [p.Version, p.Value, p.Labels, p.Type])).toEqual([
      [1, 'secret-one-1111111111', [], 'SecureString'],
      [2, 'secret-two-2222222222', ['previous'], 'SecureString'],
    ]);
    const first = await client.send(new GetParameterHistoryCommand({ Name: SECRET, MaxResults: 1 }));
    expect(first.Parameters?.map((p) => p.Version)).toEqual([1]);
    expect(first.Parameters?.[0]?.Value).not.toContain('secret-one');
    const second = await client.send(
      new GetParameterHistoryCommand({ Name: SECRET, MaxResults: 1, NextToken: first.NextToken }),
    );
    expect(second.Parameters?.map((p) => p.Version)).toEqual([2]);
    expect(second.NextToken).toBeUndefined();
    expect(
      await rejection(client.send(new GetParameterHistoryCommand({ Name: '/affix/local/missing' }))),
    ).toBeInstanceOf(ParameterNotFound);
  });

  it('DescribeParameters and GetParametersByPath (Recursive or one level)', async () => {
    await put('/affix/local/client-id', 'client-0001', { Type: 'String' });
    await put('/affix/local/nested/deep', 'deep-value');
    await put('/other/param', 'other');
    const described = await client.send(
      new DescribeParametersCommand({
        ParameterFilters: [{ Key: 'Path', Option: 'OneLevel', Values: ['/affix/local'] }],
      }),
    );
    expect(described.Parameters?.map((p) => [p.Name, p.Type, p.Version])).toEqual([
      ['/affix/local/client-id', 'String', 1],
      ['/affix/local/client-secret', 'SecureString', 2],
    ]);
    expect(described.Parameters?.[1]?.KeyId).toBe('alias/aws/ssm');
    expect(JSON.stringify(described)).not.toContain('secret-two');
    const byName = await client.send(
      new DescribeParametersCommand({
        ParameterFilters: [{ Key: 'Name', Option: 'BeginsWith', Values: ['/other'] }],
      }),
    );
    expect(byName.Parameters?.map((p) => p.Name)).toEqual(['/other/param']);

    const oneLevel = await client.send(
      new GetParametersByPathCommand({ Path: '/affix/local', WithDecryption: true }),
    );
    expect(oneLevel.Parameters?.map((p) => [p.Name, p.Value])).toEqual([
      ['/affix/local/client-id', 'client-0001'],
      ['/affix/local/client-secret', 'secret-two-2222222222'],
    ]);
    const recursive = await client.send(new GetParametersByPathCommand({ Path: '/affix/', Recursive: true }));
    expect(recursive.Parameters?.map((p) => p.Name)).toEqual([
      '/affix/local/client-id',
      '/affix/local/client-secret',
      '/affix/local/nested/deep',
    ]);
    expect((await rejection(client.send(new GetParametersByPathCommand({ Path: 'affix' })))).name).toBe(
      'ValidationException',
    );
  });

  it('DeleteParameter; ParameterNotFound for a missing one', async () => {
    expect(await client.send(new DeleteParameterCommand({ Name: '/other/param' }))).toBeDefined();
    expect(await rejection(client.send(new GetParameterCommand({ Name: '/other/param' })))).toBeInstanceOf(
      ParameterNotFound,
    );
    expect(await rejection(client.send(new DeleteParameterCommand({ Name: '/other/param' })))).toBeInstanceOf(
      ParameterNotFound,
    );
  });

  it('logs names only, never values', () => {
    expect(JSON.stringify(ssm.requests)).not.toMatch(/secret-(one|two)/);
  });
});
