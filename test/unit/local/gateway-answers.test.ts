/**
 * What the local API Gateway writes back, alone: outcomes for the access log, the contract's problem
 * documents for its own answers, and proxy results merged and decoded as API Gateway does. A recording
 * fake stands in for `ServerResponse`.
 */
import type { ServerResponse } from 'node:http';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import {
  gatewayProblem,
  gatewayProblemDocument,
  PROBLEM_TYPE_PREFIX,
} from '../../../functions/contract/gateway-responses.ts';
import {
  isProxyResult,
  outcomeOf,
  sendFunctionError,
  sendGatewayProblem,
  writeProxyResult,
} from '../../../local/gateway-answers.ts';

const REQUEST_ID = 'req-0001';

/** The parts of a `ServerResponse` the writers use, recorded; header names kept as given. */
class RecordingResponse {
  destroyed = false;
  headersSent = false;
  statusCode = 200;
  readonly headers = new Map<string, string | string[]>();
  body: Buffer | undefined;
  writeHead(status: number, headers: Record<string, string>): this {
    this.statusCode = status;
    for (const [name, value] of Object.entries(headers)) this.headers.set(name, value);
    this.headersSent = true;
    return this;
  }
  setHeader(name: string, value: string | string[]): this {
    this.headers.set(name, value);
    return this;
  }
  end(payload: Buffer): this {
    this.body = payload;
    this.headersSent = true;
    return this;
  }
  json(): unknown {
    return JSON.parse(this.body?.toString('utf8') ?? '');
  }
  asServerResponse(): ServerResponse {
    return this as unknown as ServerResponse;
  }
}

describe('outcomeOf', () => {
  it('is success below 400, the problem slug of a problem document, else http-<status>', () => {
    expect(outcomeOf(200, 'not json')).toBe('success');
    expect(outcomeOf(304, undefined)).toBe('success');
    expect(outcomeOf(412, JSON.stringify({ type: `${PROBLEM_TYPE_PREFIX}precondition-failed` }))).toBe(
      'precondition-failed',
    );
    expect(outcomeOf(400, JSON.stringify({ type: 'about:blank' }))).toBe('http-400');
    expect(outcomeOf(400, JSON.stringify({ type: 5 }))).toBe('http-400');
    expect(outcomeOf(500, '<html>')).toBe('http-500');
    expect(outcomeOf(502, null)).toBe('http-502');
  });
});

describe('sendGatewayProblem', () => {
  it("answers the contract's problem document with its status, no-store and the request id", () => {
    const res = new RecordingResponse();
    expect(sendGatewayProblem(res.asServerResponse(), 'ACCESS_DENIED', REQUEST_ID)).toBe('access-denied');
    const problem = gatewayProblem('ACCESS_DENIED');
    expect(res.statusCode).toBe(403);
    expect(res.json()).toEqual(gatewayProblemDocument(problem, REQUEST_ID));
    expect(Object.fromEntries(res.headers)).toEqual({
      'content-type': 'application/problem+json',
      'content-length': String(res.body?.length),
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'x-amzn-requestid': REQUEST_ID,
    });
  });

  it('adds extra headers, and gives a DEFAULT_* answer the status asked for or its default', () => {
    const throttled = new RecordingResponse();
    sendGatewayProblem(throttled.asServerResponse(), 'THROTTLED', REQUEST_ID, { 'retry-after': '1' });
    expect(throttled.statusCode).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('1');

    const client = new RecordingResponse();
    expect(sendGatewayProblem(client.asServerResponse(), 'DEFAULT_4XX', REQUEST_ID, {}, 415)).toBe(
      'gateway-client-error',
    );
    expect(client.statusCode).toBe(415);
    const defaulted = new RecordingResponse();
    sendGatewayProblem(defaulted.asServerResponse(), 'DEFAULT_4XX', REQUEST_ID);
    expect(defaulted.statusCode).toBe(400);
    const server = new RecordingResponse();
    sendGatewayProblem(server.asServerResponse(), 'DEFAULT_5XX', REQUEST_ID);
    expect(server.statusCode).toBe(500);
  });

  it('writes nothing, and returns no slug, when the response is answered or destroyed', () => {
    const answered = new RecordingResponse();
    answered.headersSent = true;
    expect(sendGatewayProblem(answered.asServerResponse(), 'THROTTLED', REQUEST_ID)).toBeUndefined();
    expect(answered.body).toBeUndefined();
    const destroyed = new RecordingResponse();
    destroyed.destroyed = true;
    expect(sendFunctionError(destroyed.asServerResponse(), REQUEST_ID)).toBeUndefined();
    expect(destroyed.body).toBeUndefined();
  });
});

describe('sendFunctionError', () => {
  it('answers a function error as API Gateway does: 502 under the default 5XX response', () => {
    const res = new RecordingResponse();
    expect(sendFunctionError(res.asServerResponse(), REQUEST_ID)).toBe('gateway-error');
    expect(res.statusCode).toBe(502);
    expect((res.json() as { type: string }).type).toBe(`${PROBLEM_TYPE_PREFIX}gateway-error`);
  });
});

describe('isProxyResult', () => {
  it('accepts an integer status within 100-599 with a string, null or absent body', () => {
    expect(isProxyResult({ statusCode: 200, body: '' })).toBe(true);
    expect(isProxyResult({ statusCode: 599 })).toBe(true);
    expect(isProxyResult({ statusCode: 100, body: null })).toBe(true);
  });

  it.each([
    ['null', null],
    ['a string', '200'],
    ['a fractional status', { statusCode: 200.5, body: '' }],
    ['a status below 100', { statusCode: 99, body: '' }],
    ['a status above 599', { statusCode: 600, body: '' }],
    ['a status as text', { statusCode: '200', body: '' }],
    ['an object body', { statusCode: 200, body: {} }],
  ])('refuses %s', (_, value) => {
    expect(isProxyResult(value)).toBe(false);
  });
});

describe('writeProxyResult', () => {
  it('merges headers into multiValueHeaders case-insensitively, without repeating a value', () => {
    const res = new RecordingResponse();
    const outcome = writeProxyResult(
      res.asServerResponse(),
      {
        statusCode: 200,
        body: '{"ok":true}',
        multiValueHeaders: { 'Set-Cookie': ['a=1', 'b=2'], Vary: ['Accept'] },
        headers: { 'set-cookie': 'a=1', 'X-Count': 3, 'x-flag': true },
      },
      REQUEST_ID,
    );
    expect(outcome).toBe('success');
    expect(res.statusCode).toBe(200);
    expect(res.headers.get('Set-Cookie')).toEqual(['a=1', 'b=2']);
    expect(res.headers.get('Vary')).toBe('Accept');
    expect(res.headers.get('X-Count')).toBe('3');
    expect(res.headers.get('x-flag')).toBe('true');
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('content-length')).toBe('11');
    expect(res.headers.get('x-amzn-requestid')).toBe(REQUEST_ID);
    expect(res.body?.toString('utf8')).toBe('{"ok":true}');
  });

  it('keeps the function content type and drops the hop-by-hop and length headers it set', () => {
    const res = new RecordingResponse();
    writeProxyResult(
      res.asServerResponse(),
      {
        statusCode: 201,
        body: 'héllo',
        headers: {
          'Content-Type': 'text/plain',
          'Content-Length': '999',
          'Transfer-Encoding': 'chunked',
          Connection: 'close',
        },
      },
      REQUEST_ID,
    );
    expect(res.headers.get('Content-Type')).toBe('text/plain');
    expect(res.headers.has('content-type')).toBe(false);
    expect(res.headers.has('Content-Length')).toBe(false);
    expect(res.headers.has('Transfer-Encoding')).toBe(false);
    expect(res.headers.has('Connection')).toBe(false);
    expect(res.headers.get('content-length')).toBe(String(Buffer.byteLength('héllo')));
  });

  it('decodes a base64 body, and reads the outcome of a problem document', () => {
    const binary = new RecordingResponse();
    writeProxyResult(
      binary.asServerResponse(),
      { statusCode: 200, body: Buffer.from([0, 255, 1]).toString('base64'), isBase64Encoded: true },
      REQUEST_ID,
    );
    expect([...(binary.body ?? [])]).toEqual([0, 255, 1]);
    expect(binary.headers.get('content-length')).toBe('3');

    const problem = new RecordingResponse();
    const body = JSON.stringify({ type: `${PROBLEM_TYPE_PREFIX}validation-failed`, status: 400 });
    expect(writeProxyResult(problem.asServerResponse(), { statusCode: 400, body }, REQUEST_ID)).toBe(
      'validation-failed',
    );
    // A base64 problem body is not parsed: its outcome is the status.
    expect(
      writeProxyResult(
        new RecordingResponse().asServerResponse(),
        { statusCode: 400, body: Buffer.from(body).toString('base64'), isBase64Encoded: true },
        REQUEST_ID,
      ),
    ).toBe('http-400');
  });

  // A handler may leave `body` out although the type says otherwise; API Gateway answers no body then.
  it('answers an empty body for a result without one', () => {
    const res = new RecordingResponse();
    writeProxyResult(
      res.asServerResponse(),
      { statusCode: 204 } as unknown as APIGatewayProxyResult,
      REQUEST_ID,
    );
    expect(res.statusCode).toBe(204);
    expect(res.body?.length).toBe(0);
    expect(res.headers.get('content-length')).toBe('0');
  });
});
