/**
 * Bundles a handler exactly as the Lambda construct does, with the options `infra/bundling.ts`
 * exports (shared, never copied), and measures what came out: raw and gzip bytes of the bundle, and
 * from the esbuild metafile how many output bytes each package contributes.
 *
 * @example
 * const ours = await bundleHandler('functions/client-config/handler.ts', 'bench/.work/ours');
 * ours.rawBytes; ours.contributors[0]; // { name: '@smithy/core', bytes: 133208 }
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';
import { BUNDLE_FILE_NAME, esbuildOptionsFor } from '../../infra/bundling.ts';

export interface Contributor {
  /** An npm package name, or our own directory (e.g. `functions/client-config`). */
  name: string;
  /** Bytes this contributor takes up in the minified bundle. */
  bytes: number;
}

export interface BuiltBundle {
  /** Absolute path of `index.mjs`. */
  file: string;
  rawBytes: number;
  /** gzip level 9, as a deployment zip would roughly store it. */
  gzipBytes: number;
  /** Every contributor, largest first. */
  contributors: Contributor[];
}

export class BundleError extends Error {
  override readonly name = 'BundleError';
}

/** `node_modules/@scope/pkg/…` → `@scope/pkg`; our files → their top two directories. */
export function contributorOf(inputPath: string): string {
  const marker = 'node_modules/';
  const at = inputPath.lastIndexOf(marker);
  if (at >= 0) {
    const parts = inputPath.slice(at + marker.length).split('/');
    const first = parts[0] ?? inputPath;
    return first.startsWith('@') && parts[1] !== undefined ? `${first}/${parts[1]}` : first;
  }
  const parts = inputPath.split('/');
  return parts.length > 2 ? parts.slice(0, 2).join('/') : inputPath;
}

/** Output bytes per contributor of the one output that has an entry point, largest first. */
export function contributorsFrom(metafile: Metafile): Contributor[] {
  const output = Object.values(metafile.outputs).find((candidate) => candidate.entryPoint !== undefined);
  if (output === undefined) throw new BundleError('the metafile has no output with an entry point');
  const bytes = new Map<string, number>();
  for (const [path, input] of Object.entries(output.inputs)) {
    const name = contributorOf(path);
    bytes.set(name, (bytes.get(name) ?? 0) + input.bytesInOutput);
  }
  return [...bytes]
    .map(([name, size]) => ({ name, bytes: size }))
    .filter((contributor) => contributor.bytes > 0)
    .sort((a, b) => b.bytes - a.bytes || a.name.localeCompare(b.name));
}

/**
 * Bundles `entry` into `outDir/index.mjs` (plus `index.mjs.map` and `index.meta.json`, as the
 * construct's asset holds them). The directory is emptied first.
 */
export async function bundleHandler(entry: string, outDir: string): Promise<BuiltBundle> {
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  const file = join(outDir, BUNDLE_FILE_NAME);
  const result = await build(esbuildOptionsFor(entry, file));
  if (result.errors.length > 0) throw new BundleError(`esbuild failed for ${entry}`);
  if (result.metafile === undefined) throw new BundleError('infra/bundling.ts no longer asks for a metafile');
  await writeFile(join(outDir, 'index.meta.json'), JSON.stringify(result.metafile));
  const code = await readFile(file);
  return {
    file,
    rawBytes: code.byteLength,
    gzipBytes: gzipSync(code, { level: 9 }).byteLength,
    contributors: contributorsFrom(result.metafile),
  };
}
