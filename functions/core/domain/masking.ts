/**
 * What callers may see of a secret. (Text from Affix, which may repeat secrets, is judged whole in
 * `upstream-text.ts`: nothing is scrubbed out of it.)
 *
 * @example
 * maskSecret('sandbox-secret-aaaaaaaaaaaaaaaa'); // '****aaaa'
 */
import type { AffixClient, PublicClient } from './schemas.ts';

export const MASK = '****';
/** Below this length the last four characters would reveal too much of the secret. */
const MIN_LENGTH_TO_SHOW_TAIL = 12;

export function maskSecret(secret: string): string {
  return secret.length >= MIN_LENGTH_TO_SHOW_TAIL ? `${MASK}${secret.slice(-4)}` : MASK;
}

/**
 * The client as our API shows it: every secret masked, `webhook_uri` always present. Unmodelled
 * fields are never shown (they might hold anything), so the view does not take them.
 */
export function toPublicClient(client: Omit<AffixClient, 'extra'>): PublicClient {
  return {
    client_id: client.client_id,
    name: client.name,
    redirect_uris: [...client.redirect_uris],
    webhook_uri: client.webhook_uri ?? null,
    client_secret: client.client_secret.map(maskSecret),
  };
}
