import { ClientConfigError } from '../../../clients/index.ts';

/** The `ClientConfigError` a call rejects with; anything else (or success) fails the test. */
export async function failure(promise: Promise<unknown>): Promise<ClientConfigError> {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(outcome instanceof ClientConfigError))
    throw new Error(`expected a ClientConfigError, got ${outcome}`);
  return outcome;
}
