/**
 * TypeScript strict over the whole repository, as `npm test` runs it: both programs of
 * `npm run typecheck` (tsconfig.app.json, tsconfig.infra.json), with TypeScript 7's native tsc. It runs
 * as a suite beside the suites that wait on loopback I/O, where the two cores have room, instead of
 * before the whole run.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const TSC = `${REPO}node_modules/typescript/bin/tsc`;

/**
 * tsc's exit code and what it printed (its diagnostics, on stdout). One thread: the same diagnostics for
 * less CPU than tsc's own threads, while vitest's workers already keep every core busy.
 */
async function typecheck(project: string): Promise<{ code: number; diagnostics: string }> {
  try {
    const { stdout } = await run(process.execPath, [TSC, '-p', project, '--singleThreaded'], {
      cwd: REPO,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, diagnostics: stdout };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, diagnostics: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

describe.concurrent('the type-check', () => {
  // Slowest: a clean clone's first check of the CDK program (no incremental state yet) on a busy machine.
  it.each(['tsconfig.app.json', 'tsconfig.infra.json'])(
    'tsc -p %s reports no error',
    async (project) => {
      const { code, diagnostics } = await typecheck(project);
      expect(diagnostics).toBe('');
      expect(code).toBe(0);
    },
    240_000,
  );
});
