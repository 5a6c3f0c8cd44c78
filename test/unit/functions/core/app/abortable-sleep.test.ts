/**
 * The pause between tries: it ends when its time is up or as soon as the signal fires, and an abort is
 * an early end, never a rejection. No test waits on the clock: a long pause is ended by its signal.
 */
import { describe, expect, it } from 'vitest';
import { abortableSleep } from '../../../../../functions/core/app/abortable-sleep.ts';

/** Whether `promise` has settled after the event loop has turned a few times. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  for (let turn = 0; turn < 5; turn += 1) await new Promise((resolve) => setImmediate(resolve));
  return done;
}

describe('abortableSleep', () => {
  it('waits while its time is not up, and resolves (not rejects) as soon as the signal fires', async () => {
    const controller = new AbortController();
    const pause = abortableSleep(3_600_000, controller.signal);
    expect(await settled(pause)).toBe(false);
    controller.abort();
    await expect(pause).resolves.toBeUndefined();
  });

  it('ends at once when the signal has already fired', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(abortableSleep(3_600_000, controller.signal)).resolves.toBeUndefined();
  });

  it('ends by itself when its time is up, with or without a signal', async () => {
    await expect(abortableSleep(0)).resolves.toBeUndefined();
    await expect(abortableSleep(1, new AbortController().signal)).resolves.toBeUndefined();
  });
});
