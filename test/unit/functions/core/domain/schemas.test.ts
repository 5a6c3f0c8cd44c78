import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import {
  PatchClientRequestSchema,
  parseRequestBody,
  ReplaceSecretsRequestSchema,
} from '../../../../../functions/core/domain/schemas.ts';

const ok = (schema: v.GenericSchema, input: unknown) => v.safeParse(schema, input).success;

describe('PatchClientRequestSchema', () => {
  it.each([
    { name: 'App' },
    { webhook_uri: null },
    { webhook_uri: 'https://hooks.example.com/a?b=c' },
    { redirect_uris: ['https://app.example.com', 'http://localhost:3000/cb', 'http://127.0.0.1/cb'] },
    { name: 'x'.repeat(200) },
  ])('accepts %o', (input) => {
    expect(ok(PatchClientRequestSchema, input)).toBe(true);
  });

  it.each([
    [{}, 'no field'],
    [{ name: '   ' }, 'blank name'],
    [{ name: 'x'.repeat(201) }, 'name too long'],
    [{ webhook_uri: 'http://hooks.example.com' }, 'webhook over http'],
    [{ webhook_uri: 'https://user:pw@hooks.example.com' }, 'webhook with credentials'],
    [{ webhook_uri: `https://h.example.com/${'a'.repeat(2048)}` }, 'webhook too long'],
    [{ webhook_uri: '/relative' }, 'relative webhook'],
    [{ redirect_uris: [] }, 'no redirect'],
    [{ redirect_uris: ['https://a.example.com', 'https://a.example.com'] }, 'duplicate redirect'],
    [{ redirect_uris: Array.from({ length: 21 }, (_, i) => `https://a.example.com/${i}`) }, '21 redirects'],
    [{ redirect_uris: ['http://app.example.com'] }, 'http redirect off loopback'],
    [{ redirect_uris: ['javascript:alert(1)'] }, 'script redirect'],
    [{ client_secret: ['x'] }, 'secret on the wrong route'],
    [{ name: 'ok', nmae: 'typo' }, 'unknown key'],
  ] as [unknown, string][])('rejects %o (%s)', (input) => {
    expect(ok(PatchClientRequestSchema, input)).toBe(false);
  });
});

describe('ReplaceSecretsRequestSchema', () => {
  const secret = (n: number) => `secret-${String(n).padStart(12, '0')}`;
  it('accepts 1 to 5 distinct printable secrets of 16 to 256 characters', () => {
    expect(ok(ReplaceSecretsRequestSchema, { client_secret: [secret(1)] })).toBe(true);
    expect(ok(ReplaceSecretsRequestSchema, { client_secret: [1, 2, 3, 4, 5].map(secret) })).toBe(true);
    expect(ok(ReplaceSecretsRequestSchema, { client_secret: ['!'.repeat(256)] })).toBe(true);
  });
  it.each([
    [{ client_secret: [] }],
    [{ client_secret: [1, 2, 3, 4, 5, 6].map(secret) }],
    [{ client_secret: ['a'.repeat(15)] }],
    [{ client_secret: ['a'.repeat(257)] }],
    [{ client_secret: [`${secret(1)}\n`] }],
    [{ client_secret: ['ünïcödé-secret-value'] }],
    [{ client_secret: [secret(1), secret(1)] }],
    [{ client_secret: secret(1) }],
    [{ client_secret: [secret(1)], name: 'x' }],
  ])('rejects %o', (input) => {
    expect(ok(ReplaceSecretsRequestSchema, input)).toBe(false);
  });
});

describe('parseRequestBody', () => {
  it('lists every bad field as a JSON pointer, escaping ~ and /', () => {
    expect(() => parseRequestBody(PatchClientRequestSchema, { 'a/b~c': 1, name: '' })).toThrow(
      expect.objectContaining({
        slug: 'validation-failed',
        errors: [
          { pointer: '/name', detail: 'name must not be empty' },
          { pointer: '/a~1b~0c', detail: 'unknown field "a/b~c"' },
        ],
      }),
    );
  });
  it('points into arrays by index', () => {
    expect(() =>
      parseRequestBody(PatchClientRequestSchema, { redirect_uris: ['https://a.example.com', 'ftp://x'] }),
    ).toThrow(
      expect.objectContaining({ errors: [expect.objectContaining({ pointer: '/redirect_uris/1' })] }),
    );
  });
  it('refuses arrays and primitives as the body', () => {
    for (const body of [[], 'x', 1, null, true]) {
      expect(() => parseRequestBody(PatchClientRequestSchema, body)).toThrow(
        expect.objectContaining({
          slug: 'validation-failed',
          errors: [{ pointer: '', detail: 'the body must be a JSON object' }],
        }),
      );
    }
  });
  it('returns the parsed, trimmed output', () => {
    expect(parseRequestBody(PatchClientRequestSchema, { name: '  App  ' })).toEqual({ name: 'App' });
  });
});
