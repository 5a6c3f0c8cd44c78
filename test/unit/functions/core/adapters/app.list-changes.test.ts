/**
 * `GET /client/changes` through the real middy chain with an in-memory journal port: the page as JSON
 * with `Cache-Control: no-store`, no Affix or SSM call, no audit line (a read), the outcome metric;
 * query problems and the port's `invalid-cursor` as RFC 9457 problems; an unwired journal is a 500,
 * not an empty list; an entry with an unmasked secret is left out and logged by request id only.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { describe, expect, it } from 'vitest';
import { createHandler } from '../../../../../functions/core/adapters/app.ts';
import type { ChangeEntry } from '../../../../../functions/core/domain/change-journal.ts';
import { ProblemError } from '../../../../../functions/core/domain/problems.ts';
import type { ChangeJournalReader, Ports } from '../../../../../functions/core/ports.ts';
import { captureOutput } from '../../../../support/capture.ts';
import { apiEvent, lambdaContext } from '../../../../support/events.ts';
import { createInMemoryWriteLock } from '../../../../support/in-memory-write-lock.ts';

const output = captureOutput();
const RAW = 'sandbox-secret-qqqqqqqqqqqqqqqq';

function entry(id: string, secrets: string[] = ['****aaaa']): ChangeEntry {
  return {
    at: '2026-12-06T20:00:00.000Z',
    actor: 'rotation',
    request_id: id,
    fields: [{ field: 'client_secret', before: ['****aaaa'], after: secrets }],
    etag_before: null,
    etag_after: '"e"',
  };
}

function harness(journal?: ChangeJournalReader) {
  const calls: string[] = [];
  const refuse = (what: string) => () => {
    calls.push(what);
    return Promise.reject(new Error(`${what} must not be called`));
  };
  const ports: Ports = {
    affix: { getClient: refuse('affix'), replaceClient: refuse('affix') },
    credentials: { get: refuse('credentials'), refresh: refuse('credentials') },
    writeLock: createInMemoryWriteLock(),
  };
  const handler = createHandler({
    config: { upstreamDeadlineMs: 2_000, deadlineSafetyMarginMs: 100 },
    ports,
    ...(journal === undefined ? {} : { journal }),
    logger: new Logger({ serviceName: 'affix-webhook-config' }),
    metrics: new Metrics({ namespace: 'AffixWebhookConfig', serviceName: 'affix-webhook-config' }),
  });
  const get = async (path: string) => {
    const result = await handler(apiEvent({ method: 'GET', path }), lambdaContext());
    return { ...result, json: JSON.parse(result.body) as Record<string, unknown> };
  };
  return { calls, get };
}

function recordingJournal(page: { entries: ChangeEntry[]; nextCursor?: string }) {
  const queries: unknown[] = [];
  const journal: ChangeJournalReader = {
    list: async (query) => {
      queries.push(query);
      if (query.cursor === 'forged') throw new ProblemError('invalid-cursor', 'not ours');
      return page;
    },
  };
  return { journal, queries };
}

describe('GET /client/changes through the chain', () => {
  it('answers the page, no-store, without Affix, SSM or an audit line, and counts the outcome', async () => {
    const { journal, queries } = recordingJournal({ entries: [entry('r2'), entry('r1')], nextCursor: 'c2' });
    const { calls, get } = harness(journal);
    const from = output.lines.length;
    const answer = await get('/client/changes?limit=2&cursor=c1&unknown=1');
    expect(answer.statusCode, answer.body).toBe(200);
    expect(answer.headers?.['cache-control']).toBe('no-store');
    expect(answer.headers?.['content-type']).toBe('application/json; charset=utf-8');
    expect(answer.json).toEqual({ changes: [entry('r2'), entry('r1')], next_cursor: 'c2' });
    expect(queries).toEqual([{ limit: 2, cursor: 'c1' }]);
    expect(calls).toEqual([]);
    const lines = output.json(from);
    expect(lines.filter((line) => line.message === 'audit')).toEqual([]);
    expect(lines.some((line) => line.RequestOutcome === 1 && line.outcome === 'success')).toBe(true);
  });

  it('asks for 20 by default', async () => {
    const { journal, queries } = recordingJournal({ entries: [] });
    expect((await harness(journal).get('/client/changes')).json).toEqual({ changes: [] });
    expect(queries).toEqual([{ limit: 20, cursor: undefined }]);
  });

  it('answers a bad limit with validation-failed naming it, before the journal', async () => {
    const { journal, queries } = recordingJournal({ entries: [] });
    const answer = await harness(journal).get('/client/changes?limit=500');
    expect(answer.statusCode).toBe(400);
    expect(answer.headers?.['content-type']).toBe('application/problem+json');
    expect(answer.json).toMatchObject({
      type: 'urn:affix-webhook-config:problem:validation-failed',
      title: 'Request failed validation',
      errors: [{ pointer: '/limit', detail: 'must be an integer from 1 to 100' }],
    });
    expect(queries).toEqual([]);
  });

  it("passes the journal's invalid-cursor on as a 400 problem", async () => {
    const { journal } = recordingJournal({ entries: [] });
    const answer = await harness(journal).get('/client/changes?cursor=forged');
    expect(answer.statusCode).toBe(400);
    expect(answer.json.type).toBe('urn:affix-webhook-config:problem:invalid-cursor');
  });

  it('answers 500 internal without a journal: no journal is not an empty one', async () => {
    const answer = await harness().get('/client/changes');
    expect(answer.statusCode).toBe(500);
    expect(answer.json.type).toBe('urn:affix-webhook-config:problem:internal');
  });

  it('leaves out an entry with an unmasked secret and logs its request id, never the secret', async () => {
    const { journal } = recordingJournal({ entries: [entry('ok'), entry('leak', ['****aaaa', RAW])] });
    const from = output.lines.length;
    const answer = await harness(journal).get('/client/changes');
    expect(answer.json).toEqual({ changes: [entry('ok')] });
    const logged = output.lines.slice(from).join('\n');
    expect(logged).toContain('"refused":"leak"');
    expect(logged).not.toContain(RAW);
    expect(answer.body).not.toContain(RAW);
  });
});
