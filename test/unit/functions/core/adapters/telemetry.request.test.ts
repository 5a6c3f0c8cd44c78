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
import { apiEvent, CALLER_ARN, type EventOptions, lambdaContext } from '../../../../support/events.ts';

const output = captureOutput();

function request(options: EventOptions): ProxyRequest {
  return {
    event: apiEvent({ omitContentType: true, ...options }),
    context: lambdaContext(),
    response: undefined,
    error: undefined,
    internal: {},
  };
}

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
  ) {
    const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
    const telemetry = requestTelemetry({ logger, metrics, functionVersion: '3' });
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
    // The outcome metric is stored until published, as logMetrics does after the handler.
    metrics.publishStoredMetrics();
    const lines = output.json(from);
    return {
      audit: lines
        .filter((line) => line.message === 'audit')
        .map((line) => line.audit as Record<string, unknown>),
      outcomes: lines.filter((line) => line[METRIC.requestOutcome] !== undefined).map((line) => line.outcome),
      lines,
    };
  }

  it('writes one audit line per write, with names and statuses only', async () => {
    const req = request({ method: 'PATCH', path: '/client', rawBody: '{"name":"x"}', headers: json });
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
    const req = request({ method: 'DELETE', path: '/nowhere' });
    const { audit, outcomes } = await finish(req, 'onError', (state) => {
      state.outcome = 'not-found';
    });
    expect(audit).toMatchObject([{ route: null, method: 'DELETE', resource: null, outcome: 'not-found' }]);
    expect(outcomes).toEqual(['not-found']);
  });

  it('writes no audit line for a read, unless the shared back-off answered it', async () => {
    const read = await finish(request({ method: 'GET', path: '/client' }), 'after', () => undefined);
    expect(read.audit).toEqual([]);
    expect(read.outcomes).toEqual(['success']);
    const backoff = await finish(request({ method: 'GET', path: '/client' }), 'onError', (state) => {
      state.outcome = 'upstream-rate-limited';
      state.budget.answeredFrom = 'backoff';
    });
    expect(backoff.audit).toMatchObject([
      { route: 'GET /client', answeredFrom: 'backoff', upstreamCalls: [] },
    ]);
  });

  it('publishes the upstream latency and the lock wait (their own blob), and the 5xx answer by version', async () => {
    const { lines } = await finish(
      request({ method: 'PUT', path: '/client/secrets', rawBody: '{}', headers: json }),
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
  });
});
