/**
 * cdk-nag's AWS Solutions rules, run by CDK's policy validation on every synth: any finding that is
 * not acknowledged next to the resource it concerns (with a reason) fails `cdk synth` and
 * `Template.fromStack`.
 *
 * @example
 * const app = new App();
 * applyNagChecks(app);
 */
import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';

export function applyNagChecks(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
}
