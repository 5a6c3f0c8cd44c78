/**
 * The one way a local stand-in answers with JSON: a serialized body with its exact length, nothing
 * written to a connection already destroyed or answered (fault injection leaves such sockets). The
 * same answer as a Fetch `Response` for the sandbox's in-process `fetch`.
 *
 * @example
 * sendJson(res, 200, { ok: true }, { 'content-type': 'application/x-amz-json-1.1' });
 */
import type { ServerResponse } from 'node:http';

function jsonPayload(body: unknown, headers: Record<string, string>) {
  return jsonTextPayload(JSON.stringify(body), headers);
}

function jsonTextPayload(text: string, headers: Record<string, string>) {
  const payload = Buffer.from(text, 'utf8');
  return {
    payload,
    headers: { 'content-type': 'application/json', 'content-length': String(payload.length), ...headers },
  };
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.destroyed || res.headersSent) return;
  const reply = jsonPayload(body, headers);
  res.writeHead(status, reply.headers);
  res.end(reply.payload);
}

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return jsonTextResponse(status, JSON.stringify(body), headers);
}

/** A JSON text as is (the sandbox keeps unmodelled fields' text byte for byte). */
export function jsonTextResponse(
  status: number,
  text: string,
  headers: Record<string, string> = {},
): Response {
  const reply = jsonTextPayload(text, headers);
  return new Response(reply.payload, { status, headers: reply.headers });
}
