/**
 * Global setup of the concurrency project: the handler bundle its suites run (`harness.ts`), built once
 * per run instead of once per file, and removed when the run ends.
 */
import type { TestProject } from 'vitest/node';
import { buildHandlerBundle } from '../../local/handler-bundle.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The file URL of the handler bundle, when the project's global setup built one. */
    handlerBundle?: string;
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  const bundle = await buildHandlerBundle();
  project.provide('handlerBundle', bundle.url);
  return bundle.remove;
}
