/**
 * The local API's access log alone: one entry when the answer finishes, with the route key, the facts
 * set while handling, and ids and numbers only. Fakes stand in for the request and response; fake
 * timers drive `performance.now()`, so the latency is exact.
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type AccessEntry, trackAccess } from '../../../local/access-log.ts';
import { ENVIRONMENT_ID_HEADER } from '../../../local/lambda-pool.ts';

afterEach(() => {
  vi.useRealTimers();
});

/** The parts of a `ServerResponse` the log reads: its status, its headers, its `finish` event. */
class FinishingResponse extends EventEmitter {
  statusCode = 200;
  readonly headers = new Map<string, unknown>();
  getHeader(name: string): unknown {
    return this.headers.get(name);
  }
  finish(status: number): void {
    this.statusCode = status;
    this.emit('finish');
  }
}

function track(method: string | undefined, url: string | undefined) {
  const req = { method, url } as IncomingMessage;
  const res = new FinishingResponse();
  const entries: AccessEntry[] = [];
  const facts = trackAccess(req, res as unknown as ServerResponse, 'req-1', (entry) => entries.push(entry));
  return { res, entries, facts };
}

describe('trackAccess', () => {
  it('reports one entry when the answer finishes, with the facts learnt meanwhile', () => {
    vi.useFakeTimers();
    const { res, entries, facts } = track('PATCH', '/client?dry=1');
    facts.caller = 'arn:aws:sts::000000000000:assumed-role/local-writer/local';
    facts.outcome = 'precondition-failed';
    res.headers.set(ENVIRONMENT_ID_HEADER, 'env-3');
    vi.advanceTimersByTime(42);
    expect(entries).toEqual([]);
    res.finish(412);
    res.emit('finish');
    expect(entries).toEqual([
      {
        requestId: 'req-1',
        method: 'PATCH',
        path: '/client',
        route: 'PATCH /client',
        status: 412,
        latencyMs: 42,
        outcome: 'precondition-failed',
        caller: 'arn:aws:sts::000000000000:assumed-role/local-writer/local',
        environmentId: 'env-3',
      },
    ]);
  });

  it('names no route for an unknown path or method, and the outcome http-<status> when unset', () => {
    const unknownPath = track('GET', '/nowhere');
    unknownPath.res.finish(403);
    expect(unknownPath.entries[0]).toMatchObject({
      route: null,
      outcome: 'http-403',
      caller: null,
      environmentId: null,
    });
    const unknownMethod = track('DELETE', '/client');
    unknownMethod.res.finish(403);
    expect(unknownMethod.entries[0]?.route).toBeNull();
  });

  it("maps a trailing slash to the route's resource, as API Gateway does", () => {
    const { res, entries } = track('GET', '/client/');
    res.finish(200);
    expect(entries[0]).toMatchObject({ path: '/client/', route: 'GET /client' });
  });

  it('defaults a request without method or url to GET /', () => {
    const { res, entries } = track(undefined, undefined);
    res.finish(403);
    expect(entries[0]).toMatchObject({ method: 'GET', path: '/', route: null });
  });

  it('never copies a header value or the query into the entry', () => {
    const { res, entries } = track('GET', '/client?token=hunter2');
    res.headers.set('authorization', 'AWS4-HMAC-SHA256 Credential=local-reader/...');
    res.finish(200);
    expect(JSON.stringify(entries)).not.toMatch(/hunter2|AWS4-HMAC/);
  });

  it('ignores an environment id that is not a single string', () => {
    const { res, entries } = track('GET', '/client');
    res.headers.set(ENVIRONMENT_ID_HEADER, ['a', 'b']);
    res.finish(200);
    expect(entries[0]?.environmentId).toBeNull();
  });

  it('listens for nothing without a consumer, but still hands back facts to set', () => {
    const res = new FinishingResponse();
    const facts = trackAccess(
      { method: 'GET', url: '/client' } as IncomingMessage,
      res as unknown as ServerResponse,
      'r',
      undefined,
    );
    expect(facts).toEqual({ caller: null, outcome: undefined });
    expect(res.listenerCount('finish')).toBe(0);
  });
});
