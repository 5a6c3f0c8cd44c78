/**
 * `GET /client` through the shared read cache: answers from the cache while it is fresh, otherwise
 * reads Affix once per container at a time (single flight) and refreshes the cache. `Cache-Control:
 * no-cache` always reads Affix. A cache-store failure degrades to reading Affix, never to an error.
 * Writes refresh the cache from the client Affix returned ({@link ClientReads.remember}).
 *
 * @example
 * const reads = createClientReads({ store, maxAgeSeconds: 30 });
 * const read = await reads.read(call, (c) => getClient(ports, c), { noCache: false });
 */

import { toPublicClient } from './masking.ts';
import type { CallContext } from './ports.ts';
import { ageSeconds, type CachedView, cacheHeaders, isFresh, type ReadCacheStore } from './read-cache.ts';
import type { AffixClient, PublicClient } from './schemas.ts';

/** What a read needs of the use case's result. */
export interface ReadResult {
  client: AffixClient;
  etag: string;
}

export interface ClientRead {
  client: PublicClient;
  etag: string;
  /** Caching headers of the answer (`Cache-Control`, `Age`); empty when the cache is off. */
  headers: Record<string, string>;
  /** The full client when Affix was read (webhook verification in this container primes on it). */
  affixClient?: AffixClient;
}

export interface ClientReads {
  read(
    call: CallContext,
    load: (call: CallContext) => Promise<ReadResult>,
    options: { noCache: boolean },
  ): Promise<ClientRead>;
  /** Refreshes the cache from a client Affix returned (a write's result), read at `readAtMs`. */
  remember(result: ReadResult, readAtMs: number): Promise<void>;
}

export interface ClientReadsOptions {
  store: ReadCacheStore;
  /** `CLIENT_CACHE_MAX_AGE_SECONDS`; 0 turns the cache off. */
  maxAgeSeconds: number;
  now?: () => number;
  onStoreFailure?: (operation: 'read' | 'write', error: unknown) => void;
}

/** Without a store: every read is an Affix read, answered `no-store` as before the cache. */
export const UNCACHED_READS: ClientReads = {
  async read(call, load) {
    const result = await load(call);
    return {
      client: toPublicClient(result.client),
      etag: result.etag,
      headers: {},
      affixClient: result.client,
    };
  },
  async remember() {},
};

export function createClientReads(options: ClientReadsOptions): ClientReads {
  if (options.maxAgeSeconds <= 0) return UNCACHED_READS;
  const now = options.now ?? Date.now;
  const maxAgeMs = options.maxAgeSeconds * 1_000;
  // One Affix read at a time per container; concurrent misses wait for it.
  let inFlight: Promise<{ result: ReadResult; readAtMs: number }> | undefined;

  async function store(view: CachedView): Promise<void> {
    try {
      await options.store.put(view);
    } catch (error) {
      options.onStoreFailure?.('write', error);
    }
  }

  const viewOf = (result: ReadResult, readAtMs: number): CachedView => ({
    client: toPublicClient(result.client),
    etag: result.etag,
    readAtMs,
  });

  async function cached(): Promise<CachedView | undefined> {
    try {
      const view = await options.store.get();
      return view !== undefined && isFresh(view, maxAgeMs, now()) ? view : undefined;
    } catch (error) {
      options.onStoreFailure?.('read', error);
      return undefined;
    }
  }

  async function readAffix(call: CallContext, load: (call: CallContext) => Promise<ReadResult>) {
    const readAtMs = now();
    const result = await load(call);
    await store(viewOf(result, readAtMs));
    return { result, readAtMs };
  }

  return {
    async read(call, load, { noCache }) {
      if (!noCache) {
        const view = await cached();
        if (call.budget !== undefined) call.budget.cacheHit = view !== undefined;
        if (view !== undefined) {
          if (call.budget !== undefined) call.budget.answeredFrom = 'cache';
          return { ...view, headers: cacheHeaders(options.maxAgeSeconds, ageSeconds(view.readAtMs, now())) };
        }
      } else if (call.budget !== undefined) call.budget.cacheHit = false;
      let shared: Promise<{ result: ReadResult; readAtMs: number }>;
      if (noCache || inFlight === undefined) {
        shared = readAffix(call, load);
        if (!noCache) {
          inFlight = shared;
          shared
            .then(
              () => undefined,
              () => undefined,
            )
            .finally(() => {
              if (inFlight === shared) inFlight = undefined;
            });
        }
      } else shared = inFlight;
      const { result, readAtMs } = await shared;
      // Also when this request joined another's read: the answer came from Affix just now.
      if (call.budget !== undefined) call.budget.answeredFrom = 'affix';
      return {
        client: toPublicClient(result.client),
        etag: result.etag,
        headers: cacheHeaders(options.maxAgeSeconds, ageSeconds(readAtMs, now())),
        affixClient: result.client,
      };
    },
    remember: (result, readAtMs) => store(viewOf(result, readAtMs)),
  };
}
