/**
 * Each fault the sandbox can be told to show, alone: the `Response` it becomes (status, headers, body
 * bytes, a body stream that fails) or the network error it throws, with a hand-built context and an
 * injected sleep, so nothing waits on a clock.
 */
import { describe, expect, it, vi } from 'vitest';
import {
  answerFault,
  type FaultContext,
  SandboxNetworkError,
} from '../../../../local/affix-sandbox/faults.ts';
import {
  type AffixClientState,
  basicAuthHeader,
  clientText,
  defaultSandboxClient,
} from '../../../../local/affix-sandbox/state.ts';

const NORMAL = new Response('{"normal":true}', { status: 200 });

function context(overrides: Partial<FaultContext> = {}): FaultContext {
  const client = defaultSandboxClient();
  return {
    client,
    viewText: (override?: Partial<AffixClientState>) => clientText({ ...client, ...override }, new Map()),
    authorization: basicAuthHeader(client.client_id, client.client_secret[0] as string),
    bodyText: '{"name":"sent"}',
    signal: new AbortController().signal,
    sleep: () => Promise.resolve(),
    answerNormally: () => NORMAL,
    ...overrides,
  };
}

/** Reads a body stream to its end, or to the error it fails with. */
async function readAll(response: Response): Promise<{ text: string; error?: unknown }> {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { text: Buffer.concat(chunks).toString('utf8') };
      chunks.push(value);
    }
  } catch (error) {
    return { text: Buffer.concat(chunks).toString('utf8'), error };
  }
}

describe('status', () => {
  it("answers Affix's body for the status, with Retry-After: 1 on 429 and 503 only", async () => {
    const limited = await answerFault({ kind: 'status', status: 429 }, context());
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    expect(await limited.json()).toEqual({ message: 'Too many requests' });
    expect((await answerFault({ kind: 'status', status: 503 }, context())).headers.get('retry-after')).toBe(
      '1',
    );
    const unauthorized = await answerFault({ kind: 'status', status: 401 }, context());
    expect(unauthorized.headers.get('retry-after')).toBeNull();
    expect(((await unauthorized.json()) as { code: string }).code).toBe('incorrect_username_or_password');
  });

  it('sends retryAfter verbatim, headers instead of the default, and a string body as is', async () => {
    const verbatim = await answerFault({ kind: 'status', status: 429, retryAfter: 'soon' }, context());
    expect(verbatim.headers.get('retry-after')).toBe('soon');
    const own = await answerFault({ kind: 'status', status: 503, headers: { 'x-own': 'yes' } }, context());
    expect(own.headers.get('retry-after')).toBeNull();
    expect(own.headers.get('x-own')).toBe('yes');
    const raw = await answerFault({ kind: 'status', status: 500, body: '{"broken' }, context());
    expect(raw.headers.get('content-type')).toBe('application/json');
    expect(await raw.text()).toBe('{"broken');
    const json = await answerFault({ kind: 'status', status: 400, body: { message: 'm' } }, context());
    expect(await json.json()).toEqual({ message: 'm' });
  });
});

describe('echo-400', () => {
  it('repeats the parts asked for of what was sent, in order', async () => {
    const secret = 'sandbox-secret-aaaaaaaaaaaaaaaa';
    const ctx = context({ authorization: basicAuthHeader('id', secret) });
    const answer = await answerFault(
      {
        kind: 'echo-400',
        parts: ['text', 'secret', 'secret-base64', 'credentials', 'authorization', 'body'],
        validationError: 'name',
      },
      ctx,
    );
    expect(answer.status).toBe(400);
    expect(await answer.json()).toEqual({
      message: [
        'invalid value',
        secret,
        Buffer.from(secret).toString('base64'),
        `id:${secret}`,
        basicAuthHeader('id', secret),
        '{"name":"sent"}',
      ].join(' '),
      validation_error: 'name',
    });
  });
});

describe('network faults', () => {
  it('throws a SandboxNetworkError with the code asked for, ECONNRESET for a reset', async () => {
    await expect(answerFault({ kind: 'network', code: 'ECONNREFUSED' }, context())).rejects.toMatchObject({
      name: 'SandboxNetworkError',
      code: 'ECONNREFUSED',
    });
    const reset = answerFault({ kind: 'reset' }, context());
    await expect(reset).rejects.toBeInstanceOf(SandboxNetworkError);
    await expect(reset).rejects.toMatchObject({ code: 'ECONNRESET' });
  });
});

describe('hangs', () => {
  it('hangs before headers until the request is aborted, then rejects with its reason', async () => {
    const controller = new AbortController();
    let settled = false;
    const answer = answerFault({ kind: 'hang-before-headers' }, context({ signal: controller.signal }));
    void answer.then(
      () => (settled = true),
      () => (settled = true),
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);
    const reason = new Error('caller gave up');
    controller.abort(reason);
    await expect(answer).rejects.toBe(reason);
  });

  it('rejects at once when the request was aborted already', async () => {
    const controller = new AbortController();
    controller.abort(new Error('gone'));
    await expect(
      answerFault({ kind: 'hang-before-headers' }, context({ signal: controller.signal })),
    ).rejects.toThrow('gone');
  });

  it('sends headers and half the client, then fails the body once aborted', async () => {
    const controller = new AbortController();
    const ctx = context({ signal: controller.signal });
    const answer = await answerFault({ kind: 'hang-mid-body' }, ctx);
    const full = ctx.viewText();
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-length')).toBe(String(Buffer.byteLength(full)));
    const reader = (answer.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    expect(Buffer.from(first.value as Uint8Array).toString('utf8')).toBe(
      full.slice(0, Math.floor(full.length / 2)),
    );
    const reason = new Error('aborted');
    controller.abort(reason);
    await expect(reader.read()).rejects.toBe(reason);
  });

  it('fails the body stream on body-error, after the start of a client', async () => {
    const answer = await answerFault({ kind: 'body-error' }, context());
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('application/json');
    const { text, error } = await readAll(answer);
    expect(text).toBe('{"client_id":');
    expect(error).toBeInstanceOf(TypeError);
    expect((error as TypeError).message).toBe('terminated');
  });
});

describe('bodies of the wrong kind', () => {
  it('answers an HTML 502 page with status 200 for non-json, or the text given', async () => {
    const html = await answerFault({ kind: 'non-json' }, context());
    expect(html.status).toBe(200);
    expect(html.headers.get('content-type')).toBe('text/html');
    const text = await html.text();
    expect(text).toContain('502 Bad Gateway');
    expect(html.headers.get('content-length')).toBe(String(Buffer.byteLength(text)));
    expect(await (await answerFault({ kind: 'non-json', text: 'plain é' }, context())).text()).toBe(
      'plain é',
    );
  });

  it('answers another shape for wrong-shape, or exactly the value given (null included)', async () => {
    const ctx = context();
    expect(await (await answerFault({ kind: 'wrong-shape' }, ctx)).json()).toEqual({
      id: ctx.client.client_id,
      status: 'ok',
      client: { name: ctx.client.name },
    });
    expect(await (await answerFault({ kind: 'wrong-shape', value: null }, ctx)).json()).toBeNull();
    expect(await (await answerFault({ kind: 'wrong-shape', value: [1] }, ctx)).json()).toEqual([1]);
  });

  it('streams a huge body of exactly the bytes asked for, valid JSON, with its length when asked', async () => {
    const bytes = 200_000;
    const declared = await answerFault({ kind: 'huge-body', bytes, contentLength: true }, context());
    expect(declared.headers.get('content-length')).toBe(String(bytes));
    const { text, error } = await readAll(declared);
    expect(error).toBeUndefined();
    expect(Buffer.byteLength(text)).toBe(bytes);
    expect((JSON.parse(text) as { client_id: string }).client_id).toBe(context().client.client_id);
    const undeclared = await answerFault({ kind: 'huge-body', bytes: 10 }, context());
    expect(undeclared.headers.get('content-length')).toBeNull();
  });

  it('stops the huge body with the abort reason when the request is aborted', async () => {
    const controller = new AbortController();
    const answer = await answerFault(
      { kind: 'huge-body', bytes: 10_000_000 },
      context({ signal: controller.signal }),
    );
    const reader = (answer.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    const reason = new Error('stop');
    controller.abort(reason);
    await expect(
      (async () => {
        for (;;) if ((await reader.read()).done) return 'ended';
      })(),
    ).rejects.toBe(reason);
  });
});

describe('other-client', () => {
  it('shows the client as changed elsewhere to a caller with good credentials, state unchanged', async () => {
    const ctx = context();
    const before = structuredClone(ctx.client);
    const answer = await answerFault({ kind: 'other-client', extraSecret: 'theirs' }, ctx);
    expect(await answer.json()).toEqual({
      ...before,
      name: `${before.name} (changed elsewhere)`,
      client_secret: [...before.client_secret, 'theirs'],
    });
    expect(ctx.client).toEqual(before);
    const named = await answerFault({ kind: 'other-client', name: 'Theirs' }, ctx);
    expect(((await named.json()) as { name: string }).name).toBe('Theirs');
  });

  it('answers normally (Affix checks credentials first) when the credentials are wrong', async () => {
    const ctx = context({ authorization: basicAuthHeader('sandbox-client-0001', 'wrong') });
    expect(await answerFault({ kind: 'other-client' }, ctx)).toBe(NORMAL);
  });
});

describe('delay', () => {
  it('sleeps the given milliseconds through the injected sleep, then answers normally', async () => {
    const sleep = vi.fn(() => Promise.resolve());
    expect(await answerFault({ kind: 'delay', ms: 1_234 }, context({ sleep }))).toBe(NORMAL);
    expect(sleep).toHaveBeenCalledWith(1_234);
  });

  it('with until, answers once it settles (rejected too) and does not sleep', async () => {
    const sleep = vi.fn(() => Promise.resolve());
    let release: (value?: unknown) => void = () => undefined;
    const until = new Promise((_, reject) => {
      release = reject;
    });
    let answered = false;
    const answer = answerFault({ kind: 'delay', ms: 60_000, until }, context({ sleep })).then((response) => {
      answered = true;
      return response;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(answered).toBe(false);
    release(new Error('held request released'));
    expect(await answer).toBe(NORMAL);
    expect(sleep).not.toHaveBeenCalled();
  });
});
