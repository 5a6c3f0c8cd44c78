import { describe, expect, it } from 'vitest';
import {
  affixRequestBody,
  changedFields,
  computeEtag,
  ifMatchSatisfied,
  maskSecret,
  mergePatch,
  toPublicClient,
  toUpdate,
} from '../../../../../functions/core/domain/client-state.ts';
import {
  ETAG_KEY,
  initialClient,
  parsedClient,
  SECRET_A,
  SECRET_B,
} from '../../../../support/affix-fixtures.ts';

describe('computeEtag', () => {
  it('is a quoted strong validator that is stable across key order, extras included', () => {
    const client = initialClient();
    const reordered = {
      zeta: { b: [1, { y: null, x: 'é' }], a: 2 },
      webhook_uri: client.webhook_uri,
      name: client.name,
      alpha: true,
      redirect_uris: client.redirect_uris,
      client_secret: client.client_secret,
      client_id: client.client_id,
    };
    const ordered = { ...client, alpha: true, zeta: { a: 2, b: [1, { x: 'é', y: null }] } };
    expect(computeEtag(parsedClient(client), ETAG_KEY)).toMatch(/^"[A-Za-z0-9_-]{22}"$/);
    expect(computeEtag(parsedClient(reordered), ETAG_KEY)).toBe(computeEtag(parsedClient(ordered), ETAG_KEY));
  });
  it('changes when any field changes, secrets and unmodelled fields included; a missing webhook is null', () => {
    const base = initialClient();
    const etag = (json: unknown) => computeEtag(parsedClient(json), ETAG_KEY);
    const etags = new Set([
      etag(base),
      etag({ ...base, name: 'Other' }),
      etag({ ...base, webhook_uri: null }),
      etag({ ...base, redirect_uris: ['https://other.example.com'] }),
      etag({ ...base, client_secret: [SECRET_B] }),
      etag({ ...base, client_id: 'other' }),
      etag({ ...base, extra_field: 1 }),
      etag({ ...base, extra_field: '1' }),
      etag({ ...base, extra_field: [1] }),
    ]);
    expect(etags.size).toBe(9);
    const { webhook_uri: _w, ...noWebhook } = base;
    expect(etag(noWebhook)).toBe(etag({ ...base, webhook_uri: null }));
  });
  it('does not contain the secret', () => {
    expect(computeEtag(parsedClient(), ETAG_KEY)).not.toContain(SECRET_A.slice(-4));
  });
});

describe('affixRequestBody', () => {
  it('sends every unmodelled field back, never client_id, and our fields as merged', () => {
    const current = parsedClient({ ...initialClient(), tier: { level: 3, tags: ['a'] }, note: null });
    const body = JSON.parse(affixRequestBody(mergePatch(current, { name: 'New' })));
    expect(body).toEqual({
      tier: { level: 3, tags: ['a'] },
      note: null,
      name: 'New',
      webhook_uri: current.webhook_uri,
      redirect_uris: current.redirect_uris,
      client_secret: current.client_secret,
    });
    expect(Object.hasOwn(body, 'client_id')).toBe(false);
    expect(Object.hasOwn(body, 'extra')).toBe(false);
  });
  it('keeps keys that are special to JavaScript as plain fields', () => {
    const text = `{"client_id":"c","client_secret":[],"name":"n","redirect_uris":[],"__proto__":{"polluted":1},"constructor":"x","prototype":[1]}`;
    const current = parsedClient(JSON.parse(text));
    expect(Object.keys(current.extra)).toEqual(['__proto__', 'constructor', 'prototype']);
    const body = affixRequestBody(toUpdate(current));
    expect(body).toContain('"__proto__":{"polluted":1}');
    expect(body).toContain('"constructor":"x"');
    expect(body).toContain('"prototype":[1]');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('ifMatchSatisfied', () => {
  const etag = '"abc"';
  it.each([
    [undefined, true],
    ['*', true],
    ['"abc"', true],
    ['"x", "abc"', true],
    [' "abc" ', true],
    ['"abd"', false],
    ['W/"abc"', false],
    ['abc', false],
    ['', false],
  ])('If-Match %s -> %s', (header, expected) => {
    expect(ifMatchSatisfied(header, etag)).toBe(expected);
  });
});

describe('mergePatch and changedFields', () => {
  it('keeps every field the patch does not name, secrets included', () => {
    const current = parsedClient();
    const next = mergePatch(current, { webhook_uri: 'https://hooks.example.com/new' });
    expect(next).toEqual({
      name: current.name,
      redirect_uris: current.redirect_uris,
      client_secret: current.client_secret,
      webhook_uri: 'https://hooks.example.com/new',
      extra: {},
    });
    expect(changedFields(current, next)).toEqual(['webhook_uri']);
  });
  it('reports nothing when the patch repeats the current values', () => {
    const current = parsedClient();
    expect(
      changedFields(
        current,
        mergePatch(current, { name: current.name, redirect_uris: [...current.redirect_uris] }),
      ),
    ).toEqual([]);
  });
  it('counts a reordering of redirect URIs as a change and null webhook as a change', () => {
    const current = parsedClient({
      ...initialClient(),
      redirect_uris: ['https://a.example.com', 'https://b.example.com'],
    });
    expect(
      changedFields(
        current,
        mergePatch(current, { redirect_uris: ['https://b.example.com', 'https://a.example.com'] }),
      ),
    ).toEqual(['redirect_uris']);
    expect(changedFields(current, mergePatch(current, { webhook_uri: null }))).toEqual(['webhook_uri']);
  });
  it('does not alias the current client', () => {
    const current = parsedClient();
    const next = mergePatch(current, { name: 'x' });
    next.client_secret.push('mutated');
    expect(current.client_secret).toEqual([SECRET_A]);
  });
});

describe('masking', () => {
  it('shows **** plus the last four characters, and only **** for short secrets', () => {
    expect(maskSecret('abcdefghijklmnop')).toBe('****mnop');
    expect(maskSecret('short-secret')).toBe('****cret');
    expect(maskSecret('tiny')).toBe('****');
    expect(maskSecret('elevenchars')).toBe('****');
  });
  it('masks every secret of the public view', () => {
    const view = toPublicClient(parsedClient({ ...initialClient(), client_secret: [SECRET_A, SECRET_B] }));
    expect(JSON.stringify(view)).not.toContain(SECRET_A);
    expect(JSON.stringify(view)).not.toContain(SECRET_B);
    expect(view.client_secret).toEqual([`****${SECRET_A.slice(-4)}`, `****${SECRET_B.slice(-4)}`]);
  });
  it('never shows unmodelled fields', () => {
    const view = toPublicClient(parsedClient({ ...initialClient(), internal_token: 'do-not-show-1234' }));
    expect(Object.keys(view).sort()).toEqual([
      'client_id',
      'client_secret',
      'name',
      'redirect_uris',
      'webhook_uri',
    ]);
    expect(JSON.stringify(view)).not.toContain('do-not-show');
  });
});
