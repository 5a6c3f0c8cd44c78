/**
 * The one way a local stand-in answers with JSON: a serialized body with its exact length, nothing
 * written to a connection already destroyed or answered (fault injection leaves such sockets).
 *
 * @example
 * sendJson(res, 200, { ok: true }, { 'content-type': 'application/x-amz-json-1.1' });
 */
import type { ServerResponse } from 'node:http';

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.destroyed || res.headersSent) return;
  const payload = Buffer.from(JSON.stringify(body), 'utf8');
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(payload.length),
    ...headers,
  });
  res.end(payload);
}
