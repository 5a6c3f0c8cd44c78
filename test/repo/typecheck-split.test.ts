/**
 * The type-check split (tsconfig.app.json, tsconfig.infra.json; `npm run typecheck` runs both): the fast
 * program holds no CDK types, and no TypeScript file of the repository is left out of both.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const TSC = `${REPO}node_modules/typescript/bin/tsc`;

interface Project {
  include: string[];
}
const infra = JSON.parse(readFileSync(`${REPO}tsconfig.infra.json`, 'utf8')) as Project;

/** The files of a project's program, relative to the repository (tsc resolves, parses, checks nothing). */
async function programFiles(project: string): Promise<string[]> {
  const args = [TSC, '-p', project, '--listFilesOnly', '--singleThreaded'];
  const { stdout } = await run(process.execPath, args, { cwd: REPO, maxBuffer: 64 * 1024 * 1024 });
  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((file) => relative(REPO, file));
}

describe('the type-check split', () => {
  let app: string[];
  beforeAll(async () => {
    app = await programFiles('tsconfig.app.json');
  }, 60_000);

  it('keeps aws-cdk-lib, constructs and cdk-nag out of the fast program', () => {
    expect(
      app.filter((file) => /node_modules\/(aws-cdk-lib|constructs|cdk-nag|aws-cdk)\//.test(file)),
    ).toEqual([]);
    // Of infra/, only the esbuild side of bundling (no CDK import): the pool bundles the handler with it.
    expect(app.filter((file) => file.startsWith('infra/'))).toEqual(['infra/esbuild-options.ts']);
    expect(app).toContain('functions/client-config/handler.ts');
    expect(app).toContain('clients/index.ts');
  });

  it('checks every TypeScript file of the repository in one of the two programs', async () => {
    const { stdout } = await run('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.ts'], {
      cwd: REPO,
    });
    const inApp = new Set(app);
    const inInfra = (file: string) =>
      infra.include.some((root) => file === root || file.startsWith(`${root}/`));
    const unchecked = stdout.split('\n').filter((file) => file !== '' && !inApp.has(file) && !inInfra(file));
    expect(unchecked).toEqual([]);
  });
});
