/**
 * The pre-traffic check against the proxy's real middy chain (the in-process Affix sandbox behind the
 * real Affix HTTP client): the event the hook sends is one the handler answers 200, as its own
 * caller, so a healthy release passes; a release whose `GET /client` answers a problem document (a
 * 502 from Affix's failure, not a Lambda error) fails the deployment.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createCredentialsCache } from '../../../../functions/core/app/credentials.ts';
import {
  type DeployCheckPorts,
  type HookStatus,
  type LifecycleHookEvent,
  runDeployCheck,
} from '../../../../functions/deploy-check/check.ts';
import { createAffixSandbox } from '../../../../local/affix-sandbox.ts';
import { CLIENT_ID, ETAG_KEY, initialClient, SECRET_A } from '../../../support/affix-fixtures.ts';
import { captureOutput } from '../../../support/capture.ts';
import { chainOverFetch } from '../../../support/chain-over-fetch.ts';
import { lambdaContext } from '../../../support/events.ts';

captureOutput();

const SETTINGS = {
  targetVersionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:client-config:7',
  callerArn: 'arn:aws:iam::123456789012:role/AffixWebhookConfig-prod-DeployCheckRole',
  stage: 'prod',
};
const EVENT: LifecycleHookEvent = { DeploymentId: 'd-ABC123', LifecycleEventHookExecutionId: 'hook-1' };
const NOW = new Date('2026-12-06T12:00:00Z');

/** The hook's ports over the real chain: `invoke` runs the handler on the payload, as Lambda would. */
function overRealChain() {
  const affix = createAffixSandbox({ client: initialClient() });
  const credentials = createCredentialsCache({
    maxAgeMs: 300_000,
    load: async () => ({ clientId: CLIENT_ID, clientSecret: SECRET_A, etagKey: ETAG_KEY }),
  });
  const handler = chainOverFetch({ credentials, fetch: affix.fetch });
  const reported: HookStatus[] = [];
  const ports: DeployCheckPorts = {
    invoke: async (_arn, payload) => ({
      payload: JSON.stringify(await handler(JSON.parse(payload) as APIGatewayProxyEvent, lambdaContext())),
    }),
    report: async (_event, status) => {
      reported.push(status);
    },
  };
  return { affix, ports, reported };
}

describe('the pre-traffic check over the real handler chain', () => {
  it('succeeds: the synthetic GET /client is answered 200 after one Affix read', async () => {
    const { affix, ports, reported } = overRealChain();
    const verdict = await runDeployCheck(EVENT, SETTINGS, ports, NOW);
    expect(verdict).toEqual({ status: 'Succeeded', reason: 'GET /client answered 200' });
    expect(reported).toEqual(['Succeeded']);
    expect(affix.requests.map((request) => request.method)).toEqual(['GET']);
  });

  it('fails the deployment when the new version answers a problem document instead', async () => {
    const { affix, ports, reported } = overRealChain();
    affix.injectFault({ kind: 'status', status: 500 });
    const verdict = await runDeployCheck(EVENT, SETTINGS, ports, NOW);
    expect(verdict.status).toBe('Failed');
    expect(verdict.reason).toMatch(/^GET \/client answered 5\d\d$/);
    expect(reported).toEqual(['Failed']);
  });
});
