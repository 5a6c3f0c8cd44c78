import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLambdaContext } from '../../../local/lambda-context.ts';

afterEach(() => {
  vi.useRealTimers();
});

describe('createLambdaContext', () => {
  it('counts the remaining time down from the timeout, to 0 and no further', () => {
    vi.useFakeTimers({ now: Date.UTC(2025, 0, 2, 3, 4, 5) });
    const context = createLambdaContext({ requestId: 'abc', timeoutMs: 5_000, functionName: 'fn' });
    expect(context.getRemainingTimeInMillis()).toBe(5_000);
    vi.advanceTimersByTime(60);
    expect(context.getRemainingTimeInMillis()).toBe(4_940);
    vi.advanceTimersByTime(6_000);
    expect(context.getRemainingTimeInMillis()).toBe(0);
    expect(context.logStreamName).toMatch(/^2025\/01\/02\/\[\$LATEST\][0-9a-f]{32}$/);
    expect(context.awsRequestId).toBe('abc');
    expect(context.functionName).toBe('fn');
    expect(context.invokedFunctionArn).toBe('arn:aws:lambda:us-east-1:000000000000:function:fn');
    expect(createLambdaContext({ requestId: 'x', timeoutMs: 0 }).getRemainingTimeInMillis()).toBe(0);
  });

  it('gives every invocation its own request id unless told, and takes the region and account', () => {
    const a = createLambdaContext({ timeoutMs: 1_000 });
    const b = createLambdaContext({ timeoutMs: 1_000, region: 'eu-west-1', accountId: '111122223333' });
    expect(a.awsRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.awsRequestId).not.toBe(b.awsRequestId);
    expect(b.invokedFunctionArn).toBe(
      'arn:aws:lambda:eu-west-1:111122223333:function:affix-webhook-config-local',
    );
    expect(() => a.succeed('x')).toThrow(/not supported locally/);
  });
});
