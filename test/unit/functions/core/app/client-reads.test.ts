/**
 * `GET /client` over the shared view: fresh views answer without Affix, misses share one read per
 * container, `no-cache` always asks, and a spent readers' share answers from the view, saying so.
 * The state is a plain function here; the clock is injected.
 */
import { describe, expect, it } from 'vitest';
import { BUDGET_HEADER, READS_EXHAUSTED } from '../../../../../functions/contract/headers.ts';
import {
  createClientReads,
  type ReadResult,
  UNCACHED_READS,
} from '../../../../../functions/core/app/client-reads.ts';
import { createDeadline } from '../../../../../functions/core/app/deadline.ts';
import { ReadsExhaustedError } from '../../../../../functions/core/app/shared-state.ts';
import { computeEtag, toPublicClient } from '../../../../../functions/core/domain/client-state.ts';
import {
  EMPTY_STATE,
  type SharedState,
  type StateView,
} from '../../../../../functions/core/domain/state-item.ts';
import type { CallContext } from '../../../../../functions/core/ports.ts';
import { ETAG_KEY, parsedClient, SECRET_A } from '../../../../support/affix-fixtures.ts';

const NOW = 1_750_000_000_000;
const client = parsedClient();
const etag = computeEtag(client, ETAG_KEY);
const fresh: ReadResult = { client: { ...client, name: 'From Affix' }, etag: '"fromaffix"' };
const view = (ageMs: number): StateView => ({ client: toPublicClient(client), etag, readAtMs: NOW - ageMs });
const call = (): CallContext => ({ deadline: createDeadline(10_000, () => 0), budget: {} });

function setup(state: SharedState, maxAgeSeconds = 30) {
  const loads: CallContext[] = [];
  let answer: () => Promise<ReadResult> = async () => fresh;
  const reads = createClientReads({ state: async () => state, maxAgeSeconds, now: () => NOW });
  const load = (c: CallContext) => {
    loads.push(c);
    return answer();
  };
  return {
    reads,
    load,
    loads,
    answerWith: (next: () => Promise<ReadResult>) => {
      answer = next;
    },
  };
}

describe('createClientReads', () => {
  it('answers a fresh view without Affix, with its age and the cache window', async () => {
    const { reads, load, loads } = setup({ ...EMPTY_STATE, view: view(12_500) });
    const c = call();
    const read = await reads.read(c, load, { noCache: false });
    expect(read).toEqual({
      client: toPublicClient(client),
      etag,
      headers: { 'cache-control': 'private, max-age=30', age: '12' },
    });
    expect(loads).toHaveLength(0);
    expect(c.budget).toEqual({ cacheHit: true, answeredFrom: 'cache' });
  });

  it('asks Affix once the view is as old as the window, and answers masked, aged 0', async () => {
    const { reads, load, loads } = setup({ ...EMPTY_STATE, view: view(30_000) });
    const c = call();
    const read = await reads.read(c, load, { noCache: false });
    expect(loads).toEqual([c]);
    expect(read.client).toEqual(toPublicClient(fresh.client));
    expect(JSON.stringify(read)).not.toContain(SECRET_A);
    expect(read.headers).toEqual({ 'cache-control': 'private, max-age=30', age: '0' });
    expect(c.budget).toEqual({ cacheHit: false, answeredFrom: 'affix' });
  });

  it('always asks Affix for no-cache, even with a fresh view', async () => {
    const { reads, load, loads } = setup({ ...EMPTY_STATE, view: view(0) });
    await reads.read(call(), load, { noCache: true });
    await reads.read(call(), load, { noCache: true });
    expect(loads).toHaveLength(2);
  });

  it('lets concurrent misses share one Affix read, and the next miss read again', async () => {
    const { reads, load, loads, answerWith } = setup(EMPTY_STATE);
    let finish: () => void = () => undefined;
    answerWith(() => new Promise((resolve) => (finish = () => resolve(fresh))));
    const first = reads.read(call(), load, { noCache: false });
    const second = reads.read(call(), load, { noCache: false });
    await new Promise((resolve) => setImmediate(resolve));
    finish();
    expect((await first).etag).toBe(fresh.etag);
    expect((await second).etag).toBe(fresh.etag);
    expect(loads).toHaveLength(1);
    answerWith(async () => fresh);
    await reads.read(call(), load, { noCache: false });
    expect(loads).toHaveLength(2);
  });

  it('does not keep a failed read for the next request', async () => {
    const { reads, load, loads, answerWith } = setup(EMPTY_STATE);
    answerWith(() => Promise.reject(new Error('Affix down')));
    await expect(reads.read(call(), load, { noCache: false })).rejects.toThrow('Affix down');
    answerWith(async () => fresh);
    await expect(reads.read(call(), load, { noCache: false })).resolves.toMatchObject({ etag: fresh.etag });
    expect(loads).toHaveLength(2);
  });

  it('answers a stale view when the readers’ share is spent: its real age, the budget header, no caching', async () => {
    const { reads, load, answerWith } = setup({ ...EMPTY_STATE, view: view(95_000) });
    answerWith(() => Promise.reject(new ReadsExhaustedError(40)));
    const c = call();
    const read = await reads.read(c, load, { noCache: false });
    expect(read.etag).toBe(etag);
    expect(read.headers).toEqual({ age: '95', [BUDGET_HEADER]: READS_EXHAUSTED });
    expect(c.budget?.answeredFrom).toBe('cache');
  });

  it('passes the refusal on when there is no view to answer with, and any other failure', async () => {
    const { reads, load, answerWith } = setup(EMPTY_STATE);
    const spent = new ReadsExhaustedError(40);
    answerWith(() => Promise.reject(spent));
    await expect(reads.read(call(), load, { noCache: false })).rejects.toBe(spent);
    const withView = setup({ ...EMPTY_STATE, view: view(95_000) });
    withView.answerWith(() => Promise.reject(new Error('Affix down')));
    await expect(withView.reads.read(call(), withView.load, { noCache: false })).rejects.toThrow(
      'Affix down',
    );
  });

  it('with the cache off (max age 0) asks Affix every time and sends no caching headers', async () => {
    const { reads, load, loads } = setup({ ...EMPTY_STATE, view: view(0) }, 0);
    const c = call();
    const read = await reads.read(c, load, { noCache: false });
    expect(loads).toHaveLength(1);
    expect(read.headers).toEqual({});
    expect(c.budget).toEqual({ answeredFrom: 'affix' });
  });
});

describe('UNCACHED_READS', () => {
  it('reads Affix every time and answers masked, without caching headers', async () => {
    const loads: CallContext[] = [];
    const load = async (c: CallContext) => {
      loads.push(c);
      return fresh;
    };
    const read = await UNCACHED_READS.read(call(), load, { noCache: false });
    await UNCACHED_READS.read(call(), load, { noCache: false });
    expect(loads).toHaveLength(2);
    expect(read).toEqual({ client: toPublicClient(fresh.client), etag: fresh.etag, headers: {} });
  });
});
