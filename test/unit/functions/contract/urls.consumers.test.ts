/**
 * The URL rule once (functions/contract/urls.ts): the function's configuration (`AFFIX_BASE_URL`), the
 * request schemas (`redirect_uris`, `webhook_uri`) and the caller client's `baseUrl` all ask the same
 * rule, so they agree on the loopback hosts (`[::1]` included) and on https:// everywhere else. The stage
 * files (https only) are checked in test/infra/stage-url-rule.test.ts.
 */
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { createClientConfigClient } from '../../../../clients/index.ts';
import { checkUrl, LOOPBACK_HOSTS } from '../../../../functions/contract/urls.ts';
import { loadConfig } from '../../../../functions/core/adapters/config.ts';
import { RedirectUriSchema, WebhookUriSchema } from '../../../../functions/core/domain/schemas.ts';

const ENV = {
  AFFIX_CLIENT_ID_PARAMETER: '/affix/test/client-id',
  AFFIX_CLIENT_SECRET_PARAMETER: '/affix/test/client-secret',
  ETAG_KEY_PARAMETER: '/affix/test/etag-key',
  STATE_TABLE_NAME: 'state',
};

/** Whether each consumer accepts `url` (as a base URL it is given without a trailing path). */
function verdicts(url: string) {
  return {
    rule: checkUrl(url, { allowLoopbackHttp: true }).ok,
    ruleHttpsOnly: checkUrl(url).ok,
    config: (() => {
      try {
        loadConfig({ ...ENV, AFFIX_BASE_URL: url });
        return true;
      } catch {
        return false;
      }
    })(),
    client: (() => {
      try {
        createClientConfigClient({ baseUrl: url, region: 'us-east-1' });
        return true;
      } catch {
        return false;
      }
    })(),
    redirectUri: v.safeParse(RedirectUriSchema, url).success,
    webhookUri: v.safeParse(WebhookUriSchema, url).success,
  };
}

const ALL = {
  rule: true,
  ruleHttpsOnly: true,
  config: true,
  client: true,
  redirectUri: true,
  webhookUri: true,
};
const LOOPBACK = { ...ALL, ruleHttpsOnly: false, webhookUri: false };
const NONE = {
  rule: false,
  ruleHttpsOnly: false,
  config: false,
  client: false,
  redirectUri: false,
  webhookUri: false,
};

describe('one URL rule for the function, the request schemas and the caller client', () => {
  it('has the literal loopback hosts, [::1] included', () => {
    expect(LOOPBACK_HOSTS).toEqual(['localhost', '127.0.0.1', '[::1]']);
  });

  it.each(['http://[::1]:4010/local', 'http://127.0.0.1:4010/local', 'http://localhost:4010/local'])(
    'accepts plain http:// on the loopback host of %s where loopback is allowed',
    (url) => {
      expect(verdicts(url)).toEqual(LOOPBACK);
    },
  );

  it.each(['https://api.example.com/prod', 'https://[::1]:4010/local', 'https://127.0.0.1/local'])(
    'accepts https:// everywhere: %s',
    (url) => {
      expect(verdicts(url)).toEqual(ALL);
    },
  );

  it.each([
    'http://api.example.com/prod',
    'http://127.0.0.2:4010/local',
    'http://[::2]:4010/local',
    'http://localhost.example.com/local',
    // The same host spelled so that a parser rewrites it: refused, never "probably loopback".
    'http://[0:0:0:0:0:0:0:1]:4010/local',
    'http://127.1:4010/local',
    'http://LOCALHOST:4010/local\\x',
    'ftp://127.0.0.1/local',
  ])('refuses %s everywhere', (url) => {
    expect(verdicts(url)).toEqual(NONE);
  });
});
