/**
 * The pre-traffic check: the synthetic event is what the handler's own routing and caller rules
 * accept as a signed `GET /client`; only a returned 200 succeeds; every verdict is reported.
 */
import { describe, expect, it } from 'vitest';
import { requireCaller, resolveRoute } from '../../../../functions/core/adapters/middlewares.ts';
import {
  type DeployCheckPorts,
  type HookStatus,
  type InvokeAnswer,
  judge,
  type LifecycleHookEvent,
  runDeployCheck,
  syntheticGetClientEvent,
} from '../../../../functions/deploy-check/check.ts';

const HOOK_ROLE = 'arn:aws:iam::123456789012:role/AffixWebhookConfig-prod-DeployCheckRole';
const SETTINGS = {
  targetVersionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:client-config:7',
  callerArn: HOOK_ROLE,
  stage: 'prod',
};
const EVENT: LifecycleHookEvent = { DeploymentId: 'd-ABC123', LifecycleEventHookExecutionId: 'hook-1' };
const NOW = new Date('2026-12-06T12:00:00Z');

function recordingPorts(answer: () => Promise<InvokeAnswer>) {
  const invoked: Array<{ arn: string; payload: string }> = [];
  const reported: Array<{ event: LifecycleHookEvent; status: HookStatus }> = [];
  const ports: DeployCheckPorts = {
    invoke: (arn, payload) => {
      invoked.push({ arn, payload });
      return answer();
    },
    report: async (event, status) => {
      reported.push({ event, status });
    },
  };
  return { ports, invoked, reported };
}

const proxyAnswer = (statusCode: number): InvokeAnswer => ({
  payload: JSON.stringify({ statusCode, headers: {}, body: '{}' }),
});

describe('syntheticGetClientEvent', () => {
  const event = syntheticGetClientEvent(SETTINGS, 'deploy-check-d-ABC123', NOW);

  it("is GET /client for the handler's router, with the hook's role as the IAM caller", () => {
    expect(resolveRoute(event)).toBe('GET /client');
    expect(requireCaller(event)).toBe(HOOK_ROLE);
    expect(event.requestContext.accountId).toBe('123456789012');
    expect(event.requestContext.stage).toBe('prod');
    expect(event.body).toBeNull();
  });
});

describe('judge', () => {
  it.each([
    [proxyAnswer(200), 'Succeeded'],
    [proxyAnswer(503), 'Failed'],
    [proxyAnswer(403), 'Failed'],
    [{ functionError: 'Unhandled', payload: '{"errorType":"Error"}' }, 'Failed'],
    [{ payload: 'not json' }, 'Failed'],
    [{ payload: 'null' }, 'Failed'],
    [{}, 'Failed'],
  ] as Array<[InvokeAnswer, HookStatus]>)('%j -> %s', (answer, status) => {
    expect(judge(answer).status).toBe(status);
  });
});

describe('runDeployCheck', () => {
  it('invokes the target version with the synthetic GET and reports Succeeded on 200', async () => {
    const { ports, invoked, reported } = recordingPorts(async () => proxyAnswer(200));
    const verdict = await runDeployCheck(EVENT, SETTINGS, ports, NOW);
    expect(verdict.status).toBe('Succeeded');
    expect(invoked).toHaveLength(1);
    expect(invoked[0]?.arn).toBe(SETTINGS.targetVersionArn);
    expect(JSON.parse(invoked[0]?.payload ?? '')).toEqual(
      JSON.parse(JSON.stringify(syntheticGetClientEvent(SETTINGS, 'deploy-check-d-ABC123', NOW))),
    );
    expect(reported).toEqual([{ event: EVENT, status: 'Succeeded' }]);
  });

  it('reports Failed when the new version answers a problem (a 503 is no Lambda error)', async () => {
    const { ports, reported } = recordingPorts(async () => proxyAnswer(503));
    expect((await runDeployCheck(EVENT, SETTINGS, ports, NOW)).reason).toBe('GET /client answered 503');
    expect(reported).toEqual([{ event: EVENT, status: 'Failed' }]);
  });

  it('reports Failed when the invoke itself fails (denied, throttled, missing version)', async () => {
    const denied = Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' });
    const { ports, reported } = recordingPorts(() => Promise.reject(denied));
    const verdict = await runDeployCheck(EVENT, SETTINGS, ports, NOW);
    expect(verdict).toEqual({ status: 'Failed', reason: 'invoke failed (AccessDeniedException)' });
    expect(reported).toEqual([{ event: EVENT, status: 'Failed' }]);
  });

  it('throws when the verdict cannot be reported, so the hook run counts as an error', async () => {
    const { ports } = recordingPorts(async () => proxyAnswer(200));
    const failing: DeployCheckPorts = { ...ports, report: () => Promise.reject(new Error('throttled')) };
    await expect(runDeployCheck(EVENT, SETTINGS, failing, NOW)).rejects.toThrow('throttled');
  });
});
