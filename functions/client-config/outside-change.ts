/**
 * Outside changes: a change to the client that no write through the proxy explains (Affix's dashboard,
 * Affix support, a leaked secret) is a security event, since `webhook_uri` decides where employee data
 * goes. Every Affix read is compared with the last state the proxy wrote or saw, kept per field as an
 * HMAC digest (keyed with a key derived from the ETag key), so the table holds no value and no secret.
 *
 * A write through the proxy is never reported: inside the write lease it records the state it is about
 * to send (pending) before the POST, and the state Affix returned (plus the one it replaced) after.
 *
 * @example
 * const affix = withOutsideChangeWatch(http, { store, credentials, report: (fields) => warn(fields) });
 */
import { createHmac } from 'node:crypto';
import { toUpdate } from './client-state.ts';
import type { EtagKey } from './etag-key.ts';
import { canonicalJson } from './exact-json.ts';
import type { AffixPort, CallContext, CredentialsProvider } from './ports.ts';
import type { AffixClientUpdate } from './schemas.ts';

/** `sk` of the last-seen item, beside the write lease (`pk` = `affix-client`). */
export const LAST_SEEN_SK = 'last-seen';

/** The fields compared; `unmodelled` stands for every field the proxy does not model, together. */
export const WATCHED_FIELDS = [
  'name',
  'webhook_uri',
  'redirect_uris',
  'client_secret',
  'unmodelled',
] as const;
export type WatchedField = (typeof WATCHED_FIELDS)[number];
export type FieldDigests = Record<WatchedField, string>;

/** The shared item. */
export interface LastSeen {
  /** The last state the proxy wrote or saw. */
  fields: FieldDigests;
  /** Incremented on every change of `fields`: a reader's update is conditional on it. */
  version: number;
  /** The state a write in progress is about to send. */
  pending?: FieldDigests | undefined;
  /** The state the last write replaced, and when that write's result was recorded (epoch ms). */
  replaced?: FieldDigests | undefined;
  changedAtMs?: number | undefined;
}

/** The port. */
export interface LastSeenStore {
  get(): Promise<LastSeen | undefined>;
  /** A reader's record: `expectedVersion` undefined creates the item. False when the condition failed. */
  putObserved(fields: FieldDigests, expectedVersion: number | undefined): Promise<boolean>;
  /** The writer (holding the lease) before its POST. */
  putPending(fields: FieldDigests): Promise<void>;
  /** The writer after its POST: the new state, the one it replaced, and drops `pending`. */
  putWritten(fields: FieldDigests, replaced: FieldDigests | undefined, atMs: number): Promise<void>;
  /** The writer after a failed POST. */
  clearPending(): Promise<void>;
}

const DIGEST_CONTEXT = 'affix-webhook-config last-seen v1';

/** A key of its own for the digests, derived from the ETag key (digests and ETags never share a MAC). */
function digestKey(etagKey: EtagKey): Buffer {
  return createHmac('sha256', etagKey).update(DIGEST_CONTEXT).digest();
}

/** Per field: an HMAC-SHA256 of the field's name and canonical value (base64url, 128 bits). */
export function fieldDigests(client: AffixClientUpdate, etagKey: EtagKey): FieldDigests {
  const key = digestKey(etagKey);
  const values: Record<WatchedField, unknown> = {
    name: client.name,
    webhook_uri: client.webhook_uri ?? null,
    redirect_uris: client.redirect_uris,
    client_secret: client.client_secret,
    unmodelled: client.extra,
  };
  const digests = {} as FieldDigests;
  for (const field of WATCHED_FIELDS) {
    digests[field] = createHmac('sha256', key)
      .update(canonicalJson([field, values[field]]))
      .digest('base64url')
      .slice(0, 22);
  }
  return digests;
}

/** The fields whose digests differ (a field missing on one side differs). */
export function differingFields(a: FieldDigests, b: FieldDigests): WatchedField[] {
  return WATCHED_FIELDS.filter((field) => a[field] !== b[field]);
}

export type ReadVerdict =
  /** No item yet: record, report nothing. */
  | { kind: 'first' }
  /** What the proxy last wrote or saw. */
  | { kind: 'same' }
  /** The state a write in progress is sending: ours. */
  | { kind: 'pending-write' }
  /** The state the last write replaced, read by a request that started before that write was recorded. */
  | { kind: 'stale-read' }
  | { kind: 'outside'; fields: WatchedField[] };

/** How a read that began at `readStartedAtMs` and found `observed` compares with the last-seen item. */
export function judgeRead(
  seen: LastSeen | undefined,
  observed: FieldDigests,
  readStartedAtMs: number,
): ReadVerdict {
  if (seen === undefined) return { kind: 'first' };
  const fields = differingFields(seen.fields, observed);
  if (fields.length === 0) return { kind: 'same' };
  if (seen.pending !== undefined && differingFields(seen.pending, observed).length === 0) {
    return { kind: 'pending-write' };
  }
  if (
    seen.replaced !== undefined &&
    seen.changedAtMs !== undefined &&
    readStartedAtMs <= seen.changedAtMs &&
    differingFields(seen.replaced, observed).length === 0
  ) {
    return { kind: 'stale-read' };
  }
  return { kind: 'outside', fields };
}

export interface OutsideChangeWatchOptions {
  store: LastSeenStore;
  credentials: Pick<CredentialsProvider, 'get'>;
  /** Told once per outside change, with the changed fields' names (never values). */
  report: (fields: WatchedField[]) => void;
  /** Wall clock (epoch ms): instants are compared across containers. */
  now?: () => number;
  /** A failed store call: logged by the caller; the request goes on unaffected. */
  onStoreFailure?: (operation: string, error: unknown) => void;
}

/**
 * Wraps the Affix port: every read is judged against the last-seen item, every write records its
 * pending and its result. Only the container whose conditional update succeeds reports a change, so a
 * change is reported once even when several containers read it at the same moment.
 */
export function withOutsideChangeWatch(affix: AffixPort, options: OutsideChangeWatchOptions): AffixPort {
  const now = options.now ?? Date.now;
  // What each call last read here: the state a write of that call replaces.
  const readIn = new WeakMap<CallContext, FieldDigests>();
  const failed = (operation: string) => (error: unknown) => options.onStoreFailure?.(operation, error);

  async function digestsOf(client: AffixClientUpdate): Promise<FieldDigests> {
    return fieldDigests(client, (await options.credentials.get()).etagKey);
  }

  async function observe(observed: FieldDigests, readStartedAtMs: number): Promise<void> {
    const seen = await options.store.get();
    const verdict = judgeRead(seen, observed, readStartedAtMs);
    if (verdict.kind === 'first') {
      await options.store.putObserved(observed, undefined);
    } else if (verdict.kind === 'outside' && seen !== undefined) {
      // After reporting, this state is the last seen: the next read is quiet.
      if (await options.store.putObserved(observed, seen.version)) options.report(verdict.fields);
    }
  }

  return {
    async getClient(context) {
      const startedAt = now();
      const client = await affix.getClient(context);
      try {
        const observed = await digestsOf(toUpdate(client));
        readIn.set(context, observed);
        await observe(observed, startedAt);
      } catch (error) {
        failed('observe')(error);
      }
      return client;
    },
    async replaceClient(update, context) {
      let intended: FieldDigests | undefined;
      try {
        intended = await digestsOf(update);
        await options.store.putPending(intended);
      } catch (error) {
        // Without the pending record a reader racing this POST may report it: a false alarm, logged.
        failed('pending')(error);
      }
      let result: Awaited<ReturnType<AffixPort['replaceClient']>>;
      try {
        result = await affix.replaceClient(update, context);
      } catch (error) {
        if (intended !== undefined) await options.store.clearPending().catch(failed('clear-pending'));
        throw error;
      }
      try {
        const written = await digestsOf(toUpdate(result));
        await options.store.putWritten(written, readIn.get(context), now());
      } catch (error) {
        failed('written')(error);
      }
      return result;
    },
  };
}
