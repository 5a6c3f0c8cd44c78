/**
 * Setup file of the projects whose files share one module graph per worker (`isolate: false`): what a
 * file changes in the process (environment variables, fake timers, mocks, stubbed globals) is put back
 * when the file ends, so the next file in the same worker starts as it would in a fresh one.
 * Vitest runs setup files again for each test file, so these hooks wrap every file.
 */
import { afterAll, beforeAll, vi } from 'vitest';

let environment: NodeJS.ProcessEnv = {};

beforeAll(() => {
  environment = { ...process.env };
});

afterAll(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  vi.unstubAllGlobals();
  for (const name of Object.keys(process.env)) if (!(name in environment)) delete process.env[name];
  Object.assign(process.env, environment);
});
