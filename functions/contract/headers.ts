/**
 * Header names that are part of the API's contract with its callers (request and answer), so the
 * function, the client package and the documents spell them once.
 */

/** The header Affix signs webhook deliveries in (hex HMAC-SHA256 of the body); callers forward it. */
export const SIGNATURE_HEADER = 'x-affix-api-signature';
