import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import {
  type GatewayResponseType,
  gatewayProblem,
  gatewayProblemDocument,
} from '../../functions/contract/gateway-responses.ts';
import {
  API_GATEWAY_MAX_BODY_BYTES,
  type LocalApi,
  type LocalApiOptions,
  startLocalApi,
} from '../../local/api-gateway.ts';
import { localHandlerEnv } from '../../local/handler-env.ts';
import { LOCAL_IDENTITIES } from '../../local/identities.ts';
import { signedFetch } from '../support/signed-fetch.ts';

const WRITER = LOCAL_IDENTITIES.writers;

/** An answer API Gateway gives itself: the contract's problem, status and media type. */
function expectGatewayProblem(res: Response, responseType: GatewayResponseType, status?: number): void {
  const problem = gatewayProblem(responseType);
  expect(res.status).toBe(problem.status ?? status);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  expect(res.headers.get('cache-control')).toBe('no-store');
}

async function withApi(
  handler: LocalApiOptions['handler'],
  run: (api: LocalApi) => Promise<void>,
  options: Omit<LocalApiOptions, 'handler'> = {},
): Promise<void> {
  const api = await startLocalApi({ handler, port: 0, onError: () => {}, ...options });
  try {
    await run(api);
  } finally {
    await api.close();
  }
}

describe('startLocalApi', () => {
  it('round-trips method, path, headers and body into the event, and the result back', async () => {
    const seen: { event?: APIGatewayProxyEvent; context?: Context } = {};
    const handler = async (e: APIGatewayProxyEvent, c: Context): Promise<APIGatewayProxyResult> => {
      seen.event = e;
      seen.context = c;
      return {
        statusCode: 201,
        headers: { 'content-type': 'application/json', etag: '"v2"', 'x-count': 3 },
        multiValueHeaders: { 'set-cookie': ['a=1', 'b=2'] },
        body: JSON.stringify({ got: e.body }),
      };
    };
    await withApi(handler, async (api) => {
      expect(api.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const res = await signedFetch(
        `${api.url}/client?x=1`,
        {
          method: 'PATCH',
          headers: { 'content-type': 'application/json', 'if-match': '"v1"' },
          body: '{"webhook_uri":null}',
        },
        WRITER,
      );
      expect(res.status).toBe(201);
      expect(res.headers.get('etag')).toBe('"v2"');
      expect(res.headers.get('x-count')).toBe('3');
      expect(res.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
      expect(await res.json()).toEqual({ got: '{"webhook_uri":null}' });

      expect(seen.event?.httpMethod).toBe('PATCH');
      expect(seen.event?.resource).toBe('/client');
      expect(seen.event?.queryStringParameters).toEqual({ x: '1' });
      expect(seen.event?.headers['if-match']).toBe('"v1"');
      expect(seen.event?.requestContext.identity.userArn).toBe(WRITER.identity.userArn);
      expect(res.headers.get('x-amzn-requestid')).toBe(seen.event?.requestContext.requestId);
      expect(seen.context?.awsRequestId).toBe(seen.event?.requestContext.requestId);
      expect(seen.context?.getRemainingTimeInMillis()).toBeGreaterThan(0);
    });
  });

  it('gives every request its own id', async () => {
    const ids: string[] = [];
    const handler = async (e: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
      ids.push(e.requestContext.requestId);
      return { statusCode: 204, body: '' };
    };
    await withApi(handler, async (api) => {
      await signedFetch(`${api.url}/client`);
      await signedFetch(`${api.url}/client`);
      expect(new Set(ids).size).toBe(2);
      expect(ids[0]).toMatch(/^[0-9a-f-]{36}$/);
    });
  });

  it('decodes base64 results, passes binary requests as base64, defaults content-type to JSON', async () => {
    const bytes = Buffer.from([0, 1, 2, 0xff]);
    let received: APIGatewayProxyEvent | undefined;
    const handler = async (e: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
      received = e;
      return { statusCode: 200, isBase64Encoded: true, body: bytes.toString('base64') };
    };
    await withApi(
      handler,
      async (api) => {
        const res = await fetch(`${api.url}/blob`, { method: 'POST', body: Buffer.from([0xc3, 0x28]) });
        expect(Buffer.from(await res.arrayBuffer())).toEqual(bytes);
        expect(res.headers.get('content-type')).toBe('application/json');
        expect(received?.isBase64Encoded).toBe(true);
        expect(Buffer.from(received?.body ?? '', 'base64')).toEqual(Buffer.from([0xc3, 0x28]));
      },
      { testOnlyIdentity: WRITER.identity },
    );
  });

  it('testOnlyIdentity null reaches the handler unsigned, as an event without a caller', async () => {
    let userArn: string | null | undefined;
    const handler = async (e: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
      userArn = e.requestContext.identity.userArn;
      return { statusCode: 403, body: '{}' };
    };
    await withApi(
      handler,
      async (api) => {
        expect((await fetch(`${api.url}/client`)).status).toBe(403);
        expect(userArn).toBeNull();
      },
      { testOnlyIdentity: null },
    );
  });

  it('answers a function error (502, the default 5XX response) when the handler throws, and reports it', async () => {
    const errors: string[] = [];
    const handler = async (): Promise<APIGatewayProxyResult> => {
      throw new Error('boom');
    };
    await withApi(
      handler,
      async (api) => {
        const res = await signedFetch(`${api.url}/client`);
        const requestId = res.headers.get('x-amzn-requestid') ?? '';
        expectGatewayProblem(res, 'DEFAULT_5XX', 502);
        expect(await res.json()).toEqual(gatewayProblemDocument(gatewayProblem('DEFAULT_5XX'), requestId));
        expect(errors).toEqual([`handler threw:${requestId}`]);
      },
      { onError: (message, _error, requestId) => errors.push(`${message}:${requestId}`) },
    );
  });

  it('answers a function error (502) for a malformed proxy result and for a function timeout; integration-timeout (504) at 29 s', async () => {
    const malformed = async () => ({ status: 200 }) as unknown as APIGatewayProxyResult;
    await withApi(malformed, async (api) => {
      expectGatewayProblem(await signedFetch(`${api.url}/client`), 'DEFAULT_5XX', 502);
    });
    const badHeader = async (): Promise<APIGatewayProxyResult> => ({
      statusCode: 200,
      headers: { 'x-bad': 'line\nbreak' },
      body: '{}',
    });
    await withApi(badHeader, async (api) => {
      const res = await signedFetch(`${api.url}/client`);
      expectGatewayProblem(res, 'DEFAULT_5XX', 502);
      expect(res.headers.get('x-bad')).toBeNull();
    });
    const slow = () => new Promise<APIGatewayProxyResult>(() => {});
    await withApi(
      slow,
      async (api) => {
        const res = await signedFetch(`${api.url}/client`);
        // A Lambda timeout under API Gateway's 29 s is a function error (502), not an integration timeout.
        expectGatewayProblem(res, 'DEFAULT_5XX', 502);
      },
      { timeoutMs: 100 },
    );
  });

  it('answers request-too-large above the payload limit without calling the handler', async () => {
    let calls = 0;
    const handler = async (): Promise<APIGatewayProxyResult> => {
      calls += 1;
      return { statusCode: 200, body: '{}' };
    };
    await withApi(
      handler,
      async (api) => {
        const big = await signedFetch(`${api.url}/client/secrets`, { method: 'PUT', body: 'x'.repeat(2048) });
        expectGatewayProblem(big, 'REQUEST_TOO_LARGE');
        expect(((await big.json()) as { instance: string }).instance).toBe(
          big.headers.get('x-amzn-requestid'),
        );
        const small = await signedFetch(`${api.url}/client/secrets`, {
          method: 'PUT',
          body: 'x'.repeat(1024),
        });
        expect(small.status).toBe(200);
        expect(calls).toBe(1);
      },
      { maxBodyBytes: 1024 },
    );
  });

  it('enforces the 10 MB API Gateway limit by default, also for chunked uploads', async () => {
    let calls = 0;
    const handler = async (): Promise<APIGatewayProxyResult> => {
      calls += 1;
      return { statusCode: 200, body: '{}' };
    };
    await withApi(handler, async (api) => {
      const chunk = new Uint8Array(1024 * 1024).fill(120);
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent >= API_GATEWAY_MAX_BODY_BYTES + 1) controller.close();
          else {
            sent += chunk.length;
            controller.enqueue(chunk);
          }
        },
      });
      const res = await fetch(`${api.url}/client`, { method: 'PUT', body, duplex: 'half' } as RequestInit);
      expect(API_GATEWAY_MAX_BODY_BYTES).toBe(10 * 1024 * 1024);
      expectGatewayProblem(res, 'REQUEST_TOO_LARGE');
      expect(calls).toBe(0);
    });
  });
});

describe('localHandlerEnv', () => {
  it('wires the handler to the local stand-ins with fake credentials', () => {
    const env = localHandlerEnv({
      affixBaseUrl: 'http://127.0.0.1:1',
      ssmUrl: 'http://127.0.0.1:2',
      dynamodbUrl: 'http://127.0.0.1:3',
      stateTableName: 'local-state',
    });
    expect(env).toEqual({
      AFFIX_BASE_URL: 'http://127.0.0.1:1',
      AFFIX_CLIENT_ID_PARAMETER: '/affix/local/client-id',
      AFFIX_CLIENT_SECRET_PARAMETER: '/affix/local/client-secret',
      ETAG_KEY_PARAMETER: '/affix/local/etag-key',
      AWS_ENDPOINT_URL_SSM: 'http://127.0.0.1:2',
      AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:3',
      STATE_TABLE_NAME: 'local-state',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      POWERTOOLS_SERVICE_NAME: 'affix-webhook-config',
      POWERTOOLS_METRICS_NAMESPACE: 'AffixWebhookConfig',
      STAGE: 'local',
      DESTINATION_POLICY:
        '{"webhookUri":{"hosts":["example.com","*.example.com"]},"redirectUris":{"hosts":["example.com","*.example.com"]},"allowLoopback":true}',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    });
    const custom = localHandlerEnv({
      affixBaseUrl: 'a',
      ssmUrl: 'b',
      dynamodbUrl: 'c',
      stateTableName: 'd',
      clientIdParameter: '/x/id',
      clientSecretParameter: '/x/secret',
      etagKeyParameter: '/x/etag-key',
    });
    expect([
      custom.AFFIX_CLIENT_ID_PARAMETER,
      custom.AFFIX_CLIENT_SECRET_PARAMETER,
      custom.ETAG_KEY_PARAMETER,
    ]).toEqual(['/x/id', '/x/secret', '/x/etag-key']);
  });
});
