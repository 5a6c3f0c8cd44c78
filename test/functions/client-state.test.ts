import { describe, expect, it } from 'vitest';
import {
  changedFields,
  computeEtag,
  ifMatchSatisfied,
  mergePatch,
} from '../../functions/client-config/client-state.ts';
import { maskSecret, toPublicClient } from '../../functions/client-config/masking.ts';
import { initialClient, SECRET_A, SECRET_B } from '../support/fake-affix-fetch.ts';

describe('computeEtag', () => {
  it('is a quoted strong validator that is stable across key order', () => {
    const client = initialClient();
    const reordered = {
      webhook_uri: client.webhook_uri,
      name: client.name,
      redirect_uris: client.redirect_uris,
      client_secret: client.client_secret,
      client_id: client.client_id,
    };
    expect(computeEtag(client)).toMatch(/^"[A-Za-z0-9_-]{22}"$/);
    expect(computeEtag(reordered)).toBe(computeEtag(client));
  });
  it('changes when any field changes, secrets included, and treats a missing webhook as null', () => {
    const base = initialClient();
    const etags = new Set([
      computeEtag(base),
      computeEtag({ ...base, name: 'Other' }),
      computeEtag({ ...base, webhook_uri: null }),
      computeEtag({ ...base, redirect_uris: ['https://other.example.com'] }),
      computeEtag({ ...base, client_secret: [SECRET_B] }),
      computeEtag({ ...base, client_id: 'other' }),
    ]);
    expect(etags.size).toBe(6);
    const { webhook_uri: _w, ...noWebhook } = base;
    expect(computeEtag({ ...noWebhook, webhook_uri: null })).toBe(
      computeEtag({ ...base, webhook_uri: null }),
    );
  });
  it('does not contain the secret', () => {
    expect(computeEtag(initialClient())).not.toContain(SECRET_A.slice(-4));
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
    const current = initialClient();
    const next = mergePatch(current, { webhook_uri: 'https://hooks.example.com/new' });
    expect(next).toEqual({
      name: current.name,
      redirect_uris: current.redirect_uris,
      client_secret: current.client_secret,
      webhook_uri: 'https://hooks.example.com/new',
    });
    expect(changedFields(current, next)).toEqual(['webhook_uri']);
  });
  it('reports nothing when the patch repeats the current values', () => {
    const current = initialClient();
    expect(
      changedFields(
        current,
        mergePatch(current, { name: current.name, redirect_uris: [...current.redirect_uris] }),
      ),
    ).toEqual([]);
  });
  it('counts a reordering of redirect URIs as a change and null webhook as a change', () => {
    const current = { ...initialClient(), redirect_uris: ['https://a.example.com', 'https://b.example.com'] };
    expect(
      changedFields(
        current,
        mergePatch(current, { redirect_uris: ['https://b.example.com', 'https://a.example.com'] }),
      ),
    ).toEqual(['redirect_uris']);
    expect(changedFields(current, mergePatch(current, { webhook_uri: null }))).toEqual(['webhook_uri']);
  });
  it('does not alias the current client', () => {
    const current = initialClient();
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
    const view = toPublicClient({ ...initialClient(), client_secret: [SECRET_A, SECRET_B] });
    expect(JSON.stringify(view)).not.toContain(SECRET_A);
    expect(JSON.stringify(view)).not.toContain(SECRET_B);
    expect(view.client_secret).toEqual([`****${SECRET_A.slice(-4)}`, `****${SECRET_B.slice(-4)}`]);
  });
});
