/**
 * The environment `npm start` and the tests hand the client-config handler, alone: what the handler's
 * own configuration parsers make of it, the local parameter names, and fake AWS credentials only.
 */
import { describe, expect, it } from 'vitest';
import { LOCAL_DESTINATION_POLICY } from '../../../functions/contract/destination-policy.ts';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../../functions/contract/telemetry.ts';
import { loadConfig } from '../../../functions/core/adapters/config.ts';
import { loadDestinationPolicy } from '../../../functions/core/domain/client-state.ts';
import {
  DEFAULT_CLIENT_ID_PARAMETER,
  DEFAULT_CLIENT_SECRET_PARAMETER,
  DEFAULT_ETAG_KEY_PARAMETER,
  localHandlerEnv,
} from '../../../local/handler-env.ts';

const URLS = {
  affixBaseUrl: 'http://127.0.0.1:4010',
  ssmUrl: 'http://127.0.0.1:4011',
  dynamodbUrl: 'http://127.0.0.1:4012',
  stateTableName: 'local-state',
};

describe('localHandlerEnv', () => {
  it("is a configuration the handler's own parser accepts, wired to the given stand-ins", () => {
    const config = loadConfig(localHandlerEnv(URLS));
    expect(config).toMatchObject({
      affixBaseUrl: URLS.affixBaseUrl,
      clientIdParameter: DEFAULT_CLIENT_ID_PARAMETER,
      clientSecretParameter: DEFAULT_CLIENT_SECRET_PARAMETER,
      etagKeyParameter: DEFAULT_ETAG_KEY_PARAMETER,
      stateTableName: URLS.stateTableName,
      stage: 'local',
    });
    expect(loadDestinationPolicy(localHandlerEnv(URLS))).toEqual(LOCAL_DESTINATION_POLICY);
  });

  it('points the AWS SDK at the local SSM endpoint and DynamoDB engine, with fake credentials', () => {
    const env = localHandlerEnv(URLS);
    expect(env).toMatchObject({
      AWS_ENDPOINT_URL_SSM: URLS.ssmUrl,
      AWS_ENDPOINT_URL_DYNAMODB: URLS.dynamodbUrl,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
    });
    expect(env).not.toHaveProperty('AWS_SESSION_TOKEN');
  });

  it('uses the parameter names given instead of the local defaults', () => {
    const env = localHandlerEnv({
      ...URLS,
      clientIdParameter: '/other/id',
      clientSecretParameter: '/other/secret',
      etagKeyParameter: '/other/etag',
    });
    expect(loadConfig(env)).toMatchObject({
      clientIdParameter: '/other/id',
      clientSecretParameter: '/other/secret',
      etagKeyParameter: '/other/etag',
    });
  });

  it('names three distinct default parameters (the ETag key may not double as a credential)', () => {
    expect(
      new Set([DEFAULT_CLIENT_ID_PARAMETER, DEFAULT_CLIENT_SECRET_PARAMETER, DEFAULT_ETAG_KEY_PARAMETER])
        .size,
    ).toBe(3);
    expect(() =>
      loadConfig(localHandlerEnv({ ...URLS, etagKeyParameter: DEFAULT_CLIENT_SECRET_PARAMETER })),
    ).toThrow(/ETAG_KEY_PARAMETER/);
  });

  it('returns strings only, a fresh object per call', () => {
    const first = localHandlerEnv(URLS);
    expect(Object.values(first).every((value) => typeof value === 'string')).toBe(true);
    first.AFFIX_BASE_URL = 'changed';
    expect(localHandlerEnv(URLS).AFFIX_BASE_URL).toBe(URLS.affixBaseUrl);
  });
});
