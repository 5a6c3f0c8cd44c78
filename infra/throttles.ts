/**
 * API Gateway throttles derived from Affix's rate budget: pure arithmetic, no CDK.
 *
 * Affix allows 40 requests every 5 minutes per `client_id` per endpoint (and 40 a minute per IP,
 * which the first limit always undercuts). Our whole proxy is one `client_id` on one endpoint
 * (`/management/client`), so every container, the rotation job and every method share one budget.
 * What each proxy request costs at Affix:
 *
 * - `GET /client`: 0 on a shared-cache hit, 1 on a miss; misses happen at most once per cache
 *   age (`CLIENT_CACHE_MAX_AGE_SECONDS`) whatever the request rate. With the cache off it costs 1.
 * - `PATCH /client`, `PUT /client/secrets`: 2 each (a fresh GET and the POST that replaces the client).
 * - `POST /webhooks/verify`: 0 or 1, the secret list being cached 60 s in each container.
 *
 * API Gateway's throttle is a token bucket: a method with rate `r` (requests/s) and burst `b` lets
 * at most `b + r * W` requests through in any window of `W` seconds. So the budget is split into
 * reserves for what the rate does not drive (cache refills, the rotation job), and the rest into
 * write allowances, each turned into a (burst, rate) pair whose worst-case window fits it. The
 * stage-wide throttle applies to each method separately (API Gateway applies stage limits per
 * method), so the write methods get their own, lower, method throttles. infra/README.md
 * "Throttles from Affix's budget" shows the numbers for each stage.
 *
 * @example
 * const plan = deriveThrottles({ budget: AFFIX_BUDGET, clientCacheMaxAgeSeconds: 30,
 *   rotationEnabled: true, stageThrottle: { rateLimit: 20, burstLimit: 40 } });
 * plan.methods.replaceSecrets; // { rateLimit: 0.0033, burstLimit: 1 }
 */
import type { OperationId } from '../functions/contract/routes.ts';

/** A number of Affix requests allowed per window of seconds. */
export interface AffixBudget {
  readonly requests: number;
  readonly windowSeconds: number;
}

/** Affix's documented limit for gated endpoints, per `client_id` (openapi.yaml "Rate limits"). */
export const AFFIX_BUDGET: AffixBudget = { requests: 40, windowSeconds: 300 };

/** The budget alarm fires within 20% of the budget; the throttles alone stay below that line. */
export const BUDGET_ALARM_SHARE = 0.8;

/** Affix requests of one changing write: a fresh GET for the merge, then the POST. */
export const WRITE_COST = 2;

/** How long a container keeps the secret list `POST /webhooks/verify` checks against. */
export const VERIFY_SECRETS_CACHE_SECONDS = 60;

/** Affix requests one rotation run may make in a window (two read-then-replace steps). */
export const ROTATION_RESERVE = 4;

/** Affix requests `GET /client` may spend per window when the shared cache is off. */
export const UNCACHED_READ_ALLOWANCE = 10;

/** The decimals a derived rate keeps (rounded down, never up: the budget must hold). */
const RATE_DECIMALS = 4;

export interface Throttle {
  /** Steady-state requests per second (API Gateway accepts a fraction). */
  readonly rateLimit: number;
  /** Bucket size: requests let through at once (an integer). */
  readonly burstLimit: number;
}

export interface ThrottleInputs {
  readonly budget: AffixBudget;
  /** `CLIENT_CACHE_MAX_AGE_SECONDS`; 0 turns the shared read cache off. */
  readonly clientCacheMaxAgeSeconds: number;
  /** Whether the scheduled rotation job spends budget too. */
  readonly rotationEnabled: boolean;
  /** The stage's own throttle (Lambda and cost protection), a ceiling for every method. */
  readonly stageThrottle: Throttle;
}

/** Affix requests per window, by what spends them. */
export interface BudgetSplit {
  /** The most the throttles let the proxy spend: {@link BUDGET_ALARM_SHARE} of the budget. */
  readonly usable: number;
  /** Shared read-cache refills (one per cache age, plus one for a window that straddles two). */
  readonly readRefills: number;
  /** `GET /client`'s own allowance, only when the cache is off (then its rate decides). */
  readonly uncachedReads: number;
  /** Secret-list refills of `POST /webhooks/verify` in one container. */
  readonly verifyRefills: number;
  readonly rotation: number;
  /** What is left for writes, in Affix requests. */
  readonly writes: number;
  /** Writes per window: `PUT /client/secrets` and `PATCH /client`. */
  readonly putSecretsWrites: number;
  readonly patchWrites: number;
}

export interface ThrottlePlan {
  /** The stage-wide default, applied to each method that has no throttle of its own. */
  readonly stage: Throttle;
  /** One throttle per route, by its operation id. */
  readonly methods: Readonly<Record<OperationId, Throttle>>;
  readonly split: BudgetSplit;
}

export class ThrottleBudgetError extends Error {
  override readonly name = 'ThrottleBudgetError';
}

/** Refills of a cache of `ageSeconds` in a window: one per age, one more for the straddle. */
function refills(windowSeconds: number, ageSeconds: number): number {
  return Math.ceil(windowSeconds / ageSeconds) + 1;
}

function floorTo(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  return Math.floor(value * factor) / factor;
}

/**
 * The token bucket that lets at most `requests` through in any window: burst `b`, then the rest
 * spread over the window (`b + r * W <= requests`), capped by the stage's own throttle.
 */
export function bucketFor(requests: number, windowSeconds: number, ceiling: Throttle): Throttle {
  if (requests < 2) {
    // A bucket that never refills (rate 0) is a lock-down, not a throttle.
    throw new ThrottleBudgetError(`a method needs at least 2 requests per window, got ${requests}`);
  }
  const burstLimit = Math.min(ceiling.burstLimit, Math.max(1, Math.floor(requests / 3)));
  const rateLimit = Math.min(
    ceiling.rateLimit,
    floorTo((requests - burstLimit) / windowSeconds, RATE_DECIMALS),
  );
  return { rateLimit, burstLimit };
}

/** The most requests a bucket lets through in a window: the full burst, then the refill. */
export function worstCaseRequests(throttle: Throttle, windowSeconds: number): number {
  // Rounded to 6 decimals: 0.0133 * 300 must not count as a sliver over 3.99.
  return Math.round((throttle.burstLimit + throttle.rateLimit * windowSeconds) * 1e6) / 1e6;
}

/**
 * The stage and per-method throttles that keep the proxy's Affix requests within
 * {@link BUDGET_ALARM_SHARE} of the budget in any window.
 *
 * @throws ThrottleBudgetError when the reserves leave too little for writes (fewer than 2
 *   `PUT /client/secrets` and 3 `PATCH /client` per window), naming the numbers
 */
export function deriveThrottles(inputs: ThrottleInputs): ThrottlePlan {
  const { budget, clientCacheMaxAgeSeconds, rotationEnabled, stageThrottle } = inputs;
  const window = budget.windowSeconds;
  const usable = Math.floor(budget.requests * BUDGET_ALARM_SHARE);
  const cached = clientCacheMaxAgeSeconds > 0;
  const readRefills = cached ? refills(window, clientCacheMaxAgeSeconds) : 0;
  const uncachedReads = cached ? 0 : UNCACHED_READ_ALLOWANCE;
  const verifyRefills = refills(window, VERIFY_SECRETS_CACHE_SECONDS);
  const rotation = rotationEnabled ? ROTATION_RESERVE : 0;
  const writes = usable - readRefills - uncachedReads - verifyRefills - rotation;
  const writeCount = Math.floor(writes / WRITE_COST);
  // Secret changes are rare and dangerous: the fewest a working bucket allows (burst 1, then one
  // more per window); every other write is a PATCH.
  const putSecretsWrites = 2;
  const patchWrites = writeCount - putSecretsWrites;
  if (patchWrites < 3) {
    throw new ThrottleBudgetError(
      `Affix's budget of ${budget.requests} requests per ${window} s leaves ${writes} for writes ` +
        `(${usable} usable - ${readRefills + uncachedReads} reads - ${verifyRefills} verify - ${rotation} rotation), ` +
        `fewer than ${(putSecretsWrites + 3) * WRITE_COST}: raise clientCacheMaxAgeSeconds or affixBudget.requests`,
    );
  }
  const write = bucketFor(patchWrites, window, stageThrottle);
  const putSecrets = bucketFor(putSecretsWrites, window, stageThrottle);
  const read = cached ? stageThrottle : bucketFor(uncachedReads, window, stageThrottle);
  return {
    stage: stageThrottle,
    methods: {
      getClient: read,
      updateClient: write,
      replaceSecrets: putSecrets,
      // Bounded by its per-container secret cache, not by its rate.
      verifyWebhook: stageThrottle,
      // One DynamoDB query, no Affix request.
      listChanges: stageThrottle,
    },
    split: {
      usable,
      readRefills,
      uncachedReads,
      verifyRefills,
      rotation,
      writes,
      putSecretsWrites,
      patchWrites,
    },
  };
}

/**
 * The Affix requests a plan may spend in one window at worst (every write changing, every cache
 * refilled, verify in one container), which must stay within `usable`.
 */
export function worstCaseAffixRequests(plan: ThrottlePlan, windowSeconds: number): number {
  const { split, methods } = plan;
  const reads =
    split.uncachedReads > 0 ? worstCaseRequests(methods.getClient, windowSeconds) : split.readRefills;
  const writes =
    worstCaseRequests(methods.updateClient, windowSeconds) +
    worstCaseRequests(methods.replaceSecrets, windowSeconds);
  return reads + split.verifyRefills + split.rotation + writes * WRITE_COST;
}
