/**
 * `GET /client` over the shared view: answers from the view while it is fresh, otherwise reads Affix
 * once per container at a time (single flight); that read, like every Affix exchange, refreshes the
 * view (`shared-state.ts`). `Cache-Control: no-cache` always asks Affix. When the readers' share of
 * Affix's budget is spent, the view answers anyway, with its real `Age` and `Affix-Budget:
 * reads-exhausted`, instead of spending the writers' share.
 *
 * @example
 * const reads = createClientReads({ state: keeper.state, maxAgeSeconds: 30 });
 * const read = await reads.read(call, (c) => useCases.getClient(c), { noCache: false });
 */
import { BUDGET_HEADER, READS_EXHAUSTED } from '../../contract/headers.ts';
import { toPublicClient } from '../domain/client-state.ts';
import { ageSeconds, cacheHeaders, isFresh } from '../domain/read-cache.ts';
import type { AffixClient, PublicClient } from '../domain/schemas.ts';
import type { SharedState } from '../domain/state-item.ts';
import type { CallContext } from '../ports.ts';
import { ReadsExhaustedError } from './shared-state.ts';

/** What a read needs of the use case's result. */
export interface ReadResult {
  client: AffixClient;
  etag: string;
}

export interface ClientRead {
  client: PublicClient;
  etag: string;
  /** Caching headers of the answer (`Cache-Control`, `Age`, `Affix-Budget`); empty when the cache is off. */
  headers: Record<string, string>;
}

export interface ClientReads {
  read(
    call: CallContext,
    load: (call: CallContext) => Promise<ReadResult>,
    options: { noCache: boolean },
  ): Promise<ClientRead>;
}

export interface ClientReadsOptions {
  /** The call's view of the shared state (read once per call). */
  state: (call: CallContext) => Promise<SharedState>;
  /** `CLIENT_CACHE_MAX_AGE_SECONDS`; 0: every GET asks Affix (while the readers' share lasts). */
  maxAgeSeconds: number;
  now?: () => number;
}

/** Without shared state: every read is an Affix read, answered without caching headers. */
export const UNCACHED_READS: ClientReads = {
  async read(call, load) {
    const result = await load(call);
    return { client: toPublicClient(result.client), etag: result.etag, headers: {} };
  },
};

export function createClientReads(options: ClientReadsOptions): ClientReads {
  const now = options.now ?? Date.now;
  const maxAgeMs = options.maxAgeSeconds * 1_000;
  const headersOf = (age: number) =>
    options.maxAgeSeconds > 0 ? cacheHeaders(options.maxAgeSeconds, age) : {};
  // One Affix read at a time per container; concurrent misses wait for it.
  let inFlight: Promise<ReadResult> | undefined;

  function shared(call: CallContext, load: (call: CallContext) => Promise<ReadResult>, noCache: boolean) {
    if (noCache) return load(call);
    if (inFlight !== undefined) return inFlight;
    const started = load(call);
    inFlight = started;
    started
      .then(
        () => undefined,
        () => undefined,
      )
      .finally(() => {
        if (inFlight === started) inFlight = undefined;
      });
    return started;
  }

  return {
    async read(call, load, { noCache }) {
      const { view } = await options.state(call);
      if (!noCache && view !== undefined && isFresh(view, maxAgeMs, now())) {
        if (call.budget !== undefined) {
          call.budget.cacheHit = true;
          call.budget.answeredFrom = 'cache';
        }
        return { client: view.client, etag: view.etag, headers: headersOf(ageSeconds(view.readAtMs, now())) };
      }
      if (call.budget !== undefined && options.maxAgeSeconds > 0) call.budget.cacheHit = false;
      let result: ReadResult;
      try {
        result = await shared(call, load, noCache);
      } catch (error) {
        if (!(error instanceof ReadsExhaustedError) || view === undefined) throw error;
        if (call.budget !== undefined) call.budget.answeredFrom = 'cache';
        // Stale maybe, and said so: its real age, and no caching by the caller.
        return {
          client: view.client,
          etag: view.etag,
          headers: { age: String(ageSeconds(view.readAtMs, now())), [BUDGET_HEADER]: READS_EXHAUSTED },
        };
      }
      // Also when this request joined another's read: the answer came from Affix just now.
      if (call.budget !== undefined) call.budget.answeredFrom = 'affix';
      return { client: toPublicClient(result.client), etag: result.etag, headers: headersOf(0) };
    },
  };
}
