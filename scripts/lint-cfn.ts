/**
 * `npm run lint:cfn`: synthesizes every committed stage (`infra/stages/*.json`) through the CDK app,
 * as `cdk synth` does, and runs `cfn-lint` on each template. Fails on any cfn-lint error except the
 * known false positives of its bundled schemas, listed below with their reason.
 *
 * cfn-lint is a Python tool: `pipx install cfn-lint` (or `pip install cfn-lint`). Without it the
 * script says so and fails, unless `LINT_CFN_SKIP=1` asks to skip (infra/README.md "Checks").
 *
 * Assets are not bundled (`aws:cdk:bundling-stacks: []`): the template is the one `cdk synth`
 * writes, with asset hashes of the unbundled sources; the functions' code is not what cfn-lint reads.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const STAGES_DIR = join(REPO_ROOT, 'infra', 'stages');

export interface Finding {
  readonly Level: string;
  readonly Message: string;
  readonly Rule: { readonly Id: string };
  readonly Location: {
    readonly Path: readonly (string | number)[];
    readonly Start: { readonly LineNumber: number };
  };
}

export interface KnownFalsePositive {
  readonly rule: string;
  readonly applies: (finding: Finding, resourceType: string | undefined) => boolean;
  readonly reason: string;
}

/** cfn-lint errors that are wrong about a valid template: each with why. */
export const KNOWN_FALSE_POSITIVES: readonly KnownFalsePositive[] = [
  {
    rule: 'E3006',
    applies: (finding) => finding.Message.includes('AWS::Lambda::ResourcePolicy'),
    reason:
      'AWS::Lambda::ResourcePolicy is in the current CloudFormation resource specification (test/infra/templates.test.ts checks every type against it); the schemas bundled with cfn-lint 1.51 predate it.',
  },
  {
    rule: 'E3002',
    applies: (finding, resourceType) =>
      resourceType === 'AWS::CloudWatch::Dashboard' && finding.Message.includes("'Tags'"),
    reason:
      "AWS::CloudWatch::Dashboard has Tags in the current specification (checked by test/infra/templates.test.ts); cfn-lint 1.51's schema predates it.",
  },
];

/** The stages to lint: the committed stage files' names, sorted. */
export function stagesOf(files: readonly string[]): string[] {
  return files
    .filter((file) => file.endsWith('.json'))
    .map((file) => basename(file, '.json'))
    .sort();
}

/** The type of the resource a finding is about, if it is about one of the template's resources. */
export function resourceTypeOf(
  finding: Finding,
  resources: Readonly<Record<string, { Type: string }>>,
): string | undefined {
  const [section, logicalId] = finding.Location.Path;
  return section === 'Resources' ? resources[String(logicalId)]?.Type : undefined;
}

/** `ERROR` for an error that fails the lint, `known` for a listed false positive, else the finding's level. */
export function verdictOf(finding: Finding, resourceType: string | undefined): string {
  const known = KNOWN_FALSE_POSITIVES.find(
    (fp) => fp.rule === finding.Rule.Id && fp.applies(finding, resourceType),
  );
  return finding.Level === 'Error' && known === undefined ? 'ERROR' : known ? 'known' : finding.Level;
}

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

function main(): void {
  if (process.env.LINT_CFN_SKIP === '1') {
    console.log('lint:cfn skipped (LINT_CFN_SKIP=1)');
    process.exit(0);
  }

  const version = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
  if (version.error !== undefined || version.status !== 0) {
    fail(
      'cfn-lint is not installed: install it with `pipx install cfn-lint` (or `pip install cfn-lint`), or set LINT_CFN_SKIP=1 to skip this check.',
    );
  }
  console.log(version.stdout.trim());

  const cdkContext = (JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context: object })
    .context;
  const stages = stagesOf(readdirSync(STAGES_DIR));
  const work = mkdtempSync(join(tmpdir(), 'lint-cfn-'));
  let failed = false;
  try {
    for (const stage of stages) {
      const outdir = join(work, stage);
      // What `cdk synth -c stage=<stage>` runs: the app, with cdk.json's context and the stage.
      const synth = spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'infra', 'app.ts')], {
        cwd: REPO_ROOT,
        env: {
          ...process.env,
          CDK_CONTEXT_JSON: JSON.stringify({ ...cdkContext, stage, 'aws:cdk:bundling-stacks': [] }),
          CDK_OUTDIR: outdir,
        },
        encoding: 'utf8',
      });
      if (synth.status !== 0) fail(`synth of ${stage} failed:\n${synth.stderr}`);
      const templateFile = readdirSync(outdir).find((file) => file.endsWith('.template.json'));
      if (templateFile === undefined) fail(`synth of ${stage} wrote no template`);
      const path = join(outdir, templateFile);
      const template = JSON.parse(readFileSync(path, 'utf8')) as {
        Resources: Record<string, { Type: string }>;
      };
      const lint = spawnSync('cfn-lint', ['--format', 'json', path], {
        encoding: 'utf8',
        maxBuffer: 16 * 1024 * 1024,
      });
      let findings: Finding[];
      try {
        findings = JSON.parse(lint.stdout || '[]') as Finding[];
      } catch {
        fail(`cfn-lint gave no JSON for ${stage} (exit ${lint.status}):\n${lint.stderr}`);
      }
      let errors = 0;
      for (const finding of findings) {
        const verdict = verdictOf(finding, resourceTypeOf(finding, template.Resources));
        const where = `${finding.Location.Path.slice(0, 2).join('/')} (line ${finding.Location.Start.LineNumber})`;
        if (verdict === 'ERROR') errors += 1;
        console.log(`${stage}: ${verdict} ${finding.Rule.Id} ${where}: ${finding.Message}`);
      }
      console.log(
        `${stage}: ${findings.length} findings, ${errors} errors outside the known false positives`,
      );
      if (errors > 0) failed = true;
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  if (failed) fail('lint:cfn failed');
}

// Importing the module (its tests) runs nothing: only `tsx scripts/lint-cfn.ts` lints.
const invokedDirectly =
  process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) main();
