/**
 * The parent's side of the CPU-cost figures: bundles `bench/child/cpu-cost.ts` (the function's modules
 * as esbuild bundles them), runs it with plain `node` and kills it at the time limit, which turns a
 * pathological regression into a missed target instead of a bench that never ends.
 *
 * @example
 * const cpuCost = await measureCpuCost('bench/.work/cpu-cost', 120_000);
 */
import { execFile } from 'node:child_process';
import { bundleForPlainNode } from './child.ts';
import { type CpuCostResult, type CpuCostSamples, cpuCostResult } from './cpu-cost.ts';

const CHILD_ENTRY = new URL('../child/cpu-cost.ts', import.meta.url).pathname;

export async function measureCpuCost(outDir: string, timeLimitMs: number): Promise<CpuCostResult> {
  const outfile = await bundleForPlainNode(CHILD_ENTRY, outDir, 'cpu-cost.mjs');
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [outfile],
      // Not the parent's flags (tsx): the child runs the bundle alone.
      {
        env: { PATH: process.env.PATH ?? '' },
        timeout: timeLimitMs,
        killSignal: 'SIGKILL',
        maxBuffer: 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (error !== null) {
          const reason = error.killed
            ? `no result within ${timeLimitMs / 1000} s (killed)`
            : `the child failed: ${stderr.trim().slice(-2_000) || error.message}`;
          resolve({ completed: false, reason, timeLimitMs });
          return;
        }
        resolve(cpuCostResult(JSON.parse(stdout) as CpuCostSamples));
      },
    );
  });
}
