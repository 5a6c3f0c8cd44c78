/** Header names of the contract, spelled as the function reads them after header normalization. */
import { describe, expect, it } from 'vitest';
import { SIGNATURE_HEADER } from '../../../../functions/contract/headers.ts';

describe('SIGNATURE_HEADER', () => {
  it('is a lower-case HTTP token, the form the normalized event carries (RFC 9110 section 5.1)', () => {
    expect(SIGNATURE_HEADER).toMatch(/^[a-z0-9!#$%&'*+.^_`|~-]+$/);
    expect(SIGNATURE_HEADER).toBe(SIGNATURE_HEADER.toLowerCase());
  });
});
