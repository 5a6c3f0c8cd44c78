/**
 * The use cases: read, patch, replace secrets, verify a webhook signature. They take their ports (Affix, credentials, the write lock) as arguments, so
 * they are tested without AWS and without HTTP.
 *
 * Affix's POST replaces the whole client, so every write is read-merge-write: callers send only what
 * they change and never need to know the secrets.
 */
import type { AffixPort, CallContext } from './affix-client.ts';
import {
  type ClientField,
  changedFields,
  computeEtag,
  ifMatchSatisfied,
  mergePatch,
  toUpdate,
} from './client-state.ts';
import type { CredentialsProvider } from './credentials.ts';
import { maskSecret } from './masking.ts';
import { ProblemError } from './problems.ts';
import type { AffixClient, AffixClientUpdate, PatchClientRequest } from './schemas.ts';
import type { WebhookSecretsCache } from './webhook-secrets.ts';
import { matchingSecret, parseSignatureHeader, SIGNATURE_HEADER } from './webhook-signature.ts';
import type { WriteLock } from './write-lock.ts';

export interface Ports {
  affix: AffixPort;
  credentials: CredentialsProvider;
  /** Makes each write exclusive across containers; reads do not take it. */
  writeLock: WriteLock;
}

export interface ClientResult {
  client: AffixClient;
  etag: string;
  /** The fields a write changed; empty for reads and no-op writes (which send no update). */
  changed: ClientField[];
}

export interface WriteOptions {
  ifMatch?: string | undefined;
}

/** The key our ETags are made with: read with the Affix credentials, so already cached after a call. */
async function etagKey(ports: Ports) {
  return (await ports.credentials.get()).etagKey;
}

export async function getClient(ports: Ports, context: CallContext): Promise<ClientResult> {
  const client = await ports.affix.getClient(context);
  return { client, etag: computeEtag(client, await etagKey(ports)), changed: [] };
}

/**
 * Every write is one read-check-merge-write sequence inside the write lease: the GET, the `If-Match`
 * check and the POST all happen while this request is the only writer in any container, so of N
 * writers carrying the same ETag exactly one passes and no accepted change is overwritten unseen.
 */
async function write(
  ports: Ports,
  context: CallContext,
  options: WriteOptions,
  buildUpdate: (current: AffixClient) => Promise<AffixClientUpdate> | AffixClientUpdate,
): Promise<ClientResult> {
  return ports.writeLock.runExclusive(context, async () => {
    const current = await ports.affix.getClient(context);
    const currentEtag = computeEtag(current, await etagKey(ports));
    if (!ifMatchSatisfied(options.ifMatch, currentEtag)) {
      throw new ProblemError(
        'precondition-failed',
        'The client changed since you read it: GET it again and retry with the new ETag.',
      );
    }
    const next = await buildUpdate(current);
    const changed = changedFields(current, next);
    if (changed.length === 0) return { client: current, etag: currentEtag, changed };
    const updated = await ports.affix.updateClient(next, context);
    return { client: updated, etag: computeEtag(updated, await etagKey(ports)), changed };
  });
}

export function updateClient(
  ports: Ports,
  patch: PatchClientRequest,
  context: CallContext,
  options: WriteOptions = {},
): Promise<ClientResult> {
  return write(ports, context, options, (current) => mergePatch(current, patch));
}

export function replaceSecrets(
  ports: Ports,
  secrets: string[],
  context: CallContext,
  options: WriteOptions = {},
): Promise<ClientResult> {
  return write(ports, context, options, async (current) => {
    // The lock-out guard: the proxy must still be able to authenticate after the change, with the
    // secret SSM holds now. The cache may predate an SSM update (step 2 of a rotation), so the guard
    // always reads SSM: a cached secret could let a caller remove the one SSM already serves.
    const { clientSecret } = await ports.credentials.refresh();
    if (!secrets.includes(clientSecret)) {
      throw new ProblemError(
        'would-lock-out',
        'The new list does not contain the secret this proxy authenticates with. Add the new secret first, update the SSM parameter, then remove the old one.',
      );
    }
    return { ...toUpdate(current), client_secret: [...secrets] };
  });
}

/** What a verification may tell: that it matched, and the matching secret's masked tail only. */
export interface WebhookVerification {
  valid: true;
  secret: string;
}

const SIGNATURE_PROBLEM_DETAIL: Record<'missing' | 'empty' | 'not-hex', string> = {
  missing: `No ${SIGNATURE_HEADER} header was sent: forward the delivery's header as it came.`,
  empty: `The ${SIGNATURE_HEADER} header is empty.`,
  'not-hex': `The ${SIGNATURE_HEADER} header is not a hex HMAC-SHA256 digest (64 hex digits).`,
};

/**
 * Whether a webhook delivery was signed with one of the client's current secrets. Reads only (no write
 * lock): the list comes from Affix's GET through a short per-container cache, read again once when
 * nothing matched (a secret may have just been added), so a delivery signed with the secret being
 * rotated in or the one being rotated out is valid while Affix lists both.
 */
export async function verifyWebhook(
  secrets: WebhookSecretsCache,
  body: Uint8Array,
  signatureHeader: string | undefined,
  context: CallContext,
): Promise<WebhookVerification> {
  const signature = parseSignatureHeader(signatureHeader);
  if (!signature.ok) throw new ProblemError('signature-mismatch', SIGNATURE_PROBLEM_DETAIL[signature.reason]);
  const cached = await secrets.get(context);
  let match = matchingSecret(body, signature.digest, cached.secrets);
  if (match === undefined) {
    const fresh = await secrets.refreshAfterMismatch(context, cached);
    if (fresh !== undefined) match = matchingSecret(body, signature.digest, fresh.secrets);
  }
  if (match === undefined) {
    throw new ProblemError(
      'signature-mismatch',
      'The signature matches none of the client secrets: the body was changed, or it was not signed by Affix for this client.',
    );
  }
  return { valid: true, secret: maskSecret(match) };
}
