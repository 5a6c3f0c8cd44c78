/**
 * The three use cases. They take their ports (Affix, credentials, the write lock) as arguments, so
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
import { ProblemError } from './problems.ts';
import type { AffixClient, AffixClientUpdate, PatchClientRequest } from './schemas.ts';
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
