/**
 * What one request learns about how it spent (or saved) Affix's rate budget: filled by the read cache
 * and the shared back-off, read by the telemetry middleware for the metrics and the audit line.
 */

/** Where an answer came from: the shared cache, the shared back-off (no Affix call), or Affix. */
export type AnsweredFrom = 'cache' | 'backoff' | 'affix';

export interface BudgetNotes {
  answeredFrom?: AnsweredFrom;
  /** Set for `GET /client` while the cache is on: whether the shared cache answered. */
  cacheHit?: boolean;
  /** The readers' share of Affix's budget was spent: the answer came from the view, or was refused. */
  readsExhausted?: boolean;
}
