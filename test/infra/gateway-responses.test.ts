/** The Gateway Response templates: our problem documents, safe for API Gateway's substitution. */
import { describe, expect, it } from 'vitest';
import { GATEWAY_PROBLEMS, gatewayProblem } from '../../functions/contract/gateway-responses.ts';
import { GatewayResponseError, gatewayResponseTemplate } from '../../infra/gateway-responses.ts';

describe('gatewayResponseTemplate', () => {
  it.each(GATEWAY_PROBLEMS.map((problem) => [problem.responseType, problem] as const))(
    '%s: valid JSON once $context.requestId is substituted, with the placeholder only as instance',
    (_type, problem) => {
      const template = gatewayResponseTemplate(problem);
      expect(template.split('$').length - 1).toBe(1);
      const document = JSON.parse(template.replace('$context.requestId', 'req-1')) as Record<string, unknown>;
      expect(document.instance).toBe('req-1');
      expect(document.type).toBe(`urn:affix-webhook-config:problem:${problem.slug}`);
    },
  );

  it('refuses problem text with a "$", which API Gateway would read as a variable', () => {
    const problem = { ...gatewayProblem('THROTTLED'), detail: 'Costs $context.identity.sourceIp' };
    expect(() => gatewayResponseTemplate(problem)).toThrow(GatewayResponseError);
  });
});
