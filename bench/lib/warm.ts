/**
 * The warm figures: the bundled handler runs in a fresh child process per measurement group (so its
 * module-level caches start cold), against the Affix sandbox and the SSM endpoint that this process
 * runs on 127.0.0.1. Request counts are read from the stand-ins between the child's commands; DynamoDB
 * requests are counted by a relay that only the traffic child goes through.
 */
import { randomBytes } from 'node:crypto';
import { connect, createServer, type Socket } from 'node:net';
import { SANDBOX_DEFAULTS, startAffixSandbox } from '../../local/affix-sandbox.ts';
import { startLocalDynamoDb } from '../../local/dynamodb.ts';
import {
  DEFAULT_CLIENT_ID_PARAMETER,
  DEFAULT_CLIENT_SECRET_PARAMETER,
  DEFAULT_ETAG_KEY_PARAMETER,
  localHandlerEnv,
} from '../../local/handler-env.ts';
import { startSsmEndpoint } from '../../local/ssm-endpoint.ts';
import { type HandlerChild, startChild } from './child.ts';
import { countsBetween, type OperationCounts, startDynamoDbCounter, totalOf } from './dynamodb-counter.ts';
import type { InvokeRoute, MemorySnapshot, OverheadRoute, StatusCounts } from './protocol.ts';

export class WarmRunError extends Error {
  override readonly name = 'WarmRunError';
}

export interface StandIns {
  /**
   * The child's whole environment: the handler's variables wired to the stand-ins. With `countConnections`,
   * Affix is reached through a TCP relay that counts the connections opened to it; with `countDynamoDb`,
   * DynamoDB through an HTTP relay that counts requests per operation.
   */
  env(
    extra: Record<string, string>,
    options?: { countConnections?: boolean; countDynamoDb?: boolean },
  ): Record<string, string>;
  /** Requests each stand-in has received so far, and connections opened through the relay. */
  counts(): {
    ssm: number;
    affix: number;
    /** The same requests by method. */
    affixGet: number;
    affixPost: number;
    affixUnauthorized: number;
    affixConnections: number;
    /** Requests per operation through the DynamoDB relay (the traffic child's only). */
    dynamodb: OperationCounts;
  };
  /** Puts the sandbox's client back to its defaults and forgets logged requests. */
  reset(): void;
  close(): Promise<void>;
}

export async function startStandIns(): Promise<StandIns> {
  const sandbox = await startAffixSandbox({ port: 0 });
  const ssm = await startSsmEndpoint({
    port: 0,
    parameters: {
      [DEFAULT_CLIENT_ID_PARAMETER]: { value: SANDBOX_DEFAULTS.clientId, type: 'String' },
      [DEFAULT_CLIENT_SECRET_PARAMETER]: { value: SANDBOX_DEFAULTS.clientSecret[0], type: 'SecureString' },
      [DEFAULT_ETAG_KEY_PARAMETER]: { value: randomBytes(32).toString('base64'), type: 'SecureString' },
    },
  });
  const dynamodb = await startLocalDynamoDb({ port: 0 });
  const relay = await startConnectionCounter(sandbox.port);
  const dynamodbCounter = await startDynamoDbCounter(dynamodb.url);
  const handlerEnv = localHandlerEnv({
    affixBaseUrl: sandbox.url,
    ssmUrl: ssm.url,
    dynamodbUrl: dynamodb.url,
    stateTableName: dynamodb.tableName,
  });
  const initialClient = sandbox.client;
  return {
    env: (extra, options = {}) => ({
      PATH: process.env.PATH ?? '',
      ...handlerEnv,
      // The bench's sandbox enforces no rate limits, so neither does the proxy's shared budget.
      AFFIX_REQUESTS_PER_5_MINUTES: '1000000',
      ...(options.countConnections ? { AFFIX_BASE_URL: relay.url } : {}),
      ...(options.countDynamoDb ? { AWS_ENDPOINT_URL_DYNAMODB: dynamodbCounter.url } : {}),
      ...extra,
    }),
    counts: () => ({
      ssm: ssm.requestCount,
      affix: sandbox.requests.length,
      affixGet: sandbox.requests.filter((request) => request.method === 'GET').length,
      affixPost: sandbox.requests.filter((request) => request.method === 'POST').length,
      affixUnauthorized: sandbox.requests.filter((request) => !request.authorized).length,
      affixConnections: relay.connections,
      dynamodb: dynamodbCounter.snapshot(),
    }),
    reset() {
      sandbox.setClient(initialClient);
      sandbox.resetRequests();
      ssm.resetRequests();
    },
    async close() {
      await Promise.all([
        sandbox.close(),
        ssm.close(),
        dynamodb.close(),
        relay.close(),
        dynamodbCounter.close(),
      ]);
    },
  };
}

/** A loopback TCP relay to `port` that counts the connections made through it (keep-alive reuse). */
async function startConnectionCounter(
  port: number,
): Promise<{ url: string; readonly connections: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server = createServer((client) => {
    connections += 1;
    const upstream = connect(port, '127.0.0.1');
    track(client);
    track(upstream);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new WarmRunError('the relay has no port');
  return {
    url: `http://127.0.0.1:${address.port}`,
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface ChildSetup {
  standIns: StandIns;
  driver: string;
  /** `file:` URL of the handler bundle. */
  bundleUrl: string;
  /** `file:` URL of the bench-only bundle with a no-op write lock (`bench/fixtures/no-lock-handler.ts`). */
  withoutLockBundleUrl: string;
  /** `NODE_OPTIONS` of the Lambda function (source maps). */
  nodeOptions: string;
}

function assertAllOk(statuses: StatusCounts, what: string): void {
  const bad = Object.entries(statuses).filter(([status]) => status !== '200');
  if (bad.length > 0) {
    throw new WarmRunError(`${what}: expected only 200 answers, got ${JSON.stringify(statuses)}`);
  }
}

async function withChild<T>(
  setup: ChildSetup,
  options: {
    exposeGc: boolean;
    countConnections: boolean;
    countDynamoDb?: boolean;
    withoutLock?: boolean;
    env?: Record<string, string>;
  },
  work: (child: HandlerChild) => Promise<T>,
): Promise<T> {
  setup.standIns.reset();
  const child = startChild({
    driver: setup.driver,
    env: setup.standIns.env(
      { NODE_OPTIONS: setup.nodeOptions, ...options.env },
      { countConnections: options.countConnections, countDynamoDb: options.countDynamoDb ?? false },
    ),
    exposeGc: options.exposeGc,
  });
  try {
    const before = setup.standIns.counts();
    await child.run({ op: 'load', module: setup.bundleUrl }, 15_000);
    if (options.withoutLock) {
      await child.run({ op: 'load', module: setup.withoutLockBundleUrl, slot: 'withoutLock' }, 15_000);
    }
    const after = setup.standIns.counts();
    if (
      after.ssm !== before.ssm ||
      after.affix !== before.affix ||
      totalOf(countsBetween(before.dynamodb, after.dynamodb)) !== 0
    ) {
      throw new WarmRunError('importing the handler made network requests; cold init must not');
    }
    return await work(child);
  } finally {
    await child.stop();
  }
}

/** Runs `count` invocations and returns how many SSM and Affix requests they made. */
async function countedInvoke(
  setup: ChildSetup,
  child: HandlerChild,
  routes: InvokeRoute[],
  count: number,
  parallel: boolean,
  timeoutMs: number,
): Promise<{ ssm: number; affix: number }> {
  const before = setup.standIns.counts();
  const reply = await child.run({ op: 'invoke', routes, count, parallel }, timeoutMs);
  const after = setup.standIns.counts();
  assertAllOk(reply.statuses, `${count} × ${routes.join('/')}`);
  if (after.affixUnauthorized !== before.affixUnauthorized) {
    throw new WarmRunError('the handler sent Affix requests with wrong credentials');
  }
  return { ssm: after.ssm - before.ssm, affix: after.affix - before.affix };
}

export interface LatencySamples {
  handlerMs: number[];
  floorMs: number[];
}

/** Changing PATCHes with the lease, without it (bench-only entry) and the direct-fetch floor, in triplets. */
export interface LockCostSamples {
  lockedMs: number[];
  unlockedMs: number[];
  floorMs: number[];
}

export interface WarmPlan {
  /** Serial invocations over which SSM requests are counted (the first one included). */
  warmInvocations: number;
  /** Invocations per route for the Affix request counts. */
  trafficInvocations: number;
  overhead: Record<OverheadRoute, { warmup: number; iterations: number; budgetMs: number }>;
  lockCost: { warmup: number; iterations: number; budgetMs: number };
}

export interface WarmRun {
  ssmOverWarmInvocations: number;
  affixPerGet: number;
  affixPerPatch: number;
  affixPerNoopPatch: number;
  latency: Record<OverheadRoute, LatencySamples>;
  lockCost: LockCostSamples;
}

export async function measureWarmRun(setup: ChildSetup, plan: WarmPlan): Promise<WarmRun> {
  const options = { exposeGc: false, countConnections: false, withoutLock: true };
  return withChild(setup, options, async (child) => {
    const warm = await countedInvoke(setup, child, ['GET'], plan.warmInvocations, false, 60_000);
    const n = plan.trafficInvocations;
    const patch = await countedInvoke(setup, child, ['PATCH'], n, false, 30_000);
    // The first no-op PATCH may still change the name; the counted ones find it already set.
    await countedInvoke(setup, child, ['PATCH-noop'], 1, false, 10_000);
    const noop = await countedInvoke(setup, child, ['PATCH-noop'], n, false, 30_000);
    const latency = {} as Record<OverheadRoute, LatencySamples>;
    for (const route of ['GET', 'PATCH'] as const) {
      const step = plan.overhead[route];
      const reply = await child.run({ op: 'overhead', route, ...step }, step.budgetMs + 30_000);
      assertAllOk(reply.statuses, `overhead ${route}`);
      assertAllOk(reply.floorStatuses, `floor ${route}`);
      latency[route] = { handlerMs: reply.handlerMs, floorMs: reply.floorMs };
    }
    // After the counted traffic: the bundle without the lock reads SSM at its first invocation.
    const step = plan.lockCost;
    const reply = await child.run({ op: 'lockCost', ...step }, step.budgetMs + 30_000);
    assertAllOk(reply.statuses, 'lock cost, with the lease');
    assertAllOk(reply.unlockedStatuses, 'lock cost, without the lease');
    assertAllOk(reply.floorStatuses, 'lock cost, floor');
    return {
      ssmOverWarmInvocations: warm.ssm,
      affixPerGet: warm.affix / plan.warmInvocations,
      affixPerPatch: patch.affix / n,
      affixPerNoopPatch: noop.affix / n,
      latency,
      lockCost: { lockedMs: reply.lockedMs, unlockedMs: reply.unlockedMs, floorMs: reply.floorMs },
    };
  });
}

/** DynamoDB requests per invocation of each route, and per operation for a changing PATCH. */
export interface DynamoDbTrafficRun {
  perPatch: number;
  perNoopPatch: number;
  perGet: number;
  patchOperations: OperationCounts;
}

/**
 * `count` invocations per route in a child whose DynamoDB traffic goes through the counting relay
 * (never the child the latency is measured in). Requests per operation are divided per invocation.
 */
export async function measureDynamoDbTraffic(setup: ChildSetup, count: number): Promise<DynamoDbTrafficRun> {
  const options = { exposeGc: false, countConnections: false, countDynamoDb: true };
  return withChild(setup, options, async (child) => {
    const during = async (routes: InvokeRoute[], n: number): Promise<OperationCounts> => {
      const before = setup.standIns.counts().dynamodb;
      await countedInvoke(setup, child, routes, n, false, 30_000);
      return countsBetween(before, setup.standIns.counts().dynamodb);
    };
    const get = await during(['GET'], count);
    // The first PATCH of an environment may find last-seen moved by the previous child: not counted.
    await during(['PATCH'], 1);
    const patch = await during(['PATCH'], count);
    await during(['PATCH-noop'], 1);
    const noop = await during(['PATCH-noop'], count);
    const perInvocation = (counts: OperationCounts) =>
      Object.fromEntries(Object.entries(counts).map(([operation, n]) => [operation, n / count]));
    return {
      perPatch: totalOf(patch) / count,
      perNoopPatch: totalOf(noop) / count,
      perGet: totalOf(get) / count,
      patchOperations: perInvocation(patch),
    };
  });
}

export interface BudgetPlan {
  /** The read cache's window the child runs with (`CLIENT_CACHE_MAX_AGE_SECONDS`, the default 30). */
  cacheWindowSeconds: number;
  /** Serial invocations of the mix, and the mix's repeating pattern. */
  mixedInvocations: number;
  mixedPattern: InvokeRoute[];
  cacheHit: { warmup: number; iterations: number; budgetMs: number };
}

/** One environment's Affix requests over a mix of reads and changing writes, split by who made them. */
export interface MixedRun {
  invocations: number;
  gets: number;
  changingPatches: number;
  elapsedMs: number;
  affixGet: number;
  affixPost: number;
  /** Every changing PATCH is one Affix GET and one POST; the GETs left over are the reads'. */
  readRequests: number;
  writeRequests: number;
  /** Cache windows the mix overlapped: cache misses are at least one window apart. */
  windows: number;
}

export interface BudgetRun {
  mixed: MixedRun;
  cacheHit: LatencySamples;
}

/**
 * Affix's budget as one environment spends it: a mix of GETs and changing PATCHes from a cold cache
 * (the item deleted first, as a new table would be), then cache-hit GETs paired with the bare
 * `GetItem` of the cache item on the same dynalite.
 */
export async function measureBudget(setup: ChildSetup, plan: BudgetPlan): Promise<BudgetRun> {
  const env = { CLIENT_CACHE_MAX_AGE_SECONDS: String(plan.cacheWindowSeconds) };
  return withChild(setup, { exposeGc: false, countConnections: false, env }, async (child) => {
    await child.run({ op: 'dropCache' }, 10_000);
    const before = setup.standIns.counts();
    const reply = await child.run(
      { op: 'invoke', routes: plan.mixedPattern, count: plan.mixedInvocations, parallel: false },
      60_000,
    );
    const after = setup.standIns.counts();
    assertAllOk(reply.statuses, 'mixed requests');
    const routeAt = (i: number) => plan.mixedPattern[i % plan.mixedPattern.length];
    const indices = Array.from({ length: plan.mixedInvocations }, (_, i) => i);
    const gets = indices.filter((i) => routeAt(i) === 'GET').length;
    const changingPatches = indices.filter((i) => routeAt(i) === 'PATCH-new').length;
    const affixGet = after.affixGet - before.affixGet;
    const affixPost = after.affixPost - before.affixPost;
    const mixed: MixedRun = {
      invocations: plan.mixedInvocations,
      gets,
      changingPatches,
      elapsedMs: reply.elapsedMs,
      affixGet,
      affixPost,
      readRequests: affixGet - changingPatches,
      writeRequests: affixPost + changingPatches,
      windows: Math.floor(reply.elapsedMs / (plan.cacheWindowSeconds * 1_000)) + 1,
    };
    const step = plan.cacheHit;
    const affixBefore = setup.standIns.counts().affix;
    const hits = await child.run({ op: 'cacheHit', ...step }, step.budgetMs + 30_000);
    assertAllOk(hits.statuses, 'cache hits');
    assertAllOk(hits.floorStatuses, 'cache item reads');
    // A pair whose GET missed would time an Affix read: allow one miss per window the pairs overlapped.
    const misses = setup.standIns.counts().affix - affixBefore;
    if (misses > Math.ceil(step.budgetMs / (plan.cacheWindowSeconds * 1_000)) + 1) {
      throw new WarmRunError(`cache hits: ${misses} Affix reads, so these were not cache hits`);
    }
    return { mixed, cacheHit: { handlerMs: hits.handlerMs, floorMs: hits.floorMs } };
  });
}

export interface BurstRun {
  ssm: number;
  affix: number;
}

/**
 * `size` concurrent first invocations of a fresh process with the read cache off: the credentials
 * must be fetched once.
 */
export async function measureBurst(setup: ChildSetup, size: number): Promise<BurstRun> {
  // With the read cache on, the GETs could be answered without credentials: off, every one needs them.
  const options = { exposeGc: false, countConnections: false, env: { CLIENT_CACHE_MAX_AGE_SECONDS: '0' } };
  return withChild(setup, options, (child) => countedInvoke(setup, child, ['GET'], size, true, 30_000));
}

export interface MemoryRun {
  afterWarmup: MemorySnapshot;
  afterInvocations: MemorySnapshot;
  invocations: number;
  elapsedMs: number;
  /** TCP connections the child opened to Affix over all its serial invocations. */
  affixConnections: number;
}

/**
 * Memory after `warmup` invocations, then after `invocations` more (GET and PATCH alternating). Affix is
 * reached through the counting relay here, which shows whether connections are kept alive and reused.
 */
export async function measureMemory(
  setup: ChildSetup,
  warmup: number,
  invocations: number,
): Promise<MemoryRun> {
  const connectionsBefore = setup.standIns.counts().affixConnections;
  return withChild(setup, { exposeGc: true, countConnections: true }, async (child) => {
    const routes: InvokeRoute[] = ['GET', 'PATCH'];
    const warm = await child.run({ op: 'invoke', routes, count: warmup, parallel: false }, 60_000);
    assertAllOk(warm.statuses, 'memory warm-up');
    const afterWarmup = await child.run({ op: 'memory' }, 10_000);
    const load = await child.run({ op: 'invoke', routes, count: invocations, parallel: false }, 120_000);
    assertAllOk(load.statuses, 'memory invocations');
    const afterInvocations = await child.run({ op: 'memory' }, 10_000);
    const strip = ({ id: _id, op: _op, ...snapshot }: typeof afterWarmup): MemorySnapshot => snapshot;
    return {
      afterWarmup: strip(afterWarmup),
      afterInvocations: strip(afterInvocations),
      invocations,
      elapsedMs: load.elapsedMs,
      affixConnections: setup.standIns.counts().affixConnections - connectionsBefore,
    };
  });
}
