/**
 * The shape of `bench/results.json`, and the reduction of raw samples into it: per-run figures, then
 * the median and spread over the runs.
 */
import type { Contributor } from './bundles.ts';
import type { ColdInitSample } from './cold-init.ts';
import type { MemorySnapshot, OverheadRoute } from './protocol.ts';
import { quantile, round, roundSummary, type Summary, summarize } from './stats.ts';
import type { LatencySamples } from './warm.ts';

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
}

export interface ColdInitVariantResult {
  importMs: Summary;
  processReadyMs: Summary;
  spawnToReadyMs: Summary;
}

export type ColdInitVariant = 'empty' | 'baseline' | 'ours' | 'oursWithoutSourceMaps';

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

/** One target of issue #5, checked. */
export interface TargetCheck {
  figure: string;
  target: string;
  /** The figure as printed. */
  value: string;
  met: boolean;
}

export interface Results {
  schemaVersion: 1;
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
    burstSize: number;
    memoryWarmup: number;
    memoryInvocations: number;
    childStdout: string;
  };
  bundle: BundleResult;
  coldInit: ColdInitResult;
  warm: Record<OverheadRoute, RouteLatencyResult>;
  ssm: { overWarmInvocations: CountResult; burst: CountResult };
  upstream: { perPatch: CountResult; perNoopPatch: CountResult; perGet: CountResult };
  memory: MemoryResult;
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
