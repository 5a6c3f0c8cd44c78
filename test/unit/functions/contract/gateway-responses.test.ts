/** API Gateway's own answers as problems: one entry per response type, one meaning per slug. */
import { describe, expect, it } from 'vitest';
import {
  GATEWAY_PROBLEMS,
  gatewayProblem,
  gatewayProblemDocument,
  PROBLEM_TYPE_PREFIX,
} from '../../../../functions/contract/gateway-responses.ts';

describe('the gateway problems', () => {
  it('have one entry per response type and one per slug', () => {
    const types = GATEWAY_PROBLEMS.map((problem) => problem.responseType);
    const slugs = GATEWAY_PROBLEMS.map((problem) => problem.slug);
    expect(new Set(types).size).toBe(types.length);
    expect(new Set(slugs).size).toBe(slugs.length);
    for (const slug of slugs) expect(slug).toMatch(/^[a-z]+(-[a-z]+)*$/);
  });

  it.each(GATEWAY_PROBLEMS.map((problem) => [problem.responseType, problem] as const))(
    '%s has a fixed status unless it is a DEFAULT_* type, and a title, detail and when text',
    (responseType, problem) => {
      if (responseType.startsWith('DEFAULT_')) expect(problem.status).toBeUndefined();
      else expect(problem.status !== undefined && problem.status >= 400 && problem.status <= 599).toBe(true);
      for (const text of [problem.title, problem.detail, problem.when]) expect(text.trim()).not.toBe('');
      expect(gatewayProblem(responseType)).toBe(problem);
    },
  );

  it('throws for a response type it does not override', () => {
    expect(() => gatewayProblem('NOPE' as never)).toThrow(/no gateway problem for NOPE/);
  });
});

describe('gatewayProblemDocument', () => {
  it('writes the RFC 9457 document with the request id as instance, status only when fixed', () => {
    for (const problem of GATEWAY_PROBLEMS) {
      const document = gatewayProblemDocument(problem, 'req-9');
      expect(document).toEqual({
        type: `${PROBLEM_TYPE_PREFIX}${problem.slug}`,
        title: problem.title,
        ...(problem.status === undefined ? {} : { status: problem.status }),
        detail: problem.detail,
        instance: 'req-9',
      });
      expect('status' in document).toBe(problem.status !== undefined);
    }
  });
});
