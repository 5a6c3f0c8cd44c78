/** What may be logged of an AWS SDK failure: its name and HTTP status, never its message. */
import { describe, expect, it } from 'vitest';
import { describeFailure } from '../../../../../functions/core/app/failure-summary.ts';

describe('describeFailure', () => {
  it('keeps the error’s name and HTTP status, and drops its message', () => {
    const error = Object.assign(new Error('The value secret-AAAA was refused'), {
      name: 'ValidationException',
      $metadata: { httpStatusCode: 400 },
    });
    const described = describeFailure(error);
    expect(described).toEqual({ error: 'ValidationException', status: 400 });
    expect(JSON.stringify(described)).not.toContain('secret-AAAA');
  });

  it('leaves out a status that is missing or not a number', () => {
    expect(describeFailure(new TypeError('fetch failed'))).toEqual({ error: 'TypeError' });
    expect(describeFailure(Object.assign(new Error('x'), { $metadata: { httpStatusCode: '500' } }))).toEqual({
      error: 'Error',
    });
  });

  it('names only the type of something thrown that is not an Error', () => {
    expect(describeFailure('secret-AAAA')).toEqual({ error: 'string' });
    expect(describeFailure(undefined)).toEqual({ error: 'undefined' });
    expect(describeFailure({ message: 'secret-AAAA' })).toEqual({ error: 'object' });
  });
});
