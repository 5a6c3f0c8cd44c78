/**
 * CDK app entry (`cdk.json`): one stack per run, for the stage given with `-c stage=<stage>`.
 *
 * `npm run synth` synthesizes every stage in turn; `cdk deploy -c stage=prod` deploys one.
 */
import { App } from 'aws-cdk-lib';
import { applyNagChecks } from './nag.ts';
import { resolveStage, StageError, stages } from './stages.ts';
import { stackNameFor, WebhookConfigStack } from './webhook-config-stack.ts';

const app = new App();
let stage: ReturnType<typeof resolveStage>;
try {
  stage = resolveStage(app.node.tryGetContext('stage'));
} catch (error) {
  if (!(error instanceof StageError)) throw error;
  // A one-line message instead of a stack trace: this is a usage error.
  console.error(error.message);
  process.exit(1);
}
applyNagChecks(app);
new WebhookConfigStack(app, stackNameFor(stage), { stage, config: stages[stage] });
app.synth();
