/**
 * The typed client against the local API with the local identities' keys (the real handler, SigV4
 * verified as API Gateway does): allowed routes answer, and API Gateway's own answers become typed
 * `ClientConfigError`s with the contract's slugs, none of them retryable.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClientConfigClient, createClientConfigClient } from '../../clients/index.ts';
import { SANDBOX_DEFAULTS } from '../../local/affix-sandbox.ts';
import { LOCAL_IDENTITIES, type LocalSigner } from '../../local/identities.ts';
import { type LocalStack, startLocalStack } from '../../local/start.ts';
import { captureOutput } from '../support/capture.ts';
import { whileLockBusy } from '../support/lock-busy.ts';
import { failure } from './support/failure.ts';

const output = captureOutput();
const NEW_SECRETS = [SANDBOX_DEFAULTS.clientSecret[0], 'sandbox-secret-dddddddddddddddd'];
let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({ port: 0 });
});
afterAll(async () => {
  await stack?.close();
});

function clientAs(
  signer: LocalSigner,
  options: { secretAccessKey?: string; now?: () => Date; region?: string } = {},
): ClientConfigClient {
  return createClientConfigClient({
    baseUrl: stack.apiUrl,
    region: options.region ?? 'us-east-1',
    credentials: {
      accessKeyId: signer.accessKeyId,
      secretAccessKey: options.secretAccessKey ?? signer.secretAccessKey,
    },
    timeoutMs: 10_000,
    ...(options.now === undefined ? {} : { now: options.now }),
  });
}

describe('the typed client with the local identities', () => {
  it('reader: getClient works; updateClient is access-denied (403, not retryable)', async () => {
    const reader = clientAs(LOCAL_IDENTITIES.readers);
    const { client } = await reader.getClient();
    expect(client.client_id).toBe(SANDBOX_DEFAULTS.clientId);
    const error = await failure(reader.updateClient({ name: 'Reader rename' }));
    expect(error).toMatchObject({
      slug: 'access-denied',
      status: 403,
      type: 'urn:affix-webhook-config:problem:access-denied',
      retryable: false,
    });
    expect(error.instance).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('writer: updateClient 200 (audited as the writer); replaceSecrets access-denied', async () => {
    const writer = clientAs(LOCAL_IDENTITIES.writers);
    const { etag } = await writer.getClient();
    const from = output.lines.length;
    const { client } = await whileLockBusy(() =>
      writer.updateClient({ webhook_uri: 'https://hooks.example.com/typed' }, { ifMatch: etag }),
    );
    expect(client.webhook_uri).toBe('https://hooks.example.com/typed');
    const audit = output.json(from).find((line) => line.message === 'audit')?.audit;
    expect(audit).toMatchObject({ caller: 'arn:aws:sts::000000000000:assumed-role/local-writer/local' });
    expect(await failure(writer.replaceSecrets(NEW_SECRETS))).toMatchObject({
      slug: 'access-denied',
      status: 403,
    });
  });

  it('rotator: replaceSecrets 200', async () => {
    const { client } = await clientAs(LOCAL_IDENTITIES.rotators).replaceSecrets(NEW_SECRETS);
    expect(client.client_secret).toHaveLength(2);
    expect(stack.sandbox?.client.client_secret).toEqual(NEW_SECRETS);
  });

  it('wrong secret or wrong region: invalid-signature; unknown key: invalid-signature', async () => {
    for (const api of [
      clientAs(LOCAL_IDENTITIES.writers, { secretAccessKey: 'wrong-secret' }),
      clientAs(LOCAL_IDENTITIES.writers, { region: 'eu-west-1' }),
      createClientConfigClient({
        baseUrl: stack.apiUrl,
        region: 'us-east-1',
        credentials: { accessKeyId: 'AKIDNOBODY', secretAccessKey: 'x' },
      }),
    ]) {
      expect(await failure(api.getClient())).toMatchObject({
        slug: 'invalid-signature',
        status: 403,
        retryable: false,
      });
    }
  });

  it('a clock 10 minutes off: expired-credentials', async () => {
    const late = clientAs(LOCAL_IDENTITIES.readers, { now: () => new Date(Date.now() - 10 * 60_000) });
    expect(await failure(late.getClient())).toMatchObject({
      slug: 'expired-credentials',
      status: 403,
      retryable: false,
    });
  });

  it('the verifier group may call nothing yet: access-denied', async () => {
    expect(await failure(clientAs(LOCAL_IDENTITIES.verifiers).getClient())).toMatchObject({
      slug: 'access-denied',
    });
  });
});
