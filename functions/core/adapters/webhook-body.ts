/**
 * The exact bytes of a forwarded webhook delivery, from an API Gateway event.
 *
 * API Gateway hands a text body over as a string and a binary media type base64-encoded
 * (`isBase64Encoded`). A receiver may also send the delivery gzip-compressed (`Content-Encoding: gzip`):
 * Lambda's 6 MB event limit would otherwise stop a 5 MiB JSON delivery, whose quotes the event's JSON
 * escapes. The decompressed size is bounded while decompressing, so a gzip bomb costs nothing.
 *
 * @example
 * const body = deliveryBytes(event); // Buffer: what Affix signed
 */
import { gunzipSync } from 'node:zlib';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { routeKeyOfOperation } from '../../contract/routes.ts';
import { ProblemError } from '../domain/problems.ts';

export function deliveryBytes(
  event: Pick<APIGatewayProxyEvent, 'body' | 'isBase64Encoded' | 'headers'>,
  maxBytes: number,
): Buffer {
  const body = event.body ?? '';
  const raw = event.isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
  const encoding = (event.headers?.['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding === 'identity' || encoding === '') return raw;
  if (encoding !== 'gzip') {
    throw new ProblemError(
      'unsupported-media-type',
      `${routeKeyOfOperation('verifyWebhook')} accepts the body as is or with Content-Encoding: gzip.`,
    );
  }
  try {
    return gunzipSync(raw, { maxOutputLength: maxBytes });
  } catch (error) {
    if (error instanceof RangeError || (error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new ProblemError('payload-too-large', `The decompressed body is over ${maxBytes} bytes.`);
    }
    throw new ProblemError('validation-failed', 'The body is not valid gzip.', {
      errors: [{ pointer: '', detail: 'Content-Encoding: gzip, but the body does not decompress' }],
    });
  }
}
