/**
 * The query of `GET /client/changes`: defaults, the accepted range, and a `validation-failed` problem
 * naming each parameter that is invalid or repeated; other parameters are ignored.
 */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_CHANGES_LIMIT,
  MAX_CHANGES_LIMIT,
  parseChangesQuery,
} from '../../../../../functions/core/adapters/changes-query.ts';
import { MAX_CURSOR_LENGTH } from '../../../../../functions/core/domain/journal-cursor.ts';
import { ProblemError } from '../../../../../functions/core/domain/problems.ts';

/** The event's two query maps, as API Gateway fills them (the single map keeps the last value). */
function query(pairs: [string, string][] | null) {
  if (pairs === null) return { queryStringParameters: null, multiValueQueryStringParameters: null };
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const [name, value] of pairs) {
    single[name] = value;
    multi[name] = [...(multi[name] ?? []), value];
  }
  return { queryStringParameters: single, multiValueQueryStringParameters: multi };
}

function problemOf(run: () => unknown): ProblemError {
  try {
    run();
  } catch (error) {
    if (error instanceof ProblemError) return error;
    throw error;
  }
  throw new Error('no problem was thrown');
}

describe('parseChangesQuery', () => {
  it('defaults the limit and leaves the cursor out', () => {
    expect(parseChangesQuery(query(null))).toEqual({ limit: DEFAULT_CHANGES_LIMIT, cursor: undefined });
    expect(DEFAULT_CHANGES_LIMIT).toBe(20);
  });

  it('takes 1 to 100 and a cursor up to the limit', () => {
    expect(parseChangesQuery(query([['limit', '1']])).limit).toBe(1);
    expect(parseChangesQuery(query([['limit', '100']])).limit).toBe(MAX_CHANGES_LIMIT);
    expect(parseChangesQuery(query([['limit', '007']])).limit).toBe(7);
    const cursor = 'A'.repeat(MAX_CURSOR_LENGTH);
    expect(parseChangesQuery(query([['cursor', cursor]]))).toEqual({ limit: 20, cursor });
  });

  it('ignores parameters it does not know, as every route does', () => {
    expect(
      parseChangesQuery(
        query([
          ['page', '2'],
          ['Limit', 'x'],
          ['limit', '5'],
        ]),
      ),
    ).toEqual({
      limit: 5,
      cursor: undefined,
    });
  });

  it.each(['0', '101', '1000', '-1', '+5', '1.5', '1e1', ' 5', '5 ', '0x10', '', 'ten', '١٢'])(
    'refuses limit=%j with validation-failed at /limit',
    (limit) => {
      const problem = problemOf(() => parseChangesQuery(query([['limit', limit]])));
      expect(problem.slug).toBe('validation-failed');
      expect(problem.status).toBe(400);
      expect(problem.message).toContain('limit');
      expect(problem.errors).toEqual([{ pointer: '/limit', detail: 'must be an integer from 1 to 100' }]);
    },
  );

  it('refuses an empty or too long cursor, naming it', () => {
    for (const cursor of ['', 'A'.repeat(MAX_CURSOR_LENGTH + 1)]) {
      const problem = problemOf(() => parseChangesQuery(query([['cursor', cursor]])));
      expect(problem.slug).toBe('validation-failed');
      expect(problem.errors?.map((error) => error.pointer)).toEqual(['/cursor']);
    }
  });

  it('refuses a parameter given twice (the single map would keep only the last)', () => {
    const problem = problemOf(() =>
      parseChangesQuery(
        query([
          ['limit', '5'],
          ['limit', '500'],
          ['cursor', 'a'],
          ['cursor', 'b'],
        ]),
      ),
    );
    expect(problem.slug).toBe('validation-failed');
    expect(problem.errors).toEqual([
      { pointer: '/limit', detail: 'must be given at most once' },
      { pointer: '/cursor', detail: 'must be given at most once' },
    ]);
  });

  it('lists every bad parameter at once', () => {
    const problem = problemOf(() =>
      parseChangesQuery(
        query([
          ['limit', '0'],
          ['cursor', ''],
        ]),
      ),
    );
    expect(problem.errors?.map((error) => error.pointer)).toEqual(['/limit', '/cursor']);
    expect(problem.message).toBe('Invalid query parameter(s): limit, cursor.');
  });
});
