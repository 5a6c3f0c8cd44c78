import type { APIGatewayProxyEvent } from 'aws-lambda';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LOCAL_IDENTITIES } from '../../../local/identities.ts';
import { toApiGatewayEvent } from '../../../local/lambda-event.ts';

const WRITER = LOCAL_IDENTITIES.writers;

function event(overrides: Partial<Parameters<typeof toApiGatewayEvent>[0]> = {}): APIGatewayProxyEvent {
  return toApiGatewayEvent({
    method: 'get',
    url: '/client',
    headers: { host: '127.0.0.1:3000' },
    body: Buffer.alloc(0),
    identity: WRITER.identity,
    requestId: 'req-1',
    ...overrides,
  });
}

describe('toApiGatewayEvent', () => {
  it.each([
    ['/client', '/client'],
    ['/client?fields=name', '/client'],
    ['/client/secrets', '/client/secrets'],
    ['/client/', '/client'],
    ['/clients', '/clients'],
    ['/client/secrets/extra', '/client/secrets/extra'],
    ['/', '/'],
  ])('maps %s to resource %s', (url, resource) => {
    const e = event({ url });
    expect(e.resource).toBe(resource);
    expect(e.requestContext.resourcePath).toBe(resource);
  });

  it('splits the query off the path and fills single and multi-value parameters', () => {
    const e = event({ url: '/client?a=1&b=x%20y&a=2' });
    expect(e.path).toBe('/client');
    expect(e.queryStringParameters).toEqual({ a: '2', b: 'x y' });
    expect(e.multiValueQueryStringParameters).toEqual({ a: ['1', '2'], b: ['x y'] });
    expect(event({ url: '/client' }).queryStringParameters).toBeNull();
    expect(event({ url: '/client' }).multiValueQueryStringParameters).toBeNull();
  });

  it('keeps the last value of a repeated header in headers and each value in multiValueHeaders', () => {
    const e = event({ headers: { 'x-forwarded-for': ['10.0.0.1', '10.0.0.2'], accept: 'application/json' } });
    expect(e.headers['x-forwarded-for']).toBe('10.0.0.2');
    expect(e.multiValueHeaders['x-forwarded-for']).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(e.headers.accept).toBe('application/json');
    expect(e.multiValueHeaders.accept).toEqual(['application/json']);
  });

  it('keeps the caller casing and repeated values when rawHeaders are given', () => {
    const e = event({
      headers: { 'if-match': '"a", "b"' },
      rawHeaders: ['If-Match', '"a"', 'Content-Type', 'application/json', 'if-match', '"b"'],
    });
    // As API Gateway (REST v1): the last `If-Match` line only; every line in multiValueHeaders.
    expect(e.headers).toEqual({ 'If-Match': '"b"', 'Content-Type': 'application/json' });
    expect(e.multiValueHeaders['If-Match']).toEqual(['"a"', '"b"']);
  });

  it('passes UTF-8 bodies as text and other bytes as base64', () => {
    const text = event({ method: 'PATCH', body: Buffer.from('{"name":"Zoë"}', 'utf8') });
    expect(text.body).toBe('{"name":"Zoë"}');
    expect(text.isBase64Encoded).toBe(false);

    const bytes = Buffer.from([0xff, 0xfe, 0x00, 0x80, 0x41]);
    const binary = event({ method: 'PUT', body: bytes });
    expect(binary.isBase64Encoded).toBe(true);
    expect(Buffer.from(binary.body ?? '', 'base64')).toEqual(bytes);

    const empty = event();
    expect(empty.body).toBeNull();
    expect(empty.isBase64Encoded).toBe(false);
  });

  it('builds a realistic request context with the IAM caller (the signer)', () => {
    const e = event({ method: 'patch', stage: 'dev', requestTimeEpoch: Date.UTC(2025, 3, 9, 12, 34, 56) });
    expect(e.httpMethod).toBe('PATCH');
    expect(e.requestContext).toMatchObject({
      accountId: '000000000000',
      apiId: 'local',
      stage: 'dev',
      requestId: 'req-1',
      httpMethod: 'PATCH',
      path: '/dev/client',
      resourcePath: '/client',
      protocol: 'HTTP/1.1',
      requestTime: '09/Apr/2025:12:34:56 +0000',
      requestTimeEpoch: Date.UTC(2025, 3, 9, 12, 34, 56),
    });
    expect(e.requestContext.identity).toMatchObject({
      userArn: 'arn:aws:sts::000000000000:assumed-role/local-writer/local',
      caller: 'AROALOCALWRITER:local',
      user: 'AROALOCALWRITER:local',
      accountId: '000000000000',
      accessKey: 'local-writer',
      sourceIp: '127.0.0.1',
    });
    expect(e.requestContext.stage).toBe('dev');
    expect(event().requestContext.stage).toBe('local');
  });

  it('identity null gives an event without an IAM caller', () => {
    const { identity } = event({ identity: null }).requestContext;
    expect(identity.userArn).toBeNull();
    expect(identity.caller).toBeNull();
    expect(identity.accountId).toBeNull();
    expect(identity.accessKey).toBeNull();
    expect(identity.sourceIp).toBe('127.0.0.1');
  });

  it('takes a plain record of headers too, repeated ones as arrays, names compared without case', () => {
    const e = event({
      headers: { 'X-Trace': ['a', 'b'], 'x-trace': 'c', 'User-Agent': 'curl/8', Host: 'api.example.com' },
    });
    expect(e.headers).toEqual({ 'X-Trace': 'c', 'User-Agent': 'curl/8', Host: 'api.example.com' });
    expect(e.multiValueHeaders['X-Trace']).toEqual(['a', 'b', 'c']);
    expect(e.requestContext.identity.userAgent).toBe('curl/8');
    expect(e.requestContext.domainName).toBe('api.example.com');
    expect(e.requestContext.domainPrefix).toBe('api');
  });

  it('passes a string body as is, with the isBase64Encoded it is given', () => {
    expect(event({ body: '' })).toMatchObject({ body: '', isBase64Encoded: false });
    expect(event({ body: 'AAEC', isBase64Encoded: true })).toMatchObject({
      body: 'AAEC',
      isBase64Encoded: true,
    });
    expect(event({ body: null })).toMatchObject({ body: null, isBase64Encoded: false });
  });

  it('takes the account, API id and source IP of the caller it is given', () => {
    const e = event({ accountId: '111122223333', apiId: 'api123', sourceIp: '10.0.0.1' });
    expect(e.requestContext).toMatchObject({ accountId: '111122223333', apiId: 'api123' });
    expect(e.requestContext.identity.sourceIp).toBe('10.0.0.1');
  });
});

/** Names that are properties of every plain object: data like any other in an event's maps. */
const PROTOTYPE_NAMES = [
  'constructor',
  '__proto__',
  'toString',
  'hasOwnProperty',
  'valueOf',
  'isPrototypeOf',
];

describe('toApiGatewayEvent: prototype names are data', () => {
  it.each(PROTOTYPE_NAMES)('?%s=1 (repeated) is a query parameter like any other', (name) => {
    const e = event({ url: `/client?${name}=1&${name}=2&x=3` });
    expect(Object.hasOwn(e.queryStringParameters ?? {}, name)).toBe(true);
    expect(e.queryStringParameters?.[name]).toBe('2');
    expect(e.multiValueQueryStringParameters?.[name]).toEqual(['1', '2']);
    expect(Object.keys(e.queryStringParameters ?? {}).sort()).toEqual([name, 'x'].sort());
  });

  it.each(PROTOTYPE_NAMES)('a header named %s is a header like any other', (name) => {
    const e = event({ headers: {}, rawHeaders: ['host', 'h', name, 'a', name, 'b'] });
    expect(e.headers[name]).toBe('b');
    expect(e.multiValueHeaders[name]).toEqual(['a', 'b']);
    expect(Object.keys(e.headers).sort()).toEqual(['host', name].sort());
  });
});

describe('toApiGatewayEvent: properties', () => {
  const word = fc.oneof(fc.constantFrom(...PROTOTYPE_NAMES), fc.string({ maxLength: 12 }));
  // Header names as Node's parser lets them through: RFC 9110 tokens.
  const token = fc.oneof(
    fc.constantFrom(...PROTOTYPE_NAMES),
    fc.stringMatching(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,16}$/),
  );

  it('arbitrary query keys and values: never throws; every key is an own entry with its values in order', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(word, fc.string({ maxLength: 8 })), { maxLength: 12 }), (pairs) => {
        const search = new URLSearchParams(pairs);
        const e = event({ url: `/client?${search.toString()}` });
        const expected = new Map<string, string[]>();
        for (const [key, value] of pairs) expected.set(key, [...(expected.get(key) ?? []), value]);
        if (expected.size === 0) {
          expect(e.queryStringParameters).toBeNull();
          return;
        }
        expect(Object.keys(e.multiValueQueryStringParameters ?? {}).sort()).toEqual(
          [...expected.keys()].sort(),
        );
        for (const [key, values] of expected) {
          expect(Object.hasOwn(e.multiValueQueryStringParameters ?? {}, key)).toBe(true);
          expect(e.multiValueQueryStringParameters?.[key]).toEqual(values);
          expect(e.queryStringParameters?.[key]).toBe(values.at(-1));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('arbitrary header names: never throws; the last value of each (case-insensitively) is kept, all values in multiValueHeaders', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(token, fc.string({ maxLength: 8 })), { maxLength: 12 }), (pairs) => {
        const rawHeaders = pairs.flat();
        const e = event({ headers: {}, rawHeaders });
        const expected = new Map<string, string[]>();
        for (const [name, value] of pairs) {
          expected.set(name.toLowerCase(), [...(expected.get(name.toLowerCase()) ?? []), value]);
        }
        expect(Object.keys(e.headers)).toHaveLength(expected.size);
        for (const [name, values] of Object.entries(e.multiValueHeaders)) {
          expect(values).toEqual(expected.get(name.toLowerCase()));
          expect(e.headers[name]).toBe(values?.at(-1));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('arbitrary request targets: never throws, and the path never carries the query', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string().map((s) => `/${s}`),
          fc.webUrl(),
        ),
        (target) => {
          const e = event({ url: target });
          expect(typeof e.path).toBe('string');
          expect(e.path.includes('?')).toBe(false);
          expect(typeof e.resource).toBe('string');
        },
      ),
      { numRuns: 300 },
    );
  });
});
