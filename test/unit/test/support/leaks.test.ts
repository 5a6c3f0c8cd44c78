import { describe, expect, it } from 'vitest';
import { CLIENT_ID, SECRET_A, SECRET_B } from '../../../support/affix-fixtures.ts';
import { findLeaks, leakCorpus } from '../../../support/leaks.ts';

/**
 * Ordinary log text, long enough that `findLeaks` searches it in one pass rather than one search per
 * needle; not JSON as a whole, so it is searched as one text.
 */
const largeText = (tail: string) =>
  Array.from(
    { length: 2_000 },
    (_, line) => `line ${line}: round ${line % 50} PATCH /client 200 in ${line % 97} ms; ${tail}`,
  ).join('\n');
const LARGE_CLEAN_TEXT = largeText('nothing to see');
/** Holds both ends of SECRET_A apart (`secret-A`, `-initial`), so the split search runs over it. */
const LARGE_TEXT_WITH_ENDS = largeText('secret-AAAA rotated, -initial kept');

const formsFound = (texts: string[], secret: string) =>
  findLeaks(texts, [secret], CLIENT_ID).map((leak) => leak.form);

describe('findLeaks over a large corpus', () => {
  it('is long enough to take the one-pass search', () => {
    expect(LARGE_CLEAN_TEXT.length).toBeGreaterThan(100_000);
    expect(LARGE_TEXT_WITH_ENDS.length).toBeGreaterThan(100_000);
  });

  it('finds nothing in clean text that holds both ends of a secret apart', () => {
    expect(findLeaks([LARGE_TEXT_WITH_ENDS], [SECRET_A, SECRET_B], CLIENT_ID)).toEqual([]);
  });

  it('finds every form of the leak corpus inside a large corpus, as it does in the corpus alone', () => {
    for (const secret of [SECRET_A, SECRET_B]) {
      const texts = leakCorpus(secret, CLIENT_ID).map(({ body }) => JSON.stringify(body));
      const alone = formsFound(texts, secret);
      expect(alone.length).toBeGreaterThan(20);
      expect(formsFound([LARGE_CLEAN_TEXT, ...texts], secret)).toEqual(alone);
    }
  });
});
