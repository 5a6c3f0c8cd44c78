/**
 * Test data for the Affix sandbox the handler tests run against: the client id, two secrets and the
 * ETag key their containers load. Data, not logic: the fake is `local/affix-sandbox.ts`.
 */
import { createHash } from 'node:crypto';
import { parseEtagKey } from '../../functions/core/domain/etag-key.ts';
import {
  type AffixClient,
  type AffixClientJson,
  parseAffixClient,
} from '../../functions/core/domain/schemas.ts';

export const SECRET_A = 'secret-AAAA-aaaa-1111-initial';
export const SECRET_B = 'secret-BBBB-bbbb-2222-rotated';
export const CLIENT_ID = 'client-0000-test';

/** The ETag key test containers load, as SSM stores it (Base64 of 32 bytes). */
export const ETAG_KEY_BASE64 = createHash('sha256').update('test etag key').digest('base64');
export const ETAG_KEY = parseEtagKey(ETAG_KEY_BASE64);

/** Affix's client as Affix sends it (the sandbox's `client` option). */
export function initialClient(): AffixClientJson {
  return {
    client_id: CLIENT_ID,
    client_secret: [SECRET_A],
    name: 'Test App',
    redirect_uris: ['https://app.example.com/callback'],
    webhook_uri: 'https://hooks.example.com/affix',
  };
}

/** Affix's client as the proxy holds it after parsing (for the pure functions' tests). */
export function parsedClient(json: unknown = initialClient()): AffixClient {
  const client = parseAffixClient(json);
  if (client === undefined) throw new Error('not an Affix client');
  return client;
}
