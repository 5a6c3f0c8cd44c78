/**
 * The order `vitest run` hands test files to its workers: within each group of projects, the files that
 * take longest start first, so the run does not end on one long file with the other cores idle.
 * vitest's own order runs the projects of a group one after the other by name.
 *
 * A project whose files share a module graph (`isolate: false`) stays one block: vitest reuses a worker
 * only for a next file of the same project, and each new worker loads the project's graph again.
 */
export interface Schedulable {
  group: number;
  project: string;
  /** Files of a project that share a module graph are kept together. */
  sharedGraph: boolean;
  path: string;
  /** Expected duration in ms: vitest's last measurement, or the hint, or 0. */
  weight: number;
}

/** Sorts by group, then longest first; a shared-graph project is one block placed by its longest file. */
export function longestFirst<T extends Schedulable>(items: readonly T[]): T[] {
  const units = new Map<string, T[]>();
  for (const item of items) {
    const key = item.sharedGraph
      ? `${item.group}\0${item.project}`
      : `${item.group}\0${item.project}\0${item.path}`;
    const unit = units.get(key);
    if (unit === undefined) units.set(key, [item]);
    else unit.push(item);
  }
  const byWeight = (a: T, b: T): number => b.weight - a.weight || a.path.localeCompare(b.path);
  const blocks = [...units.values()].map((unit) => unit.sort(byWeight));
  blocks.sort((a, b) => {
    const [headA, headB] = [a[0] as T, b[0] as T];
    return headA.group - headB.group || byWeight(headA, headB) || headA.project.localeCompare(headB.project);
  });
  return blocks.flat();
}

/**
 * The files measured longest on the two-core machine, in seconds: the order of a clean clone, where
 * vitest has no durations of its own yet. A stale figure costs only a worse order.
 */
export const EXPECTED_SECONDS: Readonly<Record<string, number>> = {
  'cdk:test/infra/synth.test.ts': 30,
  'repo:test/repo/typecheck.test.ts': 9,
  'properties:test/properties/handler.property.test.ts': 15,
  'concurrency:test/concurrency/lease-expiry.test.ts': 32,
  'integration:test/local/start.test.ts': 7,
  'integration:test/local/start-cli.test.ts': 24,
  'concurrency:test/concurrency/write-lock.test.ts': 51,
  'integration:test/local/lambda-pool.test.ts': 14,
  'integration:test/local/throttling.test.ts': 11,
  'concurrency:test/concurrency/rate-budget.test.ts': 11,
  'integration:test/integration/docs/docs.test.ts': 23,
  'integration:test/integration/local/npm-start.test.ts': 13,
  'integration:test/faults/affix-faults.test.ts': 10,
  'integration:test/faults/ssm-faults.test.ts': 8,
  'integration:test/integration/functions/secret-rotation/rotation.integration.test.ts': 8,
  'integration:test/clients/package.test.ts': 3,
  'integration:test/integration/functions/core/adapters/app.test.ts': 4,
};
