/**
 * `npm run bench`: the performance benchmark. Loopback only, about five minutes, never part of
 * `npm test`. Prints markdown tables (progress goes to stderr) and writes `bench/results.json`.
 *
 * 1. Bundle: our handler and a baseline (an SSM client and one `GetParameters`) bundled with the
 *    options of `infra/bundling.ts`, the very ones the Lambda construct uses; also the bench-only
 *    entry without the write lock, and a second baseline with a DynamoDB client beside the SSM one.
 * 2. Cold init: fresh `node` processes import each bundle, round-robin, with the function's
 *    `NODE_OPTIONS`.
 * 3. Warm: per run, fresh child processes invoke the bundled handler in-process against the Affix
 *    sandbox and the SSM endpoint on 127.0.0.1: latency against a direct-fetch floor, SSM and Affix
 *    request counts, a burst of concurrent first invocations, and memory over 10,000 invocations;
 *    what the write lock costs per changing PATCH (with the lease against the same PATCH through the
 *    no-lock entry, in the same child, interleaved), and DynamoDB requests per invocation.
 *
 * 4. CPU cost: the request body's nesting check and the judgement of Affix's error words on their
 *    worst-case inputs, in a child process of their own, as ratios to `JSON.parse` of the same bytes
 *    and as growth over a fourfold input.
 *
 * Environment: `BENCH_RUNS` (default 3) and `BENCH_COLD_SAMPLES` (default 15).
 */
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SOURCE_MAP_NODE_OPTIONS } from '../infra/bundling.ts';
import { parseIntegerVariable } from '../local/env-integer.ts';
import { localHandlerEnv } from '../local/handler-env.ts';
import { bundleHandler } from './lib/bundles.ts';
import { buildDriver } from './lib/child.ts';
import { type ColdInitSample, measureColdInit } from './lib/cold-init.ts';
import { measureCpuCost } from './lib/cpu-cost-run.ts';
import type { OverheadRoute } from './lib/protocol.ts';
import { buildRows, type Measured, renderReport } from './lib/report.ts';
import {
  addedContributors,
  budgetResult,
  type ColdInitVariant,
  coldInitVariant,
  contributorRows,
  countResult,
  dynamoDbTraffic,
  lockCost,
  memoryResult,
  type Results,
  routeLatency,
} from './lib/results.ts';
import { median, round } from './lib/stats.ts';
import {
  type BudgetPlan,
  type BudgetRun,
  type BurstRun,
  type ChildSetup,
  type DynamoDbTrafficRun,
  type MemoryRun,
  measureBudget,
  measureBurst,
  measureDynamoDbTraffic,
  measureMemory,
  measureWarmRun,
  startStandIns,
  type WarmRun,
} from './lib/warm.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const WORK = join(ROOT, 'bench', '.work');
const RESULTS_FILE = join(ROOT, 'bench', 'results.json');
const HANDLER_ENTRY = 'functions/client-config/handler.ts';
const BASELINE_ENTRY = 'bench/fixtures/baseline-handler.ts';
const BASELINE_DYNAMODB_ENTRY = 'bench/fixtures/baseline-dynamodb-handler.ts';
/** The real entry's wiring with a no-op write lock: bench only, never deployed. */
const WITHOUT_LOCK_ENTRY = 'bench/fixtures/no-lock-handler.ts';
/**
 * Stops a run that would break the seven-minute promise instead of letting it drag on. A warm run
 * (latency, lock cost, traffic, burst, budget, then 13,000 memory invocations) takes 80-95 s on the
 * shared two-core machine: a full run of three takes about five minutes there.
 */
const HARD_LIMIT_MS = 420_000;

function intFromEnv(name: string, fallback: number, min: number, max: number): number {
  return parseIntegerVariable(name, process.env[name], fallback, min, max);
}

const RUNS = intFromEnv('BENCH_RUNS', 3, 1, 10);
const COLD_SAMPLES = intFromEnv('BENCH_COLD_SAMPLES', 15, 3, 100);
const WARM_INVOCATIONS = 1_000;
const TRAFFIC_INVOCATIONS = 20;
const OVERHEAD: Record<OverheadRoute, { warmup: number; iterations: number; budgetMs: number }> = {
  GET: { warmup: 300, iterations: 3_000, budgetMs: 15_000 },
  PATCH: { warmup: 150, iterations: 1_500, budgetMs: 15_000 },
};
/** Triplets of changing PATCHes: with the lease, without it, direct fetch. */
const LOCK_COST = { warmup: 100, iterations: 1_000, budgetMs: 15_000 };
const BURST_SIZE = 100;
/** The CPU-cost child takes 10-30 s on the shared machine; past this it is killed and its targets missed. */
const CPU_COST_TIME_LIMIT_MS = 120_000;
/** JIT code and feedback settle within about 3,000 invocations; growth after that is what could leak. */
const MEMORY_WARMUP = 3_000;
const MEMORY_INVOCATIONS = 10_000;
/**
 * The rate budget's figures: 1,000 serial invocations, 99 GETs then one changing PATCH (990 + 10), in
 * one environment from a cold cache, with the default 30 s read cache; then cache-hit GETs paired with
 * the bare read of the cache item.
 */
const BUDGET: BudgetPlan = {
  cacheWindowSeconds: 30,
  mixedInvocations: 1_000,
  mixedPattern: [...Array.from({ length: 99 }, () => 'GET' as const), 'PATCH-new'],
  cacheHit: { warmup: 200, iterations: 2_000, budgetMs: 10_000 },
};

const startedAt = performance.now();
const progress = (message: string) =>
  process.stderr.write(`bench [${((performance.now() - startedAt) / 1000).toFixed(1)} s] ${message}\n`);

function gitState(): Results['git'] {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const changes = execFileSync(
      'git',
      ['status', '--porcelain', '--', 'functions', 'infra', 'package.json', 'package-lock.json'],
      { cwd: ROOT, encoding: 'utf8' },
    );
    return { commit, dirty: changes.trim() !== '' };
  } catch {
    return { commit: null, dirty: null };
  }
}

async function measureBundles() {
  const ours = await bundleHandler(HANDLER_ENTRY, join(WORK, 'ours'));
  const again = await bundleHandler(HANDLER_ENTRY, join(WORK, 'ours-again'));
  const baseline = await bundleHandler(BASELINE_ENTRY, join(WORK, 'baseline'));
  const baselineDynamoDb = await bundleHandler(BASELINE_DYNAMODB_ENTRY, join(WORK, 'baseline-dynamodb'));
  const withoutLock = await bundleHandler(WITHOUT_LOCK_ENTRY, join(WORK, 'without-lock'));
  const deterministic = (await readFile(ours.file)).equals(await readFile(again.file));
  const empty = join(WORK, 'empty', 'index.mjs');
  await mkdir(join(WORK, 'empty'), { recursive: true });
  await writeFile(empty, '');
  const result: Results['bundle'] = {
    deterministic,
    ours: { rawBytes: ours.rawBytes, gzipBytes: ours.gzipBytes },
    baseline: { rawBytes: baseline.rawBytes, gzipBytes: baseline.gzipBytes },
    addedRawBytes: ours.rawBytes - baseline.rawBytes,
    addedGzipBytes: ours.gzipBytes - baseline.gzipBytes,
    topContributors: contributorRows(ours.contributors, baseline.contributors, ours.rawBytes, 5),
    topAdded: addedContributors(ours.contributors, baseline.contributors, 5),
    withoutLock: { rawBytes: withoutLock.rawBytes, gzipBytes: withoutLock.gzipBytes },
    lockAddedRawBytes: ours.rawBytes - withoutLock.rawBytes,
    lockAddedGzipBytes: ours.gzipBytes - withoutLock.gzipBytes,
    lockAdded: addedContributors(ours.contributors, withoutLock.contributors, 5),
    baselineDynamoDb: { rawBytes: baselineDynamoDb.rawBytes, gzipBytes: baselineDynamoDb.gzipBytes },
    addedOverBaselineDynamoDbRawBytes: ours.rawBytes - baselineDynamoDb.rawBytes,
    addedOverBaselineDynamoDbGzipBytes: ours.gzipBytes - baselineDynamoDb.gzipBytes,
  };
  const files = {
    ours: ours.file,
    baseline: baseline.file,
    baselineDynamoDb: baselineDynamoDb.file,
    withoutLock: withoutLock.file,
    empty,
  };
  return { result, files };
}

type BundleFiles = Awaited<ReturnType<typeof measureBundles>>['files'];

async function measureColdInits(files: BundleFiles) {
  // The handler parses its configuration at load; nothing listens on port 9, and nothing may call it.
  const env = {
    PATH: process.env.PATH ?? '',
    ...localHandlerEnv({
      affixBaseUrl: 'http://127.0.0.1:9',
      ssmUrl: 'http://127.0.0.1:9',
      dynamodbUrl: 'http://127.0.0.1:9',
      stateTableName: 'bench-cold-init',
    }),
  };
  const deployed = { ...env, NODE_OPTIONS: SOURCE_MAP_NODE_OPTIONS };
  const variants: { name: ColdInitVariant; module: string; env: Record<string, string>; handler: boolean }[] =
    [
      { name: 'empty', module: files.empty, env: deployed, handler: false },
      { name: 'baseline', module: files.baseline, env: deployed, handler: true },
      { name: 'baselineDynamoDb', module: files.baselineDynamoDb, env: deployed, handler: true },
      { name: 'ours', module: files.ours, env: deployed, handler: true },
      { name: 'withoutLock', module: files.withoutLock, env: deployed, handler: true },
      { name: 'oursWithoutSourceMaps', module: files.ours, env, handler: true },
    ];
  const samples = new Map<ColdInitVariant, ColdInitSample[]>(variants.map((variant) => [variant.name, []]));
  // Round-robin, rotating the order each round; round 0 only warms the file cache and is dropped.
  for (let round = 0; round <= COLD_SAMPLES; round += 1) {
    for (let i = 0; i < variants.length; i += 1) {
      const variant = variants[(round + i) % variants.length] as (typeof variants)[number];
      const sample = await measureColdInit({
        module: variant.module,
        env: variant.env,
        ...(variant.handler ? { requireExport: 'handler' } : {}),
        timeoutMs: 15_000,
      });
      if (round > 0) samples.get(variant.name)?.push(sample);
    }
  }
  const result = Object.fromEntries(
    variants.map((variant) => [variant.name, coldInitVariant(samples.get(variant.name) ?? [])]),
  ) as Results['coldInit']['variants'];
  const importRatio =
    median((samples.get('ours') ?? []).map((sample) => sample.importMs)) /
    median((samples.get('baseline') ?? []).map((sample) => sample.importMs));
  return {
    nodeOptions: SOURCE_MAP_NODE_OPTIONS,
    samplesPerVariant: COLD_SAMPLES,
    variants: result,
    importRatio: round(importRatio, 3),
  } satisfies Results['coldInit'];
}

async function measureWarm(files: BundleFiles) {
  const driver = await buildDriver(join(WORK, 'driver'));
  const standIns = await startStandIns();
  const setup: ChildSetup = {
    standIns,
    driver,
    bundleUrl: pathToFileURL(files.ours).href,
    withoutLockBundleUrl: pathToFileURL(files.withoutLock).href,
    nodeOptions: SOURCE_MAP_NODE_OPTIONS,
  };
  const warmRuns: WarmRun[] = [];
  const bursts: BurstRun[] = [];
  const memories: MemoryRun[] = [];
  const dynamoDbRuns: DynamoDbTrafficRun[] = [];
  const budgetRuns: BudgetRun[] = [];
  try {
    for (let run = 1; run <= RUNS; run += 1) {
      warmRuns.push(
        await measureWarmRun(setup, {
          warmInvocations: WARM_INVOCATIONS,
          trafficInvocations: TRAFFIC_INVOCATIONS,
          overhead: OVERHEAD,
          lockCost: LOCK_COST,
        }),
      );
      bursts.push(await measureBurst(setup, BURST_SIZE));
      dynamoDbRuns.push(await measureDynamoDbTraffic(setup, TRAFFIC_INVOCATIONS));
      budgetRuns.push(await measureBudget(setup, BUDGET));
      progress(`warm run ${run}/${RUNS}: latency, lock cost, traffic, burst, budget`);
      memories.push(await measureMemory(setup, MEMORY_WARMUP, MEMORY_INVOCATIONS));
      progress(`warm run ${run}/${RUNS}: memory`);
    }
  } finally {
    await standIns.close();
  }
  return {
    warm: {
      GET: routeLatency(warmRuns.map((run) => run.latency.GET)),
      PATCH: routeLatency(warmRuns.map((run) => run.latency.PATCH)),
    },
    ssm: {
      overWarmInvocations: countResult(warmRuns.map((run) => run.ssmOverWarmInvocations)),
      burst: countResult(bursts.map((burst) => burst.ssm)),
    },
    upstream: {
      perPatch: countResult(warmRuns.map((run) => run.affixPerPatch)),
      perNoopPatch: countResult(warmRuns.map((run) => run.affixPerNoopPatch)),
      perGet: countResult(warmRuns.map((run) => run.affixPerGet)),
    },
    lockCost: lockCost(warmRuns.map((run) => run.lockCost)),
    dynamodb: dynamoDbTraffic(dynamoDbRuns),
    memory: memoryResult(MEMORY_WARMUP, MEMORY_INVOCATIONS, memories),
    budget: budgetResult(budgetRuns),
  } satisfies Pick<Results, 'warm' | 'ssm' | 'upstream' | 'lockCost' | 'dynamodb' | 'memory' | 'budget'>;
}

async function main(): Promise<void> {
  if (!process.version.startsWith('v22.')) {
    throw new Error(
      `the function runs on Node 22 but this is ${process.version}: use \`npm run bench\`, which runs the pinned node devDependency`,
    );
  }
  process.chdir(ROOT);
  const generatedAt = new Date().toISOString();
  const loadAverageAtStart = loadavg().map((value) => round(value, 2));
  await mkdir(WORK, { recursive: true });

  const bundles = await measureBundles();
  progress('bundles built');
  const cpuCost = await measureCpuCost(join(WORK, 'cpu-cost'), CPU_COST_TIME_LIMIT_MS);
  // Shown now as well as in the report: a run that fails later still leaves these figures.
  progress(
    cpuCost.completed
      ? `CPU cost measured: ${cpuCost.cases
          .map(
            (entry) =>
              `${entry.name} ${entry.ratioToParse.median}× JSON.parse, growth ${entry.growth.median}× (4× input)`,
          )
          .join('; ')}`
      : `CPU cost: ${cpuCost.reason}`,
  );
  const coldInit = await measureColdInits(bundles.files);
  progress('cold init measured');
  const warm = await measureWarm(bundles.files);

  const measured: Measured = {
    schemaVersion: 3,
    generatedAt,
    durationMs: Math.round(performance.now() - startedAt),
    git: gitState(),
    environment: {
      node: process.version,
      platform: process.platform,
      arch: process.arch,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
      loadAverageAtStart,
    },
    settings: {
      runs: RUNS,
      coldInitSamples: COLD_SAMPLES,
      warmInvocations: WARM_INVOCATIONS,
      trafficInvocations: TRAFFIC_INVOCATIONS,
      overhead: {
        GET: { warmup: OVERHEAD.GET.warmup, iterations: OVERHEAD.GET.iterations },
        PATCH: { warmup: OVERHEAD.PATCH.warmup, iterations: OVERHEAD.PATCH.iterations },
      },
      lockCost: { warmup: LOCK_COST.warmup, iterations: LOCK_COST.iterations },
      burstSize: BURST_SIZE,
      memoryWarmup: MEMORY_WARMUP,
      memoryInvocations: MEMORY_INVOCATIONS,
      budget: {
        cacheWindowSeconds: BUDGET.cacheWindowSeconds,
        mixedInvocations: BUDGET.mixedInvocations,
        mixedPattern: '99 × GET, then 1 × changing PATCH (a name never set before), repeated',
        cacheHit: { warmup: BUDGET.cacheHit.warmup, iterations: BUDGET.cacheHit.iterations },
      },
      childStdout: '/dev/null (Powertools log and EMF lines are written, then discarded)',
    },
    bundle: bundles.result,
    coldInit,
    ...warm,
    cpuCost,
  };
  const { rows, checks } = buildRows(measured);
  const results: Results = { ...measured, targets: checks };
  await writeFile(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`${renderReport(results, rows)}\n`);
  progress(`done; wrote ${RESULTS_FILE}`);
}

const watchdog = setTimeout(() => {
  process.stderr.write(`bench: still running after ${HARD_LIMIT_MS / 1000} s; giving up\n`);
  process.exit(2);
}, HARD_LIMIT_MS);
watchdog.unref();

main().then(
  () => clearTimeout(watchdog),
  (error: unknown) => {
    process.stderr.write(
      `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);
