/**
 * What callers may see of a secret, and how secrets are scrubbed from text we did not write.
 *
 * @example
 * maskSecret('sandbox-secret-aaaaaaaaaaaaaaaa'); // '****aaaa'
 */
import type { AffixClient, PublicClient } from './schemas.ts';

export const MASK = '****';
/** Below this length the last four characters would reveal too much of the secret. */
const MIN_LENGTH_TO_SHOW_TAIL = 12;
export const REDACTED = '[REDACTED]';

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

/** A string as it may appear in text: itself, Base64, and escaped inside a JSON string. */
function textForms(value: string): string[] {
  const forms = [value, Buffer.from(value).toString('base64')];
  // As it reads inside a JSON string (a secret may hold `"` or `\`), e.g. when Affix echoes our body.
  const escaped = JSON.stringify(value).slice(1, -1);
  if (escaped !== value) forms.push(escaped);
  return forms;
}

/**
 * Every form in which a secret could leak into text: the {@link textForms} of the secret and, given
 * the client id, of our Basic credentials `id:secret` (whose Base64 is the Authorization value).
 */
export function secretForms(secret: string, clientId?: string): string[] {
  const forms = textForms(secret);
  if (clientId !== undefined) forms.push(...textForms(`${clientId}:${secret}`));
  // Very short strings would redact ordinary words; our secrets are at least 16 characters anyway.
  return forms.filter((form) => form.length >= 4);
}

/** Replaces every occurrence of any of the given secrets (in any {@link secretForms}) with a marker. */
export function redact(text: string, secrets: readonly string[], clientId?: string): string {
  let result = text;
  const forms = secrets.flatMap((secret) => secretForms(secret, clientId));
  // Longest first, so a secret that contains another one is scrubbed whole.
  for (const form of forms.sort((a, b) => b.length - a.length)) {
    result = result.replaceAll(form, REDACTED);
  }
  return result;
}

// Unicode category Cc (C0 and C1 controls), written as a property escape to keep the pattern readable.
const CONTROL_CHARACTERS = /\p{Cc}+/gu;

/**
 * Makes upstream text safe to pass on: no secrets (with `clientId`, nor our Basic credentials), no
 * control characters, bounded length.
 */
export function sanitizeUpstreamText(
  text: string,
  secrets: readonly string[],
  clientId?: string,
  maxLength = 500,
): string {
  const cleaned = redact(text, secrets, clientId).replace(CONTROL_CHARACTERS, ' ').trim();
  return cleaned.length > maxLength ? `${cleaned.slice(0, maxLength)}…` : cleaned;
}
