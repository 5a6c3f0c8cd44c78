import { defineConfig } from 'vitest/config';

/**
 * Suites of pure logic, the handler chain in-process and CDK assertions: they keep no state in
 * modules or the environment between files, so a worker imports aws-cdk-lib, the AWS SDK and the
 * handler once for all of them instead of once per file (most of their CPU was imports).
 */
const SHARED_MODULE_SUITES = [
  'test/functions/**/*.test.ts',
  'test/contract/**/*.test.ts',
  'test/infra/**/*.test.ts',
  'test/properties/**/*.test.ts',
  'test/bench/**/*.test.ts',
  'test/toolchain/**/*.test.ts',
];

export default defineConfig({
  test: {
    environment: 'node',
    pool: 'forks',
    // Most suites wait on loopback I/O (the sandbox's latency, lease expiries), not on the CPU: four
    // forks keep two cores busy, where vitest's default (cores - 1) would run the files one by one.
    maxWorkers: 4,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Powertools Metrics writes EMF to stdout; tests capture it where they assert on it.
    env: {
      POWERTOOLS_DEV: 'false',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
    projects: [
      { extends: true, test: { name: 'shared', include: SHARED_MODULE_SUITES, isolate: false } },
      {
        extends: true,
        // Servers, pools of environments, local stacks, processes: each file in a fresh module graph.
        test: { name: 'isolated', include: ['test/**/*.test.ts'], exclude: SHARED_MODULE_SUITES },
      },
    ],
  },
});
