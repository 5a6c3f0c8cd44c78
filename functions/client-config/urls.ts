/** The URL rule lives in the contract (shared with the caller client and the stage files). */
export * from '../contract/urls.ts';
