/** The exact bytes of a forwarded webhook delivery: text, base64, or gzip with a bounded output. */
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { deliveryBytes } from '../../../../../functions/core/adapters/webhook-body.ts';
import type { ProblemError } from '../../../../../functions/core/domain/problems.ts';

const event = (body: string | null, options: { base64?: boolean; encoding?: string } = {}) => ({
  body,
  isBase64Encoded: options.base64 ?? false,
  headers: options.encoding === undefined ? {} : { 'content-encoding': options.encoding },
});

function refusal(run: () => unknown): ProblemError {
  try {
    run();
  } catch (error) {
    return error as ProblemError;
  }
  throw new Error('accepted');
}

describe('deliveryBytes', () => {
  it('takes a text body as its UTF-8 bytes, and a missing body as none', () => {
    expect(deliveryBytes(event('{"é":1}'), 1_000).equals(Buffer.from('{"é":1}', 'utf8'))).toBe(true);
    expect(deliveryBytes(event(null), 1_000).length).toBe(0);
  });

  it('decodes a base64 body to the bytes it encodes, also bytes that are not UTF-8', () => {
    const bytes = Buffer.from([0xff, 0x00, 0xc3, 0x28]);
    expect(deliveryBytes(event(bytes.toString('base64'), { base64: true }), 1_000).equals(bytes)).toBe(true);
  });

  it('decompresses a gzip body (any case, identity as is)', () => {
    const text = '{"type":"employee.created"}';
    const zipped = gzipSync(text).toString('base64');
    expect(deliveryBytes(event(zipped, { base64: true, encoding: ' GZip ' }), 1_000).toString()).toBe(text);
    expect(deliveryBytes(event(text, { encoding: 'identity' }), 1_000).toString()).toBe(text);
    expect(deliveryBytes(event(text, { encoding: '' }), 1_000).toString()).toBe(text);
  });

  it('refuses a gzip body that decompresses to more than the limit (a gzip bomb costs nothing)', () => {
    const bomb = gzipSync(Buffer.alloc(1_000_000)).toString('base64');
    const problem = refusal(() => deliveryBytes(event(bomb, { base64: true, encoding: 'gzip' }), 1_000));
    expect(problem.slug).toBe('payload-too-large');
  });

  it('accepts a gzip body of exactly the limit', () => {
    const zipped = gzipSync(Buffer.alloc(1_000, 0x61)).toString('base64');
    expect(deliveryBytes(event(zipped, { base64: true, encoding: 'gzip' }), 1_000)).toHaveLength(1_000);
  });

  it('refuses a body that says gzip but is not', () => {
    const problem = refusal(() => deliveryBytes(event('plain text', { encoding: 'gzip' }), 1_000));
    expect(problem.slug).toBe('validation-failed');
    expect(problem.errors).toHaveLength(1);
  });

  it('refuses any other content encoding', () => {
    expect(refusal(() => deliveryBytes(event('x', { encoding: 'br' }), 1_000)).slug).toBe(
      'unsupported-media-type',
    );
  });
});
