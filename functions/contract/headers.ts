/**
 * Header names that are part of the API's contract with its callers (request and answer), so the
 * function, the client package and the documents spell them once.
 */

/** The header Affix signs webhook deliveries in (hex HMAC-SHA256 of the body); callers forward it. */
export const SIGNATURE_HEADER = 'x-affix-api-signature';

/**
 * Set on a `GET /client` answered from the shared view because the readers' share of Affix's rate
 * budget is spent (the value is {@link READS_EXHAUSTED}); `Age` then says how old the view is.
 */
export const BUDGET_HEADER = 'affix-budget';
export const READS_EXHAUSTED = 'reads-exhausted';
