import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { EXPECTED_SECONDS, longestFirst } from './test/support/longest-first.ts';

/**
 * V8's code cache for the forks and every child they start (`npm start`, the `cdk` CLI and its app):
 * each process compiles the same large modules (aws-cdk-lib, the AWS SDK, dynalite, tsx) from the cache
 * an earlier one wrote. Keyed by source content: a stale entry is compiled again, never run.
 */
process.env.NODE_COMPILE_CACHE ??= fileURLToPath(
  new URL('./node_modules/.cache/node-compile-cache', import.meta.url),
);

/**
 * Projects by folder (test/README.md). `npm run test:unit` runs `unit` alone; `npm test` runs them all.
 * Timeouts are per project: the slowest test measured with both cores busy (load average 10-20), with
 * head-room, so a hang fails in the time its kind of suite needs. A hook or test that needs more says so.
 */
const UNIT = 'test/unit/**/*.test.ts';
const REPO = 'test/repo/**/*.test.ts';
const PROPERTIES = 'test/properties/**/*.test.ts';
const CDK = 'test/infra/**/*.test.ts';
const CONCURRENCY = 'test/concurrency/**/*.test.ts';
/** Projects whose files share a module graph put back what a file changed in the process. */
const SHARED_GRAPH = { isolate: false, setupFiles: ['test/support/shared-graph-hygiene.ts'] };
/**
 * Two groups, run one after the other (vitest runs projects with different worker counts in order).
 * First the CPU-bound projects whose files share a module graph (unit, properties, cdk), in two
 * forks on two cores: each fork loads a project's graph once; more forks would load it again for nothing
 * (measured: the same CPU-bound files took 2.5 times the import CPU with four). Then the suites that
 * mostly wait on loopback I/O (the sandbox's latency, lease expiries, child processes), in four forks.
 * Within a group the longest files start first (test/support/longest-first.ts).
 */
const CPU_BOUND = { maxWorkers: 2, sequence: { groupOrder: 0 } };
const IO_BOUND = { maxWorkers: 4, sequence: { groupOrder: 1 } };

/** Longest first within each group: vitest's last measured duration of a file, else its expected one. */
class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const items = files.map((spec) => {
      const key = `${spec.project.name}:${relative(this.ctx.config.root, spec.moduleId)}`;
      const measured = this.ctx.cache.getFileTestResults(key)?.duration;
      return {
        spec,
        group: spec.project.config.sequence.groupOrder,
        project: spec.project.name,
        sharedGraph: spec.project.config.isolate === false,
        path: key,
        weight: measured ?? (EXPECTED_SECONDS[key] ?? 0) * 1000,
      };
    });
    return longestFirst(items).map((item) => item.spec);
  }
}

export default defineConfig({
  test: {
    environment: 'node',
    pool: 'forks',
    sequence: { sequencer: LongestFirstSequencer },
    // Log lines (Powertools JSON, EMF, the pool's environments) reach the report for failed tests only.
    setupFiles: ['test/support/route-output.ts'],
    silent: 'passed-only',
    env: {
      POWERTOOLS_DEV: 'false',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: [UNIT],
          // Pure and in-process, no state left in modules or the environment between files: one module
          // graph per worker, so the handler, valibot and the AWS SDK load once, not once per file.
          ...SHARED_GRAPH,
          ...CPU_BOUND,
          // Slowest: a fast-check property over the leak corpus, 1-11 s with the cores busy.
          testTimeout: 20_000,
          hookTimeout: 10_000,
        },
      },
      {
        extends: true,
        // Checks over the repository as a whole. Slowest: the type-check (test/repo/typecheck.test.ts).
        test: {
          name: 'repo',
          include: [REPO],
          ...SHARED_GRAPH,
          // Its type-check (two tsc programs, mostly CPU) fills the room the I/O-bound suites leave.
          ...IO_BOUND,
          testTimeout: 20_000,
          hookTimeout: 60_000,
        },
      },
      {
        extends: true,
        // The handler chain in-process under generated requests: its tests set their time from
        // PROPERTY_RUNS (the case count); 4,000 cases took 41-54 s.
        test: {
          name: 'properties',
          include: [PROPERTIES],
          ...SHARED_GRAPH,
          ...CPU_BOUND,
          testTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'cdk',
          include: [CDK],
          // CDK assertions keep no state between files: aws-cdk-lib loads once per worker, and each stage's
          // stack is synthesized once per worker (test/infra/fixtures.ts).
          ...SHARED_GRAPH,
          // Each fork pays ~10 s of CPU before its first synthesis (aws-cdk-lib, CDK's WebAssembly
          // template validation): at most two, in the CPU-bound group.
          ...CPU_BOUND,
          // One real `cdk synth` per stage per run, for every suite that asks (test/support/synthesized.ts).
          globalSetup: ['test/support/synth-global-setup.ts'],
          // Slowest: the run's one CLI synth with bundling (a hook; ~30 s of CPU): 65 s alone with a load
          // average of 20, over 150 s inside a whole run at that load (test/support/synthesized.ts ends it
          // at 330 s); the CLI refusing a synth without a stage, 11-60 s.
          testTimeout: 120_000,
          hookTimeout: 360_000,
        },
      },
      {
        extends: true,
        // Pools of execution environments racing over the local stack, each file in its own module graph.
        // Slowest: one property of 50 rounds, 25-68 s; warming the stacks sets its own 90 s.
        test: {
          name: 'concurrency',
          include: [CONCURRENCY],
          globalSetup: ['test/concurrency/handler-bundle-setup.ts'],
          ...IO_BOUND,
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        extends: true,
        // Servers, local stand-ins, processes and the local stack of `npm start` (test/local, in-process
        // and as the real CLI), one module graph per worker: a stack started in-process imports its own
        // instance of the handler module (local/start.ts). One project, not one per folder: each project
        // has its own transform cache and a fork per project, and the two loaded the same graph (measured:
        // `npm test` took 40 s less CPU). Slowest: 9-30 s; `npm pack` and installing the tarball (a hook)
        // sets its own 60 s.
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: [UNIT, REPO, PROPERTIES, CDK, CONCURRENCY],
          ...SHARED_GRAPH,
          ...IO_BOUND,
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
