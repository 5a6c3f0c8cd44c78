/**
 * The in-memory Affix and SSM of the property suite. Affix is a `fetch` that keeps the client, checks
 * the Basic header like Affix does and plays scripted misbehaviours per method first (statuses,
 * echoes of what we sent, network errors, hangs, bad bodies); SSM is a queue of faults in front of
 * the parameter values. Both can be cleared, so a run can check that the proxy recovers by itself.
 */
import type { AffixClientJson } from '../../functions/client-config/schemas.ts';

export type UpstreamStep =
  | { kind: 'status'; status: number; retryAfter?: string | undefined; text?: string | undefined }
  /** A 400 whose message repeats what we sent: our Authorization value, credentials, body. */
  | { kind: 'echo-400'; parts: EchoPart[]; validationError: string }
  | { kind: 'network'; code: string }
  | { kind: 'hang' }
  | { kind: 'hang-mid-body' }
  | { kind: 'body-error' }
  | { kind: 'non-json'; text: string }
  | { kind: 'wrong-shape'; value: unknown }
  | { kind: 'huge'; declared: boolean }
  /** A 200 with a client someone else changed, holding a secret we have not seen before. */
  | { kind: 'other-client'; name: string; extraSecret: string };

export type EchoPart = 'authorization' | 'credentials' | 'secret' | 'secret-base64' | 'body' | 'text';

export type SsmFault =
  | 'ThrottlingException'
  | 'AccessDeniedException'
  | 'KMSAccessDeniedException'
  | 'InternalServerError'
  | 'AbortError'
  | 'missing-secret'
  | 'missing-both'
  | 'empty-secret';

export const HUGE_BYTES = 1024 * 1024 + 16;

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

function unauthorized(): Response {
  return json(401, { error: 'authentication_error', message: 'Your password is incorrect' });
}

/**
 * Runs `then` once the signal aborts, or at once when it already has: an abort that fired while the
 * fake was busy (a 10 ms attempt timeout on a loaded machine) must not leave a promise hanging.
 */
function onAbort(signal: AbortSignal, then: () => void): void {
  if (signal.aborted) then();
  else signal.addEventListener('abort', then, { once: true });
}

/** A body that sends `head` and then waits until the request is aborted (which errors the stream). */
function stalledBody(head: string, signal: AbortSignal): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(head));
      onAbort(signal, () => controller.error(signal.reason));
    },
  });
}

export interface FakeUpstream {
  client: AffixClientJson;
  readonly calls: { method: string; authorized: boolean; body: unknown }[];
  fetch: typeof fetch;
  script(method: 'GET' | 'POST', steps: readonly UpstreamStep[]): void;
  clear(): void;
}

export function createFakeUpstream(initial: AffixClientJson): FakeUpstream {
  const queues: Record<string, UpstreamStep[]> = { GET: [], POST: [] };
  const calls: FakeUpstream['calls'] = [];

  const isAuthorized = (header: string | null, client: AffixClientJson) =>
    client.client_secret.some(
      (secret) => header === `Basic ${Buffer.from(`${client.client_id}:${secret}`).toString('base64')}`,
    );

  const play = (
    step: UpstreamStep,
    request: Request,
    signal: AbortSignal,
    bodyText: string,
  ): Response | Promise<Response> => {
    const authorization = request.headers.get('authorization') ?? '';
    const credentials = Buffer.from(authorization.replace(/^Basic /, ''), 'base64').toString('utf8');
    switch (step.kind) {
      case 'status':
        return new Response(step.text ?? JSON.stringify({ message: `status ${step.status}` }), {
          status: step.status,
          headers: {
            'content-type': 'application/json',
            ...(step.retryAfter === undefined ? {} : { 'retry-after': step.retryAfter }),
          },
        });
      case 'echo-400': {
        const pieces: Record<EchoPart, string> = {
          authorization,
          credentials,
          secret: credentials.slice(credentials.indexOf(':') + 1),
          'secret-base64': Buffer.from(credentials.slice(credentials.indexOf(':') + 1)).toString('base64'),
          body: bodyText,
          text: 'invalid value',
        };
        const message = step.parts.map((part) => pieces[part]).join(' ');
        return json(400, { message, validation_error: step.validationError });
      }
      case 'network':
        return Promise.reject(Object.assign(new TypeError('fetch failed'), { cause: { code: step.code } }));
      case 'hang':
        return new Promise<Response>((_, reject) => {
          onAbort(signal, () => reject(signal.reason));
        });
      case 'hang-mid-body':
        return new Response(stalledBody('{"client_id":"half', signal), { status: 200 });
      case 'body-error':
        return new Response(
          new ReadableStream<Uint8Array>({
            start(controller) {
              controller.enqueue(new TextEncoder().encode('{"client_id":'));
              controller.error(new TypeError('terminated'));
            },
          }),
          { status: 200 },
        );
      case 'non-json':
        return new Response(step.text, { status: 200, headers: { 'content-type': 'text/html' } });
      case 'wrong-shape':
        return json(200, step.value);
      case 'huge': {
        const text = `{"name":"${'x'.repeat(HUGE_BYTES)}"}`;
        return new Response(text, {
          status: 200,
          headers: step.declared ? { 'content-length': String(Buffer.byteLength(text)) } : {},
        });
      }
      case 'other-client':
        // Someone else's change, but Affix still checks our credentials.
        if (!isAuthorized(request.headers.get('authorization'), fake.client)) return unauthorized();
        return json(200, {
          ...fake.client,
          name: step.name,
          client_secret: [...fake.client.client_secret, step.extraSecret],
        });
    }
  };

  const fake: FakeUpstream = {
    client: initial,
    calls,
    script(method, steps) {
      queues[method]?.push(...steps);
    },
    clear() {
      queues.GET = [];
      queues.POST = [];
    },
    fetch: async (input, init) => {
      const request = new Request(input, init);
      // The caller's own signal: a Request's signal follows it only through a weak reference, so
      // once the Request is collected (a hanging step keeps only the signal) it would never abort.
      const signal = init?.signal ?? request.signal;
      // Like fetch: a request aborted before it got an answer fails with the abort reason.
      if (signal.aborted) throw signal.reason;
      const bodyText = request.method === 'POST' ? await request.text() : '';
      const body: unknown = bodyText === '' ? undefined : JSON.parse(bodyText);
      const authorized = isAuthorized(request.headers.get('authorization'), fake.client);
      calls.push({ method: request.method, authorized, body });
      if (signal.aborted) throw signal.reason;
      const step = queues[request.method]?.shift();
      if (step !== undefined) return play(step, request, signal, bodyText);
      if (!authorized) return unauthorized();
      if (request.method === 'POST') {
        fake.client = { ...(body as AffixClientJson), client_id: fake.client.client_id };
      }
      return json(200, fake.client);
    },
  };
  return fake;
}
