/**
 * The shape of `bench/results.json`, and the reduction of raw samples into it: per-run figures, then
 * the median and spread over the runs.
 */
import type { Contributor } from './bundles.ts';
import type { ColdInitSample } from './cold-init.ts';
import type { CpuCostResult } from './cpu-cost.ts';
import type { MemorySnapshot, OverheadRoute } from './protocol.ts';
import { quantile, round, roundSummary, type Summary, summarize } from './stats.ts';
import type { BudgetRun, DynamoDbTrafficRun, LatencySamples, LockCostSamples, MixedRun } from './warm.ts';

export interface BundleSizes {
  rawBytes: number;
  gzipBytes: number;
}

export interface ContributorRow extends Contributor {
  /** Share of our bundle's bytes. */
  share: number;
  /** The same contributor's bytes in the baseline bundle (0 when absent). */
  baselineBytes: number;
}

export interface BundleResult {
  /** Two builds of our handler gave byte-identical bundles. */
  deterministic: boolean;
  ours: BundleSizes;
  baseline: BundleSizes;
  addedRawBytes: number;
  addedGzipBytes: number;
  topContributors: ContributorRow[];
  /** What our bundle has beyond the baseline's, per contributor, largest first. */
  topAdded: Contributor[];
  /** The bench-only entry with a no-op write lock (`bench/fixtures/no-lock-handler.ts`). */
  withoutLock: BundleSizes;
  /** Ours minus the entry without the lock: the DynamoDB client and the lease adapter. */
  lockAddedRawBytes: number;
  lockAddedGzipBytes: number;
  /** What ours has beyond the entry without the lock, per contributor, largest first. */
  lockAdded: Contributor[];
  /** The second baseline: SSM plus a DynamoDB client (`bench/fixtures/baseline-dynamodb-handler.ts`). */
  baselineDynamoDb: BundleSizes;
  addedOverBaselineDynamoDbRawBytes: number;
  addedOverBaselineDynamoDbGzipBytes: number;
}

export interface ColdInitVariantResult {
  importMs: Summary;
  processReadyMs: Summary;
  spawnToReadyMs: Summary;
}

export type ColdInitVariant =
  | 'empty'
  | 'baseline'
  | 'baselineDynamoDb'
  | 'ours'
  | 'withoutLock'
  | 'oursWithoutSourceMaps';

export interface ColdInitResult {
  nodeOptions: string;
  samplesPerVariant: number;
  variants: Record<ColdInitVariant, ColdInitVariantResult>;
  /** Median import time of ours over the baseline's. */
  importRatio: number;
}

/** One child process's latency figures for one route. */
export interface LatencyRun {
  iterations: number;
  handlerP50: number;
  handlerP99: number;
  floorP50: number;
  floorP99: number;
  addedP50: number;
  addedP99: number;
  ratioP50: number;
  ratioP99: number;
}

export type LatencyFigure = Exclude<keyof LatencyRun, 'iterations'>;

/** One child process's figures for a changing PATCH with the lease, without it, and the floor. */
export interface LockCostRun {
  iterations: number;
  lockedP50: number;
  lockedP99: number;
  unlockedP50: number;
  unlockedP99: number;
  floorP50: number;
  floorP99: number;
  /** What the lease costs: with it minus without it, per quantile. */
  lockP50: number;
  lockP99: number;
  /** The handler without the lease over the floor (the pre-lock "added by the handler"). */
  unlockedAddedP50: number;
  unlockedAddedP99: number;
}

export type LockCostFigure = Exclude<keyof LockCostRun, 'iterations'>;

export interface LockCostResult {
  perRun: LockCostRun[];
  overRuns: Record<LockCostFigure, Summary>;
}

export interface DynamoDbTrafficResult {
  perPatch: CountResult;
  perNoopPatch: CountResult;
  perGet: CountResult;
  /** Per changing PATCH, per operation (`PutItem`, `DeleteItem`, `GetItem` …). */
  patchOperations: Record<string, CountResult>;
}

export interface RouteLatencyResult {
  perRun: LatencyRun[];
  /** Median and spread over the runs, per figure. */
  overRuns: Record<LatencyFigure, Summary>;
}

export interface CountResult {
  perRun: number[];
  median: number;
}

export interface MemoryRunResult {
  afterWarmup: MemorySnapshot;
  afterInvocations: MemorySnapshot;
  rssGrowthBytes: number;
  heapAfterGcGrowthBytes: number;
}

export interface MemoryResult {
  warmupInvocations: number;
  invocations: number;
  perRun: MemoryRunResult[];
  rssAfterWarmupBytes: Summary;
  rssAfterInvocationsBytes: Summary;
  rssGrowthBytes: Summary;
  heapAfterGcGrowthBytes: Summary;
  /** TCP connections opened to Affix over all `warmupInvocations + invocations` serial invocations. */
  affixConnections: CountResult;
}

/** Affix requests per 1,000 mixed requests in one environment, per run and over the runs. */
export interface MixedBudgetResult {
  perRun: (MixedRun & { perThousand: number; readsPerThousand: number; writesPerThousand: number })[];
  perThousand: CountResult;
  readsPerThousand: CountResult;
  writesPerThousand: CountResult;
  /** Every run: reads at most one per cache window, writes exactly 2 per changing PATCH. */
  readsWithinTarget: boolean;
  writesOnTarget: boolean;
}

export interface BudgetResult {
  mixed: MixedBudgetResult;
  /** GET from the shared cache (handler) against the bare `GetItem` of the cache item (floor). */
  cacheHit: RouteLatencyResult;
}

/** One target, checked. */
export interface TargetCheck {
  figure: string;
  target: string;
  /** The figure as printed. */
  value: string;
  met: boolean;
}

export interface Results {
  schemaVersion: 3;
  generatedAt: string;
  durationMs: number;
  git: { commit: string | null; dirty: boolean | null };
  environment: {
    node: string;
    platform: string;
    arch: string;
    cpus: number;
    cpuModel: string;
    loadAverageAtStart: number[];
  };
  settings: {
    runs: number;
    coldInitSamples: number;
    warmInvocations: number;
    trafficInvocations: number;
    overhead: Record<OverheadRoute, { warmup: number; iterations: number }>;
    lockCost: { warmup: number; iterations: number };
    burstSize: number;
    memoryWarmup: number;
    memoryInvocations: number;
    budget: {
      cacheWindowSeconds: number;
      mixedInvocations: number;
      mixedPattern: string;
      cacheHit: { warmup: number; iterations: number };
    };
    childStdout: string;
  };
  bundle: BundleResult;
  coldInit: ColdInitResult;
  warm: Record<OverheadRoute, RouteLatencyResult>;
  ssm: { overWarmInvocations: CountResult; burst: CountResult };
  upstream: { perPatch: CountResult; perNoopPatch: CountResult; perGet: CountResult };
  lockCost: LockCostResult;
  dynamodb: DynamoDbTrafficResult;
  memory: MemoryResult;
  budget: BudgetResult;
  /** The depth scan's and the upstream judge's CPU cost (`cpu-cost.ts`); absent from results before it. */
  cpuCost?: CpuCostResult;
  targets: TargetCheck[];
}

export function coldInitVariant(samples: readonly ColdInitSample[]): ColdInitVariantResult {
  return {
    importMs: roundSummary(summarize(samples.map((sample) => sample.importMs))),
    processReadyMs: roundSummary(summarize(samples.map((sample) => sample.processReadyMs))),
    spawnToReadyMs: roundSummary(summarize(samples.map((sample) => sample.spawnToReadyMs))),
  };
}

export function latencyRun(samples: LatencySamples): LatencyRun {
  const handlerP50 = quantile(samples.handlerMs, 0.5);
  const handlerP99 = quantile(samples.handlerMs, 0.99);
  const floorP50 = quantile(samples.floorMs, 0.5);
  const floorP99 = quantile(samples.floorMs, 0.99);
  return {
    iterations: samples.handlerMs.length,
    handlerP50: round(handlerP50, 4),
    handlerP99: round(handlerP99, 4),
    floorP50: round(floorP50, 4),
    floorP99: round(floorP99, 4),
    addedP50: round(handlerP50 - floorP50, 4),
    addedP99: round(handlerP99 - floorP99, 4),
    ratioP50: round(handlerP50 / floorP50, 3),
    ratioP99: round(handlerP99 / floorP99, 3),
  };
}

const LATENCY_FIGURES: readonly LatencyFigure[] = [
  'handlerP50',
  'handlerP99',
  'floorP50',
  'floorP99',
  'addedP50',
  'addedP99',
  'ratioP50',
  'ratioP99',
];

export function routeLatency(runs: readonly LatencySamples[]): RouteLatencyResult {
  const perRun = runs.map(latencyRun);
  const overRuns = Object.fromEntries(
    LATENCY_FIGURES.map((figure) => [figure, roundSummary(summarize(perRun.map((run) => run[figure])), 4)]),
  ) as Record<LatencyFigure, Summary>;
  return { perRun, overRuns };
}

export function lockCostRun(samples: LockCostSamples): LockCostRun {
  const q = (values: readonly number[], at: number) => quantile(values, at);
  const lockedP50 = q(samples.lockedMs, 0.5);
  const lockedP99 = q(samples.lockedMs, 0.99);
  const unlockedP50 = q(samples.unlockedMs, 0.5);
  const unlockedP99 = q(samples.unlockedMs, 0.99);
  const floorP50 = q(samples.floorMs, 0.5);
  const floorP99 = q(samples.floorMs, 0.99);
  return {
    iterations: Math.min(samples.lockedMs.length, samples.unlockedMs.length, samples.floorMs.length),
    lockedP50: round(lockedP50, 4),
    lockedP99: round(lockedP99, 4),
    unlockedP50: round(unlockedP50, 4),
    unlockedP99: round(unlockedP99, 4),
    floorP50: round(floorP50, 4),
    floorP99: round(floorP99, 4),
    lockP50: round(lockedP50 - unlockedP50, 4),
    lockP99: round(lockedP99 - unlockedP99, 4),
    unlockedAddedP50: round(unlockedP50 - floorP50, 4),
    unlockedAddedP99: round(unlockedP99 - floorP99, 4),
  };
}

const LOCK_COST_FIGURES: readonly LockCostFigure[] = [
  'lockedP50',
  'lockedP99',
  'unlockedP50',
  'unlockedP99',
  'floorP50',
  'floorP99',
  'lockP50',
  'lockP99',
  'unlockedAddedP50',
  'unlockedAddedP99',
];

export function lockCost(runs: readonly LockCostSamples[]): LockCostResult {
  const perRun = runs.map(lockCostRun);
  const overRuns = Object.fromEntries(
    LOCK_COST_FIGURES.map((figure) => [figure, roundSummary(summarize(perRun.map((run) => run[figure])), 4)]),
  ) as Record<LockCostFigure, Summary>;
  return { perRun, overRuns };
}

/** Per-run DynamoDB counts; an operation absent from a run counts 0 there. */
export function dynamoDbTraffic(runs: readonly DynamoDbTrafficRun[]): DynamoDbTrafficResult {
  const operations = [...new Set(runs.flatMap((run) => Object.keys(run.patchOperations)))].sort();
  return {
    perPatch: countResult(runs.map((run) => run.perPatch)),
    perNoopPatch: countResult(runs.map((run) => run.perNoopPatch)),
    perGet: countResult(runs.map((run) => run.perGet)),
    patchOperations: Object.fromEntries(
      operations.map((operation) => [
        operation,
        countResult(runs.map((run) => run.patchOperations[operation] ?? 0)),
      ]),
    ),
  };
}

export function budgetResult(runs: readonly BudgetRun[]): BudgetResult {
  const perThousand = (n: number, of: number) => (n * 1_000) / of;
  const perRun = runs.map(({ mixed }) => ({
    ...mixed,
    perThousand: round(perThousand(mixed.affixGet + mixed.affixPost, mixed.invocations), 3),
    readsPerThousand: round(perThousand(mixed.readRequests, mixed.invocations), 3),
    writesPerThousand: round(perThousand(mixed.writeRequests, mixed.invocations), 3),
  }));
  return {
    mixed: {
      perRun,
      perThousand: countResult(perRun.map((run) => run.perThousand)),
      readsPerThousand: countResult(perRun.map((run) => run.readsPerThousand)),
      writesPerThousand: countResult(perRun.map((run) => run.writesPerThousand)),
      readsWithinTarget: perRun.every((run) => run.readRequests <= run.windows),
      writesOnTarget: perRun.every(
        (run) => run.affixPost === run.changingPatches && run.writeRequests === 2 * run.changingPatches,
      ),
    },
    cacheHit: routeLatency(runs.map((run) => run.cacheHit)),
  };
}

export function countResult(perRun: readonly number[]): CountResult {
  return { perRun: perRun.map((value) => round(value, 3)), median: round(quantile(perRun, 0.5), 3) };
}

export function memoryResult(
  warmupInvocations: number,
  invocations: number,
  runs: readonly {
    afterWarmup: MemorySnapshot;
    afterInvocations: MemorySnapshot;
    affixConnections: number;
  }[],
): MemoryResult {
  const perRun = runs.map((run) => ({
    afterWarmup: run.afterWarmup,
    afterInvocations: run.afterInvocations,
    rssGrowthBytes: run.afterInvocations.rssBytes - run.afterWarmup.rssBytes,
    heapAfterGcGrowthBytes: run.afterInvocations.heapUsedAfterGcBytes - run.afterWarmup.heapUsedAfterGcBytes,
  }));
  return {
    warmupInvocations,
    invocations,
    perRun,
    rssAfterWarmupBytes: summarize(perRun.map((run) => run.afterWarmup.rssBytes)),
    rssAfterInvocationsBytes: summarize(perRun.map((run) => run.afterInvocations.rssBytes)),
    rssGrowthBytes: summarize(perRun.map((run) => run.rssGrowthBytes)),
    heapAfterGcGrowthBytes: summarize(perRun.map((run) => run.heapAfterGcGrowthBytes)),
    affixConnections: countResult(runs.map((run) => run.affixConnections)),
  };
}

/** Top `count` contributors of ours, each with its size in the baseline. */
export function contributorRows(
  ours: readonly Contributor[],
  baseline: readonly Contributor[],
  oursTotal: number,
  count: number,
): ContributorRow[] {
  const baselineBytes = new Map(baseline.map((contributor) => [contributor.name, contributor.bytes]));
  return ours.slice(0, count).map((contributor) => ({
    ...contributor,
    share: round(contributor.bytes / oursTotal, 4),
    baselineBytes: baselineBytes.get(contributor.name) ?? 0,
  }));
}

/** Bytes each contributor adds over the baseline (positive differences only), largest first. */
export function addedContributors(
  ours: readonly Contributor[],
  baseline: readonly Contributor[],
  count: number,
): Contributor[] {
  const baselineBytes = new Map(baseline.map((contributor) => [contributor.name, contributor.bytes]));
  return ours
    .map((contributor) => ({
      name: contributor.name,
      bytes: contributor.bytes - (baselineBytes.get(contributor.name) ?? 0),
    }))
    .filter((contributor) => contributor.bytes > 0)
    .sort((a, b) => b.bytes - a.bytes || a.name.localeCompare(b.name))
    .slice(0, count);
}
