/**
 * `npm run synth`: `cdk synth` for every stage file of `infra/stages/`, one after the other (each
 * bundles the handler), stopping at the first failure.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './service.ts';
import { STAGES } from './stages.ts';

const cdk = join(REPO_ROOT, 'node_modules', '.bin', 'cdk');
for (const stage of STAGES) {
  console.log(`cdk synth -c stage=${stage}`);
  const result = spawnSync(
    cdk,
    ['synth', '--no-notices', '--quiet', '-c', `stage=${stage}`, '-o', `cdk.out/${stage}`],
    {
      cwd: REPO_ROOT,
      stdio: 'inherit',
      env: { ...process.env, CDK_DISABLE_VERSION_CHECK: 'true' },
    },
  );
  if (result.status !== 0) process.exit(result.status ?? 1);
}
