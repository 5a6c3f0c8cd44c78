/**
 * The per-request telemetry middleware, given a request object as middy would (after the request
 * guard): the audit line for every write attempt, the outcome metric, the upstream latency and lock
 * wait, and the 5xx answer by version. Real Powertools Logger and Metrics, their output captured.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { describe, expect, it } from 'vitest';
import { METRIC, METRICS_NAMESPACE, SERVICE_NAME } from '../../../../../functions/contract/telemetry.ts';
import {
  type ProxyRequest,
  type RequestState,
  requestGuard,
  stateOf,
} from '../../../../../functions/core/adapters/middlewares.ts';
import { requestTelemetry } from '../../../../../functions/core/adapters/telemetry.ts';
import { captureOutput } from '../../../../support/capture.ts';
import { CALLER_ARN, proxyRequest } from '../../../../support/events.ts';

const output = captureOutput();

/** Runs the guard, as middy would before the handler; a refusal is the request's outcome. */
async function guard(req: ProxyRequest): Promise<void> {
  try {
    await requestGuard().before?.(req);
  } catch {
    // The guard's refusals are middlewares.test.ts's; here only the state it set counts.
  }
}

const json = { 'content-type': 'application/json' };

describe('requestTelemetry', () => {
  const logger = new Logger({ serviceName: SERVICE_NAME });

  async function finish(
    req: ProxyRequest,
    outcome: 'after' | 'onError',
    fill: (state: RequestState) => void,
    stream?: { cork(): void; uncork(): void },
  ) {
    const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
    const telemetry = requestTelemetry({
      logger,
      metrics,
      functionVersion: '3',
      ...(stream === undefined ? {} : { output: stream }),
    });
    await telemetry.before?.(req);
    await guard(req);
    fill(stateOf(req.context));
    const from = output.lines.length;
    if (outcome === 'after') {
      req.response = { statusCode: 200, body: '{}' };
      await telemetry.after?.(req);
    } else {
      req.response = { statusCode: 503, body: '{}' };
      await telemetry.onError?.(req);
    }
    // Everything is published by the telemetry itself: nothing is left for a later request.
    const leftStored = metrics.hasStoredMetrics();
    const lines = output.json(from);
    return {
      audit: lines
        .filter((line) => line.message === 'audit')
        .map((line) => line.audit as Record<string, unknown>),
      outcomes: lines.filter((line) => line[METRIC.requestOutcome] !== undefined).map((line) => line.outcome),
      lines,
      leftStored,
    };
  }

  it('writes one audit line per write, with names and statuses only', async () => {
    const req = proxyRequest({ method: 'PATCH', path: '/client', rawBody: '{"name":"x"}', headers: json });
    const { audit } = await finish(req, 'after', (state) => {
      state.requestedFields = ['name'];
      state.changedFields = ['name'];
      state.exchanges.push(
        { method: 'GET', status: 200, latencyMs: 1.26 },
        { method: 'POST', status: 200, latencyMs: 2 },
      );
      state.lockWaitMs = 5;
    });
    expect(audit).toEqual([
      {
        caller: CALLER_ARN,
        route: 'PATCH /client',
        method: 'PATCH',
        resource: '/client',
        outcome: 'success',
        status: 200,
        requestedFields: ['name'],
        changedFields: ['name'],
        upstreamStatus: 200,
        upstreamCalls: [
          { method: 'GET', status: 200, latencyMs: 1.26 },
          { method: 'POST', status: 200, latencyMs: 2 },
        ],
        upstreamLatencyMs: 3.3,
        lockWaitMs: 5,
        answeredFrom: 'affix',
      },
    ]);
  });

  it('audits a refused write too (no route matched, a method that changes things)', async () => {
    const req = proxyRequest({ method: 'DELETE', path: '/nowhere' });
    const { audit, outcomes } = await finish(req, 'onError', (state) => {
      state.outcome = 'not-found';
    });
    expect(audit).toMatchObject([{ route: null, method: 'DELETE', resource: null, outcome: 'not-found' }]);
    expect(outcomes).toEqual(['not-found']);
  });

  it('writes no audit line for a read, unless the shared back-off answered it', async () => {
    const read = await finish(proxyRequest({ method: 'GET', path: '/client' }), 'after', () => undefined);
    expect(read.audit).toEqual([]);
    expect(read.outcomes).toEqual(['success']);
    const backoff = await finish(proxyRequest({ method: 'GET', path: '/client' }), 'onError', (state) => {
      state.outcome = 'upstream-rate-limited';
      state.budget.answeredFrom = 'backoff';
    });
    expect(backoff.audit).toMatchObject([
      { route: 'GET /client', answeredFrom: 'backoff', upstreamCalls: [] },
    ]);
  });

  it('publishes the upstream latency and the lock wait (one blob of the default dimensions), and the 5xx answer by version', async () => {
    const { lines, leftStored } = await finish(
      proxyRequest({ method: 'PUT', path: '/client/secrets', rawBody: '{}', headers: json }),
      'onError',
      (state) => {
        state.outcome = 'write-lock-unavailable';
        state.exchanges.push({ method: 'GET', status: 200, latencyMs: 4 });
        state.lockWaitMs = 7;
      },
    );
    const emf = lines.filter((line) => line._aws !== undefined);
    expect(emf.find((line) => line[METRIC.upstreamLatency] !== undefined)?.[METRIC.upstreamLatency]).toBe(4);
    expect(emf.find((line) => line[METRIC.writeLockWait] !== undefined)?.[METRIC.writeLockWait]).toBe(7);
    expect(emf.some((line) => line[METRIC.serverErrorAnswers] === 1)).toBe(true);
    // The latencies share one blob, with no dimension of the request's (outcome, method, version).
    const latencies = emf.filter((line) => line[METRIC.upstreamLatency] !== undefined);
    expect(latencies).toHaveLength(1);
    expect(latencies[0]?.[METRIC.writeLockWait]).toBe(7);
    expect(
      (latencies[0] as { _aws: { CloudWatchMetrics: { Dimensions: string[][] }[] } })._aws
        .CloudWatchMetrics[0]?.Dimensions,
    ).toEqual([['service']]);
    expect(leftStored).toBe(false);
  });

  it('prints nothing but the outcome for a request that stored no other metric (no empty-metrics warning)', async () => {
    const { lines, leftStored } = await finish(
      proxyRequest({ method: 'GET', path: '/client' }),
      'after',
      () => undefined,
    );
    expect(lines).toHaveLength(1);
    expect(lines[0]?.[METRIC.requestOutcome]).toBe(1);
    expect(leftStored).toBe(false);
  });

  describe('writes a request’s lines corked (one system call for all of them)', () => {
    /** The order of cork, each line written, and uncork. */
    function watch() {
      const events: string[] = [];
      const write = process.stdout.write;
      process.stdout.write = function (this: NodeJS.WriteStream, ...args: unknown[]) {
        events.push('line');
        return (write as (...a: unknown[]) => boolean).apply(this, args);
      } as typeof process.stdout.write;
      return {
        events,
        output: { cork: () => void events.push('cork'), uncork: () => void events.push('uncork') },
        restore: () => {
          process.stdout.write = write;
        },
      };
    }

    const fillWrite = (state: RequestState) => {
      state.requestedFields = ['name'];
      state.changedFields = ['name'];
      state.exchanges.push(
        { method: 'GET', status: 200, latencyMs: 1 },
        { method: 'POST', status: 200, latencyMs: 2 },
      );
      state.lockWaitMs = 5;
    };

    it('every line of a PATCH between one cork and one uncork', async () => {
      const watched = watch();
      try {
        const req = proxyRequest({
          method: 'PATCH',
          path: '/client',
          rawBody: '{"name":"x"}',
          headers: json,
        });
        const { lines } = await finish(req, 'after', fillWrite, watched.output);
        // The outcome, two Affix requests, the audit line, the latencies' blob.
        expect(lines).toHaveLength(5);
        expect(watched.events).toEqual(['cork', ...lines.map(() => 'line'), 'uncork']);
      } finally {
        watched.restore();
      }
    });

    it('uncorks, and leaves nothing stored, when writing a line fails', async () => {
      const watched = watch();
      const failing = new Logger({ serviceName: SERVICE_NAME });
      failing.info = () => {
        throw new Error('the log line could not be written');
      };
      const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
      const telemetry = requestTelemetry({ logger: failing, metrics, output: watched.output });
      try {
        const req = proxyRequest({
          method: 'PATCH',
          path: '/client',
          rawBody: '{"name":"x"}',
          headers: json,
        });
        await guard(req);
        fillWrite(stateOf(req.context));
        req.response = { statusCode: 200, body: '{}' };
        expect(() => telemetry.after?.(req)).toThrow('the log line could not be written');
        expect(watched.events.at(0)).toBe('cork');
        expect(watched.events.at(-1)).toBe('uncork');
        expect(metrics.hasStoredMetrics()).toBe(false);
      } finally {
        watched.restore();
      }
    });
  });
});
