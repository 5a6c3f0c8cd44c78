/**
 * SigV4 on the local API, with `curl --aws-sigv4 "aws:amz:us-east-1:execute-api"` semantics: raw
 * requests signed by aws4fetch (a different signer from the verifier's `@smithy/signature-v4`) against
 * the real handler behind `startLocalStack`, each answer checked against the contract's gateway
 * problems, and the identity the handler sees (its audit line) checked to be the signer's. The
 * verifier itself is cross-checked against the project's independent SigV4 checker.
 */
import { createHash, createHmac } from 'node:crypto';
import { connect, createServer, type Server } from 'node:net';
import { AwsV4Signer } from 'aws4fetch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type GatewayResponseType,
  gatewayProblem,
  gatewayProblemDocument,
} from '../../functions/contract/gateway-responses.ts';
import { CALLER_GROUPS, groupMayCall, ROUTES, routeKeyOf } from '../../functions/contract/routes.ts';
import { SANDBOX_DEFAULTS } from '../../local/affix-sandbox.ts';
import { startLocalApi } from '../../local/api-gateway.ts';
import { LOCAL_IDENTITIES, LOCAL_SIGNERS, type LocalSigner, localSigner } from '../../local/identities.ts';
import { verifySigV4 } from '../../local/sigv4.ts';
import { type LocalStack, startLocalStack } from '../../local/start.ts';
import { sigV4Problem } from '../clients/support/sigv4.ts';
import { captureOutput } from '../support/capture.ts';
import { signedFetch, signRequest } from '../support/signed-fetch.ts';

const output = captureOutput();
const { readers: READER, writers: WRITER, rotators: ROTATOR } = LOCAL_IDENTITIES;
const NEW_SECRETS = [SANDBOX_DEFAULTS.clientSecret[0], 'sandbox-secret-cccccccccccccccc'];
const JSON_TYPE = { 'content-type': 'application/json' };

let stack: LocalStack;
beforeAll(async () => {
  stack = await startLocalStack({ port: 0 });
});
afterAll(async () => {
  await stack?.close();
});

/** API Gateway's own answer: the contract's document, status and media type, `instance` = request id. */
async function expectGatewayProblem(res: Response, responseType: GatewayResponseType): Promise<void> {
  const problem = gatewayProblem(responseType);
  const body = await res.text();
  expect(res.status, body).toBe(problem.status);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  const requestId = res.headers.get('x-amzn-requestid') ?? '';
  expect(JSON.parse(body)).toEqual(gatewayProblemDocument(problem, requestId));
}

function auditLines(from: number): Record<string, unknown>[] {
  return output.json(from).filter((line) => line.message === 'audit');
}

const amzDate = (epochMs: number) => new Date(epochMs).toISOString().replace(/[:-]|\.\d{3}/g, '');

describe('the local API checks SigV4 like API Gateway (raw signed requests, the real handler)', () => {
  it('unsigned: 403 missing-signature, the handler is not called', async () => {
    const from = output.lines.length;
    const affixCalls = stack.sandbox?.requests.length;
    await expectGatewayProblem(await fetch(`${stack.apiUrl}/client`), 'MISSING_AUTHENTICATION_TOKEN');
    await expectGatewayProblem(
      await fetch(`${stack.apiUrl}/client`, { method: 'PATCH', headers: JSON_TYPE, body: '{"name":"x"}' }),
      'MISSING_AUTHENTICATION_TOKEN',
    );
    expect(stack.sandbox?.requests.length).toBe(affixCalls);
    expect(auditLines(from)).toEqual([]);
  });

  it('a forged Authorization that is not SigV4, or an incomplete one: 403 invalid-signature', async () => {
    for (const authorization of [
      'Basic bG9jYWwtd3JpdGVyOmxvY2FsLXdyaXRlci1zZWNyZXQ=',
      'AWS4-HMAC-SHA256 Credential=local-writer/20250101/us-east-1/execute-api/aws4_request',
    ]) {
      await expectGatewayProblem(
        await fetch(`${stack.apiUrl}/client`, { headers: { authorization } }),
        'INVALID_SIGNATURE',
      );
    }
  });

  it('wrong secret: 403 invalid-signature', async () => {
    const res = await signedFetch(`${stack.apiUrl}/client`, {}, READER, {
      secretAccessKey: 'not-the-secret',
    });
    await expectGatewayProblem(res, 'INVALID_SIGNATURE');
  });

  it('unknown access key: 403 invalid-signature (API Gateway: UnrecognizedClientException)', async () => {
    const stranger = localSigner('rotators', { name: 'someone-else' });
    await expectGatewayProblem(
      await signedFetch(`${stack.apiUrl}/client`, {}, stranger),
      'INVALID_SIGNATURE',
    );
  });

  it('wrong region or service in the scope: 403 invalid-signature', async () => {
    await expectGatewayProblem(
      await signedFetch(`${stack.apiUrl}/client`, {}, READER, { region: 'eu-west-1' }),
      'INVALID_SIGNATURE',
    );
    await expectGatewayProblem(
      await signedFetch(`${stack.apiUrl}/client`, {}, READER, { service: 'lambda' }),
      'INVALID_SIGNATURE',
    );
  });

  it('expired (x-amz-date over 5 minutes old) or from the future: 403 expired-credentials', async () => {
    for (const offset of [-6 * 60_000, 6 * 60_000]) {
      const res = await signedFetch(`${stack.apiUrl}/client`, {}, READER, {
        datetime: amzDate(Date.now() + offset),
      });
      await expectGatewayProblem(res, 'EXPIRED_TOKEN');
    }
    const fresh = await signedFetch(`${stack.apiUrl}/client`, {}, READER, {
      datetime: amzDate(Date.now() - 4 * 60_000),
    });
    expect(fresh.status).toBe(200);
  });

  it('tampered body (the body hash is signed): 403 invalid-signature, nothing sent to Affix', async () => {
    const signed = await signRequest(
      `${stack.apiUrl}/client`,
      { method: 'PATCH', headers: JSON_TYPE, body: '{"name":"Signed name"}' },
      WRITER,
    );
    const res = await fetch(signed.url, {
      method: 'PATCH',
      headers: signed.headers,
      body: '{"name":"Evil name"}',
    });
    await expectGatewayProblem(res, 'INVALID_SIGNATURE');
    const client = await (await signedFetch(`${stack.apiUrl}/client`, {}, READER)).json();
    expect(client).toMatchObject({ name: SANDBOX_DEFAULTS.name });
  });

  it('a changed signed header, or a changed query: 403 invalid-signature', async () => {
    const signed = await signRequest(
      `${stack.apiUrl}/client?a=1`,
      { headers: { accept: 'application/json' } },
      READER,
    );
    const headers = new Headers(signed.headers);
    headers.set('accept', 'text/html');
    await expectGatewayProblem(await fetch(signed.url, { headers }), 'INVALID_SIGNATURE');
    await expectGatewayProblem(
      await fetch(signed.url.replace('a=1', 'a=2'), { headers: signed.headers }),
      'INVALID_SIGNATURE',
    );
    expect((await fetch(signed.url, { headers: signed.headers })).status).toBe(200);
  });

  it('x-amz-content-sha256: UNSIGNED-PAYLOAD is refused (execute-api hashes the body); the true hash is fine', async () => {
    const body = '{"name":"Hashed"}';
    const unsigned = await signedFetch(
      `${stack.apiUrl}/client`,
      { method: 'PATCH', headers: { ...JSON_TYPE, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }, body },
      WRITER,
    );
    await expectGatewayProblem(unsigned, 'INVALID_SIGNATURE');
    const hash = createHash('sha256').update(body).digest('hex');
    const hashed = await signedFetch(
      `${stack.apiUrl}/client`,
      { method: 'PATCH', headers: { ...JSON_TYPE, 'x-amz-content-sha256': hash }, body },
      WRITER,
    );
    expect(hashed.status).toBe(200);
  });

  it('a session token only for signers that have one', async () => {
    await expectGatewayProblem(
      await signedFetch(`${stack.apiUrl}/client`, {}, READER, { sessionToken: 'made-up-token' }),
      'INVALID_SIGNATURE',
    );
  });

  it('reader PATCH: 403 access-denied; writer PATCH: 200, and the audit line names the writer', async () => {
    const denied = await signedFetch(
      `${stack.apiUrl}/client`,
      { method: 'PATCH', headers: JSON_TYPE, body: '{"name":"Reader rename"}' },
      READER,
    );
    await expectGatewayProblem(denied, 'ACCESS_DENIED');

    const from = output.lines.length;
    const ok = await signedFetch(
      `${stack.apiUrl}/client`,
      { method: 'PATCH', headers: JSON_TYPE, body: '{"name":"Writer rename"}' },
      WRITER,
    );
    expect(ok.status, await ok.clone().text()).toBe(200);
    expect(await ok.json()).toMatchObject({ name: 'Writer rename' });
    const audits = auditLines(from);
    expect(audits).toHaveLength(1);
    expect(audits[0]?.audit).toMatchObject({
      caller: 'arn:aws:sts::000000000000:assumed-role/local-writer/local',
      route: 'PATCH /client',
      status: 200,
    });
  });

  it('writer PUT /client/secrets: 403 access-denied; rotator: 200, audited as the rotator', async () => {
    const body = JSON.stringify({ client_secret: NEW_SECRETS });
    const from = output.lines.length;
    const denied = await signedFetch(
      `${stack.apiUrl}/client/secrets`,
      { method: 'PUT', headers: JSON_TYPE, body },
      WRITER,
    );
    await expectGatewayProblem(denied, 'ACCESS_DENIED');
    expect(auditLines(from)).toEqual([]);

    const ok = await signedFetch(
      `${stack.apiUrl}/client/secrets`,
      { method: 'PUT', headers: JSON_TYPE, body },
      ROTATOR,
    );
    expect(ok.status, await ok.clone().text()).toBe(200);
    expect(stack.sandbox?.client.client_secret).toEqual(NEW_SECRETS);
    expect(auditLines(from)[0]?.audit).toMatchObject({
      caller: 'arn:aws:sts::000000000000:assumed-role/local-rotator/local',
      route: 'PUT /client/secrets',
    });
  });

  it('every group x route: allowed exactly when the contract says so', async () => {
    for (const group of CALLER_GROUPS) {
      for (const route of ROUTES) {
        const body = route.method === 'PUT' ? JSON.stringify({ client_secret: NEW_SECRETS }) : undefined;
        const delivery = '{"added":[],"removed":[],"updated":[]}';
        const signature = createHmac('sha256', SANDBOX_DEFAULTS.clientSecret[0] ?? '')
          .update(delivery)
          .digest('hex');
        const init =
          route.method === 'GET'
            ? {}
            : route.path === '/webhooks/verify'
              ? {
                  method: route.method,
                  headers: { ...JSON_TYPE, 'x-affix-api-signature': signature },
                  body: delivery,
                }
              : {
                  method: route.method,
                  headers: JSON_TYPE,
                  body: body ?? JSON.stringify({ name: `By ${group}` }),
                };
        const res = await signedFetch(`${stack.apiUrl}${route.path}`, init, LOCAL_IDENTITIES[group]);
        if (groupMayCall(group, routeKeyOf(route)))
          expect(res.status, `${group} ${routeKeyOf(route)}`).toBe(200);
        else await expectGatewayProblem(res, 'ACCESS_DENIED');
      }
    }
  });

  it('unknown route or method, signed or not: 403 missing-signature (API Gateway with IAM auth)', async () => {
    for (const [method, path] of [
      ['GET', '/clients'],
      ['GET', '/client/secrets'],
      ['DELETE', '/client'],
      ['POST', '/client'],
      ['GET', '//client'],
      ['GET', '/client%2Fsecrets'],
    ] as const) {
      await expectGatewayProblem(
        await signedFetch(`${stack.apiUrl}${path}`, { method }, ROTATOR),
        'MISSING_AUTHENTICATION_TOKEN',
      );
      await expectGatewayProblem(
        await fetch(`${stack.apiUrl}${path}`, { method }),
        'MISSING_AUTHENTICATION_TOKEN',
      );
    }
  });

  it('a trailing slash and percent-encoded query characters still verify (path and query as sent)', async () => {
    expect((await signedFetch(`${stack.apiUrl}/client/`, {}, READER)).status).toBe(200);
    expect((await signedFetch(`${stack.apiUrl}/client?q=a%20b&q=%C3%A9&z=*`, {}, READER)).status).toBe(200);
  });
});

describe('the host is signed as sent', () => {
  let proxy: Server;
  let proxyUrl: string;
  beforeAll(async () => {
    // A plain TCP forwarder on another port: the Host header the API receives names the forwarder.
    const target = new URL(stack.apiUrl);
    proxy = createServer((socket) => {
      const upstream = connect(Number(target.port), '127.0.0.1');
      socket.pipe(upstream).pipe(socket);
      socket.on('error', () => upstream.destroy());
      upstream.on('error', () => socket.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const address = proxy.address();
    proxyUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => proxy.close(() => resolve()));
  });

  it('a request signed for the other host:port verifies through it', async () => {
    expect(proxyUrl).not.toBe(stack.apiUrl);
    expect((await signedFetch(`${proxyUrl}/client`, {}, READER)).status).toBe(200);
  });

  it('a request signed for one host:port and sent with another Host header does not', async () => {
    const signed = await signRequest(`${stack.apiUrl}/client`, {}, READER);
    await expectGatewayProblem(
      await fetch(`${proxyUrl}/client`, { headers: signed.headers }),
      'INVALID_SIGNATURE',
    );
  });
});

describe('session credentials', () => {
  it('a signer with a session token must send and sign exactly that token', async () => {
    const session = localSigner('writers', {
      name: 'local-session-writer',
      sessionToken: 'session-token-0001',
    });
    const handler = async () => ({ statusCode: 200, body: '{}' });
    const api = await startLocalApi({
      handler,
      port: 0,
      signers: [...LOCAL_SIGNERS, session],
      onRefused: () => {},
    });
    try {
      expect((await signedFetch(`${api.url}/client`, {}, session)).status).toBe(200);
      const without = await signRequest(`${api.url}/client`, {}, {
        ...session,
        sessionToken: undefined,
      } as LocalSigner);
      await expectGatewayProblem(await fetch(without.url, { headers: without.headers }), 'INVALID_SIGNATURE');
      await expectGatewayProblem(
        await signedFetch(`${api.url}/client`, {}, session, { sessionToken: 'session-token-0002' }),
        'INVALID_SIGNATURE',
      );
    } finally {
      await api.close();
    }
  });
});

describe('verifySigV4 agrees with the independent SigV4 checker', () => {
  const NOW = Date.UTC(2025, 0, 2, 3, 4, 5);
  const cases: [string, string, Record<string, string>, string | undefined][] = [
    ['GET', '/client', {}, undefined],
    ['GET', '/client?b=2&a=1&a=0', { accept: 'application/json' }, undefined],
    [
      'PATCH',
      '/client',
      { 'content-type': 'application/merge-patch+json', 'if-match': '"a", "b"' },
      '{"name":"Zoë"}',
    ],
    [
      'PUT',
      '/client/secrets',
      { 'content-type': 'application/json', 'x-custom': '  spaced   value ' },
      '{"client_secret":[]}',
    ],
    ['GET', '/client/', { 'user-agent': 'tests/1.0' }, undefined],
  ];

  it.each(cases)('%s %s', async (method, target, extra, body) => {
    const host = '127.0.0.1:4321';
    const signed = await new AwsV4Signer({
      url: `http://${host}${target}`,
      method,
      headers: extra,
      body,
      accessKeyId: WRITER.accessKeyId,
      secretAccessKey: WRITER.secretAccessKey,
      service: 'execute-api',
      region: 'us-east-1',
      datetime: amzDate(NOW),
      signQuery: false,
    }).sign();
    const headers: Record<string, string> = { host };
    signed.headers.forEach((value, name) => {
      headers[name] = value;
    });
    const rawHeaders = Object.entries(headers).flat();
    const independent = sigV4Problem(
      { method, url: target, headers, body: body ?? '' },
      { ...WRITER, region: 'us-east-1', service: 'execute-api' },
    );
    const ours = await verifySigV4(
      { method, target, rawHeaders, body: Buffer.from(body ?? '', 'utf8') },
      { signers: LOCAL_SIGNERS, now: NOW },
    );
    expect(independent).toBeUndefined();
    expect(ours).toMatchObject({ ok: true, signer: { accessKeyId: 'local-writer' } });

    // One changed byte of the signature: both refuse.
    const auth = headers.authorization ?? '';
    const flipped = auth.replace(/.$/, auth.endsWith('0') ? '1' : '0');
    const tampered = { ...headers, authorization: flipped };
    expect(
      sigV4Problem(
        { method, url: target, headers: tampered, body: body ?? '' },
        { ...WRITER, region: 'us-east-1', service: 'execute-api' },
      ),
    ).toBe('signature mismatch');
    expect(
      await verifySigV4(
        {
          method,
          target,
          rawHeaders: Object.entries(tampered).flat(),
          body: Buffer.from(body ?? '', 'utf8'),
        },
        { signers: LOCAL_SIGNERS, now: NOW },
      ),
    ).toMatchObject({ ok: false, responseType: 'INVALID_SIGNATURE', reason: 'signature mismatch' });
  });
});
