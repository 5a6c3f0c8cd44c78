/**
 * Stages as data: the stage files, their schema, the one-line errors, and the CDK app picking a file
 * with `-c stage=<name>` (a new file is a new environment). The tests use their own fixture files
 * (test/infra/stages/), so the committed dev.json and prod.json stay free to edit.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_JOURNAL_RETENTION_DAYS } from '../../functions/core/domain/change-journal.ts';
import { IGNORE_ROLLBACK_ALARMS_CONTEXT } from '../../infra/deployment.ts';
import { REPO_ROOT } from '../../infra/service.ts';
import {
  loadStage,
  NO_CALLERS,
  parseStageConfig,
  resolveStage,
  STAGES,
  StageConfigError,
  StageError,
  stageNames,
  validateStageConfig,
} from '../../infra/stages.ts';
import { stackNameFor } from '../../infra/webhook-config-stack.ts';
import { BASIC, FIXTURE_STAGES_DIR } from './fixtures.ts';

const BASIC_TEXT = readFileSync(join(FIXTURE_STAGES_DIR, 'basic.json'), 'utf8');
type Json = Record<string, unknown>;

/** basic.json with `edit` applied, parsed as the file `test/x.json`. */
function parseEdited(edit: (file: Json) => void) {
  const file = JSON.parse(BASIC_TEXT) as Json;
  edit(file);
  return () => parseStageConfig('x', 'test/x.json', JSON.stringify(file));
}

describe('resolveStage', () => {
  it('accepts the name of a stage file of the directory', () => {
    expect(stageNames(FIXTURE_STAGES_DIR)).toEqual(['basic', 'canary']);
    expect(resolveStage('canary', FIXTURE_STAGES_DIR)).toBe('canary');
  });

  it.each([undefined, null, ''])('rejects a missing stage (%s) and lists the stage files', (value) => {
    expect(() => resolveStage(value, FIXTURE_STAGES_DIR)).toThrow(StageError);
    expect(() => resolveStage(value, FIXTURE_STAGES_DIR)).toThrow(
      'No stage given. Pass -c stage=<stage>, one of: basic, canary.',
    );
  });

  it.each(['qa', 'Basic', 'basic ', '../basic', 42])('rejects the unknown stage %j', (value) => {
    expect(() => resolveStage(value, FIXTURE_STAGES_DIR)).toThrow(
      `Unknown stage ${JSON.stringify(value)}. Pass -c stage=<stage>, one of: basic, canary.`,
    );
  });
});

describe('the committed stage files', () => {
  it.each(STAGES)('%s.json is valid', (stage) => {
    expect(() => loadStage(stage)).not.toThrow();
  });
});

describe('a stage file', () => {
  it('fills what it leaves out from the defaults, per stage name', () => {
    expect(BASIC.parameters).toEqual({
      clientId: '/affix/basic/client-id',
      clientSecret: '/affix/basic/client-secret',
      etagKey: '/affix/basic/etag-key',
    });
    expect(BASIC.upstream).toEqual({ attemptTimeoutMs: 5_000, deadlineMs: 10_000 });
    expect(BASIC.alarms).toEqual({
      apiServerErrorRate: 0.05,
      apiClientErrorRate: 0.2,
      apiLatencyP99Ms: 5_000,
      durationP99OfTimeout: 0.8,
    });
    expect(BASIC.callers).toEqual(NO_CALLERS);
    expect(BASIC.logRetention).toBe(14);
  });

  it('may take the KMS key ARN from an SSM parameter by name', () => {
    const config = parseEdited((file) => {
      file.parameterKmsKey = { ssmParameter: '/platform/kms/ssm-key-arn' };
    })();
    expect(config.parameterKmsKey).toEqual({ ssmParameter: '/platform/kms/ssm-key-arn' });
  });

  it('defaults the shared read cache to 30 s and the Affix budget to 40 per 300 s; a file may set both', () => {
    expect(BASIC.clientCacheMaxAgeSeconds).toBe(30);
    expect(BASIC.affixBudget).toEqual({ requests: 40, windowSeconds: 300 });
    const config = parseEdited((file) => {
      file.clientCacheMaxAgeSeconds = 0;
      file.affixBudget = { requests: 100, windowSeconds: 300 };
    })();
    expect(config.clientCacheMaxAgeSeconds).toBe(0);
    expect(config.affixBudget).toEqual({ requests: 100, windowSeconds: 300 });
  });

  it('keeps change-journal entries 400 days unless it says otherwise (1 to 3650)', () => {
    expect(BASIC.journalRetentionDays).toBe(DEFAULT_JOURNAL_RETENTION_DAYS);
    expect(DEFAULT_JOURNAL_RETENTION_DAYS).toBe(400);
    for (const days of [1, 731, 3650]) {
      const config = parseEdited((file) => {
        file.journalRetentionDays = days;
      })();
      expect(config.journalRetentionDays).toBe(days);
    }
  });

  const cases: Array<[string, (file: Json) => void, string]> = [
    [
      'a negative cache age',
      (f) => {
        f.clientCacheMaxAgeSeconds = -1;
      },
      'test/x.json: clientCacheMaxAgeSeconds: must be at least 0',
    ],
    [
      'a misspelt budget field',
      (f) => {
        f.affixBudget = { requests: 40, windowSeconds: 300, window: 300 };
      },
      'test/x.json: affixBudget.window: is not a known field',
    ],
    [
      'a budget that leaves no room for writes',
      (f) => {
        f.clientCacheMaxAgeSeconds = 5;
      },
      "test/x.json: (throttles): Affix's budget of 40 requests per 300 s leaves -35 for writes (32 usable - 61 reads - 6 verify - 0 rotation), fewer than 10: raise clientCacheMaxAgeSeconds or affixBudget.requests",
    ],
    [
      'an http Affix URL (the handler URL rule)',
      (f) => {
        f.affixBaseUrl = 'http://api.affixapi.com';
      },
      'test/x.json: affixBaseUrl: must use https://',
    ],
    [
      'an Affix URL with a query',
      (f) => {
        f.affixBaseUrl = 'https://api.affixapi.com/?x=1';
      },
      'test/x.json: affixBaseUrl: must not contain a ?query',
    ],
    [
      'a trailing slash',
      (f) => {
        f.affixBaseUrl = 'https://api.affixapi.com/v1/';
      },
      'test/x.json: affixBaseUrl: must not end with /',
    ],
    [
      'a short account ID among the readers',
      (f) => {
        (f.callers as Json).readers = { accountIds: ['12345'], roleArns: [] };
      },
      'test/x.json: callers.readers.accountIds.0: must be a 12-digit account ID',
    ],
    [
      'a user ARN among the rotators',
      (f) => {
        (f.callers as Json).rotators = { accountIds: [], roleArns: ['arn:aws:iam::123456789012:user/bob'] };
      },
      'test/x.json: callers.rotators.roleArns.0: must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)',
    ],
    [
      'a missing caller group',
      (f) => {
        delete (f.callers as Json).writers;
      },
      'test/x.json: callers.writers: is required',
    ],
    [
      'an unknown caller group (a typo must not silently grant nothing)',
      (f) => {
        (f.callers as Json).rotator = { accountIds: [], roleArns: [] };
      },
      'test/x.json: callers.rotator: is not a known field',
    ],
    [
      'an unknown top-level field',
      (f) => {
        f.alarmEmail = 'x@example.com';
      },
      'test/x.json: alarmEmail: is not a known field',
    ],
    [
      'a KMS alias instead of a key ARN',
      (f) => {
        f.parameterKmsKey = { value: 'arn:aws:kms:eu-west-1:123456789012:alias/aws/ssm' };
      },
      'test/x.json: parameterKmsKey.value: must be a KMS key ARN (not an alias)',
    ],
    [
      'a bad e-mail',
      (f) => {
        f.notifications = { emails: ['alerts'], topicArns: [] };
      },
      'test/x.json: notifications.emails.0: must be an e-mail address',
    ],
    [
      'no alarm destination at all',
      (f) => {
        f.notifications = { emails: [], topicArns: [] };
      },
      'test/x.json: notifications: must name at least one e-mail, topic ARN or platformTopicArnParameter: an alarm nobody receives pages nobody',
    ],
    [
      'a canary without its interval',
      (f) => {
        f.deployment = { strategy: 'canary', percentage: 10 };
      },
      'test/x.json: deployment.intervalMinutes: is required',
    ],
    [
      'an unknown deployment strategy',
      (f) => {
        f.deployment = { strategy: 'blue-green' };
      },
      'test/x.json: deployment.strategy: must be { "strategy": "all-at-once" } or { "strategy": "canary" | "linear", "percentage": n, "intervalMinutes": n }',
    ],
    [
      'a shift interval too short for a rollback alarm to fire within half of it',
      (f) => {
        f.deployment = { strategy: 'linear', percentage: 10, intervalMinutes: 1 };
      },
      'test/x.json: deployment.intervalMinutes: must be at least 2',
    ],
    [
      'a retention CloudWatch does not offer',
      (f) => {
        f.logRetentionDays = 10;
      },
      'test/x.json: logRetentionDays: must be one of CloudWatch',
    ],
    [
      'a journal retention of 0 days',
      (f) => {
        f.journalRetentionDays = 0;
      },
      'test/x.json: journalRetentionDays: must be at least 1 day',
    ],
    [
      'a journal retention above ten years',
      (f) => {
        f.journalRetentionDays = 5000;
      },
      'test/x.json: journalRetentionDays: must be at most 3650 days (ten years)',
    ],
    [
      'a journal retention in part days',
      (f) => {
        f.journalRetentionDays = 1.5;
      },
      'test/x.json: journalRetentionDays: must be a whole number of days',
    ],
    [
      'the same parameter twice',
      (f) => {
        f.parameters = { clientId: '/affix/x', clientSecret: '/affix/x', etagKey: '/affix/k' };
      },
      'test/x.json: parameters: clientId, clientSecret and etagKey must name three different parameters',
    ],
    [
      'an attempt timeout above the deadline (the handler rule)',
      (f) => {
        f.upstream = { attemptTimeoutMs: 11_000, deadlineMs: 10_000 };
      },
      'test/x.json: (handler configuration): UPSTREAM_ATTEMPT_TIMEOUT_MS',
    ],
    [
      'a missing owner tag',
      (f) => {
        f.tags = { repository: 'x' };
      },
      'test/x.json: tags.owner: is required',
    ],
  ];

  it.each(cases)('is refused with one line for %s', (_name, edit, message) => {
    const parse = parseEdited(edit);
    expect(parse).toThrow(StageConfigError);
    let thrown = '';
    try {
      parse();
    } catch (error) {
      thrown = (error as Error).message;
    }
    expect(thrown.startsWith(message), thrown).toBe(true);
    expect(thrown).not.toContain('\n');
  });

  it('is refused with one line when it is not JSON', () => {
    expect(() => parseStageConfig('x', 'test/x.json', '{ nope')).toThrow(
      /^test\/x\.json: \(file\): is not valid JSON/,
    );
  });

  it('built in code is checked with the handler rules too', () => {
    expect(() => validateStageConfig('basic', { ...BASIC, affixBaseUrl: 'http://example.com' })).toThrow(
      /^stage basic: \(handler configuration\): AFFIX_BASE_URL/,
    );
    expect(validateStageConfig('basic', BASIC)).toBe(BASIC);
  });

  it.each([
    [0, 'must be at least 1 day'],
    [5000, 'must be at most 3650 days (ten years)'],
  ])('built in code with a journal retention of %d days is refused', (days, rule) => {
    expect(() => validateStageConfig('basic', { ...BASIC, journalRetentionDays: days })).toThrow(
      `stage basic: journalRetentionDays: ${rule}`,
    );
  });
});

describe('infra/app.ts', () => {
  const work = mkdtempSync(join(tmpdir(), 'infra-app-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  // Runs the CDK app's own module (what `cdk synth` starts) in this worker, with the context the CLI
  // would pass: aws-cdk-lib is loaded here already, where a child process loads it again (~16 s of CPU).
  const runApp = async (context: Record<string, unknown>, outdir = join(work, 'out')) => {
    vi.stubEnv('CDK_CONTEXT_JSON', JSON.stringify({ 'aws:cdk:bundling-stacks': [], ...context }));
    vi.stubEnv('CDK_OUTDIR', outdir);
    const stderr: string[] = [];
    const toStderr = (...args: unknown[]) => {
      stderr.push(args.map(String).join(' '));
      return true;
    };
    const spies = [
      vi.spyOn(process.stderr, 'write').mockImplementation(toStderr),
      vi.spyOn(console, 'error').mockImplementation(toStderr),
      vi.spyOn(console, 'warn').mockImplementation(toStderr),
    ];
    try {
      // A query of its own, so the module runs on this import even if this worker imported it before.
      await import(
        /* @vite-ignore */ `${pathToFileURL(join(REPO_ROOT, 'infra', 'app.ts')).href}?run=${encodeURIComponent(outdir)}`
      );
    } finally {
      for (const spy of spies) spy.mockRestore();
      vi.unstubAllEnvs();
    }
    return { stderr: stderr.join('') };
  };

  // The usage and stage-file errors themselves are checked in-process above (resolveStage, the stage
  // file cases); that the app prints them as one line and exits 1 is synth.test.ts's real `cdk synth`
  // without a stage. One run of the app here: a new stage from a new file alone, a canary deployed as
  // `-c ignoreRollbackAlarms=true` asks (the CLI passes the context value as the string "true").
  it('deploys a new stage from a new file alone, past firing rollback alarms when asked', async () => {
    const dir = join(work, 'stages-new');
    const outdir = join(work, 'out-qa');
    const file = JSON.parse(BASIC_TEXT) as Json;
    file.tags = { owner: 'qa-team', repository: 'example/qa' };
    file.syntheticCaller = { enabled: true, rateMinutes: 15 };
    file.deployment = { strategy: 'canary', percentage: 10, intervalMinutes: 10 };
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'qa.json'), JSON.stringify(file));
    // The import rejects if the app fails.
    const result = await runApp(
      { stage: 'qa', stagesDir: dir, [IGNORE_ROLLBACK_ALARMS_CONTEXT]: 'true' },
      outdir,
    );
    expect(result.stderr).toBe('');
    const template = JSON.parse(
      readFileSync(join(outdir, `${stackNameFor('qa')}.template.json`), 'utf8'),
    ) as {
      Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
    };
    const ofType = (type: string) => Object.values(template.Resources).filter((r) => r.Type === type);
    expect(ofType('AWS::ApiGateway::Stage')[0]?.Properties.StageName).toBe('qa');
    expect(ofType('AWS::ApiGateway::RestApi')[0]?.Properties.Tags).toEqual([
      { Key: 'owner', Value: 'qa-team' },
      { Key: 'repository', Value: 'example/qa' },
      { Key: 'service', Value: 'affix-webhook-config' },
      { Key: 'stage', Value: 'qa' },
    ]);
    expect(ofType('AWS::Scheduler::Schedule')[0]?.Properties.ScheduleExpression).toBe('rate(15 minutes)');
    expect(ofType('AWS::SSM::Parameter')[0]?.Properties.Name).toBe('/affix-webhook-config/qa/api-url');
    // The rollback alarms stay attached but are not looked at; a failed or stopped deploy still rolls back.
    const group = ofType('AWS::CodeDeploy::DeploymentGroup')[0]?.Properties as {
      AlarmConfiguration: { Enabled: boolean; Alarms: unknown[] };
      AutoRollbackConfiguration: { Events: string[] };
    };
    expect(group.AlarmConfiguration.Enabled).toBe(false);
    expect(group.AlarmConfiguration.Alarms).toHaveLength(5);
    expect(group.AutoRollbackConfiguration.Events).toEqual([
      'DEPLOYMENT_FAILURE',
      'DEPLOYMENT_STOP_ON_REQUEST',
    ]);
    // Measured: 15 s alone, 32-65 s beside the other CDK suites with a load average of 13-18.
  }, 240_000);
});
