/**
 * The stand-ins' JSON answer alone: exact `content-length` in bytes, caller headers on top of the
 * defaults, and nothing written to a response already answered or destroyed. A recording fake stands in
 * for `ServerResponse`.
 */
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { jsonResponse, jsonTextResponse, sendJson } from '../../../local/json-reply.ts';

/** What `sendJson` may touch of a `ServerResponse`, recorded. */
class RecordingResponse {
  destroyed = false;
  headersSent = false;
  status: number | undefined;
  headers: Record<string, string> | undefined;
  body: Buffer | undefined;
  writeHead(status: number, headers: Record<string, string>): this {
    this.status = status;
    this.headers = headers;
    this.headersSent = true;
    return this;
  }
  end(payload: Buffer): this {
    this.body = payload;
    return this;
  }
  asServerResponse(): ServerResponse {
    return this as unknown as ServerResponse;
  }
}

describe('sendJson', () => {
  it('writes the serialized body with its length in bytes and the JSON content type', () => {
    const res = new RecordingResponse();
    sendJson(res.asServerResponse(), 201, { name: 'Café ☕' });
    expect(res.status).toBe(201);
    expect(res.body?.toString('utf8')).toBe('{"name":"Café ☕"}');
    expect(res.headers).toEqual({
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength('{"name":"Café ☕"}')),
    });
    // Bytes, not UTF-16 units: é is two bytes and ☕ three.
    expect(res.headers?.['content-length']).toBe('20');
  });

  it("lets the caller's headers override the content type", () => {
    const res = new RecordingResponse();
    sendJson(res.asServerResponse(), 400, { __type: 'X' }, { 'content-type': 'application/x-amz-json-1.1' });
    expect(res.headers?.['content-type']).toBe('application/x-amz-json-1.1');
  });

  it('writes nothing to a response already answered or destroyed', () => {
    const answered = new RecordingResponse();
    answered.headersSent = true;
    sendJson(answered.asServerResponse(), 200, {});
    expect(answered.status).toBeUndefined();
    expect(answered.body).toBeUndefined();
    const destroyed = new RecordingResponse();
    destroyed.destroyed = true;
    sendJson(destroyed.asServerResponse(), 200, {});
    expect(destroyed.status).toBeUndefined();
    expect(destroyed.body).toBeUndefined();
  });
});

describe('jsonResponse and jsonTextResponse', () => {
  it('answer the same bytes and headers as a Fetch Response', async () => {
    const response = jsonResponse(503, { message: 'ünavailable' }, { 'retry-after': '1' });
    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('retry-after')).toBe('1');
    const text = await response.text();
    expect(text).toBe('{"message":"ünavailable"}');
    expect(response.headers.get('content-length')).toBe(String(Buffer.byteLength(text)));
  });

  it('keeps a JSON text byte for byte (numbers JSON.stringify would change)', async () => {
    const text = '{"big":1e400,"p":1.50,"z":-0}';
    const response = jsonTextResponse(200, text);
    expect(await response.text()).toBe(text);
    expect(response.headers.get('content-length')).toBe(String(text.length));
  });
});
