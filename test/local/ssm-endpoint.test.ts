import {
  GetParameterCommand,
  GetParametersCommand,
  SSMClient,
  type SSMClientConfig,
} from '@aws-sdk/client-ssm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type SsmEndpoint, startSsmEndpoint } from '../../local/ssm-endpoint.ts';

const ID_NAME = '/affix/local/client-id';
const SECRET_NAME = '/affix/local/client-secret';
const SECRET_VALUE = 'sandbox-secret-aaaaaaaaaaaaaaaa';

let ssm: SsmEndpoint;
const clients: SSMClient[] = [];

function client(config: SSMClientConfig = {}): SSMClient {
  const created = new SSMClient({
    region: 'us-east-1',
    endpoint: ssm.url,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    ...config,
  });
  clients.push(created);
  return created;
}

async function errorOf(
  promise: Promise<unknown>,
): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

beforeEach(async () => {
  ssm = await startSsmEndpoint({
    port: 0,
    parameters: {
      [ID_NAME]: { value: 'sandbox-client-0001' },
      [SECRET_NAME]: { value: SECRET_VALUE, type: 'SecureString' },
    },
  });
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await ssm.close();
});

describe('ssm endpoint with the real SDK client', () => {
  it('GetParameters returns found parameters and lists missing names', async () => {
    const before = Date.now();
    const out = await client().send(
      new GetParametersCommand({
        Names: [ID_NAME, SECRET_NAME, '/affix/local/missing'],
        WithDecryption: true,
      }),
    );
    expect(out.InvalidParameters).toEqual(['/affix/local/missing']);
    expect(out.Parameters?.map((p) => [p.Name, p.Type, p.Value, p.Version])).toEqual([
      [ID_NAME, 'String', 'sandbox-client-0001', 1],
      [SECRET_NAME, 'SecureString', SECRET_VALUE, 1],
    ]);
    const first = out.Parameters?.[0];
    expect(first?.ARN).toBe(`arn:aws:ssm:us-east-1:000000000000:parameter${ID_NAME}`);
    expect(first?.DataType).toBe('text');
    expect(first?.LastModifiedDate).toBeInstanceOf(Date);
    expect(first?.LastModifiedDate?.getTime()).toBeLessThanOrEqual(Date.now());
    expect(first?.LastModifiedDate?.getTime()).toBeGreaterThan(before - 60_000);
    expect(ssm.requests).toEqual([
      {
        target: 'AmazonSSM.GetParameters',
        names: [ID_NAME, SECRET_NAME, '/affix/local/missing'],
        withDecryption: true,
        at: expect.any(Number),
      },
    ]);
  });

  it('without decryption a SecureString comes back as ciphertext, a String in clear', async () => {
    const out = await client().send(
      new GetParametersCommand({ Names: [ID_NAME, SECRET_NAME], WithDecryption: false }),
    );
    const secret = out.Parameters?.find((p) => p.Name === SECRET_NAME);
    expect(secret?.Value).toMatch(/^AQICAH[A-Za-z0-9+/=]+$/);
    expect(secret?.Value).not.toContain(SECRET_VALUE);
    expect(out.Parameters?.find((p) => p.Name === ID_NAME)?.Value).toBe('sandbox-client-0001');
  });

  it('GetParameter round-trips and ParameterNotFound surfaces as an SDK error', async () => {
    const out = await client().send(new GetParameterCommand({ Name: SECRET_NAME, WithDecryption: true }));
    expect(out.Parameter).toMatchObject({ Name: SECRET_NAME, Value: SECRET_VALUE, Type: 'SecureString' });

    const error = await errorOf(client().send(new GetParameterCommand({ Name: '/nope' })));
    expect(error.name).toBe('ParameterNotFound');
    expect(error.$metadata?.httpStatusCode).toBe(400);
  });

  it('setParameter bumps the version; deleteParameter removes it', async () => {
    ssm.setParameter(SECRET_NAME, 'rotated-secret');
    const out = await client().send(new GetParameterCommand({ Name: SECRET_NAME, WithDecryption: true }));
    expect(out.Parameter).toMatchObject({ Value: 'rotated-secret', Version: 2, Type: 'SecureString' });
    ssm.setParameter('/new', 'v', 'String');
    expect((await client().send(new GetParameterCommand({ Name: '/new' }))).Parameter?.Version).toBe(1);
    ssm.deleteParameter(SECRET_NAME);
    expect((await errorOf(client().send(new GetParameterCommand({ Name: SECRET_NAME })))).name).toBe(
      'ParameterNotFound',
    );
  });

  it('never logs parameter values', async () => {
    await client().send(new GetParametersCommand({ Names: [SECRET_NAME], WithDecryption: true }));
    expect(JSON.stringify(ssm.requests)).not.toContain(SECRET_VALUE);
    expect(ssm.requestCount).toBe(1);
    ssm.resetRequests();
    expect(ssm.requestCount).toBe(0);
  });

  it('rejects more than 10 names like SSM', async () => {
    const names = Array.from({ length: 11 }, (_, i) => `/p${i}`);
    const error = await errorOf(client().send(new GetParametersCommand({ Names: names })));
    expect(error.name).toBe('ValidationException');
  });
});

describe('ssm endpoint faults', () => {
  it('ThrottlingException surfaces once with maxAttempts 1', async () => {
    ssm.injectFault({ kind: 'error', type: 'ThrottlingException' });
    const error = await errorOf(
      client({ maxAttempts: 1 }).send(new GetParametersCommand({ Names: [ID_NAME] })),
    );
    expect(error.name).toBe('ThrottlingException');
    expect(error.$metadata?.httpStatusCode).toBe(400);
    expect(ssm.requestCount).toBe(1);
  });

  it('the SDK retries a single throttle by default and then succeeds', async () => {
    ssm.injectFault({ kind: 'error', type: 'ThrottlingException' });
    const out = await client().send(new GetParametersCommand({ Names: [ID_NAME] }));
    expect(out.Parameters).toHaveLength(1);
    expect(ssm.requestCount).toBe(2);
  });

  it('InternalServerError defaults to 500, AccessDeniedException to 400, times counts down', async () => {
    ssm.injectFault({ kind: 'error', type: 'InternalServerError' });
    ssm.injectFault({ kind: 'error', type: 'AccessDeniedException' }, { times: 2 });
    const c = client({ maxAttempts: 1 });
    const internal = await errorOf(c.send(new GetParametersCommand({ Names: [ID_NAME] })));
    expect(internal.name).toBe('InternalServerError');
    expect(internal.$metadata?.httpStatusCode).toBe(500);
    for (let i = 0; i < 2; i++) {
      const denied = await errorOf(c.send(new GetParametersCommand({ Names: [ID_NAME] })));
      expect(denied.name).toBe('AccessDeniedException');
      expect(denied.$metadata?.httpStatusCode).toBe(400);
    }
    expect((await c.send(new GetParametersCommand({ Names: [ID_NAME] }))).Parameters).toHaveLength(1);
  });

  it('a custom status is honoured and clearFaults empties the queue', async () => {
    ssm.injectFault({ kind: 'error', type: 'KMSAccessDeniedException', status: 403 });
    const c = client({ maxAttempts: 1 });
    const error = await errorOf(c.send(new GetParameterCommand({ Name: SECRET_NAME, WithDecryption: true })));
    expect(error.name).toBe('KMSAccessDeniedException');
    expect(error.$metadata?.httpStatusCode).toBe(403);
    ssm.injectFault({ kind: 'error', type: 'ThrottlingException' }, { times: 3 });
    ssm.clearFaults();
    expect((await c.send(new GetParameterCommand({ Name: ID_NAME }))).Parameter?.Value).toBe(
      'sandbox-client-0001',
    );
  });

  it('hang never answers (the caller needs its own timeout) and close() still returns', async () => {
    ssm.injectFault({ kind: 'hang' });
    const error = await errorOf(
      client({ maxAttempts: 1 }).send(new GetParametersCommand({ Names: [ID_NAME] }), {
        abortSignal: AbortSignal.timeout(200),
      }),
    );
    expect(error.name).toMatch(/Abort|Timeout/);
    // Resolves although the socket hangs (a close() that waited for it would time the test out).
    await ssm.close();
    ssm = await startSsmEndpoint({}); // afterEach closes this one
  });

  it('delay answers normally', async () => {
    ssm.injectFault({ kind: 'delay', ms: 150 });
    const out = await client().send(new GetParameterCommand({ Name: ID_NAME }));
    expect(out.Parameter?.Value).toBe('sandbox-client-0001');
  });

  it('delay holds the answer while it runs: a request under a 60 s delay has arrived but is not answered', async () => {
    ssm.injectFault({ kind: 'delay', ms: 60_000 }, { times: 1 });
    let settled = false;
    const pending = client({ maxAttempts: 1 })
      .send(new GetParameterCommand({ Name: ID_NAME }))
      .finally(() => {
        settled = true;
      })
      .catch(() => undefined);
    while (ssm.requests.length < 1) await new Promise((resolve) => setTimeout(resolve, 5));
    // A request sent after it, without a fault, is answered; the delayed one still is not.
    const later = await client().send(new GetParameterCommand({ Name: ID_NAME }));
    expect(later.Parameter?.Value).toBe('sandbox-client-0001');
    expect(settled).toBe(false);
    await ssm.close(); // ends the delay with the socket
    await pending;
    ssm = await startSsmEndpoint({}); // afterEach closes this one
  });
});

describe('ssm endpoint protocol checks', () => {
  it('requires a SigV4 authorization header', async () => {
    const res = await fetch(`${ssm.url}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AmazonSSM.GetParameter' },
      body: JSON.stringify({ Name: ID_NAME }),
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/x-amz-json-1.1');
    expect(await res.json()).toMatchObject({ __type: 'MissingAuthenticationTokenException' });
  });

  it('answers UnknownOperationException for other targets', async () => {
    const res = await fetch(`${ssm.url}/`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'AmazonSSM.SendCommand',
        authorization: 'AWS4-HMAC-SHA256 Credential=local/20240101/us-east-1/ssm/aws4_request, Signature=00',
      },
      body: JSON.stringify({ Name: ID_NAME, Value: 'x' }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ __type: 'UnknownOperationException' });
  });

  it('AWS_ENDPOINT_URL_SSM alone routes an env-configured client here', async () => {
    const names = [
      'AWS_ENDPOINT_URL_SSM',
      'AWS_REGION',
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
    ] as const;
    const saved = Object.fromEntries(names.map((name) => [name, process.env[name]]));
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_SSM: ssm.url,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    });
    const envClient = new SSMClient({ maxAttempts: 1 });
    clients.push(envClient);
    try {
      const out = await envClient.send(new GetParameterCommand({ Name: SECRET_NAME, WithDecryption: true }));
      expect(out.Parameter?.Value).toBe(SECRET_VALUE);
      expect(ssm.requests.map((r) => r.target)).toEqual(['AmazonSSM.GetParameter']);
    } finally {
      for (const name of names) {
        if (saved[name] === undefined) delete process.env[name];
        else process.env[name] = saved[name];
      }
    }
  });
});
