/**
 * Stopping `npm start`: one Ctrl-C, however many copies of it npm and tsx relay, stops gracefully and
 * exits 0; a later second signal exits at once; the stack file is removed on every path.
 */
import { describe, expect, it } from 'vitest';
import { GRACEFUL_STOP_MS, SIGNAL_RELAY_WINDOW_MS, stopOnSignal } from '../../../local/shutdown.ts';

function harness(close: () => Promise<unknown> = () => Promise.resolve()) {
  let clock = 0;
  const timers: { run: () => void; ms: number }[] = [];
  const calls: string[] = [];
  const stop = stopOnSignal({
    close: () => {
      calls.push('close');
      return close();
    },
    closeNow: () => calls.push('closeNow'),
    exit: (code) => calls.push(`exit ${code}`),
    write: (text) => calls.push(text.trim()),
    now: () => clock,
    setTimer: (run, ms) => {
      timers.push({ run, ms });
      return { unref: () => undefined };
    },
  });
  return {
    stop,
    calls,
    timers,
    advance: (ms: number) => {
      clock += ms;
    },
  };
}

/** Lets the close promise's continuation run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('stopOnSignal', () => {
  it('one signal closes everything and exits 0', async () => {
    const { stop, calls } = harness();
    stop('SIGTERM');
    await settle();
    expect(calls).toEqual(['SIGTERM: shutting down', 'close', 'exit 0']);
  });

  it('copies of one Ctrl-C arriving within the relay window are one press: a graceful stop, exit 0', async () => {
    let finish: () => void = () => undefined;
    const { stop, calls, advance } = harness(() => new Promise<void>((resolve) => (finish = resolve)));
    stop('SIGINT');
    advance(30);
    stop('SIGINT');
    advance(SIGNAL_RELAY_WINDOW_MS - 31);
    stop('SIGINT');
    finish();
    await settle();
    expect(calls).toEqual(['SIGINT: shutting down', 'close', 'exit 0']);
  });

  it('a second signal after the relay window exits at once, removing the stack file first', () => {
    const { stop, calls, advance } = harness(() => new Promise<void>(() => undefined));
    stop('SIGINT');
    advance(SIGNAL_RELAY_WINDOW_MS);
    stop('SIGINT');
    expect(calls).toEqual([
      'SIGINT: shutting down',
      'close',
      'SIGINT again: exiting now',
      'closeNow',
      'exit 1',
    ]);
  });

  it('a graceful stop that hangs exits 1 after its limit, removing the stack file', () => {
    const { stop, calls, timers } = harness(() => new Promise<void>(() => undefined));
    stop('SIGTERM');
    expect(timers.map((timer) => timer.ms)).toEqual([GRACEFUL_STOP_MS]);
    timers[0]?.run();
    expect(calls).toEqual(['SIGTERM: shutting down', 'close', 'closeNow', 'exit 1']);
  });

  it('a failed close still removes the stack file and exits 1', async () => {
    const { stop, calls } = harness(() => Promise.reject(new Error('close failed')));
    stop('SIGTERM');
    await settle();
    expect(calls).toEqual(['SIGTERM: shutting down', 'close', 'closeNow', 'exit 1']);
  });
});
