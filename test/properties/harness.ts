/**
 * One property run: the real middy chain (`createHandler`), the real use cases, the real Affix HTTP
 * client over the in-memory Affix, the real credentials cache and the real SSM loader over a mocked
 * SDK client. Everything but the Logger and Metrics instances (shared, as in a container) is fresh
 * per run, so runs do not influence each other.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { GetParametersCommand, type GetParametersCommandOutput, type SSMClient } from '@aws-sdk/client-ssm';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { createAffixHttpClient } from '../../functions/core/adapters/affix-http.ts';
import { createHandler } from '../../functions/core/adapters/app.ts';
import { createSsmCredentialsLoader } from '../../functions/core/adapters/ssm-credentials.ts';
import { createCredentialsCache } from '../../functions/core/app/credentials.ts';
import { computeEtag } from '../../functions/core/domain/client-state.ts';
import type { CredentialsProvider, WriteLock } from '../../functions/core/ports.ts';
import { createAffixSandbox, type InProcessAffixSandbox } from '../../local/affix-sandbox.ts';
import {
  CLIENT_ID,
  ETAG_KEY,
  ETAG_KEY_BASE64,
  initialClient,
  parsedClient,
  SECRET_A,
  SECRET_B,
} from '../support/affix-fixtures.ts';
import { createInMemoryWriteLock } from '../support/in-memory-write-lock.ts';
import {
  buildEvent,
  lambdaContextFor,
  plainRequest,
  type Scenario,
  type SsmFault,
  type UpstreamStep,
} from './arbitraries.ts';

export const PARAMETERS = {
  clientIdParameter: '/affix/property/client-id',
  clientSecretParameter: '/affix/property/client-secret',
  etagKeyParameter: '/affix/property/etag-key',
};

export interface Timing {
  attemptTimeoutMs: number;
  upstreamDeadlineMs: number;
  deadlineSafetyMarginMs: number;
}

/** Short, so hangs cost little: a load-induced timeout is a documented 504 like any other. */
export const FAST: Timing = { attemptTimeoutMs: 10, upstreamDeadlineMs: 100, deadlineSafetyMarginMs: 100 };
/** For requests that must succeed, also on a busy machine. */
export const RELAXED: Timing = {
  attemptTimeoutMs: 2_000,
  upstreamDeadlineMs: 5_000,
  deadlineSafetyMarginMs: 100,
};

/** What the in-memory SSM holds and which faults it answers with first. */
export interface SsmState {
  secret: string;
  /** A value handed out once before `secret` (a cache filled before SSM was updated). */
  stale: string | undefined;
  faults: SsmFault[];
  loads: number;
}

function sdkError(name: string): Error {
  return Object.assign(new Error(`${name} (injected)`), { name, $fault: 'client' });
}

/** `GetParameters` as the SDK client answers it, from this run's state (runs share nothing). */
async function getParameters(state: SsmState): Promise<GetParametersCommandOutput> {
  state.loads += 1;
  const fault = state.faults.shift();
  const id = { Name: PARAMETERS.clientIdParameter, Value: CLIENT_ID };
  const secret = (value: string) => ({ Name: PARAMETERS.clientSecretParameter, Value: value });
  const etagKey = { Name: PARAMETERS.etagKeyParameter, Value: ETAG_KEY_BASE64 };
  const metadata = { $metadata: { httpStatusCode: 200 } };
  switch (fault) {
    case undefined:
      break;
    case 'missing-secret':
      return {
        ...metadata,
        Parameters: [id, etagKey],
        InvalidParameters: [PARAMETERS.clientSecretParameter],
      };
    case 'missing-both':
      return { ...metadata, Parameters: [], InvalidParameters: Object.values(PARAMETERS) };
    case 'empty-secret':
      return { ...metadata, Parameters: [id, secret(''), etagKey], InvalidParameters: [] };
    case 'AbortError':
      throw Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' });
    default:
      throw sdkError(fault);
  }
  const value = state.stale ?? state.secret;
  state.stale = undefined;
  return { ...metadata, Parameters: [secret(value), id, etagKey], InvalidParameters: [] };
}

/**
 * A stand-in for the SDK client: the loader only calls `send(GetParametersCommand)`. (The real SDK
 * client against a real endpoint is the fault suite's business; here a run must stay in memory.)
 */
function ssmClientFor(state: SsmState): SSMClient {
  const client = {
    send: (command: unknown) => {
      if (!(command instanceof GetParametersCommand)) throw new Error('unexpected SSM command');
      return getParameters(state);
    },
  };
  return client as unknown as SSMClient;
}

export interface Run {
  upstream: InProcessAffixSandbox;
  ssm: SsmState;
  /** Every secret in play: SSM's, Affix's, and whatever the request or Affix brought in. */
  secrets(): string[];
  invoke(): Promise<APIGatewayProxyResult>;
  /** A plain GET through this run's (warm) container. */
  get(): Promise<APIGatewayProxyResult>;
  /** A plain GET through a new container: empty caches, credentials read from SSM again. */
  coldGet(): Promise<APIGatewayProxyResult>;
}

export interface Instruments {
  logger: Logger;
  metrics: Metrics;
}

function container(
  upstream: InProcessAffixSandbox,
  credentials: CredentialsProvider,
  timing: Timing,
  instruments: Instruments,
  writeLock: WriteLock = createInMemoryWriteLock(),
) {
  const affix = createAffixHttpClient({
    baseUrl: 'https://affix.test',
    credentials,
    attemptTimeoutMs: timing.attemptTimeoutMs,
    maxAttempts: 3,
    fetch: upstream.fetch,
    sleep: async () => undefined,
  });
  return createHandler({
    config: {
      upstreamDeadlineMs: timing.upstreamDeadlineMs,
      deadlineSafetyMarginMs: timing.deadlineSafetyMarginMs,
    },
    ports: { affix, credentials, writeLock },
    ...instruments,
  });
}

function credentialsCache(ssm: SsmState): CredentialsProvider {
  return createCredentialsCache({
    load: createSsmCredentialsLoader({ client: ssmClientFor(ssm), ...PARAMETERS }),
    maxAgeMs: 300_000,
  });
}

/** Queues `steps` for the next requests of `method`, in order. */
export function script(
  upstream: InProcessAffixSandbox,
  method: 'GET' | 'POST',
  steps: readonly UpstreamStep[],
) {
  for (const step of steps) upstream.injectFault(step, { method });
}

let runs = 0;

export function prepareRun(scenario: Scenario, instruments: Instruments, timing: Timing = RELAXED): Run {
  runs += 1;
  const client = initialClient();
  const stale = scenario.ssm.rotation === 'stale-cache';
  // A stale cache: SSM already holds SECRET_B and Affix holds it (step 2 of a rotation when Affix still
  // has both, or a rotation made outside the proxy when it has only the new one).
  const both = scenario.ssm.affixHasBoth;
  client.client_secret = stale
    ? both
      ? [SECRET_A, SECRET_B]
      : [SECRET_B]
    : both
      ? [SECRET_A, SECRET_B]
      : [SECRET_A];
  const upstream = createAffixSandbox({ client });
  script(upstream, 'GET', scenario.upstream.get);
  script(upstream, 'POST', scenario.upstream.post);
  const ssm: SsmState = {
    secret: stale ? SECRET_B : SECRET_A,
    stale: stale ? SECRET_A : undefined,
    faults: [...scenario.ssm.faults],
    loads: 0,
  };
  // The container's state that could be poisoned is its credentials cache (and the module's write
  // queue): the warm GET shares it, with timings that hold on a busy machine.
  const credentials = credentialsCache(ssm);
  // The lock fault concerns this request only; the lease is free again for the next ones.
  const lock = createInMemoryWriteLock();
  lock.mode = scenario.lock;
  const handler = container(upstream, credentials, timing, instruments, lock);
  const warm = container(upstream, credentials, RELAXED, instruments);
  const seen = new Set<string>([SECRET_A, SECRET_B, ...scenario.request.secrets]);
  for (const step of [...scenario.upstream.get, ...scenario.upstream.post]) {
    if (step.kind === 'other-client' && step.extraSecret !== undefined) seen.add(step.extraSecret);
  }
  const plainGet = (id: string) => buildEvent(plainRequest(), '', id);
  return {
    upstream,
    ssm,
    secrets: () => {
      for (const secret of upstream.client.client_secret) seen.add(secret);
      return [...seen];
    },
    invoke: () =>
      handler(
        buildEvent(scenario.request, computeEtag(parsedClient(client), ETAG_KEY), `prop-${runs}`),
        lambdaContextFor(scenario.request.remainingMs),
      ),
    get: () => warm(plainGet(`prop-${runs}-warm`), lambdaContextFor(15_000)),
    coldGet: () =>
      container(
        upstream,
        credentialsCache(ssm),
        RELAXED,
        instruments,
      )(plainGet(`prop-${runs}-cold`), lambdaContextFor(15_000)),
  };
}
