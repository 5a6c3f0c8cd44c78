/**
 * Names shared by the infrastructure and the handler's contract: the service, its metrics, the
 * function entry point and the time budget of one invocation.
 *
 * The handler reads these through its environment (see {@link functionEnvironment} in
 * `webhook-config-stack.ts`); the alarms watch the metrics it emits under these names.
 */
import { fileURLToPath } from 'node:url';
import { Duration } from 'aws-cdk-lib';
import type { ProblemSlug } from '../functions/contract/problems.ts';
import {
  EXECUTED_VERSION_DIMENSION,
  METRIC,
  METRICS_NAMESPACE,
  SERVICE_NAME,
} from '../functions/contract/telemetry.ts';

export { EXECUTED_VERSION_DIMENSION, METRIC, METRICS_NAMESPACE, SERVICE_NAME };

/** Count metric emitted once per request, with the extra dimension `outcome`. */
export const REQUEST_OUTCOME_METRIC = METRIC.requestOutcome;

/** The `outcome` the handler reports when Affix rejects our client credentials. */
export const UPSTREAM_AUTH_FAILED_OUTCOME = 'upstream-auth-failed' satisfies ProblemSlug;

/** Repository root, from this file's location (so nothing depends on the working directory). */
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The Lambda handler module (`export const handler`). */
export const CLIENT_CONFIG_ENTRY = fileURLToPath(
  new URL('../functions/client-config/handler.ts', import.meta.url),
);

/** The lock file NodejsFunction uses to find the project root and hash dependencies. */
export const DEPS_LOCK_FILE = fileURLToPath(new URL('../package-lock.json', import.meta.url));

/**
 * API Gateway REST integrations time out after 29 s, so a function behind one must finish sooner;
 * we keep a second of headroom for the gateway itself.
 */
export const API_GATEWAY_INTEGRATION_LIMIT = Duration.seconds(28);

/**
 * Lambda timeout of the client-config function. Above the handler's own upstream deadline
 * (`UPSTREAM_DEADLINE_MS`, 10 s by default) so the handler can still answer with a problem
 * document when Affix is slow, and below {@link API_GATEWAY_INTEGRATION_LIMIT}.
 */
export const CLIENT_CONFIG_TIMEOUT = Duration.seconds(15);

/** The `outcome` the handler reports when Affix rate-limits us. */
export const UPSTREAM_RATE_LIMITED_OUTCOME = 'upstream-rate-limited' satisfies ProblemSlug;

/** Latency metrics the handler emits (dimensions `service`, `stage`). */
export const UPSTREAM_LATENCY_METRIC = METRIC.upstreamLatency;
export const WRITE_LOCK_WAIT_METRIC = METRIC.writeLockWait;

/** The synthetic caller's handler module. */
export const SYNTHETIC_CALLER_ENTRY = fileURLToPath(
  new URL('../functions/synthetic-caller/handler.ts', import.meta.url),
);

/** The synthetic caller's own timeout for `GET /client`, and its Lambda timeout above it. */
export const SYNTHETIC_CLIENT_TIMEOUT = Duration.seconds(10);
export const SYNTHETIC_CALLER_TIMEOUT = Duration.seconds(15);
