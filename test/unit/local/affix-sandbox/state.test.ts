/**
 * The sandbox's client and Affix's rules for it, alone: the `basic` scheme, `ClientRequest`
 * validation with replace semantics, and unmodelled fields kept as their JSON text byte for byte.
 */
import { describe, expect, it } from 'vitest';
import {
  basicAuthHeader,
  checkExtraFields,
  clientText,
  copyClient,
  defaultSandboxClient,
  defaultStatusBody,
  extraFieldTexts,
  isAuthorized,
  jsonMembers,
  parseBasicAuth,
  pickExtraFields,
  SANDBOX_DEFAULTS,
  validateClientRequest,
} from '../../../../local/affix-sandbox/state.ts';

const basic = (text: string) => `Basic ${Buffer.from(text, 'utf8').toString('base64')}`;

describe('the basic scheme', () => {
  it('encodes id:secret and reads it back, the secret keeping its colons', () => {
    expect(basicAuthHeader('id', 'se:cret')).toBe(basic('id:se:cret'));
    expect(parseBasicAuth(basicAuthHeader('id', 'se:cret'))).toEqual({ id: 'id', secret: 'se:cret' });
    expect(parseBasicAuth('basic   aWQ6cw==  ')).toEqual({ id: 'id', secret: 's' });
  });

  it('names nothing for a missing header, another scheme, or credentials without a colon', () => {
    expect(parseBasicAuth(undefined)).toBeUndefined();
    expect(parseBasicAuth(null)).toBeUndefined();
    expect(parseBasicAuth('Bearer aWQ6cw==')).toBeUndefined();
    expect(parseBasicAuth('Basic')).toBeUndefined();
    expect(parseBasicAuth(basic('no-colon'))).toBeUndefined();
  });

  it('authorizes the client id with any current secret, and nothing else', () => {
    const client = { ...defaultSandboxClient(), client_secret: ['first', 'second'] };
    expect(isAuthorized(basicAuthHeader(client.client_id, 'first'), client)).toBe(true);
    expect(isAuthorized(basicAuthHeader(client.client_id, 'second'), client)).toBe(true);
    expect(isAuthorized(basicAuthHeader(client.client_id, 'third'), client)).toBe(false);
    expect(isAuthorized(basicAuthHeader('someone-else', 'first'), client)).toBe(false);
    expect(isAuthorized(undefined, client)).toBe(false);
    // An empty secret never authenticates, even against a client that lists one.
    expect(isAuthorized(basicAuthHeader(client.client_id, ''), { ...client, client_secret: [''] })).toBe(
      false,
    );
  });
});

describe('the client', () => {
  it('starts as the documented defaults', () => {
    expect(defaultSandboxClient()).toEqual({
      client_id: SANDBOX_DEFAULTS.clientId,
      client_secret: [...SANDBOX_DEFAULTS.clientSecret],
      name: SANDBOX_DEFAULTS.name,
      redirect_uris: [...SANDBOX_DEFAULTS.redirectUris],
      webhook_uri: SANDBOX_DEFAULTS.webhookUri,
    });
  });

  it('copies deeply, so changing the copy leaves the original alone', () => {
    const original = defaultSandboxClient();
    const copy = copyClient(original);
    copy.client_secret.push('new');
    copy.redirect_uris.pop();
    expect(original).toEqual(defaultSandboxClient());
    const { webhook_uri: _, ...withoutWebhook } = original;
    expect('webhook_uri' in copyClient(withoutWebhook)).toBe(false);
  });
});

describe('validateClientRequest', () => {
  const valid = { client_secret: ['s'], redirect_uris: ['https://a.example/cb'], name: 'App' };

  it('accepts a ClientRequest and clears a webhook_uri left out (replace semantics)', () => {
    expect(validateClientRequest(valid)).toEqual({ ok: true, value: { ...valid, webhook_uri: null } });
    expect(validateClientRequest({ ...valid, webhook_uri: 'https://h.example' })).toEqual({
      ok: true,
      value: { ...valid, webhook_uri: 'https://h.example' },
    });
    expect(validateClientRequest({ ...valid, logo_uri: 'kept elsewhere' }).ok).toBe(true);
  });

  it.each([
    ['a non-object', [], 'JSON object'],
    ['null', null, 'JSON object'],
    ['no client_secret', { ...valid, client_secret: undefined }, 'client_secret'],
    ['a non-string secret', { ...valid, client_secret: ['s', 1] }, 'client_secret'],
    ['redirect_uris not an array', { ...valid, redirect_uris: 'https://a.example' }, 'redirect_uris'],
    ['no name', { ...valid, name: undefined }, 'name'],
    ['a numeric webhook_uri', { ...valid, webhook_uri: 5 }, 'webhook_uri'],
  ])('refuses %s, naming the field', (_, body, field) => {
    const result = validateClientRequest(body);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toContain(field);
  });

  it('copies the arrays it accepts', () => {
    const body = { ...valid, client_secret: ['s'] };
    const result = validateClientRequest(body);
    body.client_secret.push('later');
    expect(result.ok && result.value.client_secret).toEqual(['s']);
  });
});

describe('unmodelled fields', () => {
  it('keeps values as JSON text, byte for byte, after the modelled fields', () => {
    const text =
      '{"client_id":"c","logo_uri":"https://l.example","big":1e400,"n":12345678901234567890123,"z":-0,"p":1.50,"e":"\\u00e9\\/"}';
    const extras = extraFieldTexts(text);
    expect([...extras]).toEqual([
      ['logo_uri', '"https://l.example"'],
      ['big', '1e400'],
      ['n', '12345678901234567890123'],
      ['z', '-0'],
      ['p', '1.50'],
      ['e', '"\\u00e9\\/"'],
    ]);
    const client = defaultSandboxClient();
    const rendered = clientText(client, extras);
    expect(rendered.startsWith(JSON.stringify(client).slice(0, -1))).toBe(true);
    expect(
      rendered.endsWith(
        ',"logo_uri":"https://l.example","big":1e400,"n":12345678901234567890123,"z":-0,"p":1.50,"e":"\\u00e9\\/"}',
      ),
    ).toBe(true);
    expect(clientText(client, new Map())).toBe(JSON.stringify(client));
  });

  it('refuses to seed a modelled field as an extra one', () => {
    expect(checkExtraFields({ logo_uri: 'x', tags: [1, { a: 2 }] })).toEqual(
      new Map([
        ['logo_uri', '"x"'],
        ['tags', '[1,{"a":2}]'],
      ]),
    );
    expect(() => checkExtraFields({ name: 'x' })).toThrow(RangeError);
  });

  it('keeps of a POST only the schema fields it sent, as it sent them, in its order', () => {
    const body = '{ "tags" : [ "b" , "a" ], "name":"App", "unknown":true, "logo_uri":null }';
    expect([...pickExtraFields(body, new Set(['logo_uri', 'tags', 'absent']))]).toEqual([
      ['tags', '[ "b" , "a" ]'],
      ['logo_uri', 'null'],
    ]);
  });
});

describe('jsonMembers', () => {
  it('finds the members of an object, nested values and strings with brackets and escapes included', () => {
    const text = ' { "a" : {"x":[1,"]}"]} , "b\\"q" : "v\\\\" ,"c":true,"d":[{}],"e":null } ';
    expect(jsonMembers(text)).toEqual([
      ['a', '{"x":[1,"]}"]}'],
      ['b"q', '"v\\\\"'],
      ['c', 'true'],
      ['d', '[{}]'],
      ['e', 'null'],
    ]);
  });

  it('gives an empty list for an empty object and nothing for a non-object', () => {
    expect(jsonMembers('{ }')).toEqual([]);
    expect(jsonMembers('[1,2]')).toBeUndefined();
    expect(jsonMembers('"text"')).toBeUndefined();
  });
});

describe('defaultStatusBody', () => {
  it('answers with Affix documented bodies, a generic one otherwise', () => {
    expect(defaultStatusBody(401)).toEqual({
      error: 'authentication_error',
      message: 'Your password is incorrect',
      code: 'incorrect_username_or_password',
    });
    expect(defaultStatusBody(400)).toEqual({ message: 'Bad Request', validation_error: 'injected fault' });
    expect(defaultStatusBody(409)).toEqual({ error: 'conflict' });
    expect(defaultStatusBody(429)).toEqual({ message: 'Too many requests' });
    expect(defaultStatusBody(503)).toEqual({ message: 'Service unavailable' });
    expect(defaultStatusBody(502)).toEqual({ message: 'Internal server error' });
    expect(defaultStatusBody(418)).toEqual({ message: 'Injected status 418' });
  });
});
