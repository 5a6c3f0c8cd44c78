import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { afterAll, describe, expect, it } from 'vitest';
import { CALLER_GROUPS } from '../../functions/contract/routes.ts';
import { REPO_ROOT } from '../../infra/service.ts';
import {
  NO_CALLERS,
  resolveStage,
  STAGES,
  type StageConfig,
  StageConfigError,
  StageError,
  stageConfigProblems,
  stageDefaults,
  stages,
  validateStageConfig,
} from '../../infra/stages.ts';

describe('resolveStage', () => {
  it.each(STAGES)('accepts %s', (stage) => {
    expect(resolveStage(stage)).toBe(stage);
  });

  it.each([undefined, null, ''])('rejects a missing stage (%s) and lists the valid ones', (value) => {
    expect(() => resolveStage(value)).toThrow(StageError);
    expect(() => resolveStage(value)).toThrow('No stage given. Pass -c stage=<stage>, one of: dev, prod.');
  });

  it.each(['qa', 'Dev', 'prod ', 42])('rejects the unknown stage %j and lists the valid ones', (value) => {
    expect(() => resolveStage(value)).toThrow(
      `Unknown stage ${JSON.stringify(value)}. Pass -c stage=<stage>, one of: dev, prod.`,
    );
  });
});

describe('the stage table', () => {
  it('has a valid entry for every stage', () => {
    expect(Object.keys(stages).sort()).toEqual([...STAGES].sort());
    for (const stage of STAGES) {
      expect(stageConfigProblems(stages[stage]), stage).toEqual([]);
    }
  });

  it('points each stage at its Affix API', () => {
    expect(stages.dev.affixBaseUrl).toBe('https://dev.api.affixapi.com');
    expect(stages.prod.affixBaseUrl).toBe('https://api.affixapi.com');
  });

  it('reads /affix/<stage>/client-id, /affix/<stage>/client-secret and /affix/<stage>/etag-key by default', () => {
    for (const stage of STAGES) {
      expect(stageDefaults(stage).parameters).toEqual({
        clientId: `/affix/${stage}/client-id`,
        clientSecret: `/affix/${stage}/client-secret`,
        etagKey: `/affix/${stage}/etag-key`,
      });
      expect(stages[stage].parameters).toEqual(stageDefaults(stage).parameters);
    }
  });

  it('keeps the handler defaults for the upstream budget and the credentials cache', () => {
    for (const stage of STAGES) {
      expect(stages[stage].upstream).toEqual({ attemptTimeoutMs: 5_000, deadlineMs: 10_000 });
      expect(stages[stage].credentialsMaxAgeSeconds).toBe(300);
      expect(stages[stage].logLevel).toBe('INFO');
    }
  });

  it('names nobody in any caller group yet (placeholders), so both stages deny every caller', () => {
    for (const stage of STAGES) expect(stages[stage].callers).toEqual(NO_CALLERS);
    expect(Object.keys(NO_CALLERS).sort()).toEqual([...CALLER_GROUPS].sort());
  });

  it('keeps point-in-time recovery and deletion protection of the state table for prod', () => {
    expect(stages.prod.stateTable).toEqual({ pointInTimeRecovery: true, deletionProtection: true });
    expect(stages.dev.stateTable).toEqual({ pointInTimeRecovery: false, deletionProtection: false });
  });

  it('protects prod from deletion and keeps its logs longer', () => {
    expect(stages.prod.terminationProtection).toBe(true);
    expect(stages.dev.terminationProtection).toBe(false);
    expect(stages.prod.logRetention).toBe(RetentionDays.ONE_YEAR);
  });
});

describe('validateStageConfig', () => {
  const valid = stages.dev;
  const cases: Array<[string, Partial<StageConfig>, string]> = [
    [
      'an http base URL',
      { affixBaseUrl: 'http://dev.api.affixapi.com' },
      'affixBaseUrl must be an https:// URL',
    ],
    ['a base URL with a trailing slash', { affixBaseUrl: 'https://api.affixapi.com/' }, 'affixBaseUrl'],
    ['a base URL with a query', { affixBaseUrl: 'https://api.affixapi.com?x=1' }, 'affixBaseUrl'],
    ['a base URL that does not parse', { affixBaseUrl: 'api.affixapi.com' }, 'affixBaseUrl'],
    [
      'a parameter name without a leading slash',
      {
        parameters: {
          clientId: 'affix/dev/client-id',
          clientSecret: '/affix/dev/client-secret',
          etagKey: '/affix/dev/etag-key',
        },
      },
      'parameters.clientId affix/dev/client-id must be an SSM parameter name starting with /',
    ],
    [
      'the same parameter twice',
      { parameters: { clientId: '/affix/x', clientSecret: '/affix/x', etagKey: '/affix/k' } },
      'parameters.clientId, parameters.clientSecret and parameters.etagKey must all differ',
    ],
    [
      'the ETag key in the client secret parameter',
      { parameters: { clientId: '/affix/id', clientSecret: '/affix/x', etagKey: '/affix/x' } },
      'must all differ',
    ],
    [
      'an ETag key parameter name without a leading slash',
      { parameters: { clientId: '/affix/id', clientSecret: '/affix/x', etagKey: 'etag-key' } },
      'parameters.etagKey etag-key must be an SSM parameter name starting with /',
    ],
    [
      'a KMS alias instead of a key ARN',
      { parameterKmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:alias/aws/ssm' },
      'parameterKmsKeyArn must be a KMS key ARN',
    ],
    [
      'a short account ID among the readers',
      { callers: { ...NO_CALLERS, readers: { accountIds: ['12345'], roleArns: [] } } },
      'callers.readers.accountIds: 12345 is not a 12-digit account ID',
    ],
    [
      'a user ARN among the rotators',
      {
        callers: {
          ...NO_CALLERS,
          rotators: { accountIds: [], roleArns: ['arn:aws:iam::123456789012:user/bob'] },
        },
      },
      'callers.rotators.roleArns: arn:aws:iam::123456789012:user/bob is not an IAM role ARN',
    ],
    [
      'a malformed organization ID among the writers',
      { callers: { ...NO_CALLERS, writers: { accountIds: [], roleArns: [], organizationId: 'r-abcd' } } },
      'callers.writers.organizationId r-abcd is not an organization ID',
    ],
    [
      'a missing group',
      { callers: { readers: NO_CALLERS.readers } as unknown as StageConfig['callers'] },
      'callers.writers is missing',
    ],
    [
      'an unknown group (a typo must not silently grant nothing)',
      { callers: { ...NO_CALLERS, rotator: NO_CALLERS.rotators } as unknown as StageConfig['callers'] },
      'callers: unknown group(s) rotator',
    ],
    ['zero throttling', { throttling: { rateLimit: 0, burstLimit: 10 } }, 'throttling'],
    ['a fractional burst', { throttling: { rateLimit: 5, burstLimit: 1.5 } }, 'throttling'],
    ['a bad e-mail', { alarmEmail: 'alerts' }, 'alarmEmail alerts is not an e-mail address'],
    [
      'a bad VPC endpoint ID',
      { vpcEndpointIds: ['vpc-123'] },
      'vpcEndpointIds: vpc-123 is not a VPC endpoint ID',
    ],
    ['a zero cache age', { credentialsMaxAgeSeconds: 0 }, 'credentialsMaxAgeSeconds'],
    [
      'an attempt timeout above the deadline',
      { upstream: { attemptTimeoutMs: 11_000, deadlineMs: 10_000 } },
      'upstream.attemptTimeoutMs must not exceed upstream.deadlineMs',
    ],
    [
      'a 5XX rate above 1',
      { alarms: { apiServerErrorRate: 5, apiLatencyP99Ms: 5_000 } },
      'apiServerErrorRate',
    ],
    ['a bad account pin', { env: { account: 'prod', region: 'eu-west-1' } }, 'env.account prod'],
    ['a bad region pin', { env: { account: '123456789012', region: 'europe' } }, 'env.region europe'],
  ];

  it.each(cases)('rejects %s', (_name, override, message) => {
    const config = { ...valid, ...override };
    expect(() => validateStageConfig('dev', config)).toThrow(StageConfigError);
    expect(() => validateStageConfig('dev', config)).toThrow(message);
  });

  it('lists every problem at once, naming the stage', () => {
    const config: StageConfig = { ...valid, alarmEmail: 'nope', vpcEndpointIds: ['nope'] };
    expect(() => validateStageConfig('prod', config)).toThrow(
      /^Invalid configuration for stage prod:\n- alarmEmail nope .*\n- vpcEndpointIds: nope /,
    );
  });

  it('returns a valid configuration unchanged', () => {
    expect(validateStageConfig('dev', valid)).toBe(valid);
  });
});

describe('infra/app.ts', () => {
  const outdir = mkdtempSync(join(tmpdir(), 'infra-app-'));
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  // Runs the CDK app directly (what `cdk synth` starts), with the context the CLI would pass.
  const runApp = (context: Record<string, unknown>) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'infra/app.ts'], {
      cwd: REPO_ROOT,
      env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify(context), CDK_OUTDIR: outdir },
      encoding: 'utf8',
      timeout: 60_000,
    });

  it('fails with a one-line usage error when no stage is given', () => {
    const result = runApp({});
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe('No stage given. Pass -c stage=<stage>, one of: dev, prod.');
  });

  it('fails with a one-line usage error for an unknown stage', () => {
    const result = runApp({ stage: 'staging' });
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe('Unknown stage "staging". Pass -c stage=<stage>, one of: dev, prod.');
  });
});
