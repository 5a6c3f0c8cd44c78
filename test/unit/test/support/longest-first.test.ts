import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EXPECTED_SECONDS, longestFirst, type Schedulable } from '../../../support/longest-first.ts';

const file = (
  group: number,
  project: string,
  path: string,
  weight: number,
  sharedGraph = false,
): Schedulable => ({
  group,
  project,
  sharedGraph,
  path,
  weight,
});
const paths = (items: Schedulable[]) => items.map((item) => item.path);

describe('longestFirst', () => {
  it('starts the longest files of a group first, across projects', () => {
    const order = longestFirst([
      file(1, 'integration', 'a-short', 1_000),
      file(1, 'local', 'b-long', 29_000),
      file(1, 'concurrency', 'c-middle', 17_000),
      file(1, 'integration', 'd-unknown', 0),
    ]);
    expect(paths(order)).toEqual(['b-long', 'c-middle', 'a-short', 'd-unknown']);
  });

  it('keeps the groups in their order, whatever the durations', () => {
    const order = longestFirst([file(1, 'local', 'later', 60_000), file(0, 'unit', 'first', 10)]);
    expect(paths(order)).toEqual(['first', 'later']);
  });

  it("keeps a shared-graph project's files together, placed by its longest, longest first inside", () => {
    const order = longestFirst([
      file(0, 'unit', 'u-small', 100, true),
      file(0, 'cdk', 'cdk-small', 500, true),
      file(0, 'unit', 'u-big', 3_000, true),
      file(0, 'properties', 'property', 15_000, true),
      file(0, 'cdk', 'synth', 30_000, true),
      file(0, 'unit', 'u-mid', 1_000, true),
    ]);
    expect(paths(order)).toEqual(['synth', 'cdk-small', 'property', 'u-big', 'u-mid', 'u-small']);
  });

  it('orders equal durations by path, so a run with no measurements is repeatable', () => {
    const items = [file(1, 'b', 'y', 0), file(1, 'a', 'z', 0), file(1, 'a', 'x', 0)];
    expect(paths(longestFirst(items))).toEqual(['x', 'y', 'z']);
    expect(paths(longestFirst(items.reverse()))).toEqual(['x', 'y', 'z']);
  });

  it('keys its expected durations as vitest keys its results: project, colon, a test file that exists', () => {
    for (const key of Object.keys(EXPECTED_SECONDS)) {
      expect(key).toMatch(/^[a-z-]+:test\/.+\.test\.ts$/);
      expect(
        existsSync(new URL(`../../../../${key.slice(key.indexOf(':') + 1)}`, import.meta.url)),
        key,
      ).toBe(true);
    }
  });
});
