/**
 * The use cases: read, patch, replace secrets, verify a webhook signature, built once per container
 * from their ports (Affix, credentials, the write lock), so they are tested alone with in-memory
 * ports (`test/unit/functions/core/app/use-cases.test.ts`), without AWS and without HTTP.
 *
 * Affix's POST replaces the whole client, so every write is read-merge-write: callers send only what
 * they change and never need to know the secrets.
 *
 * @example
 * const useCases = createUseCases(ports);
 * const { client, etag } = await useCases.patchClient({ name: 'Renamed' }, call, { ifMatch });
 */
import {
  type ClientField,
  changedFields,
  computeEtag,
  ifMatchSatisfied,
  maskSecret,
  mergePatch,
  toUpdate,
} from '../domain/client-state.ts';
import { ProblemError } from '../domain/problems.ts';
import type { AffixClient, AffixClientUpdate, PatchClientRequest } from '../domain/schemas.ts';
import { secretListDigest } from '../domain/state-item.ts';
import { matchingSecret, parseSignatureHeader, SIGNATURE_HEADER } from '../domain/webhook-signature.ts';
import type { CallContext, Ports, RecordedSecrets } from '../ports.ts';
import {
  createWebhookSecretsCache,
  type SecretList,
  type WebhookSecretsCacheOptions,
} from './credentials.ts';
import { ReadsExhaustedError } from './shared-state.ts';

export interface ClientResult {
  client: AffixClient;
  etag: string;
  /** The fields a write changed; empty for reads and no-op writes (which send no update). */
  changed: ClientField[];
}

export interface WriteOptions {
  ifMatch?: string | undefined;
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

export interface UseCases {
  getClient(call: CallContext): Promise<ClientResult>;
  patchClient(patch: PatchClientRequest, call: CallContext, options?: WriteOptions): Promise<ClientResult>;
  replaceSecrets(secrets: string[], call: CallContext, options?: WriteOptions): Promise<ClientResult>;
  verifyWebhook(
    body: Uint8Array,
    signatureHeader: string | undefined,
    call: CallContext,
  ): Promise<WebhookVerification>;
}

export interface UseCaseOptions {
  /** How long the container keeps Affix's secret list for webhook verification (default 60 s). */
  webhookSecrets?: Pick<WebhookSecretsCacheOptions, 'maxAgeMs' | 'minRefreshIntervalMs' | 'now'>;
}

export function createUseCases(ports: Ports, options: UseCaseOptions = {}): UseCases {
  // Per container: the list of secrets webhook deliveries may be signed with, from Affix's GET.
  const webhookSecrets = createWebhookSecretsCache({
    ...options.webhookSecrets,
    read: async (call) => (await ports.affix.getClient(call)).client_secret,
    ...(ports.recordedSecrets === undefined ? {} : { isCurrent: isRecordedList(ports.recordedSecrets) }),
  });

  /** The key our ETags are made with: read with the Affix credentials, so already cached after a call. */
  const etagKey = async () => (await ports.credentials.get()).etagKey;

  /** Whether a cached list is the one the shared state last recorded (unknown counts as current). */
  function isRecordedList(recorded: RecordedSecrets) {
    return async (list: SecretList, call: CallContext): Promise<boolean> => {
      const digest = await recorded.digest(call);
      return digest === undefined || digest === secretListDigest(list.secrets, await etagKey());
    };
  }

  /** Affix's current list, read or written anyway: webhook verification in this container uses it. */
  function seen(result: ClientResult): ClientResult {
    webhookSecrets.prime(result.client.client_secret);
    return result;
  }

  /**
   * Every write is one read-check-merge-write sequence inside the write lease: the GET, the
   * `If-Match` check and the POST all happen while this request is the only writer in any container,
   * so of N writers carrying the same ETag exactly one passes and no accepted change is overwritten
   * unseen. The Affix port journals a change it sent for the call's author (`shared-state.ts`); a
   * no-op or a refused write sends nothing and so appends nothing.
   */
  async function write(
    requestCall: CallContext,
    writeOptions: WriteOptions,
    buildUpdate: (current: AffixClient) => Promise<AffixClientUpdate> | AffixClientUpdate,
  ): Promise<ClientResult> {
    // A write spends the writers' share of Affix's budget, with or without a lease (the bench's entry).
    const call = { ...requestCall, purpose: 'write' as const };
    const result = await ports.writeLock.runExclusive(call, async () => {
      const current = await ports.affix.getClient(call);
      const currentEtag = computeEtag(current, await etagKey());
      if (!ifMatchSatisfied(writeOptions.ifMatch, currentEtag)) {
        throw new ProblemError(
          'precondition-failed',
          'The client changed since you read it: GET it again and retry with the new ETag.',
        );
      }
      const next = await buildUpdate(current);
      const changed = changedFields(current, next);
      if (changed.length === 0) return { client: current, etag: currentEtag, changed };
      const replaced = await ports.affix.replaceClient(next, call);
      return { client: replaced, etag: computeEtag(replaced, await etagKey()), changed };
    });
    return seen(result);
  }

  return {
    async getClient(call) {
      const client = await ports.affix.getClient(call);
      return seen({ client, etag: computeEtag(client, await etagKey()), changed: [] });
    },

    patchClient: (patch, call, writeOptions = {}) =>
      write(call, writeOptions, (current) => mergePatch(current, patch)),

    replaceSecrets: (secrets, call, writeOptions = {}) =>
      write(call, writeOptions, async (current) => {
        // The lock-out guard: the proxy must still be able to authenticate after the change, with the
        // secret SSM holds now. The cache may predate an SSM update (step 2 of a rotation), so the
        // guard always reads SSM: a cached secret could let a caller remove the one SSM already serves.
        const { clientSecret } = await ports.credentials.refresh();
        if (!secrets.includes(clientSecret)) {
          throw new ProblemError(
            'would-lock-out',
            'The new list does not contain the secret this proxy authenticates with. Add the new secret first, update the SSM parameter, then remove the old one.',
          );
        }
        return { ...toUpdate(current), client_secret: [...secrets] };
      }),

    /**
     * Whether a webhook delivery was signed with one of the client's current secrets. Reads only (no
     * write lock): the list comes from Affix's GET through a short per-container cache, read again
     * once when nothing matched (a secret may have just been added), so a delivery signed with the
     * secret being rotated in or the one being rotated out is valid while Affix lists both.
     */
    async verifyWebhook(body, signatureHeader, call) {
      const signature = parseSignatureHeader(signatureHeader);
      if (!signature.ok) {
        throw new ProblemError('signature-mismatch', SIGNATURE_PROBLEM_DETAIL[signature.reason]);
      }
      const cached = await webhookSecrets.get(call);
      let match = matchingSecret(body, signature.digest, cached.secrets);
      if (match === undefined) {
        // When the readers' share of Affix's budget is spent, the refresh is skipped, not charged to writers.
        const fresh = await webhookSecrets.refreshAfterMismatch(call, cached).catch((error: unknown) => {
          if (error instanceof ReadsExhaustedError) return undefined;
          throw error;
        });
        if (fresh !== undefined) match = matchingSecret(body, signature.digest, fresh.secrets);
      }
      if (match === undefined) {
        throw new ProblemError(
          'signature-mismatch',
          'The signature matches none of the client secrets: the body was changed, or it was not signed by Affix for this client.',
        );
      }
      return { valid: true, secret: maskSecret(match) };
    },
  };
}
