/**
 * The local stack's default limits are the deployed ones: the function timeout of the client-config
 * function, and API Gateway's integration timeout (the stack's Lambda integrations set none, so
 * 29 s applies). Synthesizes the basic fixture stage once, without bundling.
 */
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_CONFIG_TIMEOUT } from '../../infra/service.ts';
import { API_GATEWAY_INTEGRATION_TIMEOUT_MS } from '../../local/api-gateway.ts';
import { DEFAULT_FUNCTION_TIMEOUT_MS } from '../../local/lambda-protocol.ts';
import { buildStack } from './fixtures.ts';

describe('local defaults mirror the deployment', () => {
  it('the function timeout is the deployed one', () => {
    expect(DEFAULT_FUNCTION_TIMEOUT_MS).toBe(CLIENT_CONFIG_TIMEOUT.toMilliseconds());
  });

  // The first synthesis in a worker loads CDK's template validation: a hook's time, not a test's.
  let template: Template;
  beforeAll(() => {
    template = buildStack().template;
  });

  it("every method's Lambda integration keeps API Gateway's default integration timeout, 29 s", () => {
    expect(API_GATEWAY_INTEGRATION_TIMEOUT_MS).toBe(29_000);
    const methods = template.findResources('AWS::ApiGateway::Method', {
      Properties: { Integration: Match.objectLike({ Type: 'AWS_PROXY' }) },
    });
    expect(Object.keys(methods).length).toBeGreaterThan(0);
    for (const method of Object.values(methods)) {
      const integration = (method as { Properties: { Integration: { TimeoutInMillis?: number } } }).Properties
        .Integration;
      expect(integration.TimeoutInMillis ?? API_GATEWAY_INTEGRATION_TIMEOUT_MS).toBe(
        API_GATEWAY_INTEGRATION_TIMEOUT_MS,
      );
    }
  });
});
