/**
 * The SSM secret store against the local SSM endpoint, through the real `@aws-sdk/client-ssm`: the
 * whole version history read with decryption (paged), the current version by number, SecureString
 * writes with the configured KMS key, and failures that name the SDK error only.
 */
import { GetParameterHistoryCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createSsmSecretStore,
  SecretStoreError,
} from '../../../../../functions/core/adapters/ssm-secret-store.ts';
import { type SsmEndpoint, startSsmEndpoint } from '../../../../../local/ssm-endpoint.ts';

const PARAMETER = '/affix/test/client-secret';
let ssm: SsmEndpoint;
let client: SSMClient;
let parameters = 0;

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

/** A parameter of its own per test. */
let name = PARAMETER;
beforeEach(() => {
  parameters += 1;
  name = `${PARAMETER}-${parameters}`;
  ssm.clearFaults();
});

const store = (kmsKeyId?: string) => createSsmSecretStore({ client, parameterName: name, kmsKeyId });

describe('read', () => {
  it('returns the current value, its version and date, and every earlier value, decrypted', async () => {
    ssm.setParameter(name, 'secret-one', 'SecureString');
    ssm.setParameter(name, 'secret-two', 'SecureString');
    ssm.setParameter(name, 'secret-three', 'SecureString');
    const state = await store().read();
    expect(state.current).toBe('secret-three');
    expect(state.version).toBe(3);
    expect(state.currentSince).toBeInstanceOf(Date);
    expect(state.history).toEqual(['secret-one', 'secret-two']);
    expect(ssm.requests.at(-1)).toMatchObject({
      target: 'AmazonSSM.GetParameterHistory',
      withDecryption: true,
    });
  });

  it('reads every page of a long history', async () => {
    for (let version = 1; version <= 60; version += 1)
      ssm.setParameter(name, `secret-${version}`, 'SecureString');
    ssm.resetRequests();
    const state = await store().read();
    expect(state.version).toBe(60);
    expect(state.current).toBe('secret-60');
    expect(state.history).toHaveLength(59);
    expect(state.history[0]).toBe('secret-1');
    expect(ssm.requests.filter((request) => request.target === 'AmazonSSM.GetParameterHistory')).toHaveLength(
      2,
    );
  });

  it('fails with the SDK error’s name only when the parameter does not exist', async () => {
    const error = await store()
      .read()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SecretStoreError);
    expect((error as Error).message).toBe('reading the secret parameter failed (ParameterNotFound)');
  });

  it('fails, naming the error only, when SSM refuses', async () => {
    ssm.setParameter(name, 'secret-one', 'SecureString');
    ssm.injectFault({ kind: 'error', type: 'AccessDeniedException', status: 400, message: `denied ${name}` });
    await expect(store().read()).rejects.toThrow(
      'reading the secret parameter failed (AccessDeniedException)',
    );
  });
});

describe('put', () => {
  it('writes a new SecureString version over the current one, with the configured KMS key', async () => {
    ssm.setParameter(name, 'secret-one', 'SecureString');
    await store('alias/affix-test').put('secret-two');
    const state = await store().read();
    expect(state).toMatchObject({ current: 'secret-two', version: 2, history: ['secret-one'] });
    const history = await client.send(new GetParameterHistoryCommand({ Name: name }));
    expect(history.Parameters?.at(-1)).toMatchObject({ Type: 'SecureString', KeyId: 'alias/affix-test' });
  });

  it('uses SSM’s default key when none is configured', async () => {
    ssm.setParameter(name, 'secret-one', 'SecureString');
    await store().put('secret-two');
    const history = await client.send(new GetParameterHistoryCommand({ Name: name }));
    expect(history.Parameters?.at(-1)?.KeyId).toBe('alias/aws/ssm');
  });

  it('fails with the SDK error’s name only, never the value', async () => {
    ssm.injectFault({ kind: 'error', type: 'ThrottlingException', status: 400 });
    const putting = store().put('secret-never-logged');
    await expect(putting).rejects.toBeInstanceOf(SecretStoreError);
    await expect(putting).rejects.toThrow(/^writing the secret parameter failed \(ThrottlingException\)$/);
  });
});
