/**
 * The rotation Lambda's entry: the production job built from the environment at import, run with the
 * event (none from a plain schedule, `{"force": true}` on demand). In process: the AWS SDK clients'
 * `send` is stubbed (aws-sdk-client-mock) and Affix is a function standing in for the global `fetch`,
 * so nothing leaves the process. SSM holds a young secret; the state table is unavailable.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetParameterHistoryCommand, GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CLIENT_ID, ETAG_KEY_BASE64, initialClient, SECRET_A } from '../../../support/affix-fixtures.ts';
import { lambdaContext } from '../../../support/events.ts';

const ENV = {
  AFFIX_BASE_URL: 'https://affix.invalid',
  AFFIX_CLIENT_ID_PARAMETER: '/affix/test/client-id',
  AFFIX_CLIENT_SECRET_PARAMETER: '/affix/test/client-secret',
  ETAG_KEY_PARAMETER: '/affix/test/etag-key',
  STATE_TABLE_NAME: 'affix-test-state',
  AWS_REGION: 'eu-west-1',
};

const ssm = mockClient(SSMClient);
const dynamodb = mockClient(DynamoDBClient);
const affix = { gets: 0, posts: 0 };

beforeAll(() => {
  ssm.on(GetParametersCommand).resolves({
    Parameters: [
      { Name: ENV.AFFIX_CLIENT_ID_PARAMETER, Value: CLIENT_ID },
      { Name: ENV.AFFIX_CLIENT_SECRET_PARAMETER, Value: SECRET_A },
      { Name: ENV.ETAG_KEY_PARAMETER, Value: ETAG_KEY_BASE64 },
    ],
    InvalidParameters: [],
  });
  ssm.on(GetParameterHistoryCommand).resolves({
    Parameters: [
      { Name: ENV.AFFIX_CLIENT_SECRET_PARAMETER, Value: SECRET_A, Version: 1, LastModifiedDate: new Date() },
    ],
  });
  dynamodb
    .onAnyCommand()
    .rejects(Object.assign(new Error('no table'), { name: 'ResourceNotFoundException' }));
  vi.stubGlobal('fetch', async (_input: unknown, init?: RequestInit) => {
    if (init?.method === 'POST') {
      affix.posts += 1;
      return new Response('{}', { status: 500 });
    }
    affix.gets += 1;
    return Response.json(initialClient());
  });
  for (const [name, value] of Object.entries(ENV)) vi.stubEnv(name, value);
});

afterAll(() => {
  ssm.restore();
  dynamodb.restore();
});

const entry = async () => (await import('../../../../functions/secret-rotation/handler.ts')).handler;

describe('the rotation handler', () => {
  it('runs the scheduled job for an event of null: the young secret is left alone', async () => {
    const handler = await entry();
    expect(await handler(null, lambdaContext(60_000))).toEqual({ outcome: 'steady', steps: ['steady'] });
    expect(affix.gets).toBe(1);
    expect(affix.posts).toBe(0);
  });

  it('starts a rotation when forced; with the write lease unavailable it fails without sending a write', async () => {
    const handler = await entry();
    await expect(handler({ force: true }, lambdaContext(60_000))).rejects.toThrow(
      'rotation failed: write-lock-unavailable',
    );
    expect(affix.posts).toBe(0);
  });
});
