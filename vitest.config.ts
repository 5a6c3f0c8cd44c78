import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
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
  },
});
