/**
 * The one Affix fake: an in-memory stand-in for the Affix management API
 * (`GET`/`POST /2023-03-01/management/client`) following the Affix OpenAPI spec, usable in-process as
 * a `fetch` (`createAffixSandbox`) or over HTTP (`startAffixSandbox`, or `listen` on an in-process one).
 * By job, in `affix-sandbox/`: `state.ts` (the client, auth, validation), `faults.ts` (scripted
 * misbehaviour), `rate-limiter.ts` (Affix's limits), `core.ts` (request -> answer, the in-process
 * `fetch`, `/_sandbox/stats` and `/_sandbox/faults`), `http.ts` (the server). It also delivers signed
 * webhooks to a loopback `webhook_uri` on `POST /_sandbox/webhooks` (see `webhook-delivery.ts`).
 *
 * @example
 * ```ts
 * const sandbox = await startAffixSandbox({ port: 0 });
 * sandbox.injectFault({ kind: 'status', status: 503 }, { method: 'POST' });
 * // ... point the proxy at sandbox.url ...
 * await sandbox.close();
 *
 * const inProcess = createAffixSandbox();
 * const res = await inProcess.fetch(`https://affix.test${CLIENT_PATH}`, { headers: { authorization } });
 * ```
 */
import {
  type AffixSandboxOptions,
  createAffixSandbox,
  type InProcessAffixSandbox,
} from './affix-sandbox/core.ts';
import { parseIntegerVariable } from './env-integer.ts';
import { WEBHOOK_DELIVERY_PATH } from './webhook-delivery.ts';

export {
  type AffixSandboxOptions,
  createAffixSandbox,
  FAULTS_PATH,
  type InjectFaultOptions,
  type InProcessAffixSandbox,
  type SandboxRequest,
  type SandboxStats,
  STATS_PATH,
} from './affix-sandbox/core.ts';
export { type EchoPart, type SandboxFault, SandboxNetworkError } from './affix-sandbox/faults.ts';
export {
  AFFIX_RATE_LIMITS,
  createRateLimiter,
  type RateLimit,
  type RateLimitsConfig,
} from './affix-sandbox/rate-limiter.ts';
export {
  type AffixClientState,
  basicAuthHeader,
  CLIENT_PATH,
  defaultSandboxClient,
  pickExtraFields,
  SANDBOX_DEFAULTS,
  validateClientRequest,
} from './affix-sandbox/state.ts';
export { WEBHOOK_DELIVERY_PATH };

/** An in-process sandbox that also listens on 127.0.0.1. */
export interface AffixSandbox extends InProcessAffixSandbox {
  /** e.g. `http://127.0.0.1:54321` (no trailing slash). */
  readonly url: string;
  readonly port: number;
  /** Stops listening, destroys every open socket (also hanging ones) and ends every hang. */
  close(): Promise<void>;
}

/** The largest `AFFIX_SANDBOX_LATENCY_MS` accepted (API Gateway gives up after 29 s anyway). */
export const MAX_SANDBOX_LATENCY_MS = 10_000;

/** Parses `AFFIX_SANDBOX_LATENCY_MS`: an integer number of milliseconds, default 0 (the one integer rule). */
export function parseSandboxLatency(raw: string | undefined, name = 'AFFIX_SANDBOX_LATENCY_MS'): number {
  return parseIntegerVariable(name, raw, 0, 0, MAX_SANDBOX_LATENCY_MS);
}

/** Parses `AFFIX_SANDBOX_RATE_LIMITS`: `on` (default, Affix's documented limits) or `off`. */
export function parseSandboxRateLimits(raw: string | undefined, name = 'AFFIX_SANDBOX_RATE_LIMITS'): boolean {
  if (raw === undefined || raw === '' || raw === 'on') return true;
  if (raw === 'off') return false;
  throw new Error(`${name} must be "on" or "off", got ${JSON.stringify(raw)}`);
}

/** Starts an in-process sandbox listening on `options.port` (default 0: any free port). */
export async function startAffixSandbox(
  options: AffixSandboxOptions & { port?: number } = {},
): Promise<AffixSandbox> {
  const { port, ...rest } = options;
  const sandbox = createAffixSandbox(rest);
  const listening = await sandbox.listen(port);
  // Spread would copy the getters' values once; a prototype keeps them live.
  return Object.assign(Object.create(sandbox) as InProcessAffixSandbox, {
    url: listening.url,
    port: listening.port,
  }) as AffixSandbox;
}
