/** API Gateway's decision before the integration, alone: route, then signature, then the group grant. */
import { AwsV4Signer } from 'aws4fetch';
import { describe, expect, it } from 'vitest';
import { admit } from '../../../local/admission.ts';
import { LOCAL_IDENTITIES, LOCAL_SIGNERS, type LocalSigner } from '../../../local/identities.ts';

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
const HOST = '127.0.0.1:3000';

async function signed(signer: LocalSigner, method: string, target: string, body = '') {
  const request = await new AwsV4Signer({
    url: `http://${HOST}${target}`,
    method,
    headers: body === '' ? {} : { 'content-type': 'application/json' },
    body: body === '' ? undefined : body,
    accessKeyId: signer.accessKeyId,
    secretAccessKey: signer.secretAccessKey,
    service: 'execute-api',
    region: 'us-east-1',
    datetime: new Date(NOW).toISOString().replace(/[:-]|\.\d{3}/g, ''),
    signQuery: false,
  }).sign();
  const rawHeaders = ['host', HOST];
  request.headers.forEach((value, name) => {
    if (name !== 'host') rawHeaders.push(name, value);
  });
  return { method, target, rawHeaders, body: Buffer.from(body, 'utf8') };
}

describe('admit', () => {
  it('lets a signer through to a route its group may call, with its identity', async () => {
    const admission = await admit(
      await signed(LOCAL_IDENTITIES.readers, 'GET', '/client'),
      LOCAL_SIGNERS,
      NOW,
    );
    expect(admission).toEqual({ ok: true, identity: LOCAL_IDENTITIES.readers.identity });
  });

  it('refuses a group the route is not granted to (the resource policy), naming no secret', async () => {
    const reader = LOCAL_IDENTITIES.readers;
    const admission = await admit(
      await signed(reader, 'PATCH', '/client', '{"name":"x"}'),
      LOCAL_SIGNERS,
      NOW,
    );
    expect(admission).toEqual({
      ok: false,
      responseType: 'ACCESS_DENIED',
      reason: 'local-reader (readers) may not call PATCH /client',
    });
    expect(JSON.stringify(admission)).not.toContain(reader.secretAccessKey);
  });

  it('answers an unknown route before looking at the signature, signed or not', async () => {
    const unsigned = {
      method: 'GET',
      target: '/nope?x=1',
      rawHeaders: ['host', HOST],
      body: Buffer.alloc(0),
    };
    expect(await admit(unsigned, LOCAL_SIGNERS, NOW)).toEqual({
      ok: false,
      responseType: 'MISSING_AUTHENTICATION_TOKEN',
      reason: 'no route GET /nope',
    });
  });

  it('refuses a known route without a valid signature', async () => {
    const request = await signed(LOCAL_IDENTITIES.writers, 'GET', '/client');
    const later = await admit(request, LOCAL_SIGNERS, NOW + 6 * 60_000);
    expect(later).toMatchObject({ ok: false, responseType: 'EXPIRED_TOKEN' });
    const tampered = { ...request, target: '/client?x=1' };
    expect(await admit(tampered, LOCAL_SIGNERS, NOW)).toMatchObject({
      ok: false,
      responseType: 'INVALID_SIGNATURE',
    });
    const unsigned = { ...request, rawHeaders: ['host', HOST] };
    expect(await admit(unsigned, LOCAL_SIGNERS, NOW)).toMatchObject({
      ok: false,
      responseType: 'MISSING_AUTHENTICATION_TOKEN',
    });
  });
});
