/**
 * The pause between tries (Affix retries, lease waits): resolves after `ms`, or as soon as `signal`
 * fires (its only rejection, an AbortError, is the early end).
 *
 * @example
 * await abortableSleep(200, call.signal);
 */
import { setTimeout as wait } from 'node:timers/promises';

export const abortableSleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  wait(ms, undefined, { signal }).catch(() => undefined);
