/**
 * Turns the measured figures into the markdown tables `npm run bench` prints (and the README quotes),
 * with every target marked met or missed.
 *
 * A latency or size target is judged on the median over the runs; a request count or a memory bound
 * must hold in every run.
 */
import type { CpuCostCaseName } from './cpu-cost.ts';
import type { OverheadRoute } from './protocol.ts';
import {
  type CountResult,
  countResult,
  type Results,
  type RouteLatencyResult,
  type TargetCheck,
} from './results.ts';
import type { Summary } from './stats.ts';

export const KIB = 1024;
export const MIB = 1024 * 1024;

export const TARGETS = {
  /** Ours may weigh at most this much more than the baseline bundle (raw). */
  bundleAddedRawBytes: 60 * KIB,
  /** Our import time over the baseline's. */
  coldImportRatio: 1.5,
  addedP50Ms: 1,
  addedP99Ms: 3,
  /** At most one credential load over the warm GETs (none when they are all cache hits). */
  ssmOverWarmInvocations: 1,
  ssmBurst: 1,
  affixPerPatch: 2,
  affixPerNoopPatch: 1,
  /** Warm GETs within one 30 s window: the shared read cache lets at most the first reach Affix. */
  affixOverWarmGets: 1,
  /**
   * One state item: the lease taken with the state (`UpdateItem`, `ALL_NEW`), the pending marker with
   * the read's records (`UpdateItem`), and the release with the write's records and its journal entry
   * (`TransactWriteItems`).
   */
  dynamoDbPerPatch: 3,
  /** A no-op PATCH reads under the lease too (its `If-Match` check needs the exclusive read): lease and release. */
  dynamoDbPerNoopPatch: 2,
  /** A cache hit: the state item's `GetItem`, nothing else. */
  dynamoDbPerGet: 1,
  /**
   * Our bound for "growth bounded": the live heap after full GCs may grow this much over the 10,000
   * invocations (200 B per invocation; a retained event or response would be several KB each). JIT
   * code still settling accounts for about 0.5 MB.
   */
  heapAfterGcGrowthBytes: 2 * MIB,
  /**
   * The nesting check runs on every body before `JSON.parse`: it may cost at most twice the parse of
   * the same bytes (it costs less; a scan that went back over the text would cost thousands of times more).
   */
  depthScanRatioToParse: 2,
  /**
   * CPU time at four times the input over the time at the input: about 4 for a linear pass (less when
   * a fixed cost dominates), 16 for a quadratic one.
   */
  cpuCostGrowth: 8,
} as const;

/** The CPU-cost cases with a target on their ratio to `JSON.parse` (the judge's is shown only). */
const RATIO_TARGETS: Partial<Record<CpuCostCaseName, number>> = {
  depthScanQuoted: TARGETS.depthScanRatioToParse,
  depthScanNested: TARGETS.depthScanRatioToParse,
};

export type Measured = Omit<Results, 'targets'>;

export interface Row {
  figure: string;
  median: string;
  spread: string;
  target: string;
  status: '' | 'met' | 'missed';
}

export const kb = (bytes: number): string => `${(bytes / KIB).toFixed(1)} KB`;
export const mb = (bytes: number): string => `${(bytes / MIB).toFixed(1)} MB`;
export const ms = (value: number, digits = 2): string => `${value.toFixed(digits)} ms`;
const signed = (text: string, value: number): string => (value >= 0 ? `+${text}` : text);
const count = (value: number): string => (Number.isInteger(value) ? String(value) : value.toFixed(2));
const range = (low: string, high: string): string => (low === high ? low : `${low} – ${high}`);
const iqr = (summary: Summary, format: (value: number) => string): string =>
  `${range(format(summary.p25), format(summary.p75))} (IQR)`;
const minMax = (summary: Summary, format: (value: number) => string): string =>
  `${range(format(summary.min), format(summary.max))}`;

function status(met: boolean): Row['status'] {
  return met ? 'met' : 'missed';
}

function countRow(
  figure: string,
  result: CountResult,
  expected: number,
  checks: TargetCheck[],
  detail = '',
): Row {
  const met = result.perRun.every((value) => value === expected);
  const value = count(result.median);
  checks.push({ figure, target: `= ${expected}`, value, met });
  const low = Math.min(...result.perRun);
  const high = Math.max(...result.perRun);
  return {
    figure,
    median: detail === '' ? value : `${value} (${detail})`,
    spread: range(count(low), count(high)),
    target: `= ${expected}`,
    status: status(met),
  };
}

/** A request count that may be lower than its bound in any run, never higher. */
function atMostRow(figure: string, result: CountResult, bound: number, checks: TargetCheck[]): Row {
  const met = result.perRun.every((value) => value <= bound);
  const value = count(result.median);
  checks.push({ figure, target: `≤ ${bound}`, value, met });
  return {
    figure,
    median: value,
    spread: range(count(Math.min(...result.perRun)), count(Math.max(...result.perRun))),
    target: `≤ ${bound}`,
    status: status(met),
  };
}

function latencyRows(route: OverheadRoute, results: Measured, checks: TargetCheck[]): Row[] {
  // With the read cache on (as deployed), a warm GET is a cache hit: this compares it with the Affix
  // fetch it saves; the cache-hit rows compare it with its own DynamoDB read.
  const label = route === 'GET' ? 'GET /client (cache hit)' : 'PATCH /client (lease + read + write)';
  return pairedLatencyRows(
    results.warm[route],
    (quantileName, pairs) =>
      `${label} ${quantileName}: handler vs ${route === 'GET' ? 'direct Affix fetch' : 'the same DynamoDB and Affix requests made directly'}${quantileName === 'p50' ? ` (${pairs} pairs/run)` : ''}`,
    (quantileName) => `${label} ${quantileName}: added by the handler`,
    checks,
  );
}

/**
 * The p50 and p99 rows of a paired measurement (the handler against its floor, in the same run): the
 * two side by side with their ratio, then the time the handler adds, checked against its target.
 */
function pairedLatencyRows(
  result: RouteLatencyResult,
  pairedFigure: (quantileName: 'p50' | 'p99', pairs: number) => string,
  addedFigure: (quantileName: 'p50' | 'p99') => string,
  checks: TargetCheck[],
): Row[] {
  const figures = result.overRuns;
  const pairs = Math.min(...result.perRun.map((run) => run.iterations));
  const rows: Row[] = [];
  for (const quantileName of ['p50', 'p99'] as const) {
    const p50 = quantileName === 'p50';
    const handler = p50 ? figures.handlerP50 : figures.handlerP99;
    const floor = p50 ? figures.floorP50 : figures.floorP99;
    const ratio = p50 ? figures.ratioP50 : figures.ratioP99;
    const added = p50 ? figures.addedP50 : figures.addedP99;
    const limit = p50 ? TARGETS.addedP50Ms : TARGETS.addedP99Ms;
    rows.push({
      figure: pairedFigure(quantileName, pairs),
      median: `${ms(handler.median)} vs ${ms(floor.median)} (×${ratio.median.toFixed(2)})`,
      spread: `${minMax(handler, (v) => v.toFixed(2))} vs ${minMax(floor, (v) => v.toFixed(2))}`,
      target: '',
      status: '',
    });
    const met = added.median <= limit;
    const figure = addedFigure(quantileName);
    checks.push({ figure, target: `≤ ${ms(limit, 0)}`, value: ms(added.median), met });
    rows.push({
      figure,
      median: ms(added.median),
      spread: minMax(added, (v) => ms(v)),
      target: `≤ ${ms(limit, 0)}`,
      status: status(met),
    });
  }
  return rows;
}

/**
 * The rate budget's figures: Affix requests per 1,000 mixed requests (reads and writes apart, each against
 * its target), and the cache hit's latency over the cache read itself (targets as for the handler's
 * added latency).
 */
function budgetRows(results: Measured, checks: TargetCheck[]): Row[] {
  const { mixed, cacheHit } = results.budget;
  const { budget } = results.settings;
  const first = mixed.perRun[0];
  const label = `Affix requests per 1,000 mixed requests (${first?.gets ?? 0} GET, ${first?.changingPatches ?? 0} changing PATCH; one environment, ${budget.cacheWindowSeconds} s cache)`;
  const spreadOf = (result: CountResult) =>
    range(count(Math.min(...result.perRun)), count(Math.max(...result.perRun)));
  const windows = Math.max(...mixed.perRun.map((run) => run.windows));
  const readTarget = `≤ 1 per cache window (${windows})`;
  const writeTarget = `= 2 per changing PATCH (${2 * (first?.changingPatches ?? 0)})`;
  const readsFigure = `${label}: reads`;
  const writesFigure = `${label}: writes`;
  const reads = count(mixed.readsPerThousand.median);
  const writes = count(mixed.writesPerThousand.median);
  checks.push(
    { figure: readsFigure, target: readTarget, value: reads, met: mixed.readsWithinTarget },
    { figure: writesFigure, target: writeTarget, value: writes, met: mixed.writesOnTarget },
  );
  const rows: Row[] = [
    {
      figure: label,
      median: `${count(mixed.perThousand.median)} (GET ${mixed.perRun.map((run) => run.affixGet).join('/')}, POST ${mixed.perRun.map((run) => run.affixPost).join('/')} per run)`,
      spread: spreadOf(mixed.perThousand),
      target: '',
      status: '',
    },
    {
      figure: readsFigure,
      median: reads,
      spread: spreadOf(mixed.readsPerThousand),
      target: readTarget,
      status: status(mixed.readsWithinTarget),
    },
    {
      figure: writesFigure,
      median: writes,
      spread: spreadOf(mixed.writesPerThousand),
      target: writeTarget,
      status: status(mixed.writesOnTarget),
    },
  ];
  rows.push(
    ...pairedLatencyRows(
      cacheHit,
      (quantileName, pairs) =>
        `GET /client cache hit ${quantileName}: handler vs the cache item's bare GetItem${quantileName === 'p50' ? ` (${pairs} pairs/run)` : ''}`,
      (quantileName) => `GET /client cache hit ${quantileName}: added over the cache read`,
      checks,
    ),
  );
  return rows;
}

/** The write lock's cost: changing PATCHes with the lease, without it (bench-only entry), and the floor. */
function lockCostRows(results: Measured): Row[] {
  const figures = results.lockCost.overRuns;
  const triplets = Math.min(...results.lockCost.perRun.map((run) => run.iterations));
  const rows: Row[] = [];
  for (const quantileName of ['p50', 'p99'] as const) {
    const at = <T>(p50: T, p99: T): T => (quantileName === 'p50' ? p50 : p99);
    const locked = at(figures.lockedP50, figures.lockedP99);
    const unlocked = at(figures.unlockedP50, figures.unlockedP99);
    const floor = at(figures.floorP50, figures.floorP99);
    const lock = at(figures.lockP50, figures.lockP99);
    const unlockedAdded = at(figures.unlockedAddedP50, figures.unlockedAddedP99);
    const two = (v: number) => v.toFixed(2);
    rows.push(
      {
        figure: `Changing PATCH ${quantileName}: with the lease / without it / direct fetch${at(` (${triplets} triplets/run)`, '')}`,
        median: `${two(locked.median)} / ${two(unlocked.median)} / ${ms(floor.median)}`,
        spread: `${minMax(locked, two)} / ${minMax(unlocked, two)} / ${minMax(floor, two)}`,
        target: '',
        status: '',
      },
      {
        figure: `Changing PATCH ${quantileName}: what the write lock costs (with − without)`,
        median: ms(lock.median),
        spread: minMax(lock, (v) => ms(v)),
        target: '',
        status: '',
      },
      {
        figure: `Changing PATCH ${quantileName}: added by the handler without the lock`,
        median: ms(unlockedAdded.median),
        spread: minMax(unlockedAdded, (v) => ms(v)),
        target: '',
        status: '',
      },
    );
  }
  return rows;
}

/** `{ PutItem: 1, DeleteItem: 1 }` → `DeleteItem 1, PutItem 1` (medians over the runs). */
function operationsDetail(operations: Record<string, CountResult>): string {
  return Object.entries(operations)
    .map(([operation, result]) => `${operation} ${count(result.median)}`)
    .join(', ');
}

/** Every figure of the main table, and the target checks it makes. */
/** `1 MiB`, `256 KiB`; `~1 MiB` for an input built to about that size. */
function size(bytes: number): string {
  const [unit, name] = bytes >= 1000 * KIB ? [MIB, 'MiB'] : [KIB, 'KiB'];
  const rounded = Math.round(bytes / unit);
  return `${rounded * unit === bytes ? '' : '~'}${rounded} ${name}`;
}
const times = (value: number): string => `${value < 0.1 ? value.toFixed(3) : value.toFixed(2)}×`;

/** The CPU-cost figures: per case, its cost over `JSON.parse` of the same bytes and its growth. */
function cpuCostRows(results: Measured, checks: TargetCheck[]): Row[] {
  const cpuCost = results.cpuCost;
  if (cpuCost === undefined) return [];
  if (!cpuCost.completed) {
    const figure = 'CPU cost: depth scan and upstream judge';
    checks.push({ figure, target: 'a result', value: cpuCost.reason, met: false });
    return [{ figure, median: cpuCost.reason, spread: '', target: 'a result', status: 'missed' }];
  }
  const rows: Row[] = [];
  for (const entry of cpuCost.cases) {
    const [small, large] = entry.inputBytes;
    const spread = (summary: Summary) => `${iqr(summary, times)}, ${entry.rounds} rounds`;
    const ratioFigure = `CPU time, ${entry.label}, ${size(large)}: over JSON.parse of the same bytes`;
    const ratioLimit = RATIO_TARGETS[entry.name];
    const ratioMet = ratioLimit === undefined || entry.ratioToParse.median <= ratioLimit;
    if (ratioLimit !== undefined) {
      checks.push({
        figure: ratioFigure,
        target: `≤ ${ratioLimit}×`,
        value: times(entry.ratioToParse.median),
        met: ratioMet,
      });
    }
    rows.push({
      figure: ratioFigure,
      median: `${times(entry.ratioToParse.median)} (${ms(entry.subjectMs.median)} vs ${ms(entry.baselineMs.median, 3)})`,
      spread: spread(entry.ratioToParse),
      target: ratioLimit === undefined ? '' : `≤ ${ratioLimit}×`,
      status: ratioLimit === undefined ? '' : status(ratioMet),
    });
    const growthFigure = `CPU time, ${entry.label}: ${size(large)} over ${size(small)}`;
    const growthMet = entry.growth.median <= TARGETS.cpuCostGrowth;
    checks.push({
      figure: growthFigure,
      target: `≤ ${TARGETS.cpuCostGrowth}×`,
      value: times(entry.growth.median),
      met: growthMet,
    });
    rows.push({
      figure: growthFigure,
      median: times(entry.growth.median),
      spread: spread(entry.growth),
      target: `≤ ${TARGETS.cpuCostGrowth}×`,
      status: status(growthMet),
    });
  }
  return rows;
}

export function buildRows(results: Measured): { rows: Row[]; checks: TargetCheck[] } {
  const checks: TargetCheck[] = [];
  const rows: Row[] = [];
  const { bundle, coldInit, memory } = results;
  const runs = `${results.settings.runs} runs`;

  const deterministic = bundle.deterministic ? 'identical in 2 builds' : 'builds differ!';
  rows.push({
    figure: 'Bundle, raw: ours vs baseline',
    median: `${kb(bundle.ours.rawBytes)} vs ${kb(bundle.baseline.rawBytes)}`,
    spread: deterministic,
    target: '',
    status: '',
  });
  const bundleMet = bundle.addedRawBytes <= TARGETS.bundleAddedRawBytes;
  checks.push({
    figure: 'Bundle, raw: added over baseline',
    target: `≤ +${kb(TARGETS.bundleAddedRawBytes)}`,
    value: signed(kb(bundle.addedRawBytes), bundle.addedRawBytes),
    met: bundleMet,
  });
  rows.push({
    figure: 'Bundle, raw: added over baseline',
    median: `${signed(kb(bundle.addedRawBytes), bundle.addedRawBytes)} (${bundle.addedRawBytes.toLocaleString('en-US')} B)`,
    spread: deterministic,
    target: `≤ +${kb(TARGETS.bundleAddedRawBytes)}`,
    status: status(bundleMet),
  });
  rows.push({
    figure: 'Bundle, gzip: ours vs baseline',
    median: `${kb(bundle.ours.gzipBytes)} vs ${kb(bundle.baseline.gzipBytes)} (${signed(kb(bundle.addedGzipBytes), bundle.addedGzipBytes)})`,
    spread: deterministic,
    target: '',
    status: '',
  });
  rows.push(
    {
      figure: 'Bundle, raw: added by the write lock (ours vs without the lock)',
      median: `${signed(kb(bundle.lockAddedRawBytes), bundle.lockAddedRawBytes)} (${kb(bundle.ours.rawBytes)} vs ${kb(bundle.withoutLock.rawBytes)}; gzip ${signed(kb(bundle.lockAddedGzipBytes), bundle.lockAddedGzipBytes)})`,
      spread: deterministic,
      target: '',
      status: '',
    },
    {
      figure: 'Bundle, raw: added over baseline + DynamoDB client (no target)',
      median: `${signed(kb(bundle.addedOverBaselineDynamoDbRawBytes), bundle.addedOverBaselineDynamoDbRawBytes)} (baseline + DynamoDB ${kb(bundle.baselineDynamoDb.rawBytes)}; gzip ${signed(kb(bundle.addedOverBaselineDynamoDbGzipBytes), bundle.addedOverBaselineDynamoDbGzipBytes)})`,
      spread: deterministic,
      target: '',
      status: '',
    },
  );

  const variants = coldInit.variants;
  const importLabel: Record<string, string> = {
    empty: 'Cold init, import: empty script',
    baseline: 'Cold init, import: baseline',
    baselineDynamoDb: 'Cold init, import: baseline + DynamoDB client',
    withoutLock: 'Cold init, import: ours without the lock',
    ours: 'Cold init, import: ours',
  };
  for (const variant of ['empty', 'baseline', 'baselineDynamoDb', 'withoutLock', 'ours'] as const) {
    const summary = variants[variant].importMs;
    rows.push({
      figure: importLabel[variant] as string,
      median: ms(summary.median, 1),
      spread: iqr(summary, (v) => v.toFixed(1)),
      target: '',
      status: '',
    });
  }
  const ratioMet = coldInit.importRatio <= TARGETS.coldImportRatio;
  checks.push({
    figure: 'Cold init, import: ours / baseline',
    target: `≤ ${TARGETS.coldImportRatio}×`,
    value: `${coldInit.importRatio.toFixed(2)}×`,
    met: ratioMet,
  });
  rows.push({
    figure: 'Cold init, import: ours / baseline',
    median: `${coldInit.importRatio.toFixed(2)}×`,
    spread: '',
    target: `≤ ${TARGETS.coldImportRatio}×`,
    status: status(ratioMet),
  });
  const importOf = (variant: keyof typeof variants) => variants[variant].importMs.median;
  rows.push(
    {
      figure: 'Cold init, import: added by the write lock (ours − without the lock)',
      median: signed(
        ms(importOf('ours') - importOf('withoutLock'), 1),
        importOf('ours') - importOf('withoutLock'),
      ),
      spread: '',
      target: '',
      status: '',
    },
    {
      figure: 'Cold init, import: ours / (baseline + DynamoDB client) (no target)',
      median: `${(importOf('ours') / importOf('baselineDynamoDb')).toFixed(2)}×`,
      spread: '',
      target: '',
      status: '',
    },
  );
  rows.push({
    figure: 'Cold init, spawn → ready: empty / baseline / ours',
    median: `${variants.empty.spawnToReadyMs.median.toFixed(0)} / ${variants.baseline.spawnToReadyMs.median.toFixed(0)} / ${ms(variants.ours.spawnToReadyMs.median, 0)}`,
    spread: `ours ${iqr(variants.ours.spawnToReadyMs, (v) => v.toFixed(0))}`,
    target: '',
    status: '',
  });
  rows.push({
    figure: `Cold init, import: ours without ${coldInit.nodeOptions}`,
    median: ms(variants.oursWithoutSourceMaps.importMs.median, 1),
    spread: iqr(variants.oursWithoutSourceMaps.importMs, (v) => v.toFixed(1)),
    target: '',
    status: '',
  });

  rows.push(
    ...latencyRows('GET', results, checks),
    ...latencyRows('PATCH', results, checks),
    ...lockCostRows(results),
  );

  rows.push(
    // At most one credential load: none when every warm GET was a hit of a cache still fresh from the
    // previous child (a hit needs no credentials).
    atMostRow(
      `SSM requests over ${results.settings.warmInvocations.toLocaleString('en-US')} warm invocations`,
      results.ssm.overWarmInvocations,
      TARGETS.ssmOverWarmInvocations,
      checks,
    ),
    countRow(
      `SSM requests, burst of ${results.settings.burstSize} concurrent first invocations (read cache off)`,
      results.ssm.burst,
      TARGETS.ssmBurst,
      checks,
    ),
    countRow('Affix requests per PATCH', results.upstream.perPatch, TARGETS.affixPerPatch, checks),
    countRow(
      'Affix requests per no-op PATCH',
      results.upstream.perNoopPatch,
      TARGETS.affixPerNoopPatch,
      checks,
    ),
    atMostRow(
      `Affix requests over ${results.settings.warmInvocations.toLocaleString('en-US')} warm GETs (one cache window)`,
      countResult(results.upstream.perGet.perRun.map((perGet) => perGet * results.settings.warmInvocations)),
      TARGETS.affixOverWarmGets,
      checks,
    ),
    countRow(
      'DynamoDB requests per PATCH',
      results.dynamodb.perPatch,
      TARGETS.dynamoDbPerPatch,
      checks,
      operationsDetail(results.dynamodb.patchOperations),
    ),
    countRow(
      'DynamoDB requests per no-op PATCH',
      results.dynamodb.perNoopPatch,
      TARGETS.dynamoDbPerNoopPatch,
      checks,
    ),
    countRow('DynamoDB requests per GET', results.dynamodb.perGet, TARGETS.dynamoDbPerGet, checks),
  );

  rows.push(...budgetRows(results, checks));

  const invocations = memory.invocations.toLocaleString('en-US');
  rows.push(
    {
      figure: `RSS after warm-up (${memory.warmupInvocations.toLocaleString('en-US')} invocations)`,
      median: mb(memory.rssAfterWarmupBytes.median),
      spread: minMax(memory.rssAfterWarmupBytes, mb),
      target: '',
      status: '',
    },
    {
      figure: `RSS after ${invocations} more invocations (growth)`,
      median: `${mb(memory.rssAfterInvocationsBytes.median)} (${signed(mb(memory.rssGrowthBytes.median), memory.rssGrowthBytes.median)})`,
      spread: minMax(memory.rssAfterInvocationsBytes, mb),
      target: '',
      status: '',
    },
  );
  const heapGrowth = memory.heapAfterGcGrowthBytes;
  const heapMet = heapGrowth.max <= TARGETS.heapAfterGcGrowthBytes;
  const heapFigure = `Live heap after full GC: growth over ${invocations} invocations`;
  checks.push({
    figure: heapFigure,
    target: `≤ ${mb(TARGETS.heapAfterGcGrowthBytes)}`,
    value: signed(mb(heapGrowth.median), heapGrowth.median),
    met: heapMet,
  });
  rows.push({
    figure: heapFigure,
    median: signed(mb(heapGrowth.median), heapGrowth.median),
    spread: minMax(heapGrowth, mb),
    target: `≤ ${mb(TARGETS.heapAfterGcGrowthBytes)} (every run)`,
    status: status(heapMet),
  });
  const serial = (memory.warmupInvocations + memory.invocations).toLocaleString('en-US');
  const connections = memory.affixConnections;
  rows.push({
    figure: `Affix TCP connections opened over ${serial} serial invocations (keep-alive)`,
    median: count(connections.median),
    spread: range(count(Math.min(...connections.perRun)), count(Math.max(...connections.perRun))),
    target: '',
    status: '',
  });
  for (const row of rows) {
    if (row.spread === '' || row.spread.includes('IQR') || row.spread.includes('builds')) continue;
    row.spread = `${row.spread} (${runs})`;
  }
  // Measured once, in rounds of their own: not per warm run.
  rows.push(...cpuCostRows(results, checks));
  return { rows, checks };
}

/** A markdown table laid out as Biome formats markdown: cells padded to their column's width. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const escapePipes = (cell: string) => cell.replaceAll('|', '\\|');
  const body = [header, ...rows].map((cells) => cells.map(escapePipes));
  const width = (cell: string) => [...cell].length;
  const widths = header.map((_, column) => Math.max(3, ...body.map((cells) => width(cells[column] ?? ''))));
  const pad = (cell: string, size: number) => cell + ' '.repeat(size - width(cell));
  const line = (cells: readonly string[]) =>
    `| ${widths.map((size, column) => pad(cells[column] ?? '', size)).join(' | ')} |`;
  const [head, ...rest] = body;
  return [line(head ?? []), line(widths.map((size) => '-'.repeat(size))), ...rest.map(line)].join('\n');
}

export function renderMainTable(rows: readonly Row[]): string {
  return table(
    ['Figure', 'Median', 'Spread', 'Target', 'Result'],
    rows.map((row) => [
      row.figure,
      row.median,
      row.spread,
      row.target,
      row.status === 'missed' ? '**missed**' : row.status,
    ]),
  );
}

export function renderContributors(results: Measured): string {
  const { bundle } = results;
  const top = table(
    ['#', 'Contributor (top 5 of ours)', 'Ours', 'Share', 'Baseline'],
    bundle.topContributors.map((row, index) => [
      String(index + 1),
      row.name,
      kb(row.bytes),
      `${(row.share * 100).toFixed(1)} %`,
      row.baselineBytes === 0 ? '—' : kb(row.baselineBytes),
    ]),
  );
  const added = table(
    ['#', 'Contributor (top 5 of what ours adds over the baseline)', 'Added'],
    bundle.topAdded.map((row, index) => [String(index + 1), row.name, `+${kb(row.bytes)}`]),
  );
  const lock = table(
    ['#', 'Contributor (what the write lock adds: ours vs without the lock)', 'Added'],
    bundle.lockAdded.map((row, index) => [String(index + 1), row.name, `+${kb(row.bytes)}`]),
  );
  return `${top}\n\n${added}\n\n${lock}`;
}

export function renderHeader(results: Measured): string {
  const { environment, git } = results;
  const commit =
    git.commit === null
      ? 'unknown commit'
      : `${git.commit.slice(0, 7)}${git.dirty ? ' + local changes' : ''}`;
  return `Node ${environment.node} on ${environment.platform}/${environment.arch}, ${environment.cpus} × ${environment.cpuModel}; ${commit}; ${results.generatedAt}; ${(results.durationMs / 1000).toFixed(0)} s`;
}

export function renderReport(results: Results, rows: readonly Row[]): string {
  const met = results.targets.filter((check) => check.met).length;
  return [
    renderHeader(results),
    '',
    renderMainTable(rows),
    '',
    renderContributors(results),
    '',
    `Targets met: ${met} of ${results.targets.length}.`,
  ].join('\n');
}
