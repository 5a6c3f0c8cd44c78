/**
 * Global setup of the projects that synthesize: one temporary directory per run for the shared cloud
 * assemblies of test/support/synthesized.ts (which declares `synthRoot`), removed when the run ends.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

export default function setup(project: TestProject): () => void {
  const root = mkdtempSync(join(tmpdir(), 'synth-run-'));
  project.provide('synthRoot', root);
  return () => rmSync(root, { recursive: true, force: true });
}
