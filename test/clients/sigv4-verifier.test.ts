/**
 * The independent SigV4 verifier the client tests rely on, checked against vectors of AWS's SigV4
 * test suite (credentials AKIDEXAMPLE, 2015-08-30, us-east-1, service "service"), so a passing client
 * test means "AWS would compute the same signature", not merely "aws4fetch agrees with itself".
 */
import { describe, expect, it } from 'vitest';
import { sigV4Problem } from './support/sigv4.ts';

const AWS_EXAMPLE = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  region: 'us-east-1',
  service: 'service',
};

const vector = (method: string, url: string, signature: string) => ({
  method,
  url,
  body: '',
  headers: {
    host: 'example.amazonaws.com',
    'x-amz-date': '20150830T123600Z',
    authorization: `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=${signature}`,
  },
});

describe('the independent SigV4 verifier', () => {
  it.each([
    ['get-vanilla', 'GET', '/', '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31'],
    ['post-vanilla', 'POST', '/', '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b'],
    [
      'get-vanilla-query-order-key-case',
      'GET',
      '/?Param2=value2&Param1=value1',
      'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500',
    ],
  ])('accepts AWS test vector %s', (_name, method, url, signature) => {
    expect(sigV4Problem(vector(method, url, signature), AWS_EXAMPLE)).toBeUndefined();
  });

  it('refuses a vector with one changed bit of signature, date or key', () => {
    const good = vector('GET', '/', '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31');
    const flipped = vector('GET', '/', '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf30');
    expect(sigV4Problem(flipped, AWS_EXAMPLE)).toBe('signature mismatch');
    expect(
      sigV4Problem({ ...good, headers: { ...good.headers, 'x-amz-date': '20150830T123601Z' } }, AWS_EXAMPLE),
    ).toBe('signature mismatch');
    expect(sigV4Problem(good, { ...AWS_EXAMPLE, secretAccessKey: 'x' })).toBe('signature mismatch');
    expect(sigV4Problem({ ...good, headers: { host: 'example.amazonaws.com' } }, AWS_EXAMPLE)).toBe(
      'no SigV4 Authorization header',
    );
  });
});
