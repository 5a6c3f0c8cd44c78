/**
 * The sandbox's delays, in-process and on fake timers: an answer under `latencyMs` or a `delay`
 * fault is held exactly that long, then given normally. (The sandbox over HTTP: test/local.)
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  basicAuthHeader,
  CLIENT_PATH,
  createAffixSandbox,
  type InProcessAffixSandbox,
  SANDBOX_DEFAULTS,
} from '../../../local/affix-sandbox.ts';

const AUTH = basicAuthHeader(SANDBOX_DEFAULTS.clientId, SANDBOX_DEFAULTS.clientSecret[0]);

afterEach(() => {
  vi.useRealTimers();
});

/** Starts a GET and says whether it has been answered yet, as fake time moves on. */
function track(sandbox: InProcessAffixSandbox): { answered: () => Response | undefined } {
  let response: Response | undefined;
  void sandbox.fetch(`https://affix.test${CLIENT_PATH}`, { headers: { authorization: AUTH } }).then((res) => {
    response = res;
  });
  return { answered: () => response };
}

describe('affix sandbox delays (fake timers)', () => {
  it('latencyMs holds every answer exactly that long', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const sandbox = createAffixSandbox({ latencyMs: 120 });
    const call = track(sandbox);
    await vi.advanceTimersByTimeAsync(119);
    expect(call.answered()).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(call.answered()?.status).toBe(200);
  });

  it('a delay fault holds the next answer that long, then answers normally', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const sandbox = createAffixSandbox();
    sandbox.injectFault({ kind: 'delay', ms: 150 });
    const call = track(sandbox);
    await vi.advanceTimersByTimeAsync(149);
    expect(call.answered()).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    const res = call.answered();
    expect(res?.status).toBe(200);
    expect(await res?.json()).toMatchObject({ client_id: SANDBOX_DEFAULTS.clientId });
  });
});
