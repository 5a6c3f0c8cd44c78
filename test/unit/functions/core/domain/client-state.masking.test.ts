/** What callers may see of a secret, and the client as the API shows it. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MASK, maskSecret, toPublicClient } from '../../../../../functions/core/domain/client-state.ts';
import { parsedClient } from '../../../../support/affix-fixtures.ts';

describe('maskSecret', () => {
  it('shows the last four characters of a secret of 12 or more, behind the mask', () => {
    expect(maskSecret('sandbox-secret-aaaaaaaaaaaaaaaa')).toBe('****aaaa');
    expect(maskSecret('123456789012')).toBe('****9012');
  });

  it('shows nothing of a shorter secret', () => {
    expect(maskSecret('12345678901')).toBe(MASK);
    expect(maskSecret('')).toBe(MASK);
  });

  it('never reveals more than four characters, and those only of a secret of 12 or more', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), (secret) => {
        const masked = maskSecret(secret);
        expect(masked.startsWith(MASK)).toBe(true);
        const shown = masked.slice(MASK.length);
        expect(shown.length).toBeLessThanOrEqual(4);
        expect(secret.endsWith(shown)).toBe(true);
        if (secret.length < 12) expect(shown).toBe('');
      }),
      { numRuns: 300 },
    );
  });
});

describe('toPublicClient', () => {
  it('masks every secret, leaves out unmodelled fields, and always has webhook_uri', () => {
    const client = parsedClient({
      client_id: 'client-1',
      client_secret: ['secret-one-aaaa-1111', 'secret-two-bbbb-2222'],
      name: 'App',
      redirect_uris: ['https://app.example.com/cb'],
      logo_url: 'https://app.example.com/logo.png',
    });
    const view = toPublicClient(client);
    expect(view).toEqual({
      client_id: 'client-1',
      name: 'App',
      redirect_uris: ['https://app.example.com/cb'],
      webhook_uri: null,
      client_secret: ['****1111', '****2222'],
    });
    expect(JSON.stringify(view)).not.toContain('secret-one');
  });

  it('copies the redirect URIs: changing the view does not change the client', () => {
    const client = parsedClient();
    const view = toPublicClient(client);
    view.redirect_uris.push('https://elsewhere.example.com/');
    expect(client.redirect_uris).toHaveLength(1);
  });
});
