/**
 * CDK app entry (`cdk.json`): one stack per run, for the stage file given with `-c stage=<stage>`
 * (`infra/stages/<stage>.json`).
 *
 * `npm run synth` synthesizes every stage file in turn; `cdk deploy -c stage=prod` deploys one.
 * `-c ignoreRollbackAlarms=true` deploys without the rollback alarms (infra/README.md "Safe deploys").
 */
import { App } from 'aws-cdk-lib';
import { loadStage, resolveStage, STAGES_DIR, StageConfigError, StageError } from './stages.ts';

const app = new App();
let stage: string;
let config: ReturnType<typeof loadStage>;
// `-c stagesDir=<dir>` reads the stage files of another directory (tests use their own fixtures).
const stagesDir: string = app.node.tryGetContext('stagesDir') ?? STAGES_DIR;
try {
  stage = resolveStage(app.node.tryGetContext('stage'), stagesDir);
  config = loadStage(stage, stagesDir);
} catch (error) {
  if (!(error instanceof StageError || error instanceof StageConfigError)) throw error;
  // One line instead of a stack trace: this is a usage or configuration error.
  console.error(error.message);
  process.exit(1);
}
// The stack's modules (most of aws-cdk-lib, cdk-nag) load only once the stage is known: a usage
// error is reported without paying for them.
const [
  { IGNORE_ROLLBACK_ALARMS_CONTEXT, ignoresRollbackAlarms },
  { applyNagChecks },
  { stackNameFor, WebhookConfigStack },
] = await Promise.all([import('./deployment.ts'), import('./nag.ts'), import('./webhook-config-stack.ts')]);
applyNagChecks(app);
new WebhookConfigStack(app, stackNameFor(stage), {
  stage,
  config,
  ignoreRollbackAlarms: ignoresRollbackAlarms(app.node.tryGetContext(IGNORE_ROLLBACK_ALARMS_CONTEXT)),
});
app.synth();
