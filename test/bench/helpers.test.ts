/**
 * The benchmark's pure helpers: quantiles, metafile grouping, per-run reduction and the target checks.
 * The benchmark itself (`npm run bench`) is never part of `npm test`.
 */
import { describe, expect, it } from 'vitest';
import { contributorOf, contributorsFrom } from '../../bench/lib/bundles.ts';
import { buildRows, KIB, type Measured, MIB, TARGETS, table } from '../../bench/lib/report.ts';
import {
  addedContributors,
  budgetResult,
  countResult,
  dynamoDbTraffic,
  latencyRun,
  lockCost,
  lockCostRun,
  memoryResult,
  routeLatency,
} from '../../bench/lib/results.ts';
import { EmptySampleError, quantile, summarize } from '../../bench/lib/stats.ts';
import type { MixedRun } from '../../bench/lib/warm.ts';

describe('quantiles', () => {
  it('interpolates between order statistics', () => {
    expect(quantile([4, 1, 3, 2], 0.5)).toBe(2.5);
    expect(quantile([1, 2, 3, 4, 5], 0.25)).toBe(2);
    expect(quantile([10, 20], 0.99)).toBeCloseTo(19.9);
    expect(quantile([7], 0.99)).toBe(7);
  });

  it('summarizes with median, quartiles and extremes', () => {
    expect(summarize([3, 1, 2])).toEqual({ n: 3, median: 2, p25: 1.5, p75: 2.5, min: 1, max: 3 });
  });

  it('refuses an empty sample and a quantile outside [0, 1]', () => {
    expect(() => quantile([], 0.5)).toThrow(EmptySampleError);
    expect(() => quantile([1], 1.5)).toThrow(RangeError);
  });
});

describe('bundle contributors', () => {
  it('groups metafile inputs by package, scoped or not, and our files by directory', () => {
    expect(contributorOf('node_modules/@smithy/core/dist-es/index.js')).toBe('@smithy/core');
    expect(contributorOf('node_modules/valibot/dist/index.mjs')).toBe('valibot');
    expect(contributorOf('node_modules/a/node_modules/@x/y/z.js')).toBe('@x/y');
    expect(contributorOf('functions/core/adapters/app.ts')).toBe('functions/core');
    expect(contributorOf('<runtime>')).toBe('<runtime>');
  });

  it('sums output bytes of the entry output, largest first, and tells what ours adds', () => {
    const ours = contributorsFrom({
      inputs: {},
      outputs: {
        'out/index.mjs.map': { bytes: 1, inputs: {}, imports: [], exports: [] },
        'out/index.mjs': {
          bytes: 60,
          entryPoint: 'functions/client-config/handler.ts',
          imports: [],
          exports: ['handler'],
          inputs: {
            'node_modules/@smithy/core/a.js': { bytesInOutput: 20 },
            'node_modules/@smithy/core/b.js': { bytesInOutput: 15 },
            'functions/core/adapters/app.ts': { bytesInOutput: 25 },
            'node_modules/unused/index.js': { bytesInOutput: 0 },
          },
        },
      },
    });
    expect(ours).toEqual([
      { name: '@smithy/core', bytes: 35 },
      { name: 'functions/core', bytes: 25 },
    ]);
    expect(addedContributors(ours, [{ name: '@smithy/core', bytes: 40 }], 5)).toEqual([
      { name: 'functions/core', bytes: 25 },
    ]);
  });
});

describe('per-run reduction', () => {
  it('subtracts the floor from the handler per quantile', () => {
    const run = latencyRun({ handlerMs: [1, 2, 3], floorMs: [0.5, 1, 1.5] });
    expect(run).toMatchObject({ iterations: 3, handlerP50: 2, floorP50: 1, addedP50: 1, ratioP50: 2 });
  });

  it('takes the median over runs', () => {
    const result = routeLatency([
      { handlerMs: [2], floorMs: [1] },
      { handlerMs: [5], floorMs: [1] },
      { handlerMs: [3], floorMs: [1] },
    ]);
    expect(result.overRuns.addedP50).toMatchObject({ median: 2, min: 1, max: 4 });
  });
});

describe('write lock cost', () => {
  it('subtracts the PATCH without the lease from the PATCH with it, and the floor from the one without', () => {
    const run = lockCostRun({ lockedMs: [3, 2.5, 2], unlockedMs: [1, 1.5, 0.5], floorMs: [0.5, 0.75, 1] });
    expect(run).toMatchObject({
      iterations: 3,
      lockedP50: 2.5,
      unlockedP50: 1,
      floorP50: 0.75,
      lockP50: 1.5,
      unlockedAddedP50: 0.25,
    });
    expect(run.lockP99).toBeCloseTo(2.99 - 1.49, 4);
  });

  it('counts only complete triplets and takes the median over runs', () => {
    expect(lockCostRun({ lockedMs: [2, 2], unlockedMs: [1, 1], floorMs: [1] }).iterations).toBe(1);
    const result = lockCost([
      { lockedMs: [3], unlockedMs: [1], floorMs: [1] },
      { lockedMs: [6], unlockedMs: [1], floorMs: [1] },
      { lockedMs: [2], unlockedMs: [1], floorMs: [1] },
    ]);
    expect(result.overRuns.lockP50).toMatchObject({ median: 2, min: 1, max: 5 });
  });
});

describe('DynamoDB traffic', () => {
  it('takes the median per operation and counts an operation missing from a run as 0 there', () => {
    const result = dynamoDbTraffic([
      { perPatch: 2, perNoopPatch: 2, perGet: 0, patchOperations: { PutItem: 1, DeleteItem: 1 } },
      { perPatch: 3, perNoopPatch: 2, perGet: 0, patchOperations: { PutItem: 1, DeleteItem: 1, GetItem: 1 } },
    ]);
    expect(Object.keys(result.patchOperations)).toEqual(['DeleteItem', 'GetItem', 'PutItem']);
    expect(result.patchOperations.GetItem).toEqual({ perRun: [0, 1], median: 0.5 });
    expect(result.perPatch.perRun).toEqual([2, 3]);
  });
});

const snapshot = (rssMb: number, heapMb: number) => ({
  rssBytes: rssMb * MIB,
  heapUsedBytes: heapMb * MIB,
  heapUsedAfterGcBytes: heapMb * MIB,
  heapTotalAfterGcBytes: 2 * heapMb * MIB,
  externalAfterGcBytes: MIB,
  rssAfterGcBytes: rssMb * MIB,
  heapSpacesAfterGcBytes: { old_space: heapMb * MIB },
});

/** 990 GETs and 10 changing PATCHes in 5 s: one cache window, one read, 20 write requests. */
const mixedRun = (): MixedRun => ({
  invocations: 1_000,
  gets: 990,
  changingPatches: 10,
  elapsedMs: 5_000,
  affixGet: 11,
  affixPost: 10,
  readRequests: 1,
  writeRequests: 20,
  windows: 1,
});

function measured(
  overrides: {
    addedRawBytes?: number;
    ssmBurst?: number[];
    ssmWarm?: number[];
    heapGrowthMb?: number;
    dynamoDbPerPatch?: number[];
    dynamoDbPerGet?: number[];
    affixPerGet?: number[];
    mixed?: Partial<MixedRun>;
    cacheHit?: { handlerMs: number[]; floorMs: number[] };
  } = {},
) {
  const addedRawBytes = overrides.addedRawBytes ?? 50 * KIB;
  const cold = (ms: number) => {
    const summary = summarize([ms]);
    return { importMs: summary, processReadyMs: summary, spawnToReadyMs: summary };
  };
  const latency = routeLatency([{ handlerMs: [1.2], floorMs: [1] }]);
  return {
    schemaVersion: 3,
    generatedAt: '2026-01-01T00:00:00.000Z',
    durationMs: 1,
    git: { commit: null, dirty: null },
    environment: {
      node: 'v22.0.0',
      platform: 'linux',
      arch: 'x64',
      cpus: 2,
      cpuModel: 'cpu',
      loadAverageAtStart: [],
    },
    settings: {
      runs: 1,
      coldInitSamples: 1,
      warmInvocations: 1_000,
      trafficInvocations: 1,
      overhead: { GET: { warmup: 0, iterations: 1 }, PATCH: { warmup: 0, iterations: 1 } },
      lockCost: { warmup: 0, iterations: 1 },
      burstSize: 100,
      memoryWarmup: 1,
      memoryInvocations: 1,
      budget: {
        cacheWindowSeconds: 30,
        mixedInvocations: 1_000,
        mixedPattern: '99 × GET, 1 × PATCH',
        cacheHit: { warmup: 0, iterations: 1 },
      },
      childStdout: '/dev/null',
    },
    bundle: {
      deterministic: true,
      ours: { rawBytes: 100 * KIB + addedRawBytes, gzipBytes: 1 },
      baseline: { rawBytes: 100 * KIB, gzipBytes: 1 },
      addedRawBytes,
      addedGzipBytes: 0,
      topContributors: [],
      topAdded: [],
      withoutLock: { rawBytes: 100 * KIB + addedRawBytes - 30 * KIB, gzipBytes: 1 },
      lockAddedRawBytes: 30 * KIB,
      lockAddedGzipBytes: 0,
      lockAdded: [{ name: '@aws-sdk/client-dynamodb', bytes: 28 * KIB }],
      baselineDynamoDb: { rawBytes: 130 * KIB, gzipBytes: 1 },
      addedOverBaselineDynamoDbRawBytes: addedRawBytes - 30 * KIB,
      addedOverBaselineDynamoDbGzipBytes: 0,
    },
    coldInit: {
      nodeOptions: '--enable-source-maps',
      samplesPerVariant: 1,
      variants: {
        empty: cold(1),
        baseline: cold(60),
        baselineDynamoDb: cold(64),
        ours: cold(70),
        withoutLock: cold(66),
        oursWithoutSourceMaps: cold(65),
      },
      importRatio: 70 / 60,
    },
    warm: { GET: latency, PATCH: latency },
    ssm: {
      overWarmInvocations: countResult(overrides.ssmWarm ?? [1]),
      burst: countResult(overrides.ssmBurst ?? [1]),
    },
    upstream: {
      perPatch: countResult([2]),
      perNoopPatch: countResult([1]),
      perGet: countResult(overrides.affixPerGet ?? [0.001]),
    },
    lockCost: lockCost([{ lockedMs: [2.2], unlockedMs: [1.2], floorMs: [1] }]),
    dynamodb: dynamoDbTraffic(
      (overrides.dynamoDbPerPatch ?? [TARGETS.dynamoDbPerPatch]).map((perPatch, index) => ({
        perPatch,
        perNoopPatch: TARGETS.dynamoDbPerNoopPatch,
        perGet: overrides.dynamoDbPerGet?.[index] ?? 1,
        patchOperations: { PutItem: 1, DeleteItem: perPatch - 1 },
      })),
    ),
    budget: budgetResult([
      {
        mixed: { ...mixedRun(), ...overrides.mixed },
        cacheHit: overrides.cacheHit ?? { handlerMs: [1.2], floorMs: [1] },
      },
    ]),
    memory: memoryResult(1, 1, [
      {
        afterWarmup: snapshot(100, 10),
        afterInvocations: snapshot(110, 10 + (overrides.heapGrowthMb ?? 0)),
        affixConnections: 1,
      },
    ]),
  } satisfies Measured;
}

describe('target checks', () => {
  const verdicts = (results: Measured) =>
    Object.fromEntries(buildRows(results).checks.map((check) => [check.figure, check.met]));

  it('checks every target of the issue and marks each row met or missed', () => {
    const { rows, checks } = buildRows(measured());
    expect(checks).toHaveLength(19);
    expect(checks.every((check) => check.met)).toBe(true);
    expect(rows.filter((row) => row.status !== '')).toHaveLength(checks.length);
  });

  it('allows exactly the bundle budget and not a byte more', () => {
    const figure = 'Bundle, raw: added over baseline';
    expect(verdicts(measured({ addedRawBytes: TARGETS.bundleAddedRawBytes }))[figure]).toBe(true);
    expect(verdicts(measured({ addedRawBytes: TARGETS.bundleAddedRawBytes + 1 }))[figure]).toBe(false);
  });

  it('wants a request count in every run, not only in the median', () => {
    const figure = 'SSM requests, burst of 100 concurrent first invocations (read cache off)';
    expect(verdicts(measured({ ssmBurst: [1, 2, 1] }))[figure]).toBe(false);
  });

  it('wants exactly the lease and budget requests per PATCH, and only the cache read per GET', () => {
    expect(verdicts(measured())['DynamoDB requests per PATCH']).toBe(true);
    expect(verdicts(measured({ dynamoDbPerPatch: [7, 8] }))['DynamoDB requests per PATCH']).toBe(false);
    expect(verdicts(measured({ dynamoDbPerGet: [2] }))['DynamoDB requests per GET']).toBe(false);
  });

  it('allows no credential load over warm cache hits, and never two', () => {
    const figure = 'SSM requests over 1,000 warm invocations';
    expect(verdicts(measured({ ssmWarm: [0, 1, 0] }))[figure]).toBe(true);
    expect(verdicts(measured({ ssmWarm: [1, 2, 1] }))[figure]).toBe(false);
  });

  it('lets at most one of the warm GETs reach Affix in every run (one cache window)', () => {
    const figure = 'Affix requests over 1,000 warm GETs (one cache window)';
    expect(verdicts(measured({ affixPerGet: [0, 0.001] }))[figure]).toBe(true);
    expect(verdicts(measured({ affixPerGet: [0.001, 0.002] }))[figure]).toBe(false);
  });

  it('judges the mix: reads at most one per cache window, writes exactly 2 per changing PATCH', () => {
    const label =
      'Affix requests per 1,000 mixed requests (990 GET, 10 changing PATCH; one environment, 30 s cache)';
    const ok = verdicts(measured());
    expect([ok[`${label}: reads`], ok[`${label}: writes`]]).toEqual([true, true]);
    const row = buildRows(measured()).rows.find((entry) => entry.figure === label);
    expect(row?.median).toBe('21 (GET 11, POST 10 per run)');
    // Two reads in one window: the cache did not hold.
    const reread = verdicts(measured({ mixed: { affixGet: 12, readRequests: 2 } }));
    expect(reread[`${label}: reads`]).toBe(false);
    // Two windows allow two reads.
    expect(
      verdicts(measured({ mixed: { affixGet: 12, readRequests: 2, elapsedMs: 31_000, windows: 2 } }))[
        `${label}: reads`
      ],
    ).toBe(true);
    // A changing PATCH that cost three requests (a retried POST).
    const retried = verdicts(measured({ mixed: { affixPost: 11, writeRequests: 21 } }));
    expect(retried[`${label}: writes`]).toBe(false);
  });

  it('judges the cache hit on what it adds over the cache read itself', () => {
    const figure = 'GET /client cache hit p50: added over the cache read';
    expect(verdicts(measured({ cacheHit: { handlerMs: [1.9], floorMs: [1] } }))[figure]).toBe(true);
    expect(verdicts(measured({ cacheHit: { handlerMs: [2.1], floorMs: [1] } }))[figure]).toBe(false);
    const row = buildRows(measured()).rows.find((entry) =>
      entry.figure.startsWith('GET /client cache hit p50: handler vs'),
    );
    expect(row?.median).toBe('1.20 ms vs 1.00 ms (×1.20)');
  });

  it('reports the lock cost and the lock bundle delta as figures, never as a target', () => {
    const { rows, checks } = buildRows(measured());
    const lockRow = rows.find((row) =>
      row.figure.startsWith('Changing PATCH p50: what the write lock costs'),
    );
    expect(lockRow?.median).toBe('1.00 ms');
    expect(checks.some((check) => check.figure.includes('write lock'))).toBe(false);
    const patchRow = rows.find((row) => row.figure === 'DynamoDB requests per PATCH');
    expect(patchRow?.median).toBe('3 (DeleteItem 2, PutItem 1)');
  });

  it('bounds the live heap growth', () => {
    const figure = 'Live heap after full GC: growth over 1 invocations';
    expect(verdicts(measured({ heapGrowthMb: 5 }))[figure]).toBe(false);
  });
});

describe('markdown tables', () => {
  it('pads every cell to its column, as Biome formats markdown, and escapes pipes', () => {
    expect(
      table(
        ['Figure', 'Result'],
        [
          ['≤ 1 ms', 'met'],
          ['a|b', ''],
        ],
      ),
    ).toBe(
      ['| Figure | Result |', '| ------ | ------ |', '| ≤ 1 ms | met    |', '| a\\|b   |        |'].join(
        '\n',
      ),
    );
  });
});
