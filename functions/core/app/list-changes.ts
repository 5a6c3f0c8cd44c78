/**
 * The use case of `GET /client/changes`: one page of the change journal, newest first, as the API
 * answers it. Journal items are validated by the adapter; the entry schema cannot tell a masked secret
 * from a raw one, so an entry whose `client_secret` change holds a value that is not masked (`****`
 * and at most four more characters) is left out here and reported by its request id, never served.
 *
 * @example
 * const listChanges = createChangeListing({ journal, onRefused: (id) => logger.warn(...) });
 * const { changes, next_cursor } = await listChanges({ limit: 20 });
 */
import type { ChangeEntry } from '../domain/change-journal.ts';
import { MASK } from '../domain/client-state.ts';
import type { ChangeJournalReader } from '../ports.ts';

/** The 200 body of `GET /client/changes`. */
export interface ChangesAnswer {
  changes: ChangeEntry[];
  next_cursor?: string;
}

export interface ChangeListingOptions {
  journal: ChangeJournalReader;
  /** Told the request id of each entry left out for holding a secret that is not masked. */
  onRefused: (requestId: string) => void;
}

/** What `maskSecret` makes of a secret: the mask and at most its last four characters. */
export function isMaskedSecret(value: string): boolean {
  return value.startsWith(MASK) && [...value.slice(MASK.length)].length <= 4;
}

/** Whether every secret an entry names is masked. */
export function secretsMasked(entry: ChangeEntry): boolean {
  return entry.fields.every(
    (change) =>
      change.field !== 'client_secret' ||
      [...change.before, ...change.after].every((value) => isMaskedSecret(value)),
  );
}

export function createChangeListing(options: ChangeListingOptions) {
  return async (
    query: { limit: number; cursor?: string | undefined },
    signal?: AbortSignal,
  ): Promise<ChangesAnswer> => {
    const page = await options.journal.list(query, signal);
    const changes = page.entries.filter((entry) => {
      if (secretsMasked(entry)) return true;
      options.onRefused(entry.request_id);
      return false;
    });
    return page.nextCursor === undefined ? { changes } : { changes, next_cursor: page.nextCursor };
  };
}
