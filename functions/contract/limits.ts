/**
 * The numbers the API promises its callers (body limits, nesting, error lists), defined once: the
 * function enforces them, and the problem catalogue's "when" texts, the OpenAPI document and the
 * README quote them.
 *
 * Pure data: no AWS or Node imports.
 */

/** The body limit of the JSON routes: their bodies are a few hundred bytes. */
export const DEFAULT_MAX_BODY_BYTES = 16 * 1024;

/**
 * Webhook deliveries are employee lists and can be large; Affix documents no size. 5 MiB keeps the
 * event under Lambda's 6 MB synchronous payload limit when the body arrives as UTF-8 text.
 */
export const WEBHOOK_MAX_BODY_BYTES = 5 * 1024 * 1024;

/** Far above any body of ours (2 levels), far below what a recursive reader could choke on. */
export const MAX_JSON_DEPTH = 32;

/** A problem lists at most this many field errors; `detail` says how many there were in all. */
export const MAX_FIELD_ERRORS = 20;

/** Each pointer and detail is cut to this many code points (a key may be as long as the body). */
export const MAX_ERROR_TEXT_LENGTH = 200;

/** The largest Affix answer body we read; a bigger one is `upstream-bad-response`. */
export const MAX_UPSTREAM_BODY_BYTES = 1024 * 1024;

/** Affix's words are withheld when a run of this many characters matches a secret (upstream-text.ts). */
export const SECRET_RUN_LENGTH = 6;

/** How long `POST /webhooks/verify` trusts its cached list of the client's secrets. */
export const WEBHOOK_SECRETS_MAX_AGE_SECONDS = 60;

/** `n` bytes as the README says it: `16 KiB`, `5 MiB`. */
export function formatBytes(n: number): string {
  if (n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}
